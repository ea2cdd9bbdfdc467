package api_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ariadnehq/ariadne/internal/api"
	"github.com/ariadnehq/ariadne/internal/api/apitest"
	"github.com/ariadnehq/ariadne/internal/model"
	"github.com/ariadnehq/ariadne/internal/store"
)

// issueServer is the shared data set plus two issues (an error seen three
// times, a timeout) and one alert rule with a delivered notification.
func issueServer(t *testing.T) string {
	t.Helper()
	e := apitest.Store(t)
	ctx := t.Context()
	base := apitest.Base.UnixNano()
	sec := int64(time.Second)
	occ := []store.IssueOccurrence{
		{Kind: "error", Fingerprint: "payments\x1fCardDeclined", Title: "CardDeclined: card declined in payments", Function: "payments",
			Severity: "error", Explanation: "payments failed with CardDeclined.", First: base, Last: base + 20*sec, Count: 3,
			Traces: []model.TraceID{apitest.Checkout}},
		{Kind: "timeout", Fingerprint: "inventory-sync\x1fDynamoDB.Scan", Title: "inventory-sync timed out waiting on DynamoDB Scan (2.9 s)",
			Function: "inventory-sync", Severity: "error", Explanation: "inventory-sync ran into its timeout.", First: base + 30*sec, Last: base + 30*sec,
			Count: 1, Traces: []model.TraceID{apitest.Timeout}},
		{Kind: "contract_drift", Fingerprint: strings.Join([]string{"orders-queue", "orders-api", "2.0.0", "fulfilment", "amount"}, "\x1f"),
			Title: `contract drift on orders-queue: orders-api 2.0.0 renamed "amount" to "total"`, Function: "fulfilment", Channel: "orders-queue",
			Severity: "error", Explanation: "fulfilment fails on the messages of orders-api 2.0.0.", First: base + 40*sec, Last: base + 50*sec,
			Count: 2, Traces: []model.TraceID{apitest.Fulfil}},
	}
	if err := e.ObserveContracts(ctx, []store.Contract{
		{Channel: "orders-queue", Service: "orders-api", Version: "1.4.2", FirstSeen: base - 600*sec, LastSeen: base,
			Fields: map[string]string{"orderId": "string", "amount": "number", "items": "array", "items[]": "object", "items[].sku": "string"}},
		{Channel: "orders-queue", Service: "orders-api", Version: "2.0.0", FirstSeen: base + 30*sec, LastSeen: base + 50*sec,
			Fields: map[string]string{"orderId": "string", "total": "number", "items": "array", "items[]": "object", "items[].sku": "number", "currency": "string"}},
	}); err != nil {
		t.Fatal(err)
	}
	if err := e.CommitDetection(ctx, "test", 0, base+time.Minute.Nanoseconds(), occ, base+time.Minute.Nanoseconds()); err != nil {
		t.Fatal(err)
	}
	// A later window: the error again, three minutes on.
	more := []store.IssueOccurrence{occ[0]}
	more[0].First, more[0].Last, more[0].Count = base+200*sec, base+200*sec, 5
	if err := e.CommitDetection(ctx, "test", base+time.Minute.Nanoseconds(), base+5*time.Minute.Nanoseconds(), more, base+5*time.Minute.Nanoseconds()); err != nil {
		t.Fatal(err)
	}
	rule := store.AlertRule{ID: "0123456789abcdef", Name: "payments errors", Kind: "error", Function: "payments", AnyNew: true,
		Target: "slack", URL: "https://hooks.example/x", Created: base - sec}
	if err := e.PutAlertRule(ctx, rule); err != nil {
		t.Fatal(err)
	}
	ev := store.AlertEvent{RuleID: rule.ID, IssueID: store.IssueID("error", "payments\x1fCardDeclined"), Type: "firing", Episode: base, Created: base + 61*sec}
	if _, err := e.EnqueueAlert(ctx, ev); err != nil {
		t.Fatal(err)
	}
	return apitest.Server(t, e).URL
}

