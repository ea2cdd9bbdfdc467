package awsv2

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"reflect"
	"unicode/utf8"

	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

var (
	avType     = reflect.TypeFor[ddbtypes.AttributeValue]()
	readerType = reflect.TypeFor[io.Reader]()
)

// captureInput renders an operation's input for ariadne.request.payload:
// exported fields only, nil/empty ones left out (an SDK input struct is
// mostly unset options), byte slices as text, DynamoDB attribute values in
// their wire form ({"S":"a"}) and streams not read at all.
func captureInput(params any) []byte {
	v, ok := plain(reflect.ValueOf(params), 0)
	if !ok {
		return nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil
	}
	return b
}

const maxCaptureDepth = 24

func plain(v reflect.Value, depth int) (any, bool) {
	if !v.IsValid() || depth > maxCaptureDepth {
		return nil, false
	}
	if v.Kind() == reflect.Interface && !v.IsNil() && v.Type() == avType {
		return attributeValue(v.Interface().(ddbtypes.AttributeValue), depth)
	}
	if v.Type().Implements(avType) && v.Kind() == reflect.Pointer && !v.IsNil() {
		return attributeValue(v.Interface().(ddbtypes.AttributeValue), depth)
	}
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return nil, false
		}
		if v.Type().Implements(readerType) && v.Kind() == reflect.Interface {
			return nil, false
		}
		return plain(v.Elem(), depth+1)
	case reflect.Struct:
		t := v.Type()
		out := make(map[string]any, t.NumField())
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			if !f.IsExported() || f.Type.Implements(readerType) && f.Type.Kind() == reflect.Interface {
				continue
			}
			if x, ok := plain(v.Field(i), depth+1); ok {
				out[f.Name] = x
			}
		}
		return out, len(out) > 0
	case reflect.Map:
		if v.Len() == 0 || v.Type().Key().Kind() != reflect.String {
			return nil, false
		}
		out := make(map[string]any, v.Len())
		it := v.MapRange()
		for it.Next() {
			if x, ok := plain(it.Value(), depth+1); ok {
				out[it.Key().String()] = x
			}
		}
		return out, len(out) > 0
	case reflect.Slice, reflect.Array:
		if v.Kind() == reflect.Slice && v.Type().Elem().Kind() == reflect.Uint8 {
			if v.Len() == 0 {
				return nil, false
			}
			return binary(v.Bytes()), true
		}
		if v.Len() == 0 {
			return nil, false
		}
		out := make([]any, 0, v.Len())
		for i := 0; i < v.Len(); i++ {
			if x, ok := plain(v.Index(i), depth+1); ok {
				out = append(out, x)
			}
		}
		return out, len(out) > 0
	case reflect.String:
		if v.Len() == 0 {
			return nil, false
		}
		return v.String(), true
	case reflect.Bool:
		return v.Bool(), true
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return v.Int(), true
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return v.Uint(), true
	case reflect.Float32, reflect.Float64:
		return v.Float(), true
	}
	return nil, false
}

// attributeValue renders a DynamoDB value in AttributeValue JSON.
func attributeValue(av ddbtypes.AttributeValue, depth int) (any, bool) {
	switch x := av.(type) {
	case *ddbtypes.AttributeValueMemberS:
		return map[string]any{"S": x.Value}, true
	case *ddbtypes.AttributeValueMemberN:
		return map[string]any{"N": x.Value}, true
	case *ddbtypes.AttributeValueMemberB:
		return map[string]any{"B": binary(x.Value)}, true
	case *ddbtypes.AttributeValueMemberBOOL:
		return map[string]any{"BOOL": x.Value}, true
	case *ddbtypes.AttributeValueMemberNULL:
		return map[string]any{"NULL": x.Value}, true
	case *ddbtypes.AttributeValueMemberSS:
		return map[string]any{"SS": x.Value}, true
	case *ddbtypes.AttributeValueMemberNS:
		return map[string]any{"NS": x.Value}, true
	case *ddbtypes.AttributeValueMemberBS:
		out := make([]string, len(x.Value))
		for i, b := range x.Value {
			out[i] = binary(b)
		}
		return map[string]any{"BS": out}, true
	case *ddbtypes.AttributeValueMemberM:
		m := make(map[string]any, len(x.Value))
		for k, e := range x.Value {
			if depth > maxCaptureDepth {
				break
			}
			if r, ok := attributeValue(e, depth+1); ok {
				m[k] = r
			}
		}
		return map[string]any{"M": m}, true
	case *ddbtypes.AttributeValueMemberL:
		l := make([]any, 0, len(x.Value))
		for _, e := range x.Value {
			if depth > maxCaptureDepth {
				break
			}
			if r, ok := attributeValue(e, depth+1); ok {
				l = append(l, r)
			}
		}
		return map[string]any{"L": l}, true
	}
	return nil, false
}

func binary(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	return base64.StdEncoding.EncodeToString(b)
}
