package refs

import (
	"encoding/json"
	"testing"
)

func TestKeys(t *testing.T) {
	raw := map[string]json.RawMessage{"sk": json.RawMessage(`{ "N" : "7" }`), "pk": json.RawMessage(`{"S":"a<b"}`)}
	got, ok := DynamoDBRaw("T", raw)
	// md5 of {"pk":{"S":"a<b"},"sk":{"N":"7"}} (no HTML escaping), computed outside Go.
	if want := "ddb:T:f9ef13058adeaf30280b7a98fc780634"; !ok || got != want {
		t.Fatalf("got %q", got)
	}
	fromTyped, _ := DynamoDB("T", map[string]any{"pk": map[string]string{"S": "a<b"}, "sk": map[string]string{"N": "7"}})
	if fromTyped != got {
		t.Fatalf("typed %q != raw %q", fromTyped, got)
	}
	c, _ := Canonical(map[string]any{"b": 1, "a": map[string]string{"S": "<"}})
	if c != `{"a":{"S":"<"},"b":1}` {
		t.Fatalf("canonical %s", c)
	}
	if TableFromARN("arn:aws:dynamodb:us-east-1:1:table/Orders/stream/2024") != "Orders" {
		t.Fatal("table")
	}
	if LastSegment("https://sqs.us-east-1.amazonaws.com/1/orders") != "orders" || LastSegment("arn:aws:sns:r:1:topic") != "topic" {
		t.Fatal("last segment")
	}
}
