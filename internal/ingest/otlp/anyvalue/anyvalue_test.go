package anyvalue

import (
	"errors"
	"math"
	"strings"
	"testing"

	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/ariadnehq/ariadne/internal/model"
)

// build returns a fresh value set up by f.
func build(f func(v pcommon.Value)) pcommon.Value {
	v := pcommon.NewValueEmpty()
	f(v)
	return v
}

func TestRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		in   pcommon.Value
		want model.Value
	}{
		{"empty", pcommon.NewValueEmpty(), model.Value{Type: model.TypeEmpty}},
		{"string", pcommon.NewValueStr("héllo\n\"x\""), model.Value{Type: model.TypeString, Str: "héllo\n\"x\""}},
		{"empty string", pcommon.NewValueStr(""), model.Value{Type: model.TypeString}},
		{"invalid utf8 string", pcommon.NewValueStr("a\xffb"), model.Value{Type: model.TypeString, Str: "a\xffb"}},
		{"bool true", pcommon.NewValueBool(true), model.Value{Type: model.TypeBool, Str: "true"}},
		{"bool false", pcommon.NewValueBool(false), model.Value{Type: model.TypeBool, Str: "false"}},
		{"int", pcommon.NewValueInt(-42), model.Value{Type: model.TypeInt, Str: "-42"}},
		{"int max", pcommon.NewValueInt(math.MaxInt64), model.Value{Type: model.TypeInt, Str: "9223372036854775807"}},
		{"int min", pcommon.NewValueInt(math.MinInt64), model.Value{Type: model.TypeInt, Str: "-9223372036854775808"}},
		{"double", pcommon.NewValueDouble(0.1), model.Value{Type: model.TypeDouble, Str: "0.1"}},
		{"double big", pcommon.NewValueDouble(1e21), model.Value{Type: model.TypeDouble, Str: "1e+21"}},
		{"double negative zero", pcommon.NewValueDouble(math.Copysign(0, -1)), model.Value{Type: model.TypeDouble, Str: "-0"}},
		{"double NaN", pcommon.NewValueDouble(math.NaN()), model.Value{Type: model.TypeDouble, Str: "NaN"}},
		{"double +Inf", pcommon.NewValueDouble(math.Inf(1)), model.Value{Type: model.TypeDouble, Str: "+Inf"}},
		{"double smallest", pcommon.NewValueDouble(math.SmallestNonzeroFloat64), model.Value{Type: model.TypeDouble, Str: "5e-324"}},
		{"bytes", build(func(v pcommon.Value) { v.SetEmptyBytes().FromRaw([]byte{0, 1, 0xfe, 0xff}) }), model.Value{Type: model.TypeBytes, Str: "AAH+/w=="}},
		{"empty bytes", build(func(v pcommon.Value) { v.SetEmptyBytes() }), model.Value{Type: model.TypeBytes, Str: ""}},
		{"empty array", build(func(v pcommon.Value) { v.SetEmptySlice() }), model.Value{Type: model.TypeArray, Str: `{"arrayValue":{}}`}},
		{"empty map", build(func(v pcommon.Value) { v.SetEmptyMap() }), model.Value{Type: model.TypeMap, Str: `{"kvlistValue":{}}`}},
		{"array of every type", build(func(v pcommon.Value) {
			s := v.SetEmptySlice()
			s.AppendEmpty().SetStr("a\"b\\c\u0001")
			s.AppendEmpty().SetInt(7)
			s.AppendEmpty().SetDouble(math.Inf(-1))
			s.AppendEmpty().SetDouble(2.5)
			s.AppendEmpty().SetBool(true)
			s.AppendEmpty().SetEmptyBytes().FromRaw([]byte("hi"))
			s.AppendEmpty()
			s.AppendEmpty().SetEmptySlice().AppendEmpty().SetDouble(math.NaN())
		}), model.Value{Type: model.TypeArray, Str: `{"arrayValue":{"values":[{"stringValue":"a\"b\\c\u0001"},{"intValue":"7"},{"doubleValue":"-Infinity"},{"doubleValue":2.5},{"boolValue":true},{"bytesValue":"aGk="},{},{"arrayValue":{"values":[{"doubleValue":"NaN"}]}}]}}`}},
		{"map nested", build(func(v pcommon.Value) {
			m := v.SetEmptyMap()
			m.PutStr("k", "v")
			m.PutEmpty("nothing")
			inner := m.PutEmptyMap("inner")
			inner.PutInt("n", 1)
			inner.PutEmptySlice("list").AppendEmpty().SetBool(false)
		}), model.Value{Type: model.TypeMap, Str: `{"kvlistValue":{"values":[{"key":"k","value":{"stringValue":"v"}},{"key":"nothing","value":{}},{"key":"inner","value":{"kvlistValue":{"values":[{"key":"n","value":{"intValue":"1"}},{"key":"list","value":{"arrayValue":{"values":[{"boolValue":false}]}}}]}}}]}}`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := FromPcommon(tt.in, Limits{})
			if err != nil {
				t.Fatalf("FromPcommon: %v", err)
			}
			if got != tt.want {
				t.Fatalf("FromPcommon = %#v\nwant %#v", got, tt.want)
			}
			back := pcommon.NewValueEmpty()
			if err := ToPcommon(got, back); err != nil {
				t.Fatalf("ToPcommon: %v", err)
			}
			if !equalValues(back, tt.in) {
				t.Fatalf("round trip: got %s, want %s", back.AsString(), tt.in.AsString())
			}
			again, err := FromPcommon(back, Limits{})
			if err != nil || again != got {
				t.Fatalf("second conversion = %#v, %v; want %#v", again, err, got)
			}
		})
	}
}

