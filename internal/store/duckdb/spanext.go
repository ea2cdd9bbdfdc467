package duckdb

import (
	"encoding/json"
	"fmt"
	"strconv"
	"unsafe"

	"github.com/ariadnehq/ariadne/internal/model"
	"github.com/ariadnehq/ariadne/internal/store/shared"
)

// A span's ext column (migration 0006) is one JSON object holding the
// fields most spans leave empty, each only when set:
//
//	{"function":"checkout","cold_start":true,"http_status":200,
//	 "message_ids":["m1","m2"],"events":[…],…}
//
// Strings are JSON strings, cold_start is true or absent, http_status a
// number, message_ids an array of strings, events and links the JSON of
// shared.EncodeEvents and shared.EncodeLinks, attr_types the digits of shared.TypesString. A
// span with none of them stores NULL. The view spans extracts each field
// under its DESIGN.md §2 column name; the Go readers decode ext here.

// spanExt is the decoded ext of a span read with every field.
type spanExt struct {
	spanExtSummary
	Events          json.RawMessage `json:"events"`
	Links           json.RawMessage `json:"links"`
	RequestPayload  string          `json:"request_payload"`
	ResponsePayload string          `json:"response_payload"`
}

// spanExtSummary is what a SpanSummary read decodes: events, links and
// payloads are skipped.
type spanExtSummary struct {
	TraceState         string   `json:"trace_state"`
	ScopeVersion       string   `json:"scope_version"`
	StatusMessage      string   `json:"status_message"`
	Function           string   `json:"function"`
	InvocationID       string   `json:"invocation_id"`
	ColdStart          bool     `json:"cold_start"`
	Trigger            string   `json:"trigger"`
	MessagingSystem    string   `json:"messaging_system"`
	MessagingOperation string   `json:"messaging_operation"`
	Destination        string   `json:"destination"`
	MessageIDs         []string `json:"message_ids"`
	HTTPMethod         string   `json:"http_method"`
	HTTPRoute          string   `json:"http_route"`
	HTTPStatus         int32    `json:"http_status"`
	DBSystem           string   `json:"db_system"`
	ErrorType          string   `json:"error_type"`
	ErrorMessage       string   `json:"error_message"`
	AttrTypes          string   `json:"attr_types"`
}

func (x *spanExtSummary) apply(s *model.Span) {
	s.TraceState, s.ScopeVersion, s.StatusMessage = x.TraceState, x.ScopeVersion, x.StatusMessage
	s.Function, s.InvocationID, s.ColdStart, s.Trigger = x.Function, x.InvocationID, x.ColdStart, x.Trigger
	s.MessagingSystem, s.MessagingOperation, s.Destination = x.MessagingSystem, x.MessagingOperation, x.Destination
	if len(x.MessageIDs) > 0 {
		s.MessageIDs = x.MessageIDs
	}
	s.HTTPMethod, s.HTTPRoute, s.HTTPStatus = x.HTTPMethod, x.HTTPRoute, x.HTTPStatus
	s.DBSystem, s.ErrorType, s.ErrorMessage = x.DBSystem, x.ErrorType, x.ErrorMessage
}

// extWriter appends the fields of one ext object.
type extWriter struct {
	b []byte
	n int
}

func (w *extWriter) key(k string) {
	if w.n == 0 {
		w.b = append(w.b, '{')
	} else {
		w.b = append(w.b, ',')
	}
	w.n++
	w.b = append(w.b, '"')
	w.b = append(w.b, k...)
	w.b = append(w.b, '"', ':')
}

func (w *extWriter) str(k, v string) {
	if v == "" {
		return
	}
	w.key(k)
	w.b = shared.AppendJSONString(w.b, validUTF8(v))
}

func (w *extWriter) raw(k, v string) {
	if v == "" {
		return
	}
	w.key(k)
	w.b = append(w.b, v...)
}

