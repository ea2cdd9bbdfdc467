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
			TraceExtent(d, tid),
			TraceSpanRows(d, "trace_id, span_id", tid, 1000, 2000),
			TraceLogRows(d, "trace_id, body", tid, 1000, 2000),
			TraceInvocationRows(d, "request_id, source", tid, 1000, 2000),
		}, ";\n")
	})
	golden(t, "read-message-refs", func(d Dialect) string { return MessageRefs(d, "key, role", "sqs:it's") })
	golden(t, "read-services", func(d Dialect) string {
		return Services(d, r) + ";\n" + Services(d, store.TimeRange{})
	})
	golden(t, "read-operations", func(d Dialect) string {
		return Operations(d, "cart", r) + ";\n" + Operations(d, "", store.TimeRange{Start: 1000})
	})
	golden(t, "read-attribute-keys", func(d Dialect) string { return AttributeKeys(d, "http.", r, 20_000) })
	golden(t, "read-attribute-values", func(d Dialect) string { return AttributeValues(d, "http.route", "/a", r, 200_000) })
	golden(t, "read-retention", func(d Dialect) string {
		var out []string
		for _, rt := range RetentionTables(d) {
			out = append(out, RetentionCount(d, rt, 1000), RetentionDelete(d, rt, 1000, false, ""))
		}
		return strings.Join(out, ";\n")
	})
	golden(t, "read-retention-cluster", func(d Dialect) string {
		return RetentionDelete(d, RetentionTables(d)[0], 1000, true, " ON CLUSTER `c`")
	})
}

func TestRetentionTables(t *testing.T) {
	for _, dl := range dialects {
		ts := RetentionTables(dl.d)
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
