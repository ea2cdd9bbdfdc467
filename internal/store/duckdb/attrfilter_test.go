package duckdb

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/ariadnehq/ariadne/internal/model"
	"github.com/ariadnehq/ariadne/internal/store"
)

func TestFilterBitsFold(t *testing.T) {
	for _, n := range []int{0, 10, 1000, 50_000, 200_000} {
		f := make(filterBits, afBits/8)
		var in []afProbe
		for i := range n {
			k, v := "k"+fmt.Sprint(i%97), fmt.Sprint(i)
			p := afProbeOf(k, v)
			if i%2 == 0 {
				f.set(p)
			} else {
				f.add(pairHash(k, v))
			}
			in = append(in, p)
		}
		g := f.fold()
		if n < 1000 && len(g)*8 != afMinBits {
			t.Errorf("%d pairs folded to %d bits, want %d", n, len(g)*8, afMinBits)
		}
		for _, h := range []filterBits{f, g, g.unfold()} {
			for _, p := range in {
				if !h.has(p) {
					t.Fatalf("%d pairs, %d bits: a pair added is missing", n, len(h)*8)
				}
			}
		}
		// False positives stay rare while the filter is not overfull.
		fp := 0
		for i := range 10_000 {
			if g.has(afProbeOf("absent", fmt.Sprint(i))) {
				fp++
			}
		}
		if n <= 100_000 && fp > 300 {
			t.Errorf("%d pairs in %d bits: %d of 10000 absent pairs pass", n, len(g)*8, fp)
		}
	}
}

// filterSpan is a one-span trace at t holding key=value.
func filterSpan(t int64, key, value string) model.Span {
	var s model.Span
	rng := rand.New(rand.NewPCG(uint64(t), uint64(len(key)+len(value))))
	for i := range s.TraceID {
		s.TraceID[i] = byte(rng.Uint32())
	}
	s.SpanID[0], s.SpanID[7] = 1, byte(rng.Uint32())
	s.StartTime, s.DurationNs, s.Name, s.Service = t, 1000, "op", "svc"
	s.Attributes = model.Attributes{{Key: key, Value: model.Value{Type: model.TypeString, Str: value}}}
	return s
}

