package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/ariadnehq/ariadne/internal/model"
	"github.com/ariadnehq/ariadne/internal/store"
)

// failingReader answers every query with err: the one way to make a real
// engine's overload or outage happen on cue. Store-backed behaviour is
// tested against DuckDB in traces_test.go.
type failingReader struct {
	err  error
	seen func(ctx context.Context) // called with each query's context
}

var _ store.Reader = failingReader{}

func (f failingReader) fail(ctx context.Context) error {
	if f.seen != nil {
		f.seen(ctx)
	}
	return f.err
}

func (f failingReader) Trace(ctx context.Context, _ model.TraceID) (*model.Trace, error) {
	return nil, f.fail(ctx)
}

func (f failingReader) SearchTraces(ctx context.Context, _ store.TraceQuery) (*store.TraceResult, error) {
	return nil, f.fail(ctx)
}

func (f failingReader) Services(ctx context.Context, _ store.TimeRange) ([]string, error) {
	return nil, f.fail(ctx)
}

func (f failingReader) Operations(ctx context.Context, _ string, _ store.TimeRange) ([]string, error) {
	return nil, f.fail(ctx)
}

func (f failingReader) AttributeKeys(ctx context.Context, _ string, _ store.TimeRange, _ int) ([]string, error) {
	return nil, f.fail(ctx)
}

func (f failingReader) AttributeValues(ctx context.Context, _, _ string, _ store.TimeRange, _ int) ([]string, error) {
	return nil, f.fail(ctx)
}

type answer struct {
	status int
	header http.Header
	body   ErrorBody
	raw    string
}

func do(t *testing.T, h http.Handler, method, target string) answer {
	t.Helper()
	srv := httptest.NewServer(h)
	defer srv.Close()
	req, err := http.NewRequest(method, srv.URL+target, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	a := answer{status: resp.StatusCode, header: resp.Header, raw: string(raw)}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json; charset=utf-8" {
		t.Errorf("%s %s: Content-Type %q", method, target, ct)
	}
	if resp.StatusCode != http.StatusOK {
		if err := json.Unmarshal(raw, &a.body); err != nil || a.body.Error.Code == "" {
			t.Errorf("%s %s: error body %q is not {\"error\":{…}}", method, target, raw)
		}
	}
	return a
}

func TestErrorMapping(t *testing.T) {
	tests := []struct {
		name       string
		err        error
		status     int
		code       string
		retryAfter string
		msg        string
	}{
		{"not found", fmt.Errorf("get trace: %w", store.ErrNotFound), 404, CodeNotFound, "", "not found"},
		{"invalid", fmt.Errorf("decode cursor: %w", store.ErrInvalid), 400, CodeInvalidArgument, "", "decode cursor: invalid request"},
		{"overloaded", fmt.Errorf("query: %w", store.ErrOverloaded), 429, CodeOverloaded, "2", "retry later"},
		{"unavailable", fmt.Errorf("query: %w", store.ErrUnavailable), 503, CodeUnavailable, "2", "retry later"},
		{"deadline", fmt.Errorf("query: %w", context.DeadlineExceeded), 503, CodeTimeout, "2", "took too long"},
		{"internal hides details", errors.New("duckdb: Binder Error: column secret_col not found"), 500, CodeInternal, "", "internal error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := New(failingReader{err: tt.err}, Settings{RetryAfter: 1500 * time.Millisecond}).Handler()
			for _, path := range []string{
				"/api/v1/traces/4bf92f3577b34da6a3ce929d0e0e4736",
				"/api/v1/traces?service=a",
				"/api/v1/services",
				"/api/v1/operations?service=a",
				"/api/v1/attributes?prefix=http.",
				"/api/v1/attributes/http.route/values",
			} {
				a := do(t, h, http.MethodGet, path)
				if a.status != tt.status || a.body.Error.Code != tt.code {
					t.Errorf("%s: %d %s, want %d %s", path, a.status, a.body.Error.Code, tt.status, tt.code)
				}
				if !strings.Contains(a.body.Error.Message, tt.msg) {
					t.Errorf("%s: message %q, want it to contain %q", path, a.body.Error.Message, tt.msg)
				}
				if strings.Contains(a.raw, "secret_col") {
					t.Errorf("%s: internal detail leaked: %s", path, a.raw)
				}
				if got := a.header.Get("Retry-After"); got != tt.retryAfter {
					t.Errorf("%s: Retry-After %q, want %q", path, got, tt.retryAfter)
				}
			}
		})
	}
}

func TestRoutingErrors(t *testing.T) {
	h := New(failingReader{err: store.ErrNotFound}, Settings{}).Handler()
	tests := []struct {
		method, path string
		status       int
		code         string
		msg          string
	}{
		{"GET", "/api/v1/nothing", 404, CodeNotFound, "no API resource at /api/v1/nothing"},
		{"GET", "/api/v2/traces", 404, CodeNotFound, "no API resource"},
		{"POST", "/api/v1/traces", 405, CodeMethodNotAllowed, "method POST not allowed"},
		{"DELETE", "/api/v1/traces/4bf92f3577b34da6a3ce929d0e0e4736", 405, CodeMethodNotAllowed, "use GET"},
		{"GET", "/api/v1/traces/xyz", 400, CodeInvalidArgument, `traceId: "xyz": want 32 hex digits`},
		{"GET", "/api/v1/traces/00000000000000000000000000000000", 400, CodeInvalidArgument, "all-zero"},
		{"GET", "/api/v1/traces/4bf92f3577b34da6a3ce929d0e0e4736?x=1", 400, CodeInvalidArgument, "x: unknown parameter"},
		{"GET", "/api/v1/services?start=tomorrow", 400, CodeInvalidArgument, "start: "},
		{"GET", "/api/v1/attributes?limit=5000", 400, CodeInvalidArgument, "limit: "},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			a := do(t, h, tt.method, tt.path)
			if a.status != tt.status || a.body.Error.Code != tt.code || !strings.Contains(a.body.Error.Message, tt.msg) {
				t.Errorf("got %d %+v, want %d %s containing %q", a.status, a.body.Error, tt.status, tt.code, tt.msg)
			}
			if tt.status == 405 && a.header.Get("Allow") != "GET, HEAD" {
				t.Errorf("Allow = %q", a.header.Get("Allow"))
			}
		})
	}
}

// TestQueryTimeout checks that each query gets the configured deadline.
func TestQueryTimeout(t *testing.T) {
	var left time.Duration
	r := failingReader{err: store.ErrNotFound, seen: func(ctx context.Context) {
		d, ok := ctx.Deadline()
		if !ok {
			t.Error("query context has no deadline")
			return
		}
		left = time.Until(d)
	}}
	do(t, New(r, Settings{QueryTimeout: 3 * time.Second}).Handler(), "GET", "/api/v1/services")
	if left <= 0 || left > 3*time.Second {
		t.Errorf("deadline %v away, want within 3s", left)
	}
}
