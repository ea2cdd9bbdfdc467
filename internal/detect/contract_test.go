package detect

import (
	"reflect"
	"strings"
	"testing"

	"github.com/ariadnehq/ariadne/internal/store"
)

func TestSchemaDiff(t *testing.T) {
	before := map[string]string{"orderId": "string", "amount": "number", "items": "array", "items[]": "object",
		"items[].sku": "string", "customer": "object", "customer.id": "string", "note": "string"}
	after := map[string]string{"orderId": "string", "total": "number", "items": "array", "items[]": "object",
		"items[].sku": "number", "customer": "object", "customer.id": "string", "customer.email": "string", "note": "null|string"}
	got := SchemaDiff(before, after)
	want := []FieldDiff{
		{Path: "amount", Change: FieldRemoved, Before: "number", RenamedTo: "total"},
		{Path: "customer", Change: FieldSame, Before: "object", After: "object"},
		{Path: "customer.email", Change: FieldAdded, After: "string"},
		{Path: "customer.id", Change: FieldSame, Before: "string", After: "string"},
		{Path: "items", Change: FieldSame, Before: "array", After: "array"},
		{Path: "items[]", Change: FieldSame, Before: "object", After: "object"},
		{Path: "items[].sku", Change: FieldChanged, Before: "string", After: "number"},
		{Path: "note", Change: FieldChanged, Before: "string", After: "null|string"},
		{Path: "orderId", Change: FieldSame, Before: "string", After: "string"},
		{Path: "total", Change: FieldAdded, After: "number", RenamedFrom: "amount"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("SchemaDiff:\n got %+v\nwant %+v", got, want)
	}
}

func TestComparePaths(t *testing.T) {
	want := []string{"a", "a.b", "a.b.c", "a.z", "a[]", "a[].x", "ab", "b"}
	for i := range want {
		for j := range want {
			c := comparePaths(want[i], want[j])
			if (i < j && c >= 0) || (i > j && c <= 0) || (i == j && c != 0) {
				t.Errorf("comparePaths(%q, %q) = %d", want[i], want[j], c)
			}
		}
	}
}

func TestDriftContracts(t *testing.T) {
	fp := strings.Join([]string{"payments", "checkout-api", "2.0.0", "payment", "amount"}, "\x1f")
	src, ok := ParseDriftFingerprint(fp)
	if !ok || src != (DriftSource{Channel: "payments", Service: "checkout-api", Version: "2.0.0", Consumer: "payment"}) {
		t.Fatalf("ParseDriftFingerprint: %+v %v", src, ok)
	}
	if _, ok := ParseDriftFingerprint("payments\x1fcheckout-api"); ok {
		t.Error("a short fingerprint parsed")
	}
	cs := []store.Contract{
		{Channel: "payments", Service: "checkout-api", Version: "1.0.0", FirstSeen: 10},
		{Channel: "payments", Service: "refunds", Version: "3", FirstSeen: 30},
		{Channel: "payments", Service: "checkout-api", Version: "1.4.2", FirstSeen: 20},
		{Channel: "payments", Service: "checkout-api", Version: "2.0.0", FirstSeen: 40},
	}
	before, after, ok := DriftContracts(src, cs)
	if !ok || before.Version != "1.4.2" || after.Version != "2.0.0" {
		t.Errorf("DriftContracts: %+v → %+v (%v), want 1.4.2 → 2.0.0", before, after, ok)
	}
	if _, _, ok := DriftContracts(DriftSource{Channel: "payments", Service: "checkout-api", Version: "1.0.0"}, cs); ok {
		t.Error("the first contract has nothing before it")
	}
}
