package anyvalue

import (
	"testing"

	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/ariadnehq/ariadne/internal/model"
)

// FuzzToPcommon parses any string as an array or map value. Whatever it
// accepts must convert back to a canonical form that is a fixed point:
// canonical → pcommon → canonical gives the same string.
func FuzzToPcommon(f *testing.F) {
	f.Add(uint8(model.TypeArray), `{"arrayValue":{"values":[{"stringValue":"a\"b"},{"intValue":"7"},{"doubleValue":"NaN"},{"bytesValue":"aGk="},{}]}}`)
	f.Add(uint8(model.TypeMap), `{"kvlistValue":{"values":[{"key":"k","value":{"kvlistValue":{"values":[{"key":"n","value":{"boolValue":true}}]}}}]}}`)
	f.Add(uint8(model.TypeArray), `{"array_value":{"values":[{"int_value":5},{"double_value":1e300}]}}`)
	f.Add(uint8(model.TypeDouble), `-0`)
	f.Add(uint8(model.TypeBytes), `AAH+/w==`)
	f.Fuzz(func(t *testing.T, typ uint8, s string) {
		v := model.Value{Type: model.ValueType(typ % 8), Str: s}
		pv := pcommon.NewValueEmpty()
		if err := ToPcommon(v, pv); err != nil {
			return
		}
		canon, err := FromPcommon(pv, Limits{})
		if err != nil {
			return // deeper than MaxDepth once re-encoded is fine to refuse
		}
		again := pcommon.NewValueEmpty()
		if err := ToPcommon(canon, again); err != nil {
			t.Fatalf("canonical form %q does not parse: %v", canon.Str, err)
		}
		canon2, err := FromPcommon(again, Limits{})
		if err != nil || canon2 != canon {
			t.Fatalf("not a fixed point: %q then %q (%v)", canon.Str, canon2.Str, err)
		}
	})
}
