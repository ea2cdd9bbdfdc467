package anyvalue

import (
	"encoding/base64"
	"errors"
	"fmt"
	"math"
	"strconv"
	"unsafe"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/ariadnehq/ariadne/internal/model"
)

// ErrMalformed reports protobuf bytes that are not a valid AnyValue.
var ErrMalformed = errors.New("malformed AnyValue")

// AnyValue field numbers (opentelemetry/proto/common/v1/common.proto).
const (
	fieldString   = 1
	fieldBool     = 2
	fieldInt      = 3
	fieldDouble   = 4
	fieldArray    = 5
	fieldKvlist   = 6
	fieldBytes    = 7
	fieldStrindex = 8 // profiles' dictionary index; pdata shows it as an empty value
)

// Oneof is the value of one AnyValue as found on the wire: the last oneof
// field seen wins, across every occurrence of the message, which is how
// protobuf merges repeated occurrences of a message field (and how pdata
// decodes them).
type Oneof struct {
	Field int    // 0: empty
	Num   uint64 // bool, int, double bits
	Data  []byte // string, bytes, array, kvlist payload
}

// Scan folds the fields of one AnyValue message into o.
func (o *Oneof) Scan(b []byte) error {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return fmt.Errorf("read AnyValue tag: %v: %w", protowire.ParseError(n), ErrMalformed)
		}
		b = b[n:]
		switch num {
		case fieldString, fieldArray, fieldKvlist, fieldBytes:
			if typ != protowire.BytesType {
				return fmt.Errorf("AnyValue field %d: wire type %d: %w", num, typ, ErrMalformed)
			}
			v, n := protowire.ConsumeBytes(b)
			if n < 0 {
				return fmt.Errorf("read AnyValue field %d: %v: %w", num, protowire.ParseError(n), ErrMalformed)
			}
			b = b[n:]
			*o = Oneof{Field: int(num), Data: v}
		case fieldBool, fieldInt, fieldStrindex:
			if typ != protowire.VarintType {
				return fmt.Errorf("AnyValue field %d: wire type %d: %w", num, typ, ErrMalformed)
			}
			v, n := protowire.ConsumeVarint(b)
			if n < 0 {
				return fmt.Errorf("read AnyValue field %d: %v: %w", num, protowire.ParseError(n), ErrMalformed)
			}
			b = b[n:]
			*o = Oneof{Field: int(num), Num: v}
			if num == fieldStrindex {
				*o = Oneof{}
			}
		case fieldDouble:
			if typ != protowire.Fixed64Type {
				return fmt.Errorf("AnyValue field %d: wire type %d: %w", num, typ, ErrMalformed)
			}
			v, n := protowire.ConsumeFixed64(b)
			if n < 0 {
				return fmt.Errorf("read AnyValue field %d: %v: %w", num, protowire.ParseError(n), ErrMalformed)
			}
			b = b[n:]
			*o = Oneof{Field: int(num), Num: v}
		default:
			n := protowire.ConsumeFieldValue(num, typ, b)
			if n < 0 {
				return fmt.Errorf("skip AnyValue field %d: %v: %w", num, protowire.ParseError(n), ErrMalformed)
			}
			b = b[n:]
		}
	}
	return nil
}