// equalValues is pcommon.Value.Equal that also treats NaN as equal to NaN
// and tells -0 from +0: exact means bit for bit.
func equalValues(a, b pcommon.Value) bool {
	if a.Type() != b.Type() {
		return false
	}
	switch a.Type() {
	case pcommon.ValueTypeDouble:
		x, y := a.Double(), b.Double()
		if math.IsNaN(x) && math.IsNaN(y) {
			return true
		}
		return math.Float64bits(x) == math.Float64bits(y)
	case pcommon.ValueTypeSlice:
		if a.Slice().Len() != b.Slice().Len() {
			return false
		}
		for i := 0; i < a.Slice().Len(); i++ {
			if !equalValues(a.Slice().At(i), b.Slice().At(i)) {
				return false
			}
		}
		return true
	case pcommon.ValueTypeMap:
		if a.Map().Len() != b.Map().Len() {
			return false
		}
		var ka, kb []string
		var va, vb []pcommon.Value
		for k, v := range a.Map().All() {
			ka, va = append(ka, k), append(va, v)
		}
		for k, v := range b.Map().All() {
			kb, vb = append(kb, k), append(vb, v)
		}
		for i := range ka {
			if ka[i] != kb[i] || !equalValues(va[i], vb[i]) {
				return false
			}
		}
		return true
	}
	return a.Equal(b)
}

func TestLimits(t *testing.T) {
	deep := pcommon.NewValueEmpty()
	cur := deep
	for i := 0; i < 10; i++ {
		cur = cur.SetEmptySlice().AppendEmpty()
	}
	cur.SetStr("leaf")

	if _, err := FromPcommon(deep, Limits{MaxDepth: 10}); err != nil {
		t.Errorf("depth 10 under MaxDepth 10: %v", err)
	}
	if _, err := FromPcommon(deep, Limits{MaxDepth: 9}); !errors.Is(err, ErrTooDeep) {
		t.Errorf("depth 10 under MaxDepth 9: err = %v, want ErrTooDeep", err)
	}
	long := pcommon.NewValueStr(strings.Repeat("x", 101))
	if _, err := FromPcommon(long, Limits{MaxBytes: 100}); !errors.Is(err, ErrTooLong) {
		t.Errorf("101-byte string under MaxBytes 100: err = %v, want ErrTooLong", err)
	}
	arr := build(func(v pcommon.Value) {
		s := v.SetEmptySlice()
		for i := 0; i < 100; i++ {
			s.AppendEmpty().SetStr("0123456789")
		}
	})
	if _, err := FromPcommon(arr, Limits{MaxBytes: 500}); !errors.Is(err, ErrTooLong) {
		t.Errorf("long array under MaxBytes 500: err = %v, want ErrTooLong", err)
	}
	bytesV := build(func(v pcommon.Value) { v.SetEmptyBytes().FromRaw(make([]byte, 300)) })
	if _, err := FromPcommon(bytesV, Limits{MaxBytes: 100}); !errors.Is(err, ErrTooLong) {
		t.Errorf("300 bytes under MaxBytes 100: err = %v, want ErrTooLong", err)
	}
}

