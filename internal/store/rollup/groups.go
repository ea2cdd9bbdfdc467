package rollup

import (
	"cmp"
	"slices"
	"strings"

	"github.com/ariadnehq/ariadne/internal/store/stmt"
)

// Acc accumulates one group of an answer merged from rollups and raw
// pieces.
type Acc struct {
	N, Errors, Cold int64
	Messaging       bool
	Dur, Lag        Hist
}

// Groups accumulates groups by key K, in first-seen order.
type Groups[K comparable] struct {
	m    map[K]*Acc
	keys []K
}

// Get is the group of k, created empty.
func (g *Groups[K]) Get(k K) *Acc {
	if g.m == nil {
		g.m = map[K]*Acc{}
	}
	a := g.m[k]
	if a == nil {
		a = &Acc{}
		g.m[k] = a
		g.keys = append(g.keys, k)
	}
	return a
}

// Keys are the groups' keys in first-seen order.
func (g *Groups[K]) Keys() []K { return slices.Clone(g.keys) }

// ByCount returns the keys by count, descending, then by their strings
// in the order the raw queries of d sort them (stmt.Dialect.MapEmptyFirst):
// DuckDB's NULL, here "", last; ClickHouse's "" first.
func (g *Groups[K]) ByCount(d stmt.Dialect, strs func(K) []string) []K {
	keys := slices.Clone(g.keys)
	slices.SortFunc(keys, func(a, b K) int {
		if c := cmp.Compare(g.m[b].N, g.m[a].N); c != 0 {
			return c
		}
		if d.MapEmptyFirst() {
			return slices.Compare(strs(a), strs(b))
		}
		return compareNullsLast(strs(a), strs(b))
	})
	return keys
}

func compareNullsLast(a, b []string) int {
	for i := range a {
		switch {
		case a[i] == b[i]:
			continue
		case a[i] == "":
			return 1
		case b[i] == "":
			return -1
		}
		return strings.Compare(a[i], b[i])
	}
	return 0
}
