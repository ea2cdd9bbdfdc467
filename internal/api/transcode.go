package api

import (
	"bytes"
	"strconv"
	"unicode/utf8"

	"github.com/ariadnehq/ariadne/internal/model"
)

// transcode is the fast path of anyValueToPlain for the form ingest writes
// ({"arrayValue":{"values":[…]}}, {"kvlistValue":{"values":[{"key":…,
// "value":…}]}}): one pass over the bytes, no decoding into Go values. It
// gives up (ok false) on anything else, and the encoding/json path then
// decides, so the two never disagree about what is accepted.
// FuzzTranscode checks that they agree on every input the fast path takes.
func transcode(dst, in []byte, typ model.ValueType) (out []byte, ok bool) {
	field := `"arrayValue"`
	if typ == model.TypeMap {
		field = `"kvlistValue"`
	}
	t := transcoder{in: in}
	t.ws()
	// Only the wrapped form: the bare forms are the slow path's.
	if !bytes.HasPrefix(in[t.pos:], []byte("{")) {
		return nil, false
	}
	save := t.pos
	t.pos++
	t.ws()
	if !bytes.HasPrefix(in[t.pos:], []byte(field)) {
		return nil, false
	}
	t.pos = save
	out, ok = t.value(dst)
	if !ok {
		return nil, false
	}
	t.ws()
	return out, t.pos == len(in)
}

// maxTranscodeDepth bounds the recursion; deeper values take the slow path.
const maxTranscodeDepth = 64

type transcoder struct {
	in    []byte
	pos   int
	depth int
}

func (t *transcoder) ws() {
	for t.pos < len(t.in) {
		switch t.in[t.pos] {
		case ' ', '\t', '\n', '\r':
			t.pos++
		default:
			return
		}
	}
}

// eat consumes c after optional whitespace.
func (t *transcoder) eat(c byte) bool {
	t.ws()
	if t.pos < len(t.in) && t.in[t.pos] == c {
		t.pos++
		return true
	}
	return false
}

// peek reports whether c comes next after optional whitespace.
func (t *transcoder) peek(c byte) bool {
	t.ws()
	return t.pos < len(t.in) && t.in[t.pos] == c
}

// str scans a JSON string and returns its raw token, quotes included, and
// whether it holds an escape. It gives up on malformed strings and on
// invalid UTF-8 (which the slow path replaces).
func (t *transcoder) str() (tok []byte, escaped, ok bool) {
	t.ws()
	if t.pos >= len(t.in) || t.in[t.pos] != '"' {
		return nil, false, false
	}
	start := t.pos
	t.pos++
	ascii := true
	for t.pos < len(t.in) {
		c := t.in[t.pos]
		switch {
		case c == '"':
			t.pos++
			tok = t.in[start:t.pos]
			if !ascii && !utf8.Valid(tok) {
				return nil, false, false
			}
			return tok, escaped, true
		case c == '\\':
			escaped = true
			if t.pos+1 >= len(t.in) {
				return nil, false, false
			}
			switch t.in[t.pos+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				t.pos += 2
			case 'u':
				if t.pos+6 > len(t.in) {
					return nil, false, false
				}
				for _, h := range t.in[t.pos+2 : t.pos+6] {
					if !isHex(h) {
						return nil, false, false
					}
				}
				t.pos += 6
			default:
				return nil, false, false
			}
		case c < 0x20:
			return nil, false, false
		default:
			if c >= utf8.RuneSelf {
				ascii = false
			}
			t.pos++
		}
	}
	return nil, false, false
}

// name consumes the object key want ("values", "key", …) and its colon.
func (t *transcoder) name(want string) bool {
	tok, esc, ok := t.str()
	return ok && !esc && string(tok[1:len(tok)-1]) == want && t.eat(':')
}

// number scans a JSON number token (strict grammar).
func (t *transcoder) number() ([]byte, bool) {
	t.ws()
	start, i, in := t.pos, t.pos, t.in
	if i < len(in) && in[i] == '-' {
		i++
	}
	switch {
	case i < len(in) && in[i] == '0':
		i++
	case i < len(in) && in[i] >= '1' && in[i] <= '9':
		for i < len(in) && in[i] >= '0' && in[i] <= '9' {
			i++
		}
	default:
		return nil, false
	}
	if i < len(in) && in[i] == '.' {
		i++
		d := i
		for i < len(in) && in[i] >= '0' && in[i] <= '9' {
			i++
		}
		if i == d {
			return nil, false
		}
	}
	if i < len(in) && (in[i] == 'e' || in[i] == 'E') {
		i++
		if i < len(in) && (in[i] == '+' || in[i] == '-') {
			i++
		}
		d := i
		for i < len(in) && in[i] >= '0' && in[i] <= '9' {
			i++
		}
		if i == d {
			return nil, false
		}
	}
	t.pos = i
	return in[start:i], true
}

