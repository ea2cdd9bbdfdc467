package stmt

import (
	"testing"
	"time"

	"github.com/ariadnehq/ariadne/internal/model"
	"github.com/ariadnehq/ariadne/internal/store"
)

var detectRange = store.TimeRange{Start: 1772366400000000000, End: 1772366460000000000}

func TestDetectStatements(t *testing.T) {
	golden(t, "detect-spans", func(d Dialect) string {
		return DetectSpans(d, "trace_id, span_id", detectRange, store.DetectSpanFilter{Errors: true, AttrKeys: []string{"tenant", "it's"},
			DestinationContains: []string{"DLQ_"}, AttrAtLeast: []store.AttrBound{{Key: "retries", Min: 2}}, Producers: true}, 100)
	})
	golden(t, "detect-spans-errors", func(d Dialect) string {
		return DetectSpans(d, "*", store.TimeRange{End: detectRange.End}, store.DetectSpanFilter{Errors: true}, 10)
	})
	golden(t, "detect-invocations", func(d Dialect) string {
		return DetectInvocationKeys(d, store.DetectInvocationQuery{TimeRange: detectRange,
			Statuses: []model.InvocationStatus{model.InvocationError, model.InvocationTimeout}, MinAttempt: 2, ColdStarts: true}, 100)
	})
	golden(t, "detect-watermark", func(d Dialect) string { return DetectorWatermark(d, "errors") })
	for _, d := range []Dialect{DuckDB(), ClickHouse(nil)} {
		if q := DetectSpans(d, "*", detectRange, store.DetectSpanFilter{}, 10); q != "" {
			t.Errorf("an empty span filter selects: %s", q)
		}
		if q := DetectInvocationKeys(d, store.DetectInvocationQuery{TimeRange: detectRange}, 10); q != "" {
			t.Errorf("an empty invocation query selects: %s", q)
		}
	}
}

func TestKeeperStatements(t *testing.T) {
	golden(t, "detect-keeper", func(d Dialect) string {
		if !d.ch {
			return "-- ClickHouse only"
		}
		return KeeperInsertNew(d, "detector_state", DetectorStateColumns, DetectorStateValues(d, "errors", 2, 3, "r1")) + ";\n" +
			KeeperCASUpdate(d, "detector_state", "name", "errors", "r0", DetectorStateSets(2, 3), "r1", KeeperRevsPush(d, "r1")) + ";\n" +
			KeeperCASWon(d, "detector_state", "name", "errors", "r1") + ";\n" +
			DetectorState(d, "errors")
	})
}

func TestContractStatements(t *testing.T) {
	c := &store.Contract{Channel: "jobs", Service: "api", Version: "1.2"}
	golden(t, "detect-contracts", func(d Dialect) string {
		q := Contracts(d, "jobs") + ";\n" + Contract(d, c)
		if d.ch {
			return q + ";\n" + KeeperInsertNew(d, "contracts", ContractInsertColumns, ContractValues(d, c, `{"id":"string"}`, 1, 2, "r1")) + ";\n" +
				ContractSets(d, `{"id":"string"}`, 1, 2)
		}
		return q + ";\n" + PutContract(d, c, `{"id":"string"}`, 1, 2)
	})
}

func TestOccurrenceCounts(t *testing.T) {
	m := int64(time.Minute)
	occ := []store.IssueOccurrence{
		{Kind: "error", Fingerprint: "a", Last: 10*m + 5, Count: 2},
		{Kind: "error", Fingerprint: "a", Last: 10*m + 7, Count: 3}, // same minute: one row
		{Kind: "error", Fingerprint: "a", Last: 11 * m, Count: 1},
		{Kind: "error", Fingerprint: "b", Last: 10 * m, Count: 4},
	}
	got := OccurrenceCounts(occ)
	a, b := store.IssueID("error", "a"), store.IssueID("error", "b")
	want := []IssueCount{{a, 10 * m, 5}, {a, 11 * m, 1}, {b, 10 * m, 4}}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("row %d: got %v, want %v", i, got[i], want[i])
		}
	}
}

func TestJournalStatements(t *testing.T) {
	golden(t, "detect-journal", func(d Dialect) string {
		if !d.ch {
			return "-- ClickHouse only"
		}
		return KeeperInsertNew(d, "detector_journal", DetectorJournalColumns,
			DetectorJournalValues(d, "errors", "t1", 10, 20, `[{"kind":"error","title":"it's"}]`, 21)) + ";\n" +
			DetectorJournal(d, "errors") + ";\n" + DeleteDetectorJournal(d, "t1")
	})
}
