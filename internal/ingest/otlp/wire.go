package otlp

import (
	"errors"
	"fmt"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/ariadnehq/ariadne/internal/ingest/otlp/anyvalue"
	"github.com/ariadnehq/ariadne/internal/model"
)

// DecodeNormalizeTraces decodes an ExportTraceServiceRequest body and
// normalises it into b, as DecodeTraces followed by NormalizeTraces would.
// Protobuf bodies take a direct path from the wire into the model: pdata's
// decoder costs about 38 allocations a span, more than the rest of the
// server's budget, and this path costs a few a request. Strings in b then
// share one copy of the body; a writer that keeps any past Write must clone
// them. Errors wrap ErrMalformed.
func DecodeNormalizeTraces(body []byte, enc Encoding, lim Limits, b *model.Batch) (Rejections, error) {
	if enc == EncodingJSON {
		td, err := DecodeTraces(body, enc)
		if err != nil {
			return Rejections{}, err
		}
		return NormalizeTraces(td, lim, b), nil
	}
	d := wireDecoder{n: newNormalizer(lim, b)}
	if err := d.request(body); err != nil {
		return Rejections{}, fmt.Errorf("decode OTLP/protobuf traces request: %v: %w", err, ErrMalformed)
	}
	return d.rej, nil
}

// wireDecoder reads the OTLP trace protobuf with protowire, field by field,
// with protobuf's rules for repeated and merged fields, as pdata does; the
// differential fuzz test holds the two to the same output.
type wireDecoder struct {
	n   *normalizer
	buf []byte // the body; every slice parsed is a sub-slice of it
	str string // the body as one string: strings in the batch are substrings of it
	rej Rejections
}

// s returns the bytes of v, a sub-slice of d.buf, as a substring of d.str
// without copying. The offset follows from the capacities: slicing keeps
// the end of the backing array, and d.buf's capacity is its length.
func (d *wireDecoder) s(v []byte) string {
	if len(v) == 0 {
		return ""
	}
	off := cap(d.buf) - cap(v)
	return d.str[off : off+len(v)]
}

var errWire = errors.New("invalid protobuf")

// field reads one field of a message: its number and type, the payload of a
// length-delimited field or the number of a scalar, and what follows.
func field(b []byte, msg string) (num protowire.Number, typ protowire.Type, val []byte, u uint64, rest []byte, err error) {
	num, typ, n := protowire.ConsumeTag(b)
	if n < 0 {
		return 0, 0, nil, 0, nil, fmt.Errorf("%s: read tag: %v: %w", msg, protowire.ParseError(n), errWire)
	}
	b = b[n:]
	switch typ {
	case protowire.BytesType:
		val, n = protowire.ConsumeBytes(b)
	case protowire.VarintType:
		u, n = protowire.ConsumeVarint(b)
	case protowire.Fixed64Type:
		u, n = protowire.ConsumeFixed64(b)
	case protowire.Fixed32Type:
		var v uint32
		v, n = protowire.ConsumeFixed32(b)
		u = uint64(v)
	default:
		n = protowire.ConsumeFieldValue(num, typ, b)
	}
	if n < 0 {
		return 0, 0, nil, 0, nil, fmt.Errorf("%s: field %d: %v: %w", msg, num, protowire.ParseError(n), errWire)
	}
	return num, typ, val, u, b[n:], nil
}

func wrongType(msg string, num protowire.Number, typ protowire.Type) error {
	return fmt.Errorf("%s: field %d has wire type %d: %w", msg, num, typ, errWire)
}

// id reads a trace or span id: empty (zero) or exactly size bytes.
func id(dst []byte, v []byte, msg string) error {
	switch len(v) {
	case 0:
		clear(dst)
		return nil
	case len(dst):
		copy(dst, v)
		return nil
	}
	return fmt.Errorf("%s: id of %d bytes, want %d: %w", msg, len(v), len(dst), errWire)
}

func (d *wireDecoder) request(body []byte) error {
	d.buf = body[:len(body):len(body)]
	spans, err := countSpans(d.buf)
	if err != nil {
		return err
	}
	if spans == 0 {
		return nil
	}
	d.str = string(d.buf)
	b := d.n.batch
	reserveSpans(b, spans)
	d.n.arena = make([]model.Attr, 0, 12*spans)
	for rest := d.buf; len(rest) > 0; {
		num, typ, val, _, next, err := field(rest, "ExportTraceServiceRequest")
		if err != nil {
			return err
		}
		rest = next
		if num != 1 {
			continue
		}
		if typ != protowire.BytesType {
			return wrongType("ExportTraceServiceRequest", num, typ)
		}
		if err := d.resourceSpans(val); err != nil {
			return err
		}
	}
	return nil
}

