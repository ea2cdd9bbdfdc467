package duckdb

import (
	"context"
	"database/sql"
	"fmt"
	"sync"

	"github.com/ariadnehq/ariadne/internal/store/stmt"
)

// spanBounds caches the time extent and the number of stored spans, which
// searches and autocomplete lists use to size their time windows. The
// writer extends it after every commit and retention invalidates it, so
// only the first search after an open or a DeleteBefore scans trace_index.
type spanBounds struct {
	mu            sync.Mutex
	valid         bool
	gen           uint64 // bumped by every change, so a slow reload cannot install stale numbers
	lo, hi, total int64  // min and max span start, span count
}

type bounds struct {
	lo, hi, total int64
	empty         bool
}

func (b *spanBounds) get(ctx context.Context, db *sql.DB) (bounds, error) {
	b.mu.Lock()
	if b.valid {
		out := bounds{lo: b.lo, hi: b.hi, total: b.total, empty: b.total == 0}
		b.mu.Unlock()
		return out, nil
	}
	gen := b.gen
	b.mu.Unlock()
	var lo, hi, total sql.NullInt64
	if err := db.QueryRowContext(ctx, stmt.SearchBounds(stmt.DuckDB())).Scan(&total, &lo, &hi); err != nil {
		return bounds{}, fmt.Errorf("read span bounds: %w", err)
	}
	out := bounds{lo: lo.Int64, hi: hi.Int64, total: total.Int64, empty: !lo.Valid}
	b.mu.Lock()
	if b.gen == gen && !b.valid {
		b.valid, b.lo, b.hi, b.total = true, out.lo, out.hi, out.total
	}
	b.mu.Unlock()
	return out, nil
}

// extend records committed spans.
func (b *spanBounds) extend(lo, hi, n int64) {
	if n == 0 {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.gen++
	if !b.valid {
		return
	}
	if b.total == 0 {
		b.lo, b.hi = lo, hi
	} else {
		b.lo, b.hi = min(b.lo, lo), max(b.hi, hi)
	}
	b.total += n
}

func (b *spanBounds) invalidate() {
	b.mu.Lock()
	b.gen++
	b.valid = false
	b.mu.Unlock()
}

// window is the width of a time window holding about n spans at the
// store's average density (at least minWindow), or all of the data when
// it holds no more than n spans.
func (bd bounds) window(n int64) int64 {
	if bd.total <= n {
		return max(minWindow, bd.hi-bd.lo+1)
	}
	return max(minWindow, int64(float64(bd.hi-bd.lo)*float64(n)/float64(bd.total)))
}
