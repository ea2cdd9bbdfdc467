// Package tracegen builds benchmark traffic shaped like Jaeger's tracegen
// defaults (10 spans per trace, 11 attributes per span drawn from 97 keys ×
// 1000 values, 10 services) as pre-encoded OTLP requests. Encoding happens
// once; each send only patches the trace ids and timestamps in place, so the
// load generator costs almost nothing next to the server it measures.
package tracegen

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math/rand/v2"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
)

// Shape of the data set.
const (
	SpansPerTrace = 10
	AttrsPerSpan  = 11
	AttrKeys      = 97
	AttrValues    = 1000
	Services      = 10
	Operations    = 20
)

// Template is one encoded ExportTraceServiceRequest with the byte offsets
// of its trace ids and timestamps.
type Template struct {
	Body       []byte
	Spans      int
	Traces     int
	traceOffs  []int // offset of every 16-byte trace id (spans and parent refs)
	timeOffs   []int // offset of every fixed64 timestamp
	baseTimeNs uint64
	traceIDs   [][16]byte // as encoded, batch part zero
	// SampleAttr is the first attribute (key, value) of the first span: a
	// pair every request holds, since every request repeats the template.
	SampleAttr [2]string
}

// Service returns the name of service i, as the generator writes it.
func Service(i int) string { return fmt.Sprintf("svc-%02d", i) }

// Operation returns the name of operation i.
func Operation(i int) string { return fmt.Sprintf("op-%02d", i) }

// AttrKey and AttrValue return the attribute vocabulary.
func AttrKey(i int) string   { return fmt.Sprintf("k%02d", i) }
func AttrValue(i int) string { return fmt.Sprintf("v%03d", i) }

// New encodes a request of traces traces. Trace ids are
// [0xA7 marker 4 B | batch 4 B | trace index 4 B | random 4 B]; Patch rewrites the batch part.
func New(seed uint64, traces int) (*Template, error) {
	r := rand.New(rand.NewPCG(seed, seed+1))
	const base = uint64(1_700_000_000_000_000_000)
	td := ptrace.NewTraces()
	// One ResourceSpans per service present in the batch.
	bySvc := map[int]ptrace.SpanSlice{}
	var ids [][16]byte
	var sample [2]string
	for ti := 0; ti < traces; ti++ {
		var tid [16]byte
		copy(tid[:4], []byte{0xA7, 0x1A, 0xD3, 0x5E})
		binary.BigEndian.PutUint32(tid[8:12], uint32(ti))
		binary.BigEndian.PutUint32(tid[12:16], r.Uint32())
		ids = append(ids, tid)
		start := base + uint64(ti)*1_000_000 + uint64(r.IntN(1000))
		var parent pcommon.SpanID
		for si := 0; si < SpansPerTrace; si++ {
			svc := r.IntN(Services)
			ss, ok := bySvc[svc]
			if !ok {
				rs := td.ResourceSpans().AppendEmpty()
				rs.Resource().Attributes().PutStr("service.name", Service(svc))
				sc := rs.ScopeSpans().AppendEmpty()
				sc.Scope().SetName("tracegen")
				ss = sc.Spans()
				bySvc[svc] = ss
			}
			s := ss.AppendEmpty()
			s.SetTraceID(tid)
			var sid [8]byte
			binary.LittleEndian.PutUint64(sid[:], r.Uint64()|1)
			s.SetSpanID(sid)
			if si > 0 {
				s.SetParentSpanID(parent)
			}
			parent = sid
			s.SetName(Operation(r.IntN(Operations)))
			s.SetKind(ptrace.SpanKind(1 + r.IntN(5)))
			st := start + uint64(si)*1000
			s.SetStartTimestamp(pcommon.Timestamp(st))
			s.SetEndTimestamp(pcommon.Timestamp(st + uint64(100_000+r.IntN(50_000_000))))
			if r.IntN(50) == 0 {
				s.Status().SetCode(ptrace.StatusCodeError)
				s.Status().SetMessage("upstream timeout")
			}
			for a := 0; a < AttrsPerSpan; a++ {
				k, v := AttrKey(r.IntN(AttrKeys)), AttrValue(r.IntN(AttrValues))
				if sample[0] == "" {
					sample = [2]string{k, v}
				}
				s.Attributes().PutStr(k, v)
			}
		}
	}
	body, err := ptraceotlp.NewExportRequestFromTraces(td).MarshalProto()
	if err != nil {
		return nil, fmt.Errorf("encode request: %w", err)
	}
	t := &Template{Body: body, Spans: traces * SpansPerTrace, Traces: traces, baseTimeNs: base, traceIDs: ids, SampleAttr: sample}
	marker := []byte{0xA7, 0x1A, 0xD3, 0x5E}
	for off := 0; ; {
		i := bytes.Index(body[off:], marker)
		if i < 0 {
			break
		}
		t.traceOffs = append(t.traceOffs, off+i)
		off += i + 16
	}
	// Timestamps are fixed64 fields 7 (start) and 8 (end): tags 0x39 and 0x41.
	for i := 0; i+9 <= len(body); i++ {
		if body[i] != 0x39 && body[i] != 0x41 {
			continue
		}
		v := binary.LittleEndian.Uint64(body[i+1:])
		if v >= base && v < base+uint64(traces+1)*1_000_000+100_000_000 {
			t.timeOffs = append(t.timeOffs, i+1)
			i += 8
		}
	}
	if len(t.traceOffs) != t.Spans || len(t.timeOffs) != 2*t.Spans {
		return nil, fmt.Errorf("locate fields: found %d trace ids and %d timestamps for %d spans", len(t.traceOffs), len(t.timeOffs), t.Spans)
	}
	return t, nil
}

// Patch writes into dst (len(t.Body)) a copy of the request whose trace ids
// carry batch and whose timestamps start at startNs.
func (t *Template) Patch(dst []byte, batch uint32, startNs uint64) {
	copy(dst, t.Body)
	for _, off := range t.traceOffs {
		binary.BigEndian.PutUint32(dst[off+4:], batch)
	}
	for _, off := range t.timeOffs {
		v := binary.LittleEndian.Uint64(dst[off:])
		binary.LittleEndian.PutUint64(dst[off:], v-t.baseTimeNs+startNs)
	}
}

// TraceIDs returns the trace ids that Patch writes for batch.
func (t *Template) TraceIDs(batch uint32) [][16]byte {
	out := make([][16]byte, len(t.traceIDs))
	for i, id := range t.traceIDs {
		binary.BigEndian.PutUint32(id[4:8], batch)
		out[i] = id
	}
	return out
}
