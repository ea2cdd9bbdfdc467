package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"

	"github.com/ariadnehq/ariadne/internal/model"
)

// anyValueToPlain turns the canonical string of an array or map value (an
// OTLP/JSON AnyValue encoding, model/value.go) into plain JSON: an array or
// an object whose leaves are strings, numbers, booleans and null. It accepts
// the value wrapped as an AnyValue ({"arrayValue":…}), as the bare
// ArrayValue / KeyValueList ({"values":[…]}) or as the bare list, so that it
// does not depend on which of these ingest chose. On anything else it fails
// and the caller falls back to the string.
func anyValueToPlain(dst []byte, canonical []byte, typ model.ValueType) ([]byte, error) {
	if out, ok := transcode(dst, canonical, typ); ok {
		return out, nil
	}
	return anyValueToPlainSlow(dst, canonical, typ)
}

// anyValueToPlainSlow decodes with encoding/json and accepts every form.
func anyValueToPlainSlow(dst []byte, canonical []byte, typ model.ValueType) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(canonical))
	dec.UseNumber()
	var x any
	if err := dec.Decode(&x); err != nil {
		return nil, fmt.Errorf("decode any value: %w", err)
	}
	if dec.More() {
		return nil, errors.New("decode any value: trailing data")
	}
	var list []any
	switch v := x.(type) {
	case []any:
		list = v
	case map[string]any:
		switch {
		case typ == model.TypeArray && has(v, "arrayValue"):
			return appendAnyValue(dst, v)
		case typ == model.TypeMap && has(v, "kvlistValue"):
			return appendAnyValue(dst, v)
		case len(v) == 0:
			list = nil // an empty ArrayValue / KeyValueList omits "values"
		case len(v) == 1 && has(v, "values"):
			l, ok := v["values"].([]any)
			if !ok {
				return nil, errors.New("decode any value: values is not a list")
			}
			list = l
		default:
			return nil, errors.New("decode any value: unknown form")
		}
	default:
		return nil, errors.New("decode any value: unknown form")
	}
	if typ == model.TypeArray {
		return appendArray(dst, list)
	}
	return appendKVList(dst, list)
}

func has(m map[string]any, k string) bool { _, ok := m[k]; return ok }

// appendAnyValue appends the plain JSON of one OTLP/JSON AnyValue object.
func appendAnyValue(dst []byte, x any) ([]byte, error) {
	m, ok := x.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("decode any value: want an object, got %T", x)
	}
	if len(m) == 0 {
		return append(dst, "null"...), nil
	}
	if len(m) != 1 {
		return nil, errors.New("decode any value: more than one value field")
	}
	for k, v := range m {
		switch k {
		case "stringValue", "bytesValue":
			s, ok := v.(string)
			if !ok {
				return nil, fmt.Errorf("decode any value: %s is not a string", k)
			}
			return append(dst, quote(s)...), nil
		case "boolValue":
			b, ok := v.(bool)
			if !ok {
				return nil, errors.New("decode any value: boolValue is not a boolean")
			}
			return strconv.AppendBool(dst, b), nil
		case "intValue":
			// OTLP/JSON writes int64 as a string; accept a number too.
			s := fmt.Sprint(v)
			n, err := strconv.ParseInt(s, 10, 64)
			if err != nil {
				return nil, fmt.Errorf("decode any value: intValue %q: %w", s, err)
			}
			return strconv.AppendInt(dst, n, 10), nil
		case "doubleValue":
			s := fmt.Sprint(v)
			f, err := strconv.ParseFloat(s, 64)
			if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
				// protojson writes "NaN", "Infinity"; JSON has no number for them.
				return append(dst, quote(s)...), nil
			}
			return strconv.AppendFloat(dst, f, 'g', -1, 64), nil
		case "arrayValue":
			l, err := valuesOf(v)
			if err != nil {
				return nil, err
			}
			return appendArray(dst, l)
		case "kvlistValue":
			l, err := valuesOf(v)
			if err != nil {
				return nil, err
			}
			return appendKVList(dst, l)
		default:
			return nil, fmt.Errorf("decode any value: unknown field %q", k)
		}
	}
	panic("unreachable")
}

// valuesOf reads the "values" list of an ArrayValue or KeyValueList.
func valuesOf(x any) ([]any, error) {
	m, ok := x.(map[string]any)
	if !ok {
		return nil, errors.New("decode any value: want an object with values")
	}
	v, ok := m["values"]
	if !ok {
		return nil, nil
	}
	l, ok := v.([]any)
	if !ok {
		return nil, errors.New("decode any value: values is not a list")
	}
	return l, nil
}

func appendArray(dst []byte, list []any) ([]byte, error) {
	dst = append(dst, '[')
	for i, e := range list {
		if i > 0 {
			dst = append(dst, ',')
		}
		var err error
		if dst, err = appendAnyValue(dst, e); err != nil {
			return nil, err
		}
	}
	return append(dst, ']'), nil
}

// appendKVList writes a key/value list as an object in list order; a
// repeated key keeps its first value, as for attributes.
func appendKVList(dst []byte, list []any) ([]byte, error) {
	dst = append(dst, '{')
	seen := make(map[string]struct{}, len(list))
	for _, e := range list {
		kv, ok := e.(map[string]any)
		if !ok {
			return nil, errors.New("decode any value: key/value entry is not an object")
		}
		key, ok := kv["key"].(string)
		if !ok {
			return nil, errors.New("decode any value: key/value entry without a string key")
		}
		if _, dup := seen[key]; dup {
			continue
		}
		if len(seen) > 0 {
			dst = append(dst, ',')
		}
		seen[key] = struct{}{}
		dst = append(dst, quote(key)...)
		dst = append(dst, ':')
		val, ok := kv["value"]
		if !ok {
			dst = append(dst, "null"...)
			continue
		}
		var err error
		if dst, err = appendAnyValue(dst, val); err != nil {
			return nil, err
		}
	}
	return append(dst, '}'), nil
}