// countSpans walks the request's envelope, without decoding spans, to size
// the batch once.
func countSpans(body []byte) (int, error) {
	total := 0
	err := eachBytesField(body, 1, "ExportTraceServiceRequest", func(rs []byte) error {
		scopeField, err := scopeSpansField(rs)
		if err != nil {
			return err
		}
		return eachBytesField(rs, scopeField, "ResourceSpans", func(ss []byte) error {
			return eachBytesField(ss, 2, "ScopeSpans", func([]byte) error { total++; return nil })
		})
	})
	return total, err
}

// eachBytesField calls f with the payload of every occurrence of field want
// in msg, which must be length-delimited.
func eachBytesField(b []byte, want protowire.Number, msg string, f func([]byte) error) error {
	for len(b) > 0 {
		num, typ, val, _, rest, err := field(b, msg)
		if err != nil {
			return err
		}
		b = rest
		if num != want {
			continue
		}
		if typ != protowire.BytesType {
			return wrongType(msg, num, typ)
		}
		if err := f(val); err != nil {
			return err
		}
	}
	return nil
}

// scopeSpansField says where a ResourceSpans (or ResourceLogs) keeps its
// scopes: field 2, or the deprecated instrumentation_library_* field 1000
// when there is no field 2, as pdata's migration reads them.
func scopeSpansField(rs []byte) (protowire.Number, error) {
	found := false
	err := eachBytesField(rs, 2, "Resource*", func([]byte) error { found = true; return nil })
	if found {
		return 2, err
	}
	return 1000, err
}

func (d *wireDecoder) resourceSpans(rs []byte) error {
	// Fields may come in any order: the resource first, then the scopes.
	res, err := d.resource(rs, "ResourceSpans")
	if err != nil {
		return err
	}
	scopeField, err := scopeSpansField(rs)
	if err != nil {
		return err
	}
	return eachBytesField(rs, scopeField, "ResourceSpans", func(ss []byte) error {
		return d.scopeSpans(ss, &res)
	})
}

// resource reads the resource (field 1) of a ResourceSpans or ResourceLogs.
func (d *wireDecoder) resource(container []byte, msg string) (resource, error) {
	var attrs model.Attributes
	var resErr *itemError
	err := eachBytesField(container, 1, msg, func(r []byte) error {
		return eachBytesField(r, 1, "Resource", func(kv []byte) error {
			if resErr != nil {
				return nil
			}
			if len(attrs) >= d.n.lim.MaxAttributes {
				resErr = &itemError{ReasonTooManyAttributes, fmt.Sprintf("resource has more than %d attributes", d.n.lim.MaxAttributes)}
				return nil
			}
			a, ie, err := d.keyValue(kv)
			if err != nil {
				return err
			}
			if ie != nil {
				ie.detail = "resource " + ie.detail
				resErr = ie
				return nil
			}
			attrs = append(attrs, a)
			return nil
		})
	})
	if err != nil {
		return resource{}, err
	}
	res := resourceOf(attrs)
	res.err = resErr
	return res, nil
}

func (d *wireDecoder) scopeSpans(ss []byte, res *resource) error {
	name, version, err := d.scope(ss, "ScopeSpans")
	if err != nil {
		return err
	}
	return eachBytesField(ss, 2, "ScopeSpans", func(span []byte) error {
		if res.err != nil {
			d.rej.add(res.err.reason, 1, res.err.detail)
			return nil
		}
		b := d.n.batch
		sp := newSpan(b)
		mark := len(d.n.arena)
		ie, err := d.span(sp, span, res)
		if err != nil {
			return err
		}
		if ie != nil {
			dropSpan(b)
			d.n.arena = d.n.arena[:mark]
			d.rej.add(ie.reason, 1, ie.detail)
			return nil
		}
		sp.ScopeName, sp.ScopeVersion = name, version
		d.n.finish(sp, res)
		return nil
	})
}