// TestDeepNestingIsCheap: a value nested far beyond any limit is refused
// without walking all of it.
func TestDeepNestingIsCheap(t *testing.T) {
	deep := pcommon.NewValueEmpty()
	cur := deep
	for i := 0; i < 100000; i++ {
		cur = cur.SetEmptyMap().PutEmpty("k")
	}
	if _, err := FromPcommon(deep, Limits{}); !errors.Is(err, ErrTooDeep) {
		t.Fatalf("err = %v, want ErrTooDeep", err)
	}
	if _, err := AppendJSON(nil, deep); !errors.Is(err, ErrTooDeep) {
		t.Fatalf("AppendJSON err = %v, want ErrTooDeep", err)
	}
}

func TestToPcommonAcceptsOTLPJSONVariants(t *testing.T) {
	tests := []struct {
		name string
		in   model.Value
		want pcommon.Value
	}{
		{"snake case and int as number", model.Value{Type: model.TypeArray, Str: `{"array_value":{"values":[{"int_value":5},{"double_value":"1.5"}]}}`},
			build(func(v pcommon.Value) {
				s := v.SetEmptySlice()
				s.AppendEmpty().SetInt(5)
				s.AppendEmpty().SetDouble(1.5)
			})},
		{"map with missing value", model.Value{Type: model.TypeMap, Str: `{"kvlistValue":{"values":[{"key":"a"}]}}`},
			build(func(v pcommon.Value) { v.SetEmptyMap().PutEmpty("a") })},
		{"url-safe bytes", model.Value{Type: model.TypeArray, Str: `{"arrayValue":{"values":[{"bytesValue":"-_8="}]}}`},
			build(func(v pcommon.Value) { v.SetEmptySlice().AppendEmpty().SetEmptyBytes().FromRaw([]byte{0xfb, 0xff}) })},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := pcommon.NewValueEmpty()
			if err := ToPcommon(tt.in, got); err != nil {
				t.Fatal(err)
			}
			if !equalValues(got, tt.want) {
				t.Fatalf("got %s, want %s", got.AsString(), tt.want.AsString())
			}
		})
	}
}

func TestToPcommonRejectsBadCanonicalForms(t *testing.T) {
	for _, v := range []model.Value{
		{Type: model.TypeInt, Str: "1.5"},
		{Type: model.TypeBool, Str: "1"},
		{Type: model.TypeDouble, Str: "x"},
		{Type: model.TypeBytes, Str: "!!"},
		{Type: model.TypeArray, Str: `{"kvlistValue":{}}`},
		{Type: model.TypeMap, Str: `not json`},
		{Type: model.TypeArray, Str: `{"arrayValue":{},"stringValue":"x"}`},
		{Type: model.TypeArray, Str: strings.Repeat(`{"arrayValue":{"values":[`, MaxDepth+2) + `{}` + strings.Repeat(`]}}`, MaxDepth+2)},
		{Type: 99, Str: ""},
	} {
		if err := ToPcommon(v, pcommon.NewValueEmpty()); err == nil {
			t.Errorf("ToPcommon(%v %q) = nil, want an error", v.Type, v.Str)
		}
	}
}

func TestMapRoundTrip(t *testing.T) {
	m := pcommon.NewMap()
	m.PutStr("s", "v")
	m.PutInt("i", 3)
	m.PutEmptySlice("a").AppendEmpty().SetStr("x")
	attrs, err := FromMap(m, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	back := pcommon.NewMap()
	if err := ToMap(attrs, back); err != nil {
		t.Fatal(err)
	}
	if !back.Equal(m) {
		t.Fatalf("got %v, want %v", back.AsRaw(), m.AsRaw())
	}
}
