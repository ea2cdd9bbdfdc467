package ariadne

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
)

func TestHTTPPropagationAndCapture(t *testing.T) {
	s, mem, _ := newMemSDK(t, map[string]string{"ARIADNE_CAPTURE_HTTP_BODIES": "true"})
	mux := http.NewServeMux()
	mux.HandleFunc("POST /orders/{id}", func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if !strings.Contains(string(b), "qty") {
			t.Errorf("handler saw body %q", b)
		}
		w.WriteHeader(http.StatusCreated)
		_, _ = w.Write([]byte(`{"id":"o-1","token":"t0k"}`))
	})
	srv := httptest.NewServer(s.HTTPHandler(mux))
	defer srv.Close()
	client := &http.Client{Transport: s.HTTPTransport(nil)}

	ctx, parent := s.Tracer().Start(context.Background(), "caller")
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+"/orders/o-1?page=1&api_key=k", strings.NewReader(`{"qty":2,"password":"p"}`))
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	parent.End()
	if resp.StatusCode != http.StatusCreated || !strings.Contains(string(body), "o-1") {
		t.Fatalf("response %d %s", resp.StatusCode, body)
	}
	if req.Header.Get("traceparent") != "" {
		t.Error("transport modified the caller's request")
	}
	_ = s.Flush(context.Background())
	stubs := mem.GetSpans()
	client1 := findSpan(stubs, "HTTP POST")
	server := findSpan(stubs, "POST /orders/{id}")
	if client1 == nil || server == nil {
		t.Fatalf("spans: %d", len(stubs))
	}
	if server.Parent.SpanID() != client1.SpanContext.SpanID() || client1.Parent.SpanID() != parent.SpanContext().SpanID() {
		t.Error("W3C context did not propagate caller -> client -> server")
	}
	if v, _ := attr(server.Attributes, "http.route"); v.AsString() != "/orders/{id}" {
		t.Errorf("route %q", v.AsString())
	}
	if v, _ := attr(server.Attributes, "http.response.status_code"); v.AsInt64() != 201 {
		t.Errorf("status %v", v.Emit())
	}
	if v, _ := attr(server.Attributes, "ariadne.request.payload"); v.AsString() != `{"qty":2,"password":"[REDACTED]"}` {
		t.Errorf("server request payload %q", v.AsString())
	}
	if v, _ := attr(client1.Attributes, "ariadne.response.payload"); v.AsString() != `{"id":"o-1","token":"[REDACTED]"}` {
		t.Errorf("client response payload %q", v.AsString())
	}
	if v, _ := attr(client1.Attributes, "url.full"); strings.Contains(v.AsString(), "api_key=k") {
		t.Errorf("url.full %q", v.AsString())
	}
}

func TestSlogHandler(t *testing.T) {
	s, _, logs := newMemSDK(t, nil)
	var out bytes.Buffer
	log := slog.New(s.SlogHandler(slog.NewJSONHandler(&out, nil), slog.LevelInfo)).With("component", "pricing")
	h := s.Wrap(func(ctx context.Context) error {
		log.WithGroup("req").InfoContext(ctx, "priced", "sku", "A-1", "password", "p", "n", 3)
		log.DebugContext(ctx, "not exported")
		return nil
	})
	ctx, cancel := lambdaCtx("req-log", time.Second)
	defer cancel()
	if _, err := h.Invoke(ctx, []byte(`{}`)); err != nil {
		t.Fatal(err)
	}
	var rec map[string]any
	if err := json.Unmarshal(out.Bytes(), &rec); err != nil {
		t.Fatalf("stdout %q: %v", out.String(), err)
	}
	// next applies the caller's group, so the stamp lands inside it.
	grp, _ := rec["req"].(map[string]any)
	if grp["trace_id"] == nil || grp["faas.invocation_id"] != "req-log" {
		t.Errorf("stdout record %v", rec)
	}
	if strings.Contains(out.String(), `"p"`) {
		t.Errorf("password on stdout: %s", out.String())
	}
	select {
	case r := <-logs.recs:
		if r.Body().AsString() != "priced" || !r.TraceID().IsValid() {
			t.Errorf("record %q trace %v", r.Body().AsString(), r.TraceID())
		}
		got := map[string]string{}
		r.WalkAttributes(func(kv attribute.KeyValue) bool {
			got[string(kv.Key)] = kv.Value.Emit()
			return true
		})
		for k, want := range map[string]string{"component": "pricing", "req.sku": "A-1", "req.password": "[REDACTED]", "req.n": "3", "faas.invocation_id": "req-log", "faas.name": "orders"} {
			if got[k] != want {
				t.Errorf("%s = %q, want %q (%v)", k, got[k], want, got)
			}
		}
	default:
		t.Fatal("no log record exported")
	}
	select {
	case r := <-logs.recs:
		t.Errorf("unexpected record %q", r.Body().AsString())
	default:
	}
}
