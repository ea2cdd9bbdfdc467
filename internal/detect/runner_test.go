package detect_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/ariadnehq/ariadne/internal/detect"
	"github.com/ariadnehq/ariadne/internal/store"
	"github.com/ariadnehq/ariadne/internal/store/duckdb"
)

// TestSeveralNodes: three runners (three nodes) working on one store at
// once, each in small windows, count every occurrence exactly once — the
// same issues and counts as one runner alone on a copy of the data.
func TestSeveralNodes(t *testing.T) {
	base := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC).UnixNano()
	end := time.Unix(0, base).Add(11 * time.Minute)
	open := func() *duckdb.Engine {
		e, err := duckdb.Open(context.Background(), duckdb.Settings{Dir: t.TempDir(), MemoryLimit: "512MB", Threads: 1})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = e.Close() })
		benchData(t, e, 2000, base)
		return e
	}
	settings := detect.Settings{Now: func() time.Time { return end }, Lag: detect.NoLag, Lookback: 12 * time.Minute,
		MaxWindow: 30 * time.Second}
	counts := func(e *duckdb.Engine) map[string]int64 {
		list, err := e.Issues(context.Background(), store.IssueQuery{})
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]int64{}
		for _, is := range list {
			out[is.Kind+" "+is.Title] = is.Count
		}
		return out
	}

	alone := open()
	if _, err := detect.New(alone, settings).RunOnce(t.Context()); err != nil {
		t.Fatal(err)
	}
	want := counts(alone)
	if len(want) < 4 {
		t.Fatalf("one runner found %d issues: %v", len(want), want)
	}

	shared := open()
	var wg sync.WaitGroup
	var mu sync.Mutex
	var res []detect.Result
	for range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := detect.New(shared, settings).RunOnce(t.Context())
			if err != nil {
				t.Error(err)
			}
			mu.Lock()
			res = append(res, r)
			mu.Unlock()
		}()
	}
	wg.Wait()
	got := counts(shared)
	for k, n := range want {
		if got[k] != n {
			t.Errorf("%s: %d with three nodes, %d with one", k, got[k], n)
		}
	}
	if len(got) != len(want) {
		t.Errorf("three nodes found %d issues, one node %d", len(got), len(want))
	}
	windows, conflicts := 0, 0
	for _, r := range res {
		windows += r.Windows
		conflicts += r.Conflicts
	}
	t.Logf("three nodes committed %d windows between them; %d windows lost the race and were redone from the new watermark", windows, conflicts)
}

// TestResolveAfter: issues not seen for ResolveAfter are resolved after a
// complete run; a later occurrence reopens them as a regression.
func TestResolveAfter(t *testing.T) {
	base := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC).UnixNano()
	e, err := duckdb.Open(context.Background(), duckdb.Settings{Dir: t.TempDir(), MemoryLimit: "512MB", Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	benchData(t, e, 500, base)
	now := time.Unix(0, base).Add(11 * time.Minute)
	set := detect.Settings{Now: func() time.Time { return now }, Lag: detect.NoLag, Lookback: 12 * time.Minute, ResolveAfter: time.Hour}
	if res, err := detect.New(e, set).RunOnce(t.Context()); err != nil || res.Resolved != 0 {
		t.Fatalf("first run: %+v %v", res, err)
	}
	now = now.Add(2 * time.Hour)
	res, err := detect.New(e, set).RunOnce(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	open, _ := e.Issues(t.Context(), store.IssueQuery{Status: store.IssueOpen})
	if res.Resolved == 0 || len(open) != 0 {
		t.Errorf("two hours later: %d resolved, %d still open", res.Resolved, len(open))
	}
}