func do(t *testing.T, method, url, body string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// TestIssuesGolden: the issue and alert endpoints' JSON, and their errors.
func TestIssuesGolden(t *testing.T) {
	base := issueServer(t)
	errID := store.IssueID("error", "payments\x1fCardDeclined")
	for _, tt := range []struct {
		name, method, path, body string
		status                   int
	}{
		{"issues_all", "GET", "/api/v1/issues", "", 200},
		{"issues_kind", "GET", "/api/v1/issues?kind=timeout", "", 200},
		{"issues_function_status", "GET", "/api/v1/issues?function=payments&status=open", "", 200},
		{"issues_range_empty", "GET", "/api/v1/issues?start=2026-11-25T23:00:00Z", "", 200},
		{"issues_bad_status", "GET", "/api/v1/issues?status=closed", "", 400},
		{"issues_bad_param", "GET", "/api/v1/issues?fn=x", "", 400},
		{"issue_one", "GET", "/api/v1/issues/" + errID, "", 200},
		{"issues_series", "GET", "/api/v1/issues?start=2026-11-25T22:29:30Z&end=2026-11-25T22:36:00Z&buckets=3", "", 200},
		{"issues_series_default_range", "GET", "/api/v1/issues?kind=error&buckets=24", "", 200},
		{"issues_bad_buckets", "GET", "/api/v1/issues?buckets=0", "", 400},
		{"issue_one_series", "GET", "/api/v1/issues/" + errID + "?start=-1h&buckets=6", "", 200},
		{"issue_bad_param", "GET", "/api/v1/issues/" + errID + "?kind=error", "", 400},
		{"issue_contract_drift", "GET", "/api/v1/issues/" + store.IssueID("contract_drift", strings.Join([]string{"orders-queue", "orders-api", "2.0.0", "fulfilment", "amount"}, "\x1f")), "", 200},
		{"contracts", "GET", "/api/v1/contracts?channel=orders-queue", "", 200},
		{"contracts_unknown_channel", "GET", "/api/v1/contracts?channel=nope", "", 200},
		{"contracts_no_channel", "GET", "/api/v1/contracts", "", 400},
		{"issue_not_found", "GET", "/api/v1/issues/nope", "", 404},
		{"issue_bad_update", "PATCH", "/api/v1/issues/" + errID, `{"status":"closed"}`, 400},
		{"issue_unknown_field", "PATCH", "/api/v1/issues/" + errID, `{"state":"resolved"}`, 400},
		{"issue_bad_method", "DELETE", "/api/v1/issues/" + errID, "", 405},
		{"issues_detect_off", "POST", "/api/v1/issues/detect", "", 501},
		{"alert_rules", "GET", "/api/v1/alerts/rules", "", 200},
		{"alert_rule_one", "GET", "/api/v1/alerts/rules/0123456789abcdef", "", 200},
		{"alert_rule_not_found", "GET", "/api/v1/alerts/rules/nope", "", 404},
		{"alert_rule_invalid", "POST", "/api/v1/alerts/rules", `{"target":"pager","anyNew":true}`, 400},
		{"alert_events", "GET", "/api/v1/alerts/events?rule=0123456789abcdef", "", 200},
	} {
		t.Run(tt.name, func(t *testing.T) {
			status, body := do(t, tt.method, base+tt.path, tt.body)
			if status != tt.status {
				t.Errorf("%s %s: status %d, want %d: %s", tt.method, tt.path, status, tt.status, body)
			}
			var pretty bytes.Buffer
			if err := json.Indent(&pretty, body, "", "  "); err != nil {
				t.Fatalf("%s %s: body is not JSON: %v: %s", tt.method, tt.path, err, body)
			}
			golden(t, tt.name+".golden", []byte(fmt.Sprintf("%s %s\n%d\n%s", tt.method, tt.path, status, pretty.Bytes())))
		})
	}
}

// TestIssueAndRuleWrites: status changes and the rule life cycle.
func TestIssueAndRuleWrites(t *testing.T) {
	base := issueServer(t)
	errID := store.IssueID("error", "payments\x1fCardDeclined")

	status, body := do(t, "PATCH", base+"/api/v1/issues/"+errID, `{"status":"resolved"}`)
	var ir api.IssueResponse
	if status != 200 || json.Unmarshal(body, &ir) != nil || ir.Issue.Status != "resolved" || ir.Issue.ResolvedAt != apitest.Now.UnixNano() {
		t.Errorf("resolve: %d %s", status, body)
	}
	status, body = do(t, "POST", base+"/api/v1/issues/"+errID, `{"status":"ignored"}`)
	if status != 200 || !strings.Contains(string(body), `"status":"ignored"`) {
		t.Errorf("ignore: %d %s", status, body)
	}

	status, body = do(t, "POST", base+"/api/v1/alerts/rules", `{"name":"slow","kind":"timeout","threshold":3,"windowNs":600000000000,"target":"email","to":"ops@example.com"}`)
	var rr api.AlertRuleResponse
	if status != 201 || json.Unmarshal(body, &rr) != nil || len(rr.Rule.ID) != 16 || rr.Rule.Created != apitest.Now.UnixNano() {
		t.Fatalf("create: %d %s", status, body)
	}
	id := rr.Rule.ID
	status, body = do(t, "PUT", base+"/api/v1/alerts/rules/"+id, `{"name":"slow!","kind":"timeout","anyNew":true,"target":"webhook","url":"http://127.0.0.1:9/h"}`)
	if status != 200 || !strings.Contains(string(body), `"name":"slow!"`) || !strings.Contains(string(body), `"anyNew":true`) {
		t.Errorf("replace: %d %s", status, body)
	}
	var list api.AlertRulesResponse
	_, body = do(t, "GET", base+"/api/v1/alerts/rules", "")
	if json.Unmarshal(body, &list) != nil || len(list.Rules) != 2 {
		t.Errorf("list after create: %s", body)
	}
	if status, body = do(t, "DELETE", base+"/api/v1/alerts/rules/"+id, ""); status != 200 {
		t.Errorf("delete: %d %s", status, body)
	}
	if status, _ = do(t, "DELETE", base+"/api/v1/alerts/rules/"+id, ""); status != 404 {
		t.Errorf("delete again: %d", status)
	}
}
