package duckdb

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/ariadnehq/ariadne/internal/model"
	"github.com/ariadnehq/ariadne/internal/store"
)

// TestServiceMapSQL pins the generated service map, RED and cost SQL: a
// change shows up in review as a diff of testdata/servicemap/*.sql (go
// test -update rewrites them). The conformance suite checks what the SQL
// returns; this checks that the dialect hooks and filters land where
// they should.
func TestServiceMapSQL(t *testing.T) {
	tid, _ := model.ParseTraceID("0af7651916cd43dd8448eb211c80319c")
	d := duckDialect()
	r := store.TimeRange{Start: 1_000_000_000_000, End: 1_003_600_000_000}
	tests := []struct {
		name  string
		build func() (string, []any)
	}{
		{"calls", func() (string, []any) { return buildMapCalls(d, store.MapQuery{TimeRange: r}, 100, modeExact) }},
		{"calls_environment_traces", func() (string, []any) {
			return buildMapCalls(d, store.MapQuery{Environment: "prod", TraceIDs: []model.TraceID{tid}}, 100, modeExact)
		}},
		{"hops", func() (string, []any) {
			return buildMapHops(d, store.MapQuery{TimeRange: r}, r.Start-60e9, r.End, 100, modeExact)
		}},
		{"nodes_environment", func() (string, []any) {
			return buildMapNodes(d, store.MapQuery{TimeRange: r, Environment: "prod"}, 100, modeExact)
		}},
		{"red_function", func() (string, []any) {
			return buildRED(d, store.REDQuery{TimeRange: r, Function: "checkout", Step: 60e9}, r, 100, modeExact)
		}},
		{"red_operation_by_service", func() (string, []any) {
			return buildRED(d, store.REDQuery{TimeRange: r, Operation: "GET /", GroupBy: "service", Step: 60e9}, r, 100, modeExact)
		}},
		{"calls_rollup", func() (string, []any) { return buildMapCalls(d, store.MapQuery{TimeRange: r}, 0, modeRollup) }},
		{"hops_hist", func() (string, []any) {
			return buildMapHops(d, store.MapQuery{TimeRange: r}, r.Start-60e9, r.End, 0, modeHist)
		}},
		{"hops_rollup", func() (string, []any) {
			return buildMapHops(d, store.MapQuery{TimeRange: r}, r.Start-60e9, r.End, 0, modeRollup)
		}},
		{"nodes_rollup", func() (string, []any) { return buildMapNodes(d, store.MapQuery{TimeRange: r}, 0, modeRollup) }},
		{"red_hist", func() (string, []any) {
			return buildRED(d, store.REDQuery{TimeRange: r, Service: "web", Step: 60e9}, store.TimeRange{Start: r.Start, End: r.Start + 60e9}, 0, modeHist)
		}},
		{"cost_traces", func() (string, []any) {
			return buildCost(d, store.CostQuery{TimeRange: r, Function: "checkout", TraceIDs: []model.TraceID{tid}}, 100)
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sql, args := tc.build()
			got := fmt.Sprintf("%s\n-- args: %q\n", sql, args)
			path := filepath.Join("testdata", "servicemap", tc.name+".sql")
			if *update {
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update to create)", err)
			}
			if got != string(want) {
				t.Errorf("SQL differs from %s:\n%s", path, diffLines(string(want), got))
			}
		})
	}
}
