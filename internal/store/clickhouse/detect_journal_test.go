package clickhouse

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/ariadnehq/ariadne/internal/model"
	"github.com/ariadnehq/ariadne/internal/store"
	"github.com/ariadnehq/ariadne/internal/store/stmt"
)

var errDied = errors.New("the node died")

// twoNodes opens two engines over one database: two Ariadne nodes sharing
// a ClickHouse.
func twoNodes(t *testing.T) (a, b *Engine) {
	t.Helper()
	db := dbName(t, "j")
	open := func() *Engine {
		e, err := Open(context.Background(), testSettings(t, db))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { e.Close() })
		return e
	}
	return open(), open()
}

var journalBase = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC).UnixNano()

// windowOccurrences are what detector run i finds: two fingerprints, so
// that a node can die between their folds.
func windowOccurrences(i int) []store.IssueOccurrence {
	at := journalBase + int64(i)*int64(time.Minute)
	tr := func(b byte) model.TraceID {
		return model.TraceID{0xd1, byte(i), b, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}
	}
	return []store.IssueOccurrence{
		{Kind: "error", Fingerprint: "api: Timeout", Title: "Timeout", Function: "api", Severity: "error", First: at, Last: at + 1e9,
			Count: 3, Traces: []model.TraceID{tr(1), tr(2)}},
		{Kind: "error", Fingerprint: "worker: Boom", Title: "Boom", Function: "worker", Severity: "error", First: at, Last: at + 2e9,
			Count: 4, Traces: []model.TraceID{tr(3)}},
	}
}

// wantCounts is every issue's count once windows 0..n-1 each counted once.
func wantCounts(n int) map[string]int64 {
	out := map[string]int64{}
	for i := range n {
		for _, o := range windowOccurrences(i) {
			out[store.IssueID(o.Kind, o.Fingerprint)] += o.Count
		}
	}
	return out
}

// checkCountedOnce fails unless the issues and issue_counts hold windows
// 0..n-1 exactly once, and no journal row of detector name is left.
func checkCountedOnce(t *testing.T, e *Engine, name string, n int) {
	t.Helper()
	ctx := t.Context()
	want := wantCounts(n)
	issues, err := e.Issues(ctx, store.IssueQuery{})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int64{}
	for _, is := range issues {
		got[is.ID] = is.Count
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("issue counts %v, want %v (windows 0..%d once each)", got, want, n-1)
	}
	counts, err := e.IssueCounts(ctx, journalBase)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(counts) != fmt.Sprint(want) {
		t.Errorf("issue_counts %v, want %v", counts, want)
	}
	var rows uint64
	if err := e.conn.QueryRow(ctx, "SELECT count() FROM "+e.t("detector_journal")+" WHERE name = "+sqlStr(name)).Scan(&rows); err != nil {
		t.Fatal(err)
	}
	if rows != 0 {
		t.Errorf("%d journal rows left", rows)
	}
}

func windowEnd(i int) int64 { return journalBase + int64(i+1)*int64(time.Minute) }

