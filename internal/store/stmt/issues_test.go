package stmt

import (
	"testing"

	"github.com/ariadnehq/ariadne/internal/model"
	"github.com/ariadnehq/ariadne/internal/store"
)

func TestIssueStatements(t *testing.T) {
	golden(t, "issues-list", func(d Dialect) string {
		return Issues(d, store.IssueQuery{TimeRange: detectRange, Kind: "error", Status: store.IssueOpen, Function: "it's"}, 10)
	})
	golden(t, "issues-list-all", func(d Dialect) string { return Issues(d, store.IssueQuery{}, store.MaxLimit) })
	golden(t, "issues-one", func(d Dialect) string { return Issue(d, "c83eb6e7dbc0e102") })
	is := &store.Issue{ID: "c83eb6e7dbc0e102", Kind: "error", Fingerprint: "fp, with comma", Title: "it's, broken", Function: "api",
		Severity: "error", Status: store.IssueOpen, FirstSeen: 1, LastSeen: 2, Count: 3, Explanation: "a\\b",
		SampleTraces: []model.TraceID{{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}, {0xff}}, OpenedAt: 1, Regressions: 1, UpdatedAt: 4}
	golden(t, "issues-write", func(d Dialect) string {
		if d.ch {
			return KeeperInsertNew(d, "issues", IssueColumns+", "+keeperRevColumns, IssueValues(d, is)+", "+d.Str("r1")+", "+KeeperRevs(d, []string{"r1"})) +
				";\n" + KeeperCASUpdate(d, "issues", "id", is.ID, "r0", IssueSets(d, is), "r1", KeeperRevsPush(d, "r1"))
		}
		return PutIssue(d, is) + ";\n" + SetIssueStatus(d, is.ID, store.IssueResolved, 9) + ";\n" + SetIssueStatus(d, is.ID, store.IssueOpen, 9)
	})
	golden(t, "issues-stale", func(d Dialect) string {
		if d.ch {
			return StaleIssueIDs(d, 100)
		}
		return ResolveStale(d, 100, 200)
	})
	golden(t, "issues-counts", func(d Dialect) string {
		return AddIssueCounts(d, []IssueCount{{"a", 60e9, 2}, {"b'", 120e9, 1}}) + ";\n" + IssueCounts(d, 90e9)
	})
	golden(t, "issues-watermark", func(d Dialect) string {
		if d.ch {
			return DetectorState(d, "errors")
		}
		return SetDetectorWatermark(d, "errors", false, 5, 6) + ";\n" + SetDetectorWatermark(d, "errors", true, 7, 8)
	})
	if q := AddIssueCounts(DuckDB(), nil); q != "" {
		t.Errorf("no counts add: %s", q)
	}
}

func TestIssueSetsCoverEveryColumnButTheKey(t *testing.T) {
	is := &store.Issue{ID: "x", Title: "a, b = c"}
	sets := IssueSets(ClickHouse(nil), is)
	for _, c := range []string{"kind = ''", "title = 'a, b = c'", "updated_at = 0"} {
		if !contains(sets, c) {
			t.Errorf("IssueSets lacks %q: %s", c, sets)
		}
	}
	if contains(sets, "id = ") {
		t.Errorf("IssueSets changes the key: %s", sets)
	}
}

func contains(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}
