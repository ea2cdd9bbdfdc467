package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"reflect"
	"testing"

	"github.com/ariadnehq/ariadne/internal/model"
)

// FuzzValueJSON: whatever canonical string the store holds, the API emits
// valid JSON and never panics.
func FuzzValueJSON(f *testing.F) {
	seeds := []struct {
		typ uint8
		s   string
	}{
		{uint8(model.TypeArray), `{"arrayValue":{"values":[{"stringValue":"a"},{"intValue":"1"},{"doubleValue":"NaN"}]}}`},
		{uint8(model.TypeMap), `{"kvlistValue":{"values":[{"key":"k","value":{"kvlistValue":{"values":[{"key":"n","value":{}}]}}}]}}`},
		{uint8(model.TypeMap), `{"kvlistValue":{}}`},
		{uint8(model.TypeArray), `[{"boolValue":true}]`},
		{uint8(model.TypeDouble), `-0`},
		{uint8(model.TypeInt), `007`},
		{uint8(model.TypeString), "\xff\xfe"},
		{uint8(model.TypeBool), `TRUE`},
		{9, `x`},
	}
	for _, s := range seeds {
		f.Add(s.typ, s.s)
	}
	f.Fuzz(func(t *testing.T, typ uint8, s string) {
		got := ValueJSON(model.Value{Type: model.ValueType(typ), Str: s})
		if !json.Valid(got) {
			t.Fatalf("ValueJSON(%d, %q) = %q: invalid JSON", typ, s, got)
		}
		// The attribute object around it must stay valid too.
		b, err := json.Marshal(Attributes{{Key: s, Value: got}})
		if err != nil || !json.Valid(b) {
			t.Fatalf("attributes with %q: %v %q", s, err, b)
		}
	})
}

// FuzzParseTime: a time parameter either parses or is a 400 naming it.
func FuzzParseTime(f *testing.F) {
	for _, s := range []string{"now", "-1h", "now-15m", "-7d", "+5m", "1764111600000000000",
		"2026-11-25T22:00:00Z", "2026-11-25T23:00:00.5+01:00", "-9999999999d", "-", "now+", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if _, err := parseTime("start", s, testNow); err != nil {
			var ae *Error
			if !errors.As(err, &ae) || ae.Status != http.StatusBadRequest || ae.Message[:7] != "start: " {
				t.Fatalf("parseTime(%q) error %v is not a 400 naming start", s, err)
			}
		}
		if _, err := parseDuration("minDuration", s); err != nil {
			var ae *Error
			if !errors.As(err, &ae) || ae.Status != http.StatusBadRequest {
				t.Fatalf("parseDuration(%q) error %v is not a 400", s, err)
			}
		}
	})
}

// FuzzAttributesJSON: decoding any JSON object into Attributes and encoding
// it again yields valid JSON.
func FuzzAttributesJSON(f *testing.F) {
	for _, s := range []string{`{}`, `{"a":1,"b":[true,null],"c":{"d":"e"}}`, `{"a":1,"a":2}`, `null`, `[]`, `{"a"`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var a Attributes
		if err := json.Unmarshal([]byte(s), &a); err != nil {
			return
		}
		b, err := json.Marshal(a)
		if err != nil || !json.Valid(b) {
			t.Fatalf("re-encoding %q: %v %q", s, err, b)
		}
	})
}

// FuzzAppendString: the hand-written string encoder agrees with
// encoding/json on what the client decodes.
func FuzzAppendString(f *testing.F) {
	for _, s := range []string{"", "plain", "quote\" back\\slash", "\x00\x1f\x7f", "ü€😀", "\xff\xfe", "\u2028\u2029", "<&>"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := appendString(nil, s)
		var back, want string
		if err := json.Unmarshal(got, &back); err != nil {
			t.Fatalf("appendString(%q) = %s: %v", s, got, err)
		}
		std, _ := json.Marshal(s)
		if err := json.Unmarshal(std, &want); err != nil {
			t.Fatal(err)
		}
		if back != want {
			t.Fatalf("appendString(%q) decodes to %q, encoding/json's to %q", s, back, want)
		}
	})
}

// FuzzTranscode: where the fast transcoder accepts a value, the encoding/json
// path accepts it too and the client decodes the same thing from both.
func FuzzTranscode(f *testing.F) {
	for _, s := range []string{
		`{"arrayValue":{"values":[{"stringValue":"a\"b\u00e9"},{"intValue":"12"},{"intValue":7},{"doubleValue":1.50},{"doubleValue":"NaN"},{"boolValue":false},{},{"bytesValue":"AQ=="}]}}`,
		`{"kvlistValue":{"values":[{"key":"a","value":{"arrayValue":{}}},{"key":"a","value":{"intValue":"1"}},{"key":"b"},{"key":"c","value":{"kvlistValue":{"values":[]}}}]}}`,
		` { "arrayValue" : { "values" : [ { "doubleValue" : -0.0e+1 } ] } } `,
		`{"arrayValue":{"values":[{"doubleValue":1e999}]}}`,
		`{"arrayValue":{}}`, `{"kvlistValue":{}}`, `{"arrayValue":{"values":[{"intValue":"1.0"}]}}`,
	} {
		f.Add(uint8(model.TypeArray), s)
		f.Add(uint8(model.TypeMap), s)
	}
	f.Fuzz(func(t *testing.T, typ uint8, s string) {
		vt := model.TypeArray
		if typ%2 == 1 {
			vt = model.TypeMap
		}
		fast, ok := transcode(nil, []byte(s), vt)
		if !ok {
			return
		}
		if !json.Valid(fast) {
			t.Fatalf("transcode(%q) = %q: invalid JSON", s, fast)
		}
		slow, err := anyValueToPlainSlow(nil, []byte(s), vt)
		if err != nil {
			t.Fatalf("transcode accepted %q (%s), the slow path refused it: %v", s, fast, err)
		}
		var a, b any
		decodeNumbers(t, fast, &a)
		decodeNumbers(t, slow, &b)
		if !reflect.DeepEqual(a, b) {
			t.Fatalf("%q: fast %s, slow %s", s, fast, slow)
		}
	})
}

func decodeNumbers(t *testing.T, b []byte, v *any) {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
}
