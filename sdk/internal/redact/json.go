package redact

import (
	"encoding/json"
	"net/url"
	"strings"
)

// jsonWriter redacts JSON in one pass over the source, copying through what
// needs no change and keeping key order, which a decode/re-encode round
// trip would cost four times as much and reorder. It assumes valid JSON
// (checked with json.Valid first) and output is compact.
type jsonWriter struct {
	r        *Redactor
	src      []byte
	i        int
	dst      []byte
	strDepth int // nesting of JSON held inside JSON strings
}

const maskJSON = `"` + Mask + `"`

func (r *Redactor) appendJSON(dst, src []byte, strDepth int) []byte {
	w := jsonWriter{r: r, src: src, dst: dst, strDepth: strDepth}
	w.value("", 0)
	return w.dst
}

func (w *jsonWriter) ws() {
	for w.i < len(w.src) {
		switch w.src[w.i] {
		case ' ', '\t', '\n', '\r':
			w.i++
		default:
			return
		}
	}
}

// skip advances past one value without writing it.
func (w *jsonWriter) skip() {
	w.ws()
	if w.i >= len(w.src) {
		return
	}
	switch w.src[w.i] {
	case '"':
		w.i = w.stringEnd(w.i)
	case '{', '[':
		depth := 0
		for w.i < len(w.src) {
			switch w.src[w.i] {
			case '"':
				w.i = w.stringEnd(w.i)
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					w.i++
					return
				}
			}
			w.i++
		}
	default:
		for w.i < len(w.src) && !isDelim(w.src[w.i]) {
			w.i++
		}
	}
}

func isDelim(c byte) bool {
	switch c {
	case ',', '}', ']', ' ', '\t', '\n', '\r':
		return true
	}
	return false
}

// stringEnd returns the index just past the string starting at i.
func (w *jsonWriter) stringEnd(i int) int {
	for j := i + 1; j < len(w.src); j++ {
		switch w.src[j] {
		case '\\':
			j++
		case '"':
			return j + 1
		}
	}
	return len(w.src)
}

func (w *jsonWriter) value(key string, depth int) {
	w.ws()
	if w.i >= len(w.src) {
		return
	}
	if depth > maxDepth {
		w.skip()
		w.dst = append(w.dst, maskJSON...)
		return
	}
	switch c := w.src[w.i]; c {
	case '{':
		w.i++
		w.dst = append(w.dst, '{')
		first := true
		for {
			w.ws()
			if w.i >= len(w.src) || w.src[w.i] == '}' {
				w.i++
				break
			}
			if w.src[w.i] == ',' {
				w.i++
				continue
			}
			start := w.i
			w.i = w.stringEnd(w.i)
			rawKey := w.src[start:w.i]
			k := decodeString(rawKey)
			w.ws()
			w.i++ // ':'
			if !first {
				w.dst = append(w.dst, ',')
			}
			first = false
			w.dst = append(w.dst, rawKey...)
			w.dst = append(w.dst, ':')
			if w.r.SensitiveKey(k) {
				w.skip()
				w.dst = append(w.dst, maskJSON...)
				continue
			}
			w.value(k, depth+1)
		}
		w.dst = append(w.dst, '}')
	case '[':
		w.i++
		w.dst = append(w.dst, '[')
		first := true
		for {
			w.ws()
			if w.i >= len(w.src) || w.src[w.i] == ']' {
				w.i++
				break
			}
			if w.src[w.i] == ',' {
				w.i++
				continue
			}
			if !first {
				w.dst = append(w.dst, ',')
			}
			first = false
			w.value(key, depth+1)
		}
		w.dst = append(w.dst, ']')
	case '"':
		start := w.i
		w.i = w.stringEnd(w.i)
		raw := w.src[start:w.i]
		if !w.r.keepScalar(key) {
			w.dst = append(w.dst, maskJSON...)
			return
		}
		s := decodeString(raw)
		out, changed := w.r.stringValue(s, w.strDepth)
		if !changed {
			w.dst = append(w.dst, raw...)
			return
		}
		w.dst = appendQuoted(w.dst, out)
	default:
		start := w.i
		for w.i < len(w.src) && !isDelim(w.src[w.i]) {
			w.i++
		}
		lit := w.src[start:w.i]
		if (c == '-' || (c >= '0' && c <= '9')) && !w.r.keepScalar(key) {
			w.dst = append(w.dst, maskJSON...)
			return
		}
		if (c == 't' || c == 'f') && !w.r.keepScalar(key) {
			w.dst = append(w.dst, maskJSON...)
			return
		}
		if len(lit) >= 13 && c >= '0' && c <= '9' && luhn(string(lit)) {
			w.dst = append(w.dst, maskJSON...)
			return
		}
		w.dst = append(w.dst, lit...)
	}
}

// stringValue redacts one string value: JSON inside it, a query string, or
// secret-shaped text. changed is false when s comes back untouched.
func (r *Redactor) stringValue(s string, strDepth int) (string, bool) {
	t := strings.TrimSpace(s)
	if len(t) > 1 && (t[0] == '{' || t[0] == '[') && strDepth < 4 && json.Valid([]byte(t)) {
		out := string(r.appendJSON(nil, []byte(t), strDepth+1))
		return out, out != s
	}
	if looksLikeForm(s) {
		if q, err := url.ParseQuery(s); err == nil && len(q) > 0 {
			red := r.Query(q)
			if !sameValues(q, red) {
				return red.Encode(), true
			}
			return s, false
		}
	}
	out := r.String(s)
	return out, out != s
}

func sameValues(a, b url.Values) bool {
	for k, vs := range a {
		for i, v := range vs {
			if b[k][i] != v {
				return false
			}
		}
	}
	return true
}

func decodeString(raw []byte) string {
	if len(raw) < 2 {
		return ""
	}
	inner := raw[1 : len(raw)-1]
	for _, c := range inner {
		if c == '\\' {
			var s string
			if json.Unmarshal(raw, &s) == nil {
				return s
			}
			break
		}
	}
	return string(inner)
}

func appendQuoted(dst []byte, s string) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			dst = append(dst, '\\', c)
		case c == '\n':
			dst = append(dst, '\\', 'n')
		case c == '\r':
			dst = append(dst, '\\', 'r')
		case c == '\t':
			dst = append(dst, '\\', 't')
		case c < 0x20:
			dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		default:
			dst = append(dst, c)
		}
	}
	return append(dst, '"')
}
