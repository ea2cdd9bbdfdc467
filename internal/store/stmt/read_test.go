package stmt

import (
	"strings"
	"testing"

	"github.com/ariadnehq/ariadne/internal/model"
	"github.com/ariadnehq/ariadne/internal/store"
)

func TestReadGolden(t *testing.T) {
	tid, _ := model.ParseTraceID("0af7651916cd43dd8448eb211c80319c")
	r := store.TimeRange{Start: 1000, End: 2000}
	golden(t, "read-trace", func(d Dialect) string {
		return strings.Join([]string{
			d.TraceExtent(tid),
			d.TraceSpans("trace_id, span_id", tid, 1000, 2000),
			d.TraceLogs("trace_id, body", tid, 1000, 2000),
			d.TraceInvocations("request_id, source", tid, 1000, 2000),
		}, ";\n")
	})
	golden(t, "read-message-refs", func(d Dialect) string { return d.MessageRefs("key, role", "sqs:it's") })
	golden(t, "read-services", func(d Dialect) string {
		return d.Services(r) + ";\n" + d.Services(store.TimeRange{})
	})
	golden(t, "read-operations", func(d Dialect) string {
		return d.Operations("cart", r) + ";\n" + d.Operations("", store.TimeRange{Start: 1000})
	})
	golden(t, "read-attribute-keys", func(d Dialect) string { return d.AttributeKeys("http.", r, 20_000) })
	golden(t, "read-attribute-values", func(d Dialect) string { return d.AttributeValues("http.route", "/a", r, 200_000) })
	golden(t, "read-retention", func(d Dialect) string {
		var out []string
		for _, rt := range d.RetentionTables() {
			out = append(out, d.RetentionCount(rt, 1000), d.RetentionDelete(rt, 1000, false, ""))
		}
		return strings.Join(out, ";\n")
	})
	golden(t, "read-retention-cluster", func(d Dialect) string {
		return d.RetentionDelete(d.RetentionTables()[0], 1000, true, " ON CLUSTER `c`")
	})
}

func TestRetentionTables(t *testing.T) {
	for _, dl := range dialects {
		ts := dl.d.RetentionTables()
		if last := ts[len(ts)-1]; last.Table != "trace_index" || !last.Index {
			t.Errorf("%s: trace_index must go last, after the rows it points at: %+v", dl.name, ts)
		}
		for _, rt := range ts[:len(ts)-1] {
			if rt.Index {
				t.Errorf("%s: %s counted as index", dl.name, rt.Table)
			}
		}
	}
}