// TestCommitDetectionSurvivesNodeDeath stops a node's commit after each
// of its steps, as its death would, and lets another node carry on: the
// window is either not done (the other node runs it) or done and counted
// once, never lost and never counted twice.
func TestCommitDetectionSurvivesNodeDeath(t *testing.T) {
	for _, step := range []string{stepJournaled, stepCommitted, stepFolded, stepCounted} {
		t.Run(step, func(t *testing.T) {
			a, b := twoNodes(t)
			ctx := t.Context()
			const name = "errors"
			// Window 0 commits whole, so that window 1 folds into issues
			// that exist.
			if err := a.CommitDetection(ctx, name, 0, windowEnd(0), windowOccurrences(0), windowEnd(0)); err != nil {
				t.Fatal(err)
			}
			var reached []string
			dying := withCommitFault(ctx, func(s string) error {
				reached = append(reached, s)
				if s == step {
					return errDied
				}
				return nil
			})
			err := a.CommitDetection(dying, name, windowEnd(0), windowEnd(1), windowOccurrences(1), windowEnd(1))
			if !errors.Is(err, errDied) {
				t.Fatalf("commit went past %s (steps %v): %v", step, reached, err)
			}

			// Node b runs the detector next, as the runner does.
			wm, err := b.DetectorWatermark(ctx, name)
			if err != nil {
				t.Fatal(err)
			}
			err = b.CommitDetection(ctx, name, windowEnd(0), windowEnd(1), windowOccurrences(1), windowEnd(1))
			if step == stepJournaled {
				// Not committed: the window is b's to run.
				if wm != windowEnd(0) {
					t.Errorf("watermark %d after a death before the commit, want %d", wm, windowEnd(0))
				}
				if err != nil {
					t.Fatalf("b cannot run the window a left undone: %v", err)
				}
			} else {
				if wm != windowEnd(1) {
					t.Errorf("watermark %d after a death past the commit, want %d", wm, windowEnd(1))
				}
				if !errors.Is(err, store.ErrConflict) {
					t.Fatalf("b committed a window a had committed: %v", err)
				}
			}
			// The next window commits on b, and its read settles the
			// journal row a left behind.
			if err := b.CommitDetection(ctx, name, windowEnd(1), windowEnd(2), windowOccurrences(2), windowEnd(2)); err != nil {
				t.Fatal(err)
			}
			if _, err := b.DetectorWatermark(ctx, name); err != nil {
				t.Fatal(err)
			}
			checkCountedOnce(t, b, name, 3)
		})
	}
}

// TestCommitDetectionConcurrentNodes has two nodes commit every window at
// once, with the different window ends their clocks give: one commits, the
// other gets ErrConflict, and every window counts once.
func TestCommitDetectionConcurrentNodes(t *testing.T) {
	a, b := twoNodes(t)
	ctx := t.Context()
	const name = "errors"
	const windows = 6
	from := int64(0)
	for i := range windows {
		var (
			wg   sync.WaitGroup
			errs [2]error
		)
		for n, e := range []*Engine{a, b} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs[n] = e.CommitDetection(ctx, name, from, windowEnd(i)+int64(n), windowOccurrences(i), windowEnd(i))
			}()
		}
		wg.Wait()
		won := slices.IndexFunc(errs[:], func(err error) bool { return err == nil })
		if won < 0 || !errors.Is(errs[1-won], store.ErrConflict) {
			t.Fatalf("window %d: commits returned %v, want one nil and one ErrConflict", i, errs)
		}
		wm, err := b.DetectorWatermark(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		if want := windowEnd(i) + int64(won); wm != want {
			t.Fatalf("window %d: watermark %d, want the winner's end %d", i, wm, want)
		}
		from = wm
	}
	checkCountedOnce(t, a, name, windows)
}