// TestAttributeFilters follows minutes through the writer's memory, their
// rows, a late span, a reopen and a crash, checking that a search finds
// what is stored and nothing else.
func TestAttributeFilters(t *testing.T) {
	dir := t.TempDir()
	open := func() *Engine {
		e, err := Open(t.Context(), Settings{Dir: dir, MemoryLimit: "256MB", Threads: 1})
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	base := afBucketOf(1_772_323_200_000_000_000)
	hour := store.TimeRange{Start: base - afBucket, End: base + 60*afBucket}
	found := func(e *Engine, key, value string) int {
		t.Helper()
		r, err := e.SearchTraces(t.Context(), store.TraceQuery{TimeRange: hour, Limit: 100,
			Attributes: []model.Attr{{Key: key, Value: model.Value{Str: value}}}})
		if err != nil {
			t.Fatal(err)
		}
		return len(r.Traces)
	}
	write := func(e *Engine, spans ...model.Span) {
		t.Helper()
		if err := e.Write(t.Context(), &model.Batch{Spans: spans}); err != nil {
			t.Fatal(err)
		}
	}
	rows := func(e *Engine) map[int64]bool { // bucket → dirty
		t.Helper()
		rs, err := e.db.QueryContext(t.Context(), "SELECT bucket, dirty FROM attr_filters")
		if err != nil {
			t.Fatal(err)
		}
		defer rs.Close()
		out := map[int64]bool{}
		for rs.Next() {
			var b int64
			var d bool
			if err := rs.Scan(&b, &d); err != nil {
				t.Fatal(err)
			}
			out[b] = d
		}
		return out
	}

	e := open()
	write(e, filterSpan(base+5, "k", "a"), filterSpan(base+3*afBucket, "k", "c"))
	// In the writer's memory; rows marked dirty.
	if got := rows(e); len(got) != 2 || !got[base] || !got[base+3*afBucket] {
		t.Fatalf("rows while filling = %v, want both minutes dirty", got)
	}
	if found(e, "k", "a") != 1 || found(e, "k", "c") != 1 || found(e, "k", "zzz") != 0 {
		t.Fatal("search from the writer's filters")
	}
	e.Close()

	e = open()
	if got := rows(e); len(got) != 2 || got[base] || got[base+3*afBucket] {
		t.Fatalf("rows after Close = %v, want both minutes clean", got)
	}
	if found(e, "k", "a") != 1 || found(e, "k", "c") != 1 || found(e, "k", "zzz") != 0 {
		t.Fatal("search from the rows")
	}
	// A late span in a written-out minute: the writer loads its bits back.
	write(e, filterSpan(base+7, "k", "b"))
	if found(e, "k", "a") != 1 || found(e, "k", "b") != 1 || found(e, "k", "zzz") != 0 {
		t.Fatal("search after a late span")
	}
	e.Close()
	e = open()
	if found(e, "k", "a") != 1 || found(e, "k", "b") != 1 || found(e, "k", "c") != 1 {
		t.Fatal("search after reopening")
	}
	// A crash between a commit and the write-out leaves the minute dirty,
	// without bits: it is read whole, and the writer never trusts it again.
	if _, err := e.db.ExecContext(t.Context(), "UPDATE attr_filters SET bits = NULL, dirty = true WHERE bucket = ?", base); err != nil {
		t.Fatal(err)
	}
	if found(e, "k", "a") != 1 || found(e, "k", "b") != 1 {
		t.Fatal("search of a dirty minute")
	}
	write(e, filterSpan(base+9, "k", "d"))
	if found(e, "k", "a") != 1 || found(e, "k", "d") != 1 {
		t.Fatal("search of a dirty minute the writer added to")
	}
	e.Close()
	e = open()
	defer e.Close()
	if got := rows(e); !got[base] || got[base+3*afBucket] {
		t.Fatalf("rows = %v, want the crashed minute still dirty", got)
	}
	if found(e, "k", "a") != 1 || found(e, "k", "d") != 1 || found(e, "k", "c") != 1 {
		t.Fatal("search after reopening with a dirty minute")
	}
	// Retention drops only the minutes wholly before its cut.
	if _, err := e.DeleteBefore(t.Context(), base+3*afBucket+1); err != nil {
		t.Fatal(err)
	}
	if got := rows(e); len(got) != 1 || got[base+3*afBucket] {
		t.Fatalf("rows after retention = %v, want only the cut minute", got)
	}
	if found(e, "k", "c") != 0 {
		t.Fatal("span before the retention cut still found")
	}
}

// TestPairHash: the filter sees a pair as the table stores it.
func TestPairHash(t *testing.T) {
	if pairHash("k", "v\xff") != pairHash("k", "v\uFFFD") || pairHash("k\xffx", "v") != pairHash("k\uFFFDx", "v") {
		t.Error("invalid UTF-8 hashes apart from its stored form")
	}
	seen := map[uint64]string{}
	for _, p := range [][2]string{{"k", "v"}, {"kv", ""}, {"", "kv"}, {"k", "v\x00"}, {"abcdefgh", "i"}, {"abcdefghi", ""},
		{"abcdefgh", ""}, {"k", "0123456789abcdef"}, {"k", "0123456789abcdeg"}, {"é", "ü"}} {
		h := pairHash(p[0], p[1])
		if q, ok := seen[h]; ok {
			t.Errorf("%q and %q hash alike", p, q)
		}
		seen[h] = fmt.Sprint(p)
	}
}

func BenchmarkAttrProbe(b *testing.B) {
	f := make(filterBits, afBits/8)
	keys := []string{"k42", "http.request.method", "service.name", "k7"}
	vals := []string{"v317", "GET", "checkout-service", "v9"}
	for i := 0; b.Loop(); i++ {
		f.add(pairHash(keys[i&3], vals[i&3]))
	}
}

// TestAttributeFiltersCap: spans spread over more minutes than the writer
// keeps filters for are still found; the writer's memory stays bounded.
func TestAttributeFiltersCap(t *testing.T) {
	e, err := Open(t.Context(), Settings{Dir: t.TempDir(), MemoryLimit: "256MB", Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	base := afBucketOf(1_772_323_200_000_000_000)
	batch := func(first, n int) {
		var b model.Batch
		for i := first; i < first+n; i++ {
			b.Spans = append(b.Spans, filterSpan(base+int64(i)*afBucket+1, "k", fmt.Sprint(i)))
		}
		if err := e.Write(t.Context(), &b); err != nil {
			t.Fatal(err)
		}
	}
	batch(0, afMaxHeld+40) // one commit beyond the cap: the last 40 minutes get no filter
	if e.w.afHeld > afMaxHeld {
		t.Fatalf("%d minutes held, cap %d", e.w.afHeld, afMaxHeld)
	}
	batch(afMaxHeld+40, 100) // the oldest are written out early
	if e.w.afHeld > afMaxHeld {
		t.Fatalf("%d minutes held, cap %d", e.w.afHeld, afMaxHeld)
	}
	all := store.TimeRange{Start: base, End: base + int64(afMaxHeld+200)*afBucket}
	for _, v := range []int{0, 100, afMaxHeld - 1, afMaxHeld + 10, afMaxHeld + 39, afMaxHeld + 139} {
		r, err := e.SearchTraces(t.Context(), store.TraceQuery{TimeRange: all, Limit: 10,
			Attributes: []model.Attr{{Key: "k", Value: model.Value{Str: fmt.Sprint(v)}}}})
		if err != nil {
			t.Fatal(err)
		}
		if len(r.Traces) != 1 {
			t.Errorf("k=%d: %d traces, want 1", v, len(r.Traces))
		}
	}
}
