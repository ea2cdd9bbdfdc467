package anyvalue

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/ariadnehq/ariadne/internal/model"
)

// ToPcommon sets dst to the OTLP value that v is the canonical form of. It
// fails when v.Str is not a valid canonical string of v.Type.
func ToPcommon(v model.Value, dst pcommon.Value) error {
	switch v.Type {
	case model.TypeEmpty:
		// A fresh pcommon.Value is already empty; an existing one cannot be
		// reset to empty through the public API, so callers pass fresh ones.
		if dst.Type() != pcommon.ValueTypeEmpty {
			return errors.New("convert value: destination is not empty")
		}
	case model.TypeString:
		dst.SetStr(v.Str)
	case model.TypeBool:
		b, err := strconv.ParseBool(v.Str)
		if err != nil || (v.Str != "true" && v.Str != "false") {
			return fmt.Errorf("convert bool %q: not true or false", v.Str)
		}
		dst.SetBool(b)
	case model.TypeInt:
		n, err := strconv.ParseInt(v.Str, 10, 64)
		if err != nil {
			return fmt.Errorf("convert int: %w", err)
		}
		dst.SetInt(n)
	case model.TypeDouble:
		f, err := strconv.ParseFloat(v.Str, 64)
		if err != nil {
			return fmt.Errorf("convert double: %w", err)
		}
		dst.SetDouble(f)
	case model.TypeBytes:
		b, err := base64.StdEncoding.DecodeString(v.Str)
		if err != nil {
			return fmt.Errorf("convert bytes: %w", err)
		}
		dst.SetEmptyBytes().FromRaw(b)
	case model.TypeArray, model.TypeMap:
		if err := decodeJSON([]byte(v.Str), dst, 0); err != nil {
			return fmt.Errorf("convert %s value: %w", typeName(v.Type), err)
		}
		want := pcommon.ValueTypeSlice
		if v.Type == model.TypeMap {
			want = pcommon.ValueTypeMap
		}
		if dst.Type() != want {
			return fmt.Errorf("convert %s value: JSON holds a %s", typeName(v.Type), dst.Type())
		}
	default:
		return fmt.Errorf("convert value: unknown type %d", v.Type)
	}
	return nil
}

// ToMap puts every attribute of a into dst, in order. A repeated key keeps
// its last value, as pcommon.Map allows no duplicates.
func ToMap(a model.Attributes, dst pcommon.Map) error {
	dst.EnsureCapacity(len(a))
	for _, kv := range a {
		if err := ToPcommon(kv.Value, dst.PutEmpty(kv.Key)); err != nil {
			return fmt.Errorf("convert attribute %q: %w", kv.Key, err)
		}
	}
	return nil
}

// FromMap converts every attribute of m, stopping at the first that breaks lim.
func FromMap(m pcommon.Map, lim Limits) (model.Attributes, error) {
	if m.Len() == 0 {
		return nil, nil
	}
	out := make(model.Attributes, 0, m.Len())
	var err error
	m.Range(func(k string, v pcommon.Value) bool {
		var mv model.Value
		mv, err = FromPcommon(v, lim)
		if err != nil {
			err = fmt.Errorf("convert attribute %q: %w", k, err)
			return false
		}
		out = append(out, model.Attr{Key: k, Value: mv})
		return true
	})
	return out, err
}

func typeName(t model.ValueType) string {
	switch t {
	case model.TypeArray:
		return "array"
	case model.TypeMap:
		return "map"
	}
	return "value"
}

