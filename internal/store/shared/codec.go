// Package shared holds what every storage engine does alike and that does
// not depend on the engine's SQL: the stored encodings of events, links and
// resource attributes, attribute value types, search and listing cursors,
// the validation of queries, issue folding, and the group-commit queue of
// the writers (Committer). Both engines use it; their SQL comes from
// internal/store/stmt.
package shared

import (
	"encoding/json"
	"fmt"
	"unicode/utf8"

	"github.com/ariadnehq/ariadne/internal/model"
)

// Events and links are rare, read whole with their span and never
// filtered on, so they are stored as one JSON text each ("" when absent).
// Attributes inside keep their type as [key, type, value].

type jsonAttr [3]any // key, type, canonical string

type jsonEvent struct {
	Time  int64      `json:"t"`
	Name  string     `json:"n"`
	Attrs []jsonAttr `json:"a,omitempty"`
}

type jsonLink struct {
	TraceID    string     `json:"tr"`
	SpanID     string     `json:"sp"`
	TraceState string     `json:"ts,omitempty"`
	Attrs      []jsonAttr `json:"a,omitempty"`
}

func toJSONAttrs(a model.Attributes) []jsonAttr {
	if len(a) == 0 {
		return nil
	}
	out := make([]jsonAttr, len(a))
	for i := range a {
		out[i] = jsonAttr{a[i].Key, uint8(a[i].Value.Type), a[i].Value.Str}
	}
	return out
}

func fromJSONAttrs(in [][3]json.RawMessage) (model.Attributes, error) {
	if len(in) == 0 {
		return nil, nil
	}
	out := make(model.Attributes, len(in))
	for i, e := range in {
		var t uint8
		if err := json.Unmarshal(e[0], &out[i].Key); err != nil {
			return nil, err
		}
		if err := json.Unmarshal(e[1], &t); err != nil {
			return nil, err
		}
		if err := json.Unmarshal(e[2], &out[i].Value.Str); err != nil {
			return nil, err
		}
		out[i].Value.Type = model.ValueType(t)
	}
	return out, nil
}

// EncodeEvents is the stored text of a span's events, "" for none.
func EncodeEvents(evs []model.Event) string {
	if len(evs) == 0 {
		return ""
	}
	out := make([]jsonEvent, len(evs))
	for i, e := range evs {
		out[i] = jsonEvent{Time: e.Time, Name: e.Name, Attrs: toJSONAttrs(e.Attributes)}
	}
	b, _ := json.Marshal(out) // only strings and ints: cannot fail
	return string(b)
}

// DecodeEvents reverses EncodeEvents.
func DecodeEvents(s string) ([]model.Event, error) {
	if s == "" {
		return nil, nil
	}
	var in []struct {
		Time  int64                `json:"t"`
		Name  string               `json:"n"`
		Attrs [][3]json.RawMessage `json:"a"`
	}
	if err := json.Unmarshal([]byte(s), &in); err != nil {
		return nil, fmt.Errorf("decode events: %w", err)
	}
	out := make([]model.Event, len(in))
	for i, e := range in {
		a, err := fromJSONAttrs(e.Attrs)
		if err != nil {
			return nil, fmt.Errorf("decode event attributes: %w", err)
		}
		out[i] = model.Event{Time: e.Time, Name: e.Name, Attributes: a}
	}
	return out, nil
}

// EncodeLinks is the stored text of a span's links, "" for none.
func EncodeLinks(ls []model.Link) string {
	if len(ls) == 0 {
		return ""
	}
	out := make([]jsonLink, len(ls))
	for i, l := range ls {
		out[i] = jsonLink{TraceID: l.TraceID.String(), SpanID: l.SpanID.String(), TraceState: l.TraceState, Attrs: toJSONAttrs(l.Attributes)}
	}
	b, _ := json.Marshal(out)
	return string(b)
}

// DecodeLinks reverses EncodeLinks.
func DecodeLinks(s string) ([]model.Link, error) {
	if s == "" {
		return nil, nil
	}
	var in []struct {
		TraceID    string               `json:"tr"`
		SpanID     string               `json:"sp"`
		TraceState string               `json:"ts"`
		Attrs      [][3]json.RawMessage `json:"a"`
	}
	if err := json.Unmarshal([]byte(s), &in); err != nil {
		return nil, fmt.Errorf("decode links: %w", err)
	}
	out := make([]model.Link, len(in))
	for i, l := range in {
		tid, err := model.ParseTraceID(l.TraceID)
		if err != nil {
			return nil, fmt.Errorf("decode link: %w", err)
		}
		sid, err := model.ParseSpanID(l.SpanID)
		if err != nil {
			return nil, fmt.Errorf("decode link: %w", err)
		}
		a, err := fromJSONAttrs(l.Attrs)
		if err != nil {
			return nil, fmt.Errorf("decode link attributes: %w", err)
		}
		out[i] = model.Link{TraceID: tid, SpanID: sid, TraceState: l.TraceState, Attributes: a}
	}
	return out, nil
}