// appendSpanExt appends the ext of s to dst; nothing when s has none.
func appendSpanExt(dst []byte, s *model.Span, sc *scratch) []byte {
	w := extWriter{b: dst}
	w.str("trace_state", s.TraceState)
	w.str("scope_version", s.ScopeVersion)
	w.str("status_message", s.StatusMessage)
	w.str("function", s.Function)
	w.str("invocation_id", s.InvocationID)
	if s.ColdStart {
		w.raw("cold_start", "true")
	}
	w.str("trigger", s.Trigger)
	w.str("messaging_system", s.MessagingSystem)
	w.str("messaging_operation", s.MessagingOperation)
	w.str("destination", s.Destination)
	if len(s.MessageIDs) > 0 {
		w.key("message_ids")
		w.b = append(w.b, '[')
		for i, id := range s.MessageIDs {
			if i > 0 {
				w.b = append(w.b, ',')
			}
			w.b = shared.AppendJSONString(w.b, validUTF8(id))
		}
		w.b = append(w.b, ']')
	}
	w.str("http_method", s.HTTPMethod)
	w.str("http_route", s.HTTPRoute)
	if s.HTTPStatus != 0 {
		w.key("http_status")
		w.b = strconv.AppendInt(w.b, int64(s.HTTPStatus), 10)
	}
	w.str("db_system", s.DBSystem)
	w.str("error_type", s.ErrorType)
	w.str("error_message", s.ErrorMessage)
	w.str("attr_types", shared.TypesString(s.Attributes))
	w.raw("events", shared.EncodeEvents(s.Events))
	w.raw("links", shared.EncodeLinks(s.Links))
	w.str("request_payload", s.RequestPayload)
	w.str("response_payload", s.ResponsePayload)
	if w.n > 0 {
		w.b = append(w.b, '}')
	}
	return w.b
}

// spanExtCol is the ext column; full decodes every field, else the
// fields of a SpanSummary (no events, links, payloads or attributes).
// Its set also decodes the attribute lists held by attrListCols, since
// the value types are in ext.
func spanExtCol(full bool) column[spanRow] {
	return column[spanRow]{
		name: "ext", typ: "VARCHAR",
		get: func(r *spanRow, sc *scratch) any {
			sc.ext = appendSpanExt(sc.ext[:0], &r.Span, sc)
			if len(sc.ext) == 0 {
				return nil
			}
			return string(sc.ext)
		},
		put: func(r *spanRow, a *chunkAppender, col int, sc *scratch) {
			sc.ext = appendSpanExt(sc.ext[:0], &r.Span, sc)
			if len(sc.ext) == 0 {
				a.null(col)
				return
			}
			// putStr copies the bytes before sc.ext is reused.
			a.str(col, unsafe.String(&sc.ext[0], len(sc.ext)))
		},
		set: func(r *spanRow, v any) error {
			s, err := asString(v)
			if err != nil {
				return err
			}
			if !full {
				if s != "" {
					var x spanExtSummary
					if err := json.Unmarshal([]byte(s), &x); err != nil {
						return fmt.Errorf("decode ext: %w", err)
					}
					x.apply(&r.Span)
				}
				return nil
			}
			var x spanExt
			if s != "" {
				if err := json.Unmarshal([]byte(s), &x); err != nil {
					return fmt.Errorf("decode ext: %w", err)
				}
				x.apply(&r.Span)
				if r.Events, err = shared.DecodeEvents(rawString(x.Events)); err != nil {
					return err
				}
				if r.Links, err = shared.DecodeLinks(rawString(x.Links)); err != nil {
					return err
				}
				r.RequestPayload, r.ResponsePayload = x.RequestPayload, x.ResponsePayload
			}
			h := &r.attrs
			r.Attributes, err = decodeAttrs(h.keys, h.values, x.AttrTypes)
			*h = attrHold{}
			return err
		},
	}
}

// rawString is the text of a JSON value, "" for none or null.
func rawString(m json.RawMessage) string {
	if len(m) == 0 || string(m) == "null" {
		return ""
	}
	return string(m)
}