// decodeJSON parses one OTLP/JSON AnyValue into dst. It accepts both the
// lowerCamelCase and the proto field names, ints as strings or numbers and
// doubles as numbers or the strings of the protobuf JSON mapping.
func decodeJSON(data []byte, dst pcommon.Value, depth int) error {
	if depth > MaxDepth {
		return ErrTooDeep
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(data, &fields); err != nil {
		return fmt.Errorf("parse AnyValue: %w", err)
	}
	if len(fields) > 1 {
		return errors.New("parse AnyValue: more than one value field")
	}
	for name, raw := range fields {
		switch strings.ReplaceAll(strings.ToLower(name), "_", "") {
		case "stringvalue":
			var s string
			if err := json.Unmarshal(raw, &s); err != nil {
				return fmt.Errorf("parse stringValue: %w", err)
			}
			dst.SetStr(s)
		case "boolvalue":
			var b bool
			if err := json.Unmarshal(raw, &b); err != nil {
				return fmt.Errorf("parse boolValue: %w", err)
			}
			dst.SetBool(b)
		case "intvalue":
			n, err := strconv.ParseInt(string(bytes.Trim(raw, `"`)), 10, 64)
			if err != nil {
				return fmt.Errorf("parse intValue: %w", err)
			}
			dst.SetInt(n)
		case "doublevalue":
			f, err := parseDouble(raw)
			if err != nil {
				return err
			}
			dst.SetDouble(f)
		case "bytesvalue":
			var s string
			if err := json.Unmarshal(raw, &s); err != nil {
				return fmt.Errorf("parse bytesValue: %w", err)
			}
			b, err := base64.StdEncoding.DecodeString(s)
			if err != nil {
				if b, err = base64.URLEncoding.DecodeString(s); err != nil {
					return fmt.Errorf("parse bytesValue: %w", err)
				}
			}
			dst.SetEmptyBytes().FromRaw(b)
		case "arrayvalue":
			var arr struct {
				Values []json.RawMessage `json:"values"`
			}
			if err := json.Unmarshal(raw, &arr); err != nil {
				return fmt.Errorf("parse arrayValue: %w", err)
			}
			s := dst.SetEmptySlice()
			s.EnsureCapacity(len(arr.Values))
			for _, ev := range arr.Values {
				if err := decodeJSON(ev, s.AppendEmpty(), depth+1); err != nil {
					return err
				}
			}
		case "kvlistvalue":
			var kvl struct {
				Values []struct {
					Key   string          `json:"key"`
					Value json.RawMessage `json:"value"`
				} `json:"values"`
			}
			if err := json.Unmarshal(raw, &kvl); err != nil {
				return fmt.Errorf("parse kvlistValue: %w", err)
			}
			m := dst.SetEmptyMap()
			m.EnsureCapacity(len(kvl.Values))
			for _, kv := range kvl.Values {
				ev := m.PutEmpty(kv.Key)
				if len(kv.Value) == 0 || string(kv.Value) == "null" {
					continue
				}
				if err := decodeJSON(kv.Value, ev, depth+1); err != nil {
					return err
				}
			}
		default:
			return fmt.Errorf("parse AnyValue: unknown field %q", name)
		}
	}
	return nil
}

func parseDouble(raw json.RawMessage) (float64, error) {
	if len(raw) > 0 && raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return 0, fmt.Errorf("parse doubleValue: %w", err)
		}
		switch s {
		case "NaN":
			return math.NaN(), nil
		case "Infinity":
			return math.Inf(1), nil
		case "-Infinity":
			return math.Inf(-1), nil
		}
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return 0, fmt.Errorf("parse doubleValue: %w", err)
		}
		return f, nil
	}
	f, err := strconv.ParseFloat(string(raw), 64)
	if err != nil {
		return 0, fmt.Errorf("parse doubleValue: %w", err)
	}
	return f, nil
}

// EachString calls f for every string element of an array value, in order;
// other elements and other types are skipped. The canonical form that ingest
// writes is parsed directly; anything else goes through the general decoder.
func EachString(v model.Value, f func(string)) {
	if v.Type != model.TypeArray {
		return
	}
	if eachCanonicalString(v.Str, f) {
		return
	}
	pv := pcommon.NewValueEmpty()
	if err := ToPcommon(v, pv); err != nil || pv.Type() != pcommon.ValueTypeSlice {
		return
	}
	s := pv.Slice()
	for i := 0; i < s.Len(); i++ {
		if e := s.At(i); e.Type() == pcommon.ValueTypeStr {
			f(e.Str())
		}
	}
}

// eachCanonicalString handles arrays of plain strings as the encoders of
// this package write them, which is what ariadne.refs.* always are. It
// reports false, having called f for nothing, when s is not of that form.
func eachCanonicalString(s string, f func(string)) bool {
	const prefix, elem, suffix = `{"arrayValue":{"values":[`, `{"stringValue":"`, `]}}`
	if !strings.HasPrefix(s, prefix) || !strings.HasSuffix(s, suffix) {
		return false
	}
	body := s[len(prefix) : len(s)-len(suffix)]
	var out []string
	for len(body) > 0 {
		if !strings.HasPrefix(body, elem) {
			return false
		}
		body = body[len(elem):]
		end := strings.IndexByte(body, '"')
		if end < 0 || end+1 >= len(body) || body[end+1] != '}' {
			return false
		}
		str := body[:end]
		if strings.IndexByte(str, '\\') >= 0 {
			return false // escapes: leave them to the general decoder
		}
		out = append(out, str)
		body = body[end+2:]
		if len(body) > 0 {
			if body[0] != ',' {
				return false
			}
			body = body[1:]
		}
	}
	for _, x := range out {
		f(x)
	}
	return true
}