// Resource attributes repeat on every span of a process, so they are one
// JSON text per row, [["key","value",type],…], which the engines' string
// dictionaries store once per distinct resource. The encoding is canonical
// (one escaper for writing and for search patterns), so a key=value
// condition is the substring test ResourcePattern describes.

// AppendJSONString appends s as a JSON string; invalid UTF-8 becomes
// U+FFFD, as with encoding/json. It must stay byte-identical to the DuckDB
// engine's, so that both store one resource as the same text.
func AppendJSONString(dst []byte, s string) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				dst = append(dst, '\\', c)
			case c < 0x20:
				dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			default:
				dst = append(dst, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, "\ufffd"...)
		} else {
			dst = append(dst, s[i:i+size]...)
		}
		i += size
	}
	return append(dst, '"')
}

// AppendResource appends the stored text of resource attributes a.
func AppendResource(dst []byte, a model.Attributes) []byte {
	dst = append(dst, '[')
	for i := range a {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, '[')
		dst = AppendJSONString(dst, a[i].Key)
		dst = append(dst, ',')
		dst = AppendJSONString(dst, a[i].Value.Str)
		dst = append(dst, ',', '0'+byte(a[i].Value.Type), ']')
	}
	return append(dst, ']')
}

// ResourcePattern is the text that occurs in a stored resource exactly
// when it holds key with value (of any type).
func ResourcePattern(key, value string) string {
	b := []byte{'['}
	b = AppendJSONString(b, key)
	b = append(b, ',')
	b = AppendJSONString(b, value)
	return string(append(b, ','))
}

// ResourceKeyPattern occurs in a stored resource exactly when it holds key.
func ResourceKeyPattern(key string) string {
	return string(append(AppendJSONString([]byte{'['}, key), ','))
}

// DecodeResource reverses AppendResource ("" and "[]" are none).
func DecodeResource(s string) (model.Attributes, error) {
	if s == "" || s == "[]" {
		return nil, nil
	}
	var in [][3]json.RawMessage
	if err := json.Unmarshal([]byte(s), &in); err != nil {
		return nil, fmt.Errorf("decode resource attributes: %w", err)
	}
	out := make(model.Attributes, len(in))
	for i, e := range in {
		var t uint8
		if err := json.Unmarshal(e[0], &out[i].Key); err != nil {
			return nil, fmt.Errorf("decode resource attributes: %w", err)
		}
		if err := json.Unmarshal(e[1], &out[i].Value.Str); err != nil {
			return nil, fmt.Errorf("decode resource attributes: %w", err)
		}
		if err := json.Unmarshal(e[2], &t); err != nil {
			return nil, fmt.Errorf("decode resource attributes: %w", err)
		}
		out[i].Value.Type = model.ValueType(t)
	}
	return out, nil
}

// TypesString encodes the value types of a as one digit each, or "" in
// the common case where every value is a string.
func TypesString(a model.Attributes) string {
	allStrings := true
	for i := range a {
		if a[i].Value.Type != model.TypeString {
			allStrings = false
			break
		}
	}
	if allStrings {
		return ""
	}
	b := make([]byte, len(a))
	for i := range a {
		b[i] = '0' + byte(a[i].Value.Type)
	}
	return string(b)
}

// DecodeAttrs rebuilds attributes from parallel keys and values and their
// TypesString; nil when there are none.
func DecodeAttrs(keys, values []string, types string) (model.Attributes, error) {
	if len(keys) == 0 {
		return nil, nil
	}
	if len(values) != len(keys) || (types != "" && len(types) != len(keys)) {
		return nil, fmt.Errorf("decode attributes: %d keys, %d values, %d types", len(keys), len(values), len(types))
	}
	out := make(model.Attributes, len(keys))
	for i := range keys {
		t := model.TypeString
		if types != "" {
			t = model.ValueType(types[i] - '0')
		}
		out[i] = model.Attr{Key: keys[i], Value: model.Value{Type: t, Str: values[i]}}
	}
	return out, nil
}

// ValidUTF8 replaces invalid UTF-8, which engines would refuse or mangle.
func ValidUTF8(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	return toValid(s)
}