// scope reads the name and version of the scope (field 1) of a ScopeSpans
// or ScopeLogs.
func (d *wireDecoder) scope(container []byte, msg string) (name, version string, err error) {
	err = eachBytesField(container, 1, msg, func(sc []byte) error {
		for rest := sc; len(rest) > 0; {
			num, typ, val, _, next, err := field(rest, "InstrumentationScope")
			if err != nil {
				return err
			}
			rest = next
			switch num {
			case 1, 2:
				if typ != protowire.BytesType {
					return wrongType("InstrumentationScope", num, typ)
				}
				if num == 1 {
					name = d.s(val)
				} else {
					version = d.s(val)
				}
			}
		}
		return nil
	})
	return name, version, err
}

// keyValue converts one KeyValue message under the limits. A limit broken
// is an itemError; a malformed message is an error.
func (d *wireDecoder) keyValue(kv []byte) (model.Attr, *itemError, error) {
	key, o, err := anyvalue.ScanKeyValue(kv)
	if err != nil {
		return model.Attr{}, nil, err
	}
	k := d.s(key)
	if len(k) > d.n.lim.MaxKeyBytes {
		return model.Attr{}, &itemError{ReasonValueTooLong, fmt.Sprintf("attribute key of %d bytes, limit %d", len(k), d.n.lim.MaxKeyBytes)}, nil
	}
	v, err := anyvalue.FromOneof(&o, d.n.vlim, d.s)
	switch {
	case err == nil:
		return model.Attr{Key: k, Value: v}, nil, nil
	case errors.Is(err, anyvalue.ErrTooDeep):
		return model.Attr{}, &itemError{ReasonTooDeep, fmt.Sprintf("attribute %q: value nested deeper than %d", truncate(k), d.n.lim.MaxValueDepth)}, nil
	case errors.Is(err, anyvalue.ErrTooLong):
		return model.Attr{}, &itemError{ReasonValueTooLong, fmt.Sprintf("attribute %q: value longer than %d bytes", truncate(k), d.n.lim.MaxValueBytes)}, nil
	}
	return model.Attr{}, nil, err
}

// attrList converts one more attribute into *list unless a limit is
// already broken; count tracks attributes seen, converted or not.
func (d *wireDecoder) attrList(kv []byte, list *[]model.Attr, count *int, what string, ie **itemError) error {
	*count++
	if *ie != nil {
		return nil
	}
	if *count > d.n.lim.MaxAttributes {
		*ie = &itemError{ReasonTooManyAttributes, fmt.Sprintf("%s has more than %d attributes", what, d.n.lim.MaxAttributes)}
		return nil
	}
	a, bad, err := d.keyValue(kv)
	if err != nil {
		return err
	}
	if bad != nil {
		bad.detail = what + " " + bad.detail
		*ie = bad
		return nil
	}
	*list = append(*list, a)
	return nil
}

func (d *wireDecoder) span(sp *model.Span, b []byte, res *resource) (*itemError, error) {
	const msg = "Span"
	var ie *itemError
	var start, end uint64
	var kind, code int32
	var nAttrs, nEvents, nLinks int
	first := len(d.n.arena)
	for len(b) > 0 {
		num, typ, val, u, rest, err := field(b, msg)
		if err != nil {
			return nil, err
		}
		b = rest
		want := protowire.BytesType
		switch num {
		case 6, 10, 12, 14:
			want = protowire.VarintType
		case 7, 8:
			want = protowire.Fixed64Type
		case 16:
			want = protowire.Fixed32Type
		case 1, 2, 3, 4, 5, 9, 11, 13, 15:
		default:
			continue
		}
		if typ != want {
			return nil, wrongType(msg, num, typ)
		}
		switch num {
		case 1:
			err = id(sp.TraceID[:], val, "Span.trace_id")
		case 2:
			err = id(sp.SpanID[:], val, "Span.span_id")
		case 3:
			sp.TraceState = d.s(val)
		case 4:
			err = id(sp.ParentSpanID[:], val, "Span.parent_span_id")
		case 5:
			sp.Name = d.s(val)
		case 6:
			kind = int32(u)
		case 7:
			start = u
		case 8:
			end = u
		case 9:
			err = d.attrList(val, &d.n.arena, &nAttrs, "span", &ie)
		case 11:
			nEvents++
			if ie == nil && nEvents > d.n.lim.MaxEvents {
				ie = &itemError{ReasonTooManyEvents, fmt.Sprintf("more than %d events", d.n.lim.MaxEvents)}
			}
			if ie == nil {
				var ev model.Event
				ev, err = d.event(val, &ie)
				sp.Events = append(sp.Events, ev)
			}
		case 13:
			nLinks++
			if ie == nil && nLinks > d.n.lim.MaxLinks {
				ie = &itemError{ReasonTooManyLinks, fmt.Sprintf("more than %d links", d.n.lim.MaxLinks)}
			}
			if ie == nil {
				var lk model.Link
				lk, err = d.link(val, &ie)
				sp.Links = append(sp.Links, lk)
			}
		case 15:
			err = d.status(sp, val, &code)
		case 16:
			sp.Flags = uint32(u)
		}
		if err != nil {
			return nil, err
		}
	}
	if sp.TraceID.IsZero() || sp.SpanID.IsZero() {
		return invalidID(sp.Name, sp), nil
	}
	if ie != nil {
		ie.detail = "span " + sp.SpanID.String() + ": " + ie.detail
		return ie, nil
	}
	if ie := d.n.checkSpanShape(sp, sp.Name, sp.StatusMessage, 0, 0, 0); ie != nil {
		return ie, nil
	}
	if len(d.n.arena) > first {
		sp.Attributes = d.n.arena[first:len(d.n.arena):len(d.n.arena)]
	}
	setTimes(sp, start, end)
	setKindStatus(sp, kind, code)
	sp.Service = res.service
	sp.ResourceAttributes = res.attrs
	return nil, nil
}

