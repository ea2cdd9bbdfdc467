// Package anyvalue converts between OTLP AnyValues (pdata's pcommon.Value)
// and model.Value, in both directions and exactly: what ingest stores, the
// API and the tests can turn back into the very OTLP value that was sent.
//
// The canonical string forms are the ones internal/model/value.go documents:
// strings as they are, ints in decimal, doubles in strconv 'g' -1 form, bools
// as "true"/"false", bytes in standard base64, arrays and maps as their
// OTLP/JSON AnyValue encoding ({"arrayValue":{"values":[…]}},
// {"kvlistValue":{"values":[{"key":…,"value":…}]}}). Inside that JSON, ints
// are decimal strings and non-finite doubles "NaN"/"Infinity"/"-Infinity",
// as the protobuf JSON mapping says.
//
// Values come in two ways: as pcommon.Values that pdata decoded
// (FromPcommon), or as protobuf bytes read straight off the wire (Oneof,
// ScanKeyValue, FromOneof), which ingest uses for speed. Both give the same
// canonical string byte for byte; ingest's differential tests hold them to it.
//
// The package depends on pdata's pcommon, protowire and model only, so that
// the API can use it without pulling in the receivers (gRPC, HTTP). It does
// no I/O.
//
// Known limits of exactness: a string nested inside an array or map that is
// not valid UTF-8 comes back with U+FFFD in place of the bad bytes (JSON
// cannot carry it), and duplicate keys inside a map value, which OTLP
// forbids, collapse to the last one on the way back to pcommon.
package anyvalue

import (
	"encoding/base64"
	"errors"
	"fmt"
	"math"
	"strconv"
	"unicode/utf8"

	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/ariadnehq/ariadne/internal/model"
)

// MaxDepth is the deepest nesting of arrays and maps that Encode and Decode
// accept when the caller passes no smaller limit. It keeps recursion (stack
// and CPU) bounded whatever the input.
const MaxDepth = 64

// ErrTooDeep reports a value nested deeper than the allowed depth.
var ErrTooDeep = errors.New("value nested too deeply")

// ErrTooLong reports a value whose canonical form exceeds the allowed length.
var ErrTooLong = errors.New("value too long")

// Limits bound one conversion. Zero fields take the package defaults
// (MaxDepth; no length limit).
type Limits struct {
	// MaxDepth is the deepest allowed nesting of arrays/maps; a scalar has
	// depth 0, an array of scalars depth 1.
	MaxDepth int
	// MaxBytes caps the length of the canonical string; 0 means no cap.
	MaxBytes int
}

func (l Limits) depth() int {
	if l.MaxDepth <= 0 || l.MaxDepth > MaxDepth {
		return MaxDepth
	}
	return l.MaxDepth
}

// FromPcommon converts v to its canonical model form. It fails with
// ErrTooDeep or ErrTooLong when v breaks lim; the caller decides whether
// that rejects the whole item.
func FromPcommon(v pcommon.Value, lim Limits) (model.Value, error) {
	var out model.Value
	switch v.Type() {
	case pcommon.ValueTypeEmpty:
		out = model.Value{Type: model.TypeEmpty}
	case pcommon.ValueTypeStr:
		out = model.Value{Type: model.TypeString, Str: v.Str()}
	case pcommon.ValueTypeBool:
		out = model.Value{Type: model.TypeBool, Str: strconv.FormatBool(v.Bool())}
	case pcommon.ValueTypeInt:
		out = model.Value{Type: model.TypeInt, Str: strconv.FormatInt(v.Int(), 10)}
	case pcommon.ValueTypeDouble:
		out = model.Value{Type: model.TypeDouble, Str: strconv.FormatFloat(v.Double(), 'g', -1, 64)}
	case pcommon.ValueTypeBytes:
		if lim.MaxBytes > 0 && base64.StdEncoding.EncodedLen(v.Bytes().Len()) > lim.MaxBytes {
			return model.Value{}, ErrTooLong
		}
		out = model.Value{Type: model.TypeBytes, Str: base64.StdEncoding.EncodeToString(v.Bytes().AsRaw())}
	case pcommon.ValueTypeSlice, pcommon.ValueTypeMap:
		e := encoder{maxDepth: lim.depth(), maxBytes: lim.MaxBytes}
		if err := e.value(v, 0); err != nil {
			return model.Value{}, err
		}
		t := model.TypeArray
		if v.Type() == pcommon.ValueTypeMap {
			t = model.TypeMap
		}
		return model.Value{Type: t, Str: string(e.buf)}, nil
	default:
		return model.Value{}, fmt.Errorf("convert value: unknown type %d", v.Type())
	}
	if lim.MaxBytes > 0 && len(out.Str) > lim.MaxBytes {
		return model.Value{}, ErrTooLong
	}
	return out, nil
}