// FromOneof converts a wire value to its canonical model form under lim.
// Strings are returned by str, which the caller supplies so that it can
// share memory with the request (str receives a sub-slice of a buffer the
// caller owns).
func FromOneof(o *Oneof, lim Limits, str func([]byte) string) (model.Value, error) {
	var out model.Value
	switch o.Field {
	case 0:
		return model.Value{Type: model.TypeEmpty}, nil
	case fieldString:
		if lim.MaxBytes > 0 && len(o.Data) > lim.MaxBytes {
			return model.Value{}, ErrTooLong
		}
		return model.Value{Type: model.TypeString, Str: str(o.Data)}, nil
	case fieldBool:
		out = model.Value{Type: model.TypeBool, Str: strconv.FormatBool(o.Num != 0)}
	case fieldInt:
		out = model.Value{Type: model.TypeInt, Str: strconv.FormatInt(int64(o.Num), 10)}
	case fieldDouble:
		out = model.Value{Type: model.TypeDouble, Str: strconv.FormatFloat(math.Float64frombits(o.Num), 'g', -1, 64)}
	case fieldBytes:
		if lim.MaxBytes > 0 && base64.StdEncoding.EncodedLen(len(o.Data)) > lim.MaxBytes {
			return model.Value{}, ErrTooLong
		}
		out = model.Value{Type: model.TypeBytes, Str: base64.StdEncoding.EncodeToString(o.Data)}
	case fieldArray, fieldKvlist:
		e := protoEncoder{encoder: encoder{maxDepth: lim.depth(), maxBytes: lim.MaxBytes}}
		if err := e.oneof(o, 0); err != nil {
			return model.Value{}, err
		}
		t := model.TypeArray
		if o.Field == fieldKvlist {
			t = model.TypeMap
		}
		return model.Value{Type: t, Str: string(e.buf)}, nil
	}
	if lim.MaxBytes > 0 && len(out.Str) > lim.MaxBytes {
		return model.Value{}, ErrTooLong
	}
	return out, nil
}

// protoEncoder writes OTLP/JSON straight from protobuf bytes, with the
// depth and length checks of encoder.
type protoEncoder struct {
	encoder
}

func (e *protoEncoder) oneof(o *Oneof, depth int) error {
	if e.maxBytes > 0 && len(e.buf) > e.maxBytes {
		return ErrTooLong
	}
	switch o.Field {
	case 0:
		e.buf = append(e.buf, "{}"...)
	case fieldString:
		e.buf = append(e.buf, `{"stringValue":`...)
		e.buf = AppendJSONString(e.buf, unsafe.String(unsafe.SliceData(o.Data), len(o.Data)))
		e.buf = append(e.buf, '}')
	case fieldBool:
		e.buf = append(e.buf, `{"boolValue":`...)
		e.buf = strconv.AppendBool(e.buf, o.Num != 0)
		e.buf = append(e.buf, '}')
	case fieldInt:
		e.buf = append(e.buf, `{"intValue":"`...)
		e.buf = strconv.AppendInt(e.buf, int64(o.Num), 10)
		e.buf = append(e.buf, `"}`...)
	case fieldDouble:
		e.buf = append(e.buf, `{"doubleValue":`...)
		e.buf = appendDouble(e.buf, math.Float64frombits(o.Num))
		e.buf = append(e.buf, '}')
	case fieldBytes:
		e.buf = append(e.buf, `{"bytesValue":"`...)
		e.buf = base64.StdEncoding.AppendEncode(e.buf, o.Data)
		e.buf = append(e.buf, `"}`...)
	case fieldArray:
		if depth >= e.maxDepth {
			return ErrTooDeep
		}
		return e.array(o.Data, depth)
	case fieldKvlist:
		if depth >= e.maxDepth {
			return ErrTooDeep
		}
		return e.kvlist(o.Data, depth)
	}
	if e.maxBytes > 0 && len(e.buf) > e.maxBytes {
		return ErrTooLong
	}
	return nil
}

// array encodes an ArrayValue message: repeated AnyValue values = 1.
func (e *protoEncoder) array(b []byte, depth int) error {
	n := 0
	for len(b) > 0 {
		num, typ, m := protowire.ConsumeTag(b)
		if m < 0 {
			return fmt.Errorf("read ArrayValue tag: %v: %w", protowire.ParseError(m), ErrMalformed)
		}
		b = b[m:]
		if num != 1 {
			if m = protowire.ConsumeFieldValue(num, typ, b); m < 0 {
				return fmt.Errorf("skip ArrayValue field %d: %v: %w", num, protowire.ParseError(m), ErrMalformed)
			}
			b = b[m:]
			continue
		}
		if typ != protowire.BytesType {
			return fmt.Errorf("ArrayValue field 1: wire type %d: %w", typ, ErrMalformed)
		}
		v, m := protowire.ConsumeBytes(b)
		if m < 0 {
			return fmt.Errorf("read ArrayValue value: %v: %w", protowire.ParseError(m), ErrMalformed)
		}
		b = b[m:]
		var o Oneof
		if err := o.Scan(v); err != nil {
			return err
		}
		if n == 0 {
			e.buf = append(e.buf, `{"arrayValue":{"values":[`...)
		} else {
			e.buf = append(e.buf, ',')
		}
		n++
		if err := e.oneof(&o, depth+1); err != nil {
			return err
		}
	}
	if n == 0 {
		e.buf = append(e.buf, `{"arrayValue":{}}`...)
		return nil
	}
	e.buf = append(e.buf, "]}}"...)
	return nil
}

