package duckdb

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ariadnehq/ariadne/internal/model"
	"github.com/ariadnehq/ariadne/internal/store"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/")

// TestSearchSQL pins the generated search SQL: a change to it shows up in
// review as a diff of testdata/search/*.sql (go test -update rewrites them).
func TestSearchSQL(t *testing.T) {
	tid, _ := model.ParseTraceID("0af7651916cd43dd8448eb211c80319c")
	tests := []struct {
		name   string
		q      store.TraceQuery
		cur    *cursor
		final  bool
		ranges [][2]int64
	}{
		{name: "no_conditions", q: store.TraceQuery{}},
		{name: "service_operation", q: store.TraceQuery{Service: "cart", Operation: "GET /cart"}},
		{name: "attributes_text", q: store.TraceQuery{
			Attributes: []model.Attr{{Key: "k", Value: model.Value{Str: "v"}}}, Text: "50% off_"}},
		{name: "attribute_ranges", ranges: [][2]int64{{1000, 1200}, {1500, 2000}}, q: store.TraceQuery{
			Service: "cart", Attributes: []model.Attr{{Key: "k", Value: model.Value{Str: "v"}}}}},
		{name: "trace_level_final_cursor", final: true, cur: &cursor{start: 1500, trace: tid},
			q: store.TraceQuery{ErrorOnly: true, MinDuration: 10, MaxDuration: 20}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sql, args := buildSearch(tc.q, tc.cur, 1000, 2000, tc.final, 21, tc.ranges)
			got := fmt.Sprintf("%s\n-- args: %q\n", sql, args)
			path := filepath.Join("testdata", "search", tc.name+".sql")
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

func diffLines(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var b strings.Builder
	for i := 0; i < max(len(w), len(g)); i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			fmt.Fprintf(&b, "line %d:\n- %s\n+ %s\n", i+1, wl, gl)
		}
	}
	return b.String()
}

func TestCursorRoundTrip(t *testing.T) {
	tid, _ := model.ParseTraceID("0af7651916cd43dd8448eb211c80319c")
	c := cursor{start: -5, trace: tid}
	got, err := decodeCursor(encodeCursor(c))
	if err != nil || *got != c {
		t.Fatalf("decodeCursor(encodeCursor(%v)) = %v, %v", c, got, err)
	}
	for _, bad := range []string{"!", "djE", encodeCursor(c)[:10]} {
		if _, err := decodeCursor(bad); err == nil {
			t.Errorf("decodeCursor(%q) accepted", bad)
		}
	}
}