// AppendJSON appends the OTLP/JSON AnyValue encoding of v to dst, e.g.
// {"stringValue":"x"} or {"intValue":"5"}. It fails with ErrTooDeep when v
// nests deeper than MaxDepth.
func AppendJSON(dst []byte, v pcommon.Value) ([]byte, error) {
	e := encoder{buf: dst, maxDepth: MaxDepth}
	err := e.value(v, 0)
	return e.buf, err
}

// encoder writes OTLP/JSON by hand: it is on the ingest hot path for every
// array and map attribute, and checking depth and length while writing is
// what keeps hostile values cheap to refuse.
type encoder struct {
	buf      []byte
	maxDepth int
	maxBytes int
}

func (e *encoder) value(v pcommon.Value, depth int) error {
	if e.maxBytes > 0 && len(e.buf) > e.maxBytes {
		return ErrTooLong
	}
	switch v.Type() {
	case pcommon.ValueTypeEmpty:
		e.buf = append(e.buf, "{}"...)
	case pcommon.ValueTypeStr:
		e.buf = append(e.buf, `{"stringValue":`...)
		e.buf = AppendJSONString(e.buf, v.Str())
		e.buf = append(e.buf, '}')
	case pcommon.ValueTypeBool:
		e.buf = append(e.buf, `{"boolValue":`...)
		e.buf = strconv.AppendBool(e.buf, v.Bool())
		e.buf = append(e.buf, '}')
	case pcommon.ValueTypeInt:
		e.buf = append(e.buf, `{"intValue":"`...)
		e.buf = strconv.AppendInt(e.buf, v.Int(), 10)
		e.buf = append(e.buf, `"}`...)
	case pcommon.ValueTypeDouble:
		e.buf = append(e.buf, `{"doubleValue":`...)
		e.buf = appendDouble(e.buf, v.Double())
		e.buf = append(e.buf, '}')
	case pcommon.ValueTypeBytes:
		e.buf = append(e.buf, `{"bytesValue":"`...)
		e.buf = base64.StdEncoding.AppendEncode(e.buf, v.Bytes().AsRaw())
		e.buf = append(e.buf, `"}`...)
	case pcommon.ValueTypeSlice:
		if depth >= e.maxDepth {
			return ErrTooDeep
		}
		s := v.Slice()
		if s.Len() == 0 {
			e.buf = append(e.buf, `{"arrayValue":{}}`...)
			break
		}
		e.buf = append(e.buf, `{"arrayValue":{"values":[`...)
		for i := 0; i < s.Len(); i++ {
			if i > 0 {
				e.buf = append(e.buf, ',')
			}
			if err := e.value(s.At(i), depth+1); err != nil {
				return err
			}
		}
		e.buf = append(e.buf, "]}}"...)
	case pcommon.ValueTypeMap:
		if depth >= e.maxDepth {
			return ErrTooDeep
		}
		m := v.Map()
		if m.Len() == 0 {
			e.buf = append(e.buf, `{"kvlistValue":{}}`...)
			break
		}
		e.buf = append(e.buf, `{"kvlistValue":{"values":[`...)
		first := true
		var err error
		m.Range(func(k string, mv pcommon.Value) bool {
			if !first {
				e.buf = append(e.buf, ',')
			}
			first = false
			e.buf = append(e.buf, `{"key":`...)
			e.buf = AppendJSONString(e.buf, k)
			e.buf = append(e.buf, `,"value":`...)
			err = e.value(mv, depth+1)
			e.buf = append(e.buf, '}')
			return err == nil
		})
		if err != nil {
			return err
		}
		e.buf = append(e.buf, "]}}"...)
	default:
		return fmt.Errorf("encode value: unknown type %d", v.Type())
	}
	if e.maxBytes > 0 && len(e.buf) > e.maxBytes {
		return ErrTooLong
	}
	return nil
}

func appendDouble(dst []byte, f float64) []byte {
	switch {
	case math.IsNaN(f):
		return append(dst, `"NaN"`...)
	case math.IsInf(f, 1):
		return append(dst, `"Infinity"`...)
	case math.IsInf(f, -1):
		return append(dst, `"-Infinity"`...)
	}
	return strconv.AppendFloat(dst, f, 'g', -1, 64)
}

const hexDigits = "0123456789abcdef"

// AppendJSONString appends s as a JSON string. It is the hot path of every
// JSON this project writes by hand (stored arrays and maps, the API's trace
// answers), where json.Marshal's reflection costs half the time. Like
// encoding/json it replaces invalid UTF-8 with U+FFFD (JSON text cannot
// carry it) and escapes U+2028/U+2029; unlike it, it leaves <, > and &
// alone, which is valid JSON.
func AppendJSONString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		b := s[i]
		if b < utf8.RuneSelf {
			if b >= 0x20 && b != '"' && b != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch b {
			case '"', '\\':
				dst = append(dst, '\\', b)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[b>>4], hexDigits[b&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			start = i + size
		case r == '\u2028' || r == '\u2029':
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			start = i + size
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
