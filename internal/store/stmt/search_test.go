package stmt

import (
	"testing"

	"github.com/ariadnehq/ariadne/internal/model"
	"github.com/ariadnehq/ariadne/internal/store"
	"github.com/ariadnehq/ariadne/internal/store/shared"
)

func TestSearchGolden(t *testing.T) {
	tid, _ := model.ParseTraceID("0af7651916cd43dd8448eb211c80319c")
	attr := []model.Attr{{Key: "k", Value: model.Value{Str: "v"}}}
	for _, c := range []struct {
		name string
		w    SearchWindow
	}{
		{"no-conditions", SearchWindow{Start: 1000, End: 2000, Limit: 21}},
		// The last window of a search without a range start or end.
		{"open-final", SearchWindow{Final: true, Limit: 21}},
		{"service-operation", SearchWindow{Query: store.TraceQuery{Service: "cart", Operation: "GET /cart"}, Start: 1000, End: 2000, Limit: 21}},
		// Text that JSON writes as it is: DuckDB tests its ext first.
		{"attributes-text", SearchWindow{Query: store.TraceQuery{Attributes: attr, Text: "50% off_"}, Start: 1000, End: 2000, Limit: 21}},
		// Text that JSON escapes, and user text that must stay literal.
		{"text-escaped", SearchWindow{Query: store.TraceQuery{Service: "it's", Text: `a\b"c/é`}, Start: 1000, End: 2000, Limit: 21}},
		{"attribute-ranges", SearchWindow{Query: store.TraceQuery{Service: "cart", Attributes: attr}, Start: 1000, End: 2000, Limit: 21,
			Ranges: [][2]int64{{1000, 1200}, {1500, 2000}}}},
		{"trace-level-final-cursor", SearchWindow{Query: store.TraceQuery{ErrorOnly: true, MinDuration: 10, MaxDuration: 20},
			Cursor: &shared.TraceCursor{Start: 1500, Trace: tid}, Start: 1000, End: 2000, Final: true, Limit: 21}},
	} {
		t.Run(c.name, func(t *testing.T) {
			golden(t, "search-"+c.name, func(d Dialect) string { return SearchTraces(d, c.w) })
		})
	}
	golden(t, "search-bounds", func(d Dialect) string { return SearchBounds(d) })
	golden(t, "search-span-counts", func(d Dialect) string {
		tid2, _ := model.ParseTraceID("4bf92f3577b34da6a3ce929d0e0e4736")
		return SearchSpanCounts(d, []model.TraceID{tid, tid2}, 1000, 2000)
	})
}

func TestJSONVerbatim(t *testing.T) {
	for _, c := range []struct {
		text string
		want bool
	}{
		{"timeout", true},
		{"50% off_", true},
		{`say "hi"`, false},
		{`a\b`, false},
		{"a/b", false},
		{"café", false},
		{"tab\there", false},
	} {
		if got := jsonVerbatim(c.text); got != c.want {
			t.Errorf("jsonVerbatim(%q) = %v, want %v", c.text, got, c.want)
		}
	}
}
