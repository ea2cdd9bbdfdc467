package api_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ariadnehq/ariadne/internal/api"
	"github.com/ariadnehq/ariadne/internal/api/apitest"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// TestAPIGolden runs requests against the API over a real DuckDB store and
// compares status and JSON with testdata/*.golden.
func TestAPIGolden(t *testing.T) {
	srv := apitest.Server(t, apitest.Store(t))
	tests := []struct {
		name, path string
		status     int
	}{
		{"trace_checkout", "/api/v1/traces/" + apitest.Checkout.String(), 200},
		{"trace_fulfil", "/api/v1/traces/" + apitest.Fulfil.String(), 200},
		{"trace_timeout", "/api/v1/traces/" + strings.ToUpper(apitest.Timeout.String()), 200},
		{"trace_not_found", "/api/v1/traces/0123456789abcdef0123456789abcdef", 404},
		{"trace_bad_id", "/api/v1/traces/4bf92f35", 400},

		{"search_all", "/api/v1/traces", 200},
		{"search_service", "/api/v1/traces?service=payments", 200},
		{"search_operation", "/api/v1/traces?operation=stripe.Charge", 200},
		{"search_error", "/api/v1/traces?error=true", 200},
		{"search_min_duration", "/api/v1/traces?minDuration=1s", 200},
		{"search_max_duration", "/api/v1/traces?maxDuration=2000000", 200},
		{"search_attr", "/api/v1/traces?attr.http.route=%2Freports", 200},
		{"search_attr_two", "/api/v1/traces?attr.payment.provider=stripe&attr.http.route=%2Fcharge", 200},
		{"search_attr_resource", "/api/v1/traces?attr.faas.name=fulfilment", 200},
		{"search_text_log", "/api/v1/traces?q=RETRYING", 200},
		{"search_text_error", "/api/v1/traces?q=timed+out", 200},
		{"search_text_payload", "/api/v1/traces?q=REDACTED", 200},
		{"search_range", "/api/v1/traces?start=2026-11-25T22:33:00Z&end=-52m", 200},
		{"search_limit", "/api/v1/traces?limit=2", 200},
		{"search_none", "/api/v1/traces?service=nope", 200},
		{"search_bad_limit", "/api/v1/traces?limit=5000", 400},
		{"search_bad_start", "/api/v1/traces?start=yesterday", 400},
		{"search_bad_cursor", "/api/v1/traces?cursor=not-a-cursor", 400},

		{"services", "/api/v1/services", 200},
		{"services_empty_range", "/api/v1/services?start=-1m", 200},
		{"operations", "/api/v1/operations?service=orders-api", 200},
		{"operations_all", "/api/v1/operations", 200},
		{"attributes", "/api/v1/attributes?prefix=http.", 200},
		{"attributes_limit", "/api/v1/attributes?limit=3", 200},
		{"attribute_values", "/api/v1/attributes/http.route/values", 200},
		{"attribute_values_prefix", "/api/v1/attributes/http.route/values?prefix=%2Fr", 200},
		{"attribute_values_escaped_key", "/api/v1/attributes/a%2Fb%20c/values", 200},

		{"logs_function", "/api/v1/logs?function=payments", 200},
		{"logs_severity_text", "/api/v1/logs?severity=warn&q=CHARGE", 200},
		{"logs_structured_body", "/api/v1/logs?q=o-1001&limit=1", 200},
		{"logs_none", "/api/v1/logs?function=nope", 200},
		{"logs_bad_severity", "/api/v1/logs?severity=loud", 400},
		{"logs_bad_cursor", "/api/v1/logs?cursor=x", 400},
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

func TestHead(t *testing.T) {
	srv := apitest.Server(t, apitest.Store(t))
	resp, err := http.Head(srv.URL + "/api/v1/services")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/json; charset=utf-8" {
		t.Errorf("HEAD: %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
}

// TestSearchPaging follows nextCursor through the whole data set.
func TestSearchPaging(t *testing.T) {
	srv := apitest.Server(t, apitest.Store(t))
	seen := map[string]bool{}
	cursor := ""
	var last int64 = 1<<63 - 1
	for page := 0; page < 20; page++ {
		q := url.Values{"limit": {"2"}}
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		var res api.SearchResponse
		getJSON(t, srv.URL+"/api/v1/traces?"+q.Encode(), &res)
		if len(res.Traces) > 2 {
			t.Fatalf("page %d has %d traces, limit 2", page, len(res.Traces))
		}
		for _, tr := range res.Traces {
			if seen[tr.TraceID] {
				t.Errorf("trace %s returned twice", tr.TraceID)
			}
			seen[tr.TraceID] = true
			if tr.StartTime > last {
				t.Errorf("trace %s out of order (newest first)", tr.TraceID)
			}
			last = tr.StartTime
		}
		if res.NextCursor == "" {
			break
		}
		cursor = res.NextCursor
	}
	if want := 4 + apitest.HealthChecks; len(seen) != want {
		t.Errorf("paging saw %d traces, want %d", len(seen), want)
	}
}

// TestTraceRoundTrip checks that every span field stored comes back, by
// decoding the wire form and comparing with the data set.
func TestTraceRoundTrip(t *testing.T) {
	srv := apitest.Server(t, apitest.Store(t))
	var tr api.TraceResponse
	getJSON(t, srv.URL+"/api/v1/traces/"+apitest.Checkout.String(), &tr)
	data := apitest.Data()
	var want []api.Span
	for _, s := range data.Spans {
		if s.TraceID == apitest.Checkout {
			want = append(want, api.Span{SpanID: s.SpanID.String(), Name: s.Name})
		}
	}
	if len(tr.Spans) != len(want) {
		t.Fatalf("got %d spans, want %d", len(tr.Spans), len(want))
	}
	for i, s := range tr.Spans {
		if s.SpanID != want[i].SpanID || s.Name != want[i].Name {
			t.Errorf("span %d = %s %q, want %s %q (time order)", i, s.SpanID, s.Name, want[i].SpanID, want[i].Name)
		}
	}
	root := tr.Spans[0]
	if got := string(root.Attributes.Get("customer")); got != `{"id":"c-77","vip":true,"orders":12}` {
		t.Errorf("map attribute = %s", got)
	}
	if got := string(root.Attributes.Get("order.total")); got != `42.5` {
		t.Errorf("double attribute = %s", got)
	}
	if root.ParentSpanID != "" || !root.ColdStart || root.HTTPStatus != 201 || root.Kind != "server" {
		t.Errorf("root = %+v", root)
	}
	if len(tr.Logs) != 5 || len(tr.Invocations) != 2 {
		t.Errorf("got %d logs and %d invocations, want 5 and 2", len(tr.Logs), len(tr.Invocations))
	}
}

func get(t *testing.T, u string) (int, []byte) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, body
}

func getJSON(t *testing.T, u string, out any) {
	t.Helper()
	status, body := get(t, u)
	if status != http.StatusOK {
		t.Fatalf("GET %s: %d %s", u, status, body)
	}
	if err := json.Unmarshal(body, out); err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file (go test -update creates it): %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("differs from %s (go test -update rewrites it)\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

// BenchmarkAPI measures whole requests over HTTP and the DuckDB store: the
// latency a UI or CLI sees for the small data set (make bench measures the
// 10M-span store).
func BenchmarkAPI(b *testing.B) {
	srv := apitest.Server(b, apitest.Store(b))
	for _, bm := range []struct{ name, path string }{
		{"trace", "/api/v1/traces/" + apitest.Checkout.String()},
		{"search_service", "/api/v1/traces?service=payments"},
		{"search_attr", "/api/v1/traces?attr.http.route=%2Freports"},
		{"services", "/api/v1/services"},
	} {
		b.Run(bm.name, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				resp, err := http.Get(srv.URL + bm.path)
				if err != nil {
					b.Fatal(err)
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					b.Fatalf("%s: %d", bm.path, resp.StatusCode)
				}
			}
		})
	}
}