// TestCommitDetectionSettledTwiceAtOnce has a node die right after its
// commit and two nodes finish its window at the same time.
func TestCommitDetectionSettledTwiceAtOnce(t *testing.T) {
	a, b := twoNodes(t)
	ctx := t.Context()
	const name = "errors"
	dying := withCommitFault(ctx, func(s string) error {
		if s == stepCommitted {
			return errDied
		}
		return nil
	})
	if err := a.CommitDetection(dying, name, 0, windowEnd(0), windowOccurrences(0), windowEnd(0)); !errors.Is(err, errDied) {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for n := range errs {
		e := []*Engine{a, b}[n%2]
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[n] = e.DetectorWatermark(ctx, name)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	checkCountedOnce(t, a, name, 1)
}

// TestFoldMarkersOutliveStatusChanges: an issue's fold marker must stay
// while later writes push its write ids out, or a window folded before a
// node died would be folded again.
func TestFoldMarkersOutliveStatusChanges(t *testing.T) {
	a, b := twoNodes(t)
	ctx := t.Context()
	const name = "errors"
	dying := withCommitFault(ctx, func(s string) error {
		if s == stepFolded {
			return errDied
		}
		return nil
	})
	if err := a.CommitDetection(dying, name, 0, windowEnd(0), windowOccurrences(0), windowEnd(0)); !errors.Is(err, errDied) {
		t.Fatal(err)
	}
	first := windowOccurrences(0)[0]
	id := store.IssueID(first.Kind, first.Fingerprint)
	for i := range 12 {
		s := []store.IssueStatus{store.IssueIgnored, store.IssueOpen}[i%2]
		if _, err := b.SetIssueStatus(ctx, id, s, windowEnd(0)+int64(i)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := b.DetectorWatermark(ctx, name); err != nil {
		t.Fatal(err)
	}
	checkCountedOnce(t, b, name, 1)
}

func TestIssueRevs(t *testing.T) {
	w := func(i int) string { return fmt.Sprintf("%024x", i) }
	var revs []string
	for i := range 10 {
		revs = issueRevs(revs, w(i), "")
	}
	revs = issueRevs(revs, w(10), foldMarker("errors", 100))
	revs = issueRevs(revs, w(11), foldMarker("timeouts", 50))
	for i := 12; i < 30; i++ {
		revs = issueRevs(revs, w(i), "")
	}
	revs = issueRevs(revs, w(30), foldMarker("errors", 200))
	want := []string{foldMarker("timeouts", 50), foldMarker("errors", 200)}
	for i := 23; i <= 30; i++ {
		want = append(want, w(i))
	}
	if fmt.Sprint(revs) != fmt.Sprint(want) {
		t.Errorf("revs %q\nwant %q", revs, want)
	}
	for _, c := range []struct {
		name string
		end  int64
	}{{"errors", 200}, {"timeouts", 50}, {"oom", 0}} {
		if got := foldedThrough(revs, c.name); got != c.end {
			t.Errorf("foldedThrough(%s) = %d, want %d", c.name, got, c.end)
		}
	}
	if n, end, ok := parseFoldMarker(foldMarker("a:b", 7)); !ok || n != "a:b" || end != 7 {
		t.Errorf("a name with a colon parses as %q %d %v", n, end, ok)
	}
}

func TestJournalOccurrencesRoundTrip(t *testing.T) {
	occ := windowOccurrences(3)
	occ[0].Explanation, occ[1].Channel = "it's \"quoted\"\x00", "jobs"
	got, err := decodeOccurrences(encodeOccurrences(occ))
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(got) != fmt.Sprint(occ) {
		t.Errorf("round trip\n got %+v\nwant %+v", got, occ)
	}
	if _, err := decodeOccurrences(stmt.Int(1)); err == nil {
		t.Error("a broken journal row decodes")
	}
}

// TestCommitDetectionIdenticalWindows: two windows within one minute that
// find the same occurrence count twice. Their issue_counts blocks are
// identical, which ClickHouse would drop as a retried insert without the
// window's own deduplication token.
func TestCommitDetectionIdenticalWindows(t *testing.T) {
	a, _ := twoNodes(t)
	ctx := t.Context()
	occ := windowOccurrences(0)[:1]
	mid := journalBase + int64(30*time.Second)
	if err := a.CommitDetection(ctx, "errors", 0, mid, occ, mid); err != nil {
		t.Fatal(err)
	}
	if err := a.CommitDetection(ctx, "errors", mid, windowEnd(0), occ, windowEnd(0)); err != nil {
		t.Fatal(err)
	}
	counts, err := a.IssueCounts(ctx, journalBase)
	if err != nil {
		t.Fatal(err)
	}
	id := store.IssueID(occ[0].Kind, occ[0].Fingerprint)
	if counts[id] != 2*occ[0].Count {
		t.Errorf("issue_counts %v, want %d for %s", counts, 2*occ[0].Count, id)
	}
}
