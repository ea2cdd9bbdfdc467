package api_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/ariadnehq/ariadne/internal/api"
	"github.com/ariadnehq/ariadne/internal/api/apitest"
)

// TestTransactionsGolden covers the correlation endpoints (transactions,
// messages) over the apitest data set, whose checkout trace sends an SQS
// message that the fulfilment trace processes two seconds later.
func TestTransactionsGolden(t *testing.T) {
	srv := apitest.Server(t, apitest.Store(t))
	const msg = "0b8e5f7a-1111-4222-8333-944455556666"
	tests := []struct {
		name, path string
		status     int
	}{
		{"transaction_checkout", "/api/v1/transactions/" + apitest.Checkout.String(), 200},
		{"transaction_not_found", "/api/v1/transactions/0123456789abcdef0123456789abcdef", 404},
		{"transaction_bad_id", "/api/v1/transactions/xyz", 400},
		{"transaction_bad_param", "/api/v1/transactions/" + apitest.Checkout.String() + "?depth=3", 400},
		{"transactions_failed", "/api/v1/transactions?failed=true", 200},
		{"transactions_channel", "/api/v1/transactions?channel=orders-queue", 200},
		{"transactions_message", "/api/v1/transactions?messageId=" + msg, 200},
		{"transactions_bad_limit", "/api/v1/transactions?limit=1000", 400},
		{"message", "/api/v1/messages/" + msg, 200},
		{"message_key", "/api/v1/messages/sqs:" + msg, 200},
		{"message_not_found", "/api/v1/messages/nope", 404},
		{"messages_search_none", "/api/v1/messages?q=no-such-order", 200},
		{"messages_search_no_q", "/api/v1/messages", 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := get(t, srv.URL+tt.path)
			if status != tt.status {
				t.Errorf("GET %s: status %d, want %d: %s", tt.path, status, tt.status, body)
			}
			var pretty bytes.Buffer
			if err := json.Indent(&pretty, body, "", "  "); err != nil {
				t.Fatalf("GET %s: body is not JSON: %v: %s", tt.path, err, body)
			}
			golden(t, tt.name+".golden", []byte(fmt.Sprintf("GET %s\n%d\n%s", tt.path, status, pretty.Bytes())))
		})
	}
}

// TestTransactionShape decodes the transaction of the checkout trace and
// checks what the UI relies on: both traces, the SQS edge with its lag,
// and a critical path that crosses the hop.
func TestTransactionShape(t *testing.T) {
	srv := apitest.Server(t, apitest.Store(t))
	var tx api.TransactionResponse
	getJSON(t, srv.URL+"/api/v1/transactions/"+apitest.Fulfil.String(), &tx)
	if len(tx.Traces) != 2 || tx.Traces[0].TraceID != apitest.Checkout.String() {
		t.Fatalf("traces %+v, want checkout first, then fulfil", tx.Traces)
	}
	if len(tx.Edges) != 1 {
		t.Fatalf("edges %+v, want one", tx.Edges)
	}
	e := tx.Edges[0]
	if e.Channel != "sqs" || e.Destination != "orders-queue" || e.LagNs == nil || *e.LagNs <= 0 ||
		e.ProducerTraceID != apitest.Checkout.String() || e.ConsumerTraceID != apitest.Fulfil.String() {
		t.Errorf("edge %+v", e)
	}
	var hop bool
	for _, s := range tx.CriticalPath {
		hop = hop || s.Kind == "hop"
	}
	if !hop || tx.Status != "error" || tx.DurationNs <= 0 || len(tx.Spans) == 0 {
		t.Errorf("critical path %+v (hop %v), status %s, duration %d", tx.CriticalPath, hop, tx.Status, tx.DurationNs)
	}
}
