package model

// ValueType is the type of an attribute value as OTLP carries it.
type ValueType uint8

const (
	TypeEmpty  ValueType = 0
	TypeString ValueType = 1
	TypeBool   ValueType = 2
	TypeInt    ValueType = 3
	TypeDouble ValueType = 4
	TypeBytes  ValueType = 5
	TypeArray  ValueType = 6
	TypeMap    ValueType = 7
)

// Value is an attribute or log body value in a canonical string form that
// searches can compare and that converts back to the exact OTLP value:
// strings as they are, ints in decimal, doubles in the shortest form that
// round-trips (strconv 'g', -1), bools as "true"/"false", bytes in standard
// base64, arrays and maps as OTLP/JSON AnyValue encodings.
type Value struct {
	Type ValueType
	Str  string
}

// Attr is one key/value attribute.
type Attr struct {
	Key   string
	Value Value
}

// Attributes is an ordered attribute list; OTLP order is preserved.
type Attributes []Attr

// Get returns the value of key and whether it is present.
func (a Attributes) Get(key string) (Value, bool) {
	for i := range a {
		if a[i].Key == key {
			return a[i].Value, true
		}
	}
	return Value{}, false
}

// String returns the canonical string of key, or "" when absent.
func (a Attributes) String(key string) string {
	v, _ := a.Get(key)
	return v.Str
}
