package otlp

import (
	"errors"
	"fmt"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/ariadnehq/ariadne/internal/ingest/otlp/anyvalue"
	"github.com/ariadnehq/ariadne/internal/model"
)

// DecodeNormalizeLogs decodes an ExportLogsServiceRequest body and
// normalises it into b, as DecodeLogs followed by NormalizeLogs would, with
// the direct protobuf path DecodeNormalizeTraces describes.
func DecodeNormalizeLogs(body []byte, enc Encoding, lim Limits, b *model.Batch) (Rejections, error) {
	if enc == EncodingJSON {
		ld, err := DecodeLogs(body, enc)
		if err != nil {
			return Rejections{}, err
		}
		return NormalizeLogs(ld, lim, b), nil
	}
	d := wireDecoder{n: newNormalizer(lim, b)}
	if err := d.logsRequest(body); err != nil {
		return Rejections{}, fmt.Errorf("decode OTLP/protobuf logs request: %v: %w", err, ErrMalformed)
	}
	return d.rej, nil
}

func (d *wireDecoder) logsRequest(body []byte) error {
	d.buf = body[:len(body):len(body)]
	total := 0
	err := eachBytesField(d.buf, 1, "ExportLogsServiceRequest", func(rl []byte) error {
		scopeField, err := scopeSpansField(rl)
		if err != nil {
			return err
		}
		return eachBytesField(rl, scopeField, "ResourceLogs", func(sl []byte) error {
			return eachBytesField(sl, 2, "ScopeLogs", func([]byte) error { total++; return nil })
		})
	})
	if err != nil || total == 0 {
		return err
	}
	d.str = string(d.buf)
	b := d.n.batch
	if cap(b.Logs)-len(b.Logs) < total {
		grown := make([]model.LogRecord, len(b.Logs), len(b.Logs)+total)
		copy(grown, b.Logs)
		b.Logs = grown
	}
	d.n.arena = make([]model.Attr, 0, 8*total)
	return eachBytesField(d.buf, 1, "ExportLogsServiceRequest", func(rl []byte) error {
		res, err := d.resource(rl, "ResourceLogs")
		if err != nil {
			return err
		}
		scopeField, err := scopeSpansField(rl)
		if err != nil {
			return err
		}
		return eachBytesField(rl, scopeField, "ResourceLogs", func(sl []byte) error {
			name, _, err := d.scope(sl, "ScopeLogs")
			if err != nil {
				return err
			}
			return eachBytesField(sl, 2, "ScopeLogs", func(lb []byte) error {
				if res.err != nil {
					d.rej.add(res.err.reason, 1, res.err.detail)
					return nil
				}
				mark := len(d.n.arena)
				lr, ie, err := d.logRecord(lb)
				if err != nil {
					return err
				}
				if ie == nil {
					ie = d.n.finishLog(&lr, &res)
				}
				if ie != nil {
					d.n.arena = d.n.arena[:mark]
					d.rej.add(ie.reason, 1, ie.detail)
					return nil
				}
				lr.ScopeName = name
				b.Logs = append(b.Logs, lr)
				return nil
			})
		})
	})
}

func (d *wireDecoder) logRecord(b []byte) (model.LogRecord, *itemError, error) {
	const msg = "LogRecord"
	var lr model.LogRecord
	var ie *itemError
	var body anyvalue.Oneof
	nAttrs := 0
	first := len(d.n.arena)
	for len(b) > 0 {
		num, typ, val, u, rest, err := field(b, msg)
		if err != nil {
			return lr, nil, err
		}
		b = rest
		want := protowire.BytesType
		switch num {
		case 1, 11:
			want = protowire.Fixed64Type
		case 2, 7:
			want = protowire.VarintType
		case 8:
			want = protowire.Fixed32Type
		case 3, 5, 6, 9, 10, 12:
		default:
			continue
		}
		if typ != want {
			return lr, nil, wrongType(msg, num, typ)
		}
		switch num {
		case 1:
			lr.Time = int64(u)
		case 11:
			lr.ObservedTime = int64(u)
		case 2:
			lr.SeverityNumber = 0
			setSeverity(&lr, int32(u))
		case 3:
			lr.SeverityText = d.s(val)
		case 5:
			err = body.Scan(val)
		case 6:
			err = d.attrList(val, &d.n.arena, &nAttrs, "log record:", &ie)
		case 8:
			lr.Flags = uint32(u)
		case 9:
			err = id(lr.TraceID[:], val, "LogRecord.trace_id")
		case 10:
			err = id(lr.SpanID[:], val, "LogRecord.span_id")
		}
		if err != nil {
			return lr, nil, err
		}
	}
	if ie != nil {
		return lr, ie, nil
	}
	v, err := anyvalue.FromOneof(&body, d.n.vlim, d.s)
	switch {
	case errors.Is(err, anyvalue.ErrMalformed):
		return lr, nil, err
	case err != nil:
		return lr, d.n.bodyError(err), nil
	}
	lr.Body = v
	if len(d.n.arena) > first {
		lr.Attributes = d.n.arena[first:len(d.n.arena):len(d.n.arena)]
	}
	return lr, nil, nil
}