// kvlist encodes a KeyValueList message: repeated KeyValue values = 1.
func (e *protoEncoder) kvlist(b []byte, depth int) error {
	n := 0
	for len(b) > 0 {
		num, typ, m := protowire.ConsumeTag(b)
		if m < 0 {
			return fmt.Errorf("read KeyValueList tag: %v: %w", protowire.ParseError(m), ErrMalformed)
		}
		b = b[m:]
		if num != 1 {
			if m = protowire.ConsumeFieldValue(num, typ, b); m < 0 {
				return fmt.Errorf("skip KeyValueList field %d: %v: %w", num, protowire.ParseError(m), ErrMalformed)
			}
			b = b[m:]
			continue
		}
		if typ != protowire.BytesType {
			return fmt.Errorf("KeyValueList field 1: wire type %d: %w", typ, ErrMalformed)
		}
		v, m := protowire.ConsumeBytes(b)
		if m < 0 {
			return fmt.Errorf("read KeyValueList value: %v: %w", protowire.ParseError(m), ErrMalformed)
		}
		b = b[m:]
		key, o, err := ScanKeyValue(v)
		if err != nil {
			return err
		}
		if n == 0 {
			e.buf = append(e.buf, `{"kvlistValue":{"values":[`...)
		} else {
			e.buf = append(e.buf, ',')
		}
		n++
		e.buf = append(e.buf, `{"key":`...)
		e.buf = AppendJSONString(e.buf, unsafe.String(unsafe.SliceData(key), len(key)))
		e.buf = append(e.buf, `,"value":`...)
		if err := e.oneof(&o, depth+1); err != nil {
			return err
		}
		e.buf = append(e.buf, '}')
	}
	if n == 0 {
		e.buf = append(e.buf, `{"kvlistValue":{}}`...)
		return nil
	}
	e.buf = append(e.buf, "]}}"...)
	return nil
}

// ScanKeyValue reads a KeyValue message: key = 1 (last wins), value = 2
// (occurrences merge), key_strindex = 3 (profiles only; ignored). The key
// aliases b.
func ScanKeyValue(b []byte) (key []byte, o Oneof, err error) {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return nil, o, fmt.Errorf("read KeyValue tag: %v: %w", protowire.ParseError(n), ErrMalformed)
		}
		b = b[n:]
		switch num {
		case 1, 2:
			if typ != protowire.BytesType {
				return nil, o, fmt.Errorf("KeyValue field %d: wire type %d: %w", num, typ, ErrMalformed)
			}
			v, n := protowire.ConsumeBytes(b)
			if n < 0 {
				return nil, o, fmt.Errorf("read KeyValue field %d: %v: %w", num, protowire.ParseError(n), ErrMalformed)
			}
			b = b[n:]
			if num == 1 {
				key = v
			} else if err := o.Scan(v); err != nil {
				return nil, o, err
			}
		case 3:
			if typ != protowire.VarintType {
				return nil, o, fmt.Errorf("KeyValue field 3: wire type %d: %w", typ, ErrMalformed)
			}
			_, n := protowire.ConsumeVarint(b)
			if n < 0 {
				return nil, o, fmt.Errorf("read KeyValue field 3: %v: %w", protowire.ParseError(n), ErrMalformed)
			}
			b = b[n:]
		default:
			n := protowire.ConsumeFieldValue(num, typ, b)
			if n < 0 {
				return nil, o, fmt.Errorf("skip KeyValue field %d: %v: %w", num, protowire.ParseError(n), ErrMalformed)
			}
			b = b[n:]
		}
	}
	return key, o, nil
}
