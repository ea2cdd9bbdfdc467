package api

import (
	"encoding/json"
	"testing"

	"github.com/ariadnehq/ariadne/internal/model"
)

func TestValueJSON(t *testing.T) {
	tests := []struct {
		name string
		in   model.Value
		want string
	}{
		{"empty", model.Value{}, `null`},
		{"string", model.Value{Type: model.TypeString, Str: `a "quoted" ü`}, `"a \"quoted\" ü"`},
		{"bool", model.Value{Type: model.TypeBool, Str: "true"}, `true`},
		{"int", model.Value{Type: model.TypeInt, Str: "-42"}, `-42`},
		{"int64 max stays exact", model.Value{Type: model.TypeInt, Str: "9223372036854775807"}, `9223372036854775807`},
		{"double", model.Value{Type: model.TypeDouble, Str: "0.25"}, `0.25`},
		{"double exponent", model.Value{Type: model.TypeDouble, Str: "1e+21"}, `1e+21`},
		{"double NaN as string", model.Value{Type: model.TypeDouble, Str: "NaN"}, `"NaN"`},
		{"bytes stay base64", model.Value{Type: model.TypeBytes, Str: "AAEC"}, `"AAEC"`},
		{"bad int falls back to string", model.Value{Type: model.TypeInt, Str: "12abc"}, `"12abc"`},
		{"bad bool falls back to string", model.Value{Type: model.TypeBool, Str: "yes"}, `"yes"`},
		{"array as ArrayValue", model.Value{Type: model.TypeArray,
			Str: `{"values":[{"stringValue":"sqs:1"},{"intValue":"7"},{"doubleValue":1.5},{"boolValue":false},{}]}`},
			`["sqs:1",7,1.5,false,null]`},
		{"array as AnyValue", model.Value{Type: model.TypeArray,
			Str: `{"arrayValue":{"values":[{"stringValue":"a"},{"arrayValue":{"values":[{"intValue":1}]}}]}}`},
			`["a",[1]]`},
		{"array as bare list", model.Value{Type: model.TypeArray, Str: `[{"stringValue":"a"}]`}, `["a"]`},
		{"empty array", model.Value{Type: model.TypeArray, Str: `{}`}, `[]`},
		{"map as KeyValueList keeps order", model.Value{Type: model.TypeMap,
			Str: `{"values":[{"key":"z","value":{"stringValue":"last"}},{"key":"a","value":{"kvlistValue":{"values":[{"key":"n","value":{"intValue":"1"}}]}}}]}`},
			`{"z":"last","a":{"n":1}}`},
		{"map as AnyValue", model.Value{Type: model.TypeMap,
			Str: `{"kvlistValue":{"values":[{"key":"k","value":{"bytesValue":"AQ=="}},{"key":"nil"}]}}`},
			`{"k":"AQ==","nil":null}`},
		{"map with NaN double", model.Value{Type: model.TypeMap,
			Str: `{"values":[{"key":"x","value":{"doubleValue":"NaN"}}]}`}, `{"x":"NaN"}`},
		{"broken array falls back to string", model.Value{Type: model.TypeArray, Str: `[1,2`}, `"[1,2"`},
		{"unknown form falls back to string", model.Value{Type: model.TypeMap, Str: `{"a":1,"b":2}`}, `"{\"a\":1,\"b\":2}"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ValueJSON(tt.in)
			if string(got) != tt.want {
				t.Errorf("ValueJSON(%+v) = %s, want %s", tt.in, got, tt.want)
			}
			if !json.Valid(got) {
				t.Errorf("ValueJSON(%+v) = %s is not valid JSON", tt.in, got)
			}
		})
	}
}

func TestAttributesJSON(t *testing.T) {
	in := toAttributes(model.Attributes{
		{Key: "zeta", Value: model.Value{Type: model.TypeString, Str: "z"}},
		{Key: "alpha", Value: model.Value{Type: model.TypeInt, Str: "1"}},
		{Key: "zeta", Value: model.Value{Type: model.TypeString, Str: "repeat"}},
	})
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"zeta":"z","alpha":1}`; string(b) != want {
		t.Fatalf("marshal = %s, want %s", b, want)
	}
	var back Attributes
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if len(back) != 2 || back[0].Key != "zeta" || back[1].Key != "alpha" || string(back.Get("alpha")) != "1" {
		t.Errorf("round trip = %+v", back)
	}
	empty, _ := json.Marshal(toAttributes(nil))
	if string(empty) != `{}` {
		t.Errorf("empty attributes = %s, want {}", empty)
	}
	if err := json.Unmarshal([]byte(`[1]`), &back); err == nil {
		t.Error("unmarshal of an array should fail")
	}
}

// TestTranscodeTakesIngestForm: the form ingest writes takes the fast path.
func TestTranscodeTakesIngestForm(t *testing.T) {
	tests := []struct {
		typ  model.ValueType
		in   string
		want string
	}{
		{model.TypeArray, `{"arrayValue":{"values":[{"stringValue":"sqs:1"},{"intValue":"7"},{"doubleValue":1.5},{"boolValue":false},{}]}}`, `["sqs:1",7,1.5,false,null]`},
		{model.TypeArray, `{"arrayValue":{}}`, `[]`},
		{model.TypeMap, `{"kvlistValue":{"values":[{"key":"z","value":{"stringValue":"a\"b"}},{"key":"a","value":{"kvlistValue":{"values":[{"key":"n","value":{"doubleValue":"Infinity"}}]}}},{"key":"z","value":{"intValue":"2"}}]}}`, `{"z":"a\"b","a":{"n":"Infinity"}}`},
		{model.TypeMap, `{"kvlistValue":{}}`, `{}`},
	}
	for _, tt := range tests {
		got, ok := transcode(nil, []byte(tt.in), tt.typ)
		if !ok || string(got) != tt.want {
			t.Errorf("transcode(%s) = %s, %v; want %s", tt.in, got, ok, tt.want)
		}
	}
}