func (d *wireDecoder) status(sp *model.Span, b []byte, code *int32) error {
	for len(b) > 0 {
		num, typ, val, u, rest, err := field(b, "Status")
		if err != nil {
			return err
		}
		b = rest
		switch num {
		case 2:
			if typ != protowire.BytesType {
				return wrongType("Status", num, typ)
			}
			sp.StatusMessage = d.s(val)
		case 3:
			if typ != protowire.VarintType {
				return wrongType("Status", num, typ)
			}
			*code = int32(u)
		}
	}
	return nil
}

func (d *wireDecoder) event(b []byte, ie **itemError) (model.Event, error) {
	const msg = "Span.Event"
	var ev model.Event
	count := 0
	for len(b) > 0 {
		num, typ, val, u, rest, err := field(b, msg)
		if err != nil {
			return ev, err
		}
		b = rest
		switch num {
		case 1:
			if typ != protowire.Fixed64Type {
				return ev, wrongType(msg, num, typ)
			}
			ev.Time = int64(u)
		case 2:
			if typ != protowire.BytesType {
				return ev, wrongType(msg, num, typ)
			}
			ev.Name = d.s(val)
			if len(ev.Name) > d.n.lim.MaxValueBytes && *ie == nil {
				*ie = &itemError{ReasonValueTooLong, fmt.Sprintf("event name of %d bytes, limit %d", len(ev.Name), d.n.lim.MaxValueBytes)}
			}
		case 3:
			if typ != protowire.BytesType {
				return ev, wrongType(msg, num, typ)
			}
			if err := d.attrList(val, (*[]model.Attr)(&ev.Attributes), &count, "event", ie); err != nil {
				return ev, err
			}
		case 4:
			if typ != protowire.VarintType {
				return ev, wrongType(msg, num, typ)
			}
		}
	}
	return ev, nil
}

func (d *wireDecoder) link(b []byte, ie **itemError) (model.Link, error) {
	const msg = "Span.Link"
	var lk model.Link
	count := 0
	for len(b) > 0 {
		num, typ, val, _, rest, err := field(b, msg)
		if err != nil {
			return lk, err
		}
		b = rest
		want := protowire.BytesType
		switch num {
		case 5:
			want = protowire.VarintType
		case 6:
			want = protowire.Fixed32Type
		case 1, 2, 3, 4:
		default:
			continue
		}
		if typ != want {
			return lk, wrongType(msg, num, typ)
		}
		switch num {
		case 1:
			err = id(lk.TraceID[:], val, "Span.Link.trace_id")
		case 2:
			err = id(lk.SpanID[:], val, "Span.Link.span_id")
		case 3:
			lk.TraceState = d.s(val)
		case 4:
			err = d.attrList(val, (*[]model.Attr)(&lk.Attributes), &count, "link", ie)
		}
		if err != nil {
			return lk, err
		}
	}
	return lk, nil
}