// scalarText reads a number or an unescaped string and returns its text,
// the two ways OTLP/JSON writes intValue and doubleValue.
func (t *transcoder) scalarText() (string, bool) {
	if t.peek('"') {
		tok, esc, ok := t.str()
		if !ok || esc {
			return "", false
		}
		return string(tok[1 : len(tok)-1]), true
	}
	n, ok := t.number()
	return string(n), ok
}

// value transcodes one AnyValue object.
func (t *transcoder) value(dst []byte) ([]byte, bool) {
	if t.depth >= maxTranscodeDepth || !t.eat('{') {
		return nil, false
	}
	t.depth++
	defer func() { t.depth-- }()
	if t.eat('}') {
		return append(dst, "null"...), true
	}
	tok, esc, ok := t.str()
	if !ok || esc || !t.eat(':') {
		return nil, false
	}
	switch string(tok[1 : len(tok)-1]) {
	case "stringValue", "bytesValue":
		s, _, ok := t.str()
		if !ok {
			return nil, false
		}
		dst = append(dst, s...)
	case "boolValue":
		t.ws()
		switch {
		case bytes.HasPrefix(t.in[t.pos:], []byte("true")):
			dst = append(dst, "true"...)
			t.pos += 4
		case bytes.HasPrefix(t.in[t.pos:], []byte("false")):
			dst = append(dst, "false"...)
			t.pos += 5
		default:
			return nil, false
		}
	case "intValue":
		s, ok := t.scalarText()
		if !ok {
			return nil, false
		}
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return nil, false
		}
		dst = strconv.AppendInt(dst, n, 10)
	case "doubleValue":
		s, ok := t.scalarText()
		if !ok {
			return nil, false
		}
		dst = appendDouble(dst, s)
	case "arrayValue":
		if dst, ok = t.list(dst, '[', ']', t.value); !ok {
			return nil, false
		}
	case "kvlistValue":
		var keys [][]byte
		entry := func(dst []byte) ([]byte, bool) { return t.entry(dst, &keys) }
		if dst, ok = t.list(dst, '{', '}', entry); !ok {
			return nil, false
		}
	default:
		return nil, false
	}
	if !t.eat('}') {
		return nil, false
	}
	return dst, true
}

// list transcodes {"values":[e, …]} (or {}) into open e,… close, where elem
// transcodes one element and may write nothing (a repeated map key).
func (t *transcoder) list(dst []byte, open, close byte, elem func([]byte) ([]byte, bool)) ([]byte, bool) {
	if !t.eat('{') {
		return nil, false
	}
	dst = append(dst, open)
	if t.eat('}') {
		return append(dst, close), true
	}
	if !t.name("values") || !t.eat('[') {
		return nil, false
	}
	if !t.eat(']') {
		for n := 0; ; {
			mark := len(dst)
			if n > 0 {
				dst = append(dst, ',')
			}
			var ok bool
			before := len(dst)
			if dst, ok = elem(dst); !ok {
				return nil, false
			}
			if len(dst) == before { // nothing written: drop the comma
				dst = dst[:mark]
			} else {
				n++
			}
			if t.eat(']') {
				break
			}
			if !t.eat(',') {
				return nil, false
			}
		}
	}
	if !t.eat('}') {
		return nil, false
	}
	return append(dst, close), true
}

// entry transcodes {"key":k,"value":v} into k:v; a key seen before in the
// same list writes nothing (first wins, as in Attributes).
func (t *transcoder) entry(dst []byte, keys *[][]byte) ([]byte, bool) {
	if !t.eat('{') || !t.name("key") {
		return nil, false
	}
	key, esc, ok := t.str()
	if !ok || esc { // escaped keys could repeat in disguise: slow path
		return nil, false
	}
	dup := false
	for _, k := range *keys {
		if bytes.Equal(k, key) {
			dup = true
			break
		}
	}
	mark := len(dst)
	dst = append(dst, key...)
	dst = append(dst, ':')
	if t.eat(',') {
		if !t.name("value") {
			return nil, false
		}
		if dst, ok = t.value(dst); !ok {
			return nil, false
		}
	} else {
		dst = append(dst, "null"...)
	}
	if !t.eat('}') {
		return nil, false
	}
	if dup {
		return dst[:mark], true
	}
	*keys = append(*keys, key)
	return dst, true
}

// appendDouble writes a double's text as a JSON number, or as a string
// when JSON has no number for it ("NaN", "Infinity") or it does not parse.
func appendDouble(dst []byte, s string) []byte {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f != f || f > 1.7976931348623157e308 || f < -1.7976931348623157e308 {
		return appendString(dst, s)
	}
	return strconv.AppendFloat(dst, f, 'g', -1, 64)
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}
