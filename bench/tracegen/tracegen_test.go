package tracegen

import (
	"encoding/binary"
	"testing"

	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
)

func TestPatchRewritesIDsAndTimes(t *testing.T) {
	tpl, err := New(1, 50)
	if err != nil {
		t.Fatal(err)
	}
	dst := make([]byte, len(tpl.Body))
	const start = uint64(1_800_000_000_000_000_000)
	tpl.Patch(dst, 7, start)
	req := ptraceotlp.NewExportRequest()
	if err := req.UnmarshalProto(dst); err != nil {
		t.Fatalf("patched body does not decode: %v", err)
	}
	td := req.Traces()
	if got := td.SpanCount(); got != 500 {
		t.Fatalf("span count = %d, want 500", got)
	}
	rss := td.ResourceSpans()
	for i := 0; i < rss.Len(); i++ {
		spans := rss.At(i).ScopeSpans().At(0).Spans()
		for j := 0; j < spans.Len(); j++ {
			s := spans.At(j)
			tid := s.TraceID()
			if b := binary.BigEndian.Uint32(tid[4:8]); b != 7 {
				t.Fatalf("batch in trace id = %d, want 7", b)
			}
			st := uint64(s.StartTimestamp())
			if st < start || st > start+uint64(60e9) {
				t.Fatalf("start %d not shifted to %d", st, start)
			}
			if s.EndTimestamp() < s.StartTimestamp() {
				t.Fatalf("end before start")
			}
			if s.Attributes().Len() == 0 {
				t.Fatalf("attributes lost")
			}
		}
	}
}
