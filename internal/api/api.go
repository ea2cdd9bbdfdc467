// Package api serves Ariadne's HTTP JSON API v1 (DESIGN.md §5) over a
// store.Reader: one file per resource, one error→status mapping (errors.go),
// one definition of the wire form (wire.go: the JSON types, which encode.go
// writes directly from the model for large trace answers).
//
// The package reads telemetry and never writes it: the only writes are the
// user's own state (issue status, alert rules) through the detect and alert
// stores. It must not import an engine or know how the server is wired:
// internal/app mounts Handler() on the UI port next to the UI and the health
// endpoints.
//
// Conventions of every endpoint: ids are lowercase hex, times are Unix
// nanoseconds and durations nanoseconds, both as JSON integers. Query
// parameters are checked strictly: an unknown parameter or a malformed value
// is a 400 whose message names the parameter, so a typo in a CLI flag or a
// UI query never silently widens a search.
package api

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/ariadnehq/ariadne/internal/invocation"
	"github.com/ariadnehq/ariadne/internal/store"
)

// Settings are the API's knobs and injected dependencies. The zero value is
// usable: New fills every zero field with its default.
type Settings struct {
	// Logger receives internal errors (the client sees only "internal error").
	// Default: a logger that discards.
	Logger *slog.Logger
	// Now is the clock used for relative times ("-1h", "now") and default
	// ranges. Default: time.Now.
	Now func() time.Time
	// QueryTimeout bounds each request's store work. Default 15s.
	QueryTimeout time.Duration
	// DefaultLookback is how far back a search or an autocomplete list looks
	// when the request gives no start. Default 24h. The end defaults to open
	// so that spans from clocks slightly ahead are not hidden.
	DefaultLookback time.Duration
	// DefaultLimit is the page size of a trace search without limit. Default 20.
	DefaultLimit int
	// ListLimit caps autocomplete lists (attribute keys and values). Default
	// 100; a request may ask for up to store.MaxLimit.
	ListLimit int
	// RetryAfter is announced with 429 and 503 answers. Default 1s.
	RetryAfter time.Duration
	// Pricing prices invocations; zero means invocation.DefaultPricing().
	Pricing invocation.Pricing
	// Detect, when set, runs the detectors now (POST /api/v1/issues/detect)
	// and says how many windows and occurrences it committed.
	Detect func(ctx context.Context) (windows, occurrences int, err error)
}

func (s Settings) withDefaults() Settings {
	if s.Logger == nil {
		s.Logger = slog.New(slog.DiscardHandler)
	}
	if s.Now == nil {
		s.Now = time.Now
	}
	if s.QueryTimeout <= 0 {
		s.QueryTimeout = 15 * time.Second
	}
	if s.DefaultLookback <= 0 {
		s.DefaultLookback = 24 * time.Hour
	}
	if s.DefaultLimit <= 0 {
		s.DefaultLimit = 20
	}
	if s.DefaultLimit > store.MaxLimit {
		s.DefaultLimit = store.MaxLimit
	}
	if s.ListLimit <= 0 {
		s.ListLimit = 100
	}
	if s.ListLimit > store.MaxLimit {
		s.ListLimit = store.MaxLimit
	}
	if s.RetryAfter <= 0 {
		s.RetryAfter = time.Second
	}
	return s
}

// API is the v1 HTTP API over one store.
type API struct {
	r   store.Reader
	set Settings
}

// New returns the API over r. Zero fields of s take their defaults.
func New(r store.Reader, s Settings) *API {
	return &API{r: r, set: s.withDefaults()}
}

// Handler serves every /api/v1 path. Anything else under /api/ answers a
// JSON 404, and a known path with the wrong method a JSON 405, so that API
// clients never have to parse an HTML or plain-text error.
func (a *API) Handler() http.Handler {
	mux := http.NewServeMux()
	// Patterns carry no method: get() answers 405 itself so that the body is
	// JSON (the mux's own 405 is plain text).
	mux.Handle("/api/v1/traces/{traceId}", a.get(a.getTrace))
	mux.Handle("/api/v1/traces", a.get(a.searchTraces))
	mux.Handle("/api/v1/services", a.get(a.listServices))
	mux.Handle("/api/v1/operations", a.get(a.listOperations))
	mux.Handle("/api/v1/attributes", a.get(a.listAttributeKeys))
	mux.Handle("/api/v1/attributes/{key}/values", a.get(a.listAttributeValues))
	mux.Handle("/api/v1/transactions/{traceId}", a.get(a.getTransaction))
	mux.Handle("/api/v1/transactions", a.get(a.searchTransactions))
	mux.Handle("/api/v1/messages/{messageId}", a.get(a.getMessage))
	mux.Handle("/api/v1/messages", a.get(a.searchMessages))
	mux.Handle("/api/v1/invocations", a.get(a.listInvocations))
	mux.Handle("/api/v1/invocations/{requestId}", a.get(a.getInvocation))
	mux.Handle("/api/v1/logs", a.get(a.searchLogs))
	mux.Handle("/api/v1/contracts", a.get(a.listContracts))
	mux.Handle("/api/v1/servicemap", a.get(a.getServiceMap))
	mux.Handle("/api/v1/metrics/red", a.get(a.getRED))
	mux.Handle("/api/v1/cost", a.get(a.getCost))
	mux.Handle("/api/v1/issues", a.get(a.listIssues))
	mux.Handle("/api/v1/issues/detect", a.methods(map[string]handlerFunc{http.MethodPost: a.runDetect}))
	mux.Handle("/api/v1/issues/{id}", a.methods(map[string]handlerFunc{http.MethodGet: a.getIssue, http.MethodPatch: a.updateIssue, http.MethodPost: a.updateIssue}))
	mux.Handle("/api/v1/alerts/rules", a.methods(map[string]handlerFunc{http.MethodGet: a.listAlertRules, http.MethodPost: a.createAlertRule}))
	mux.Handle("/api/v1/alerts/rules/{id}", a.methods(map[string]handlerFunc{http.MethodGet: a.getAlertRule, http.MethodPut: a.putAlertRule, http.MethodDelete: a.deleteAlertRule}))
	mux.Handle("/api/v1/alerts/events", a.get(a.listAlertEvents))
	mux.Handle("/api/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a.writeError(w, r, &Error{Status: http.StatusNotFound, Code: CodeNotFound,
			Message: fmt.Sprintf("no API resource at %s", r.URL.Path)})
	}))
	return mux
}

// handlerFunc is an endpoint: it returns the value to encode, or an error
// that writeError maps to a status.
type handlerFunc func(ctx context.Context, r *http.Request) (any, error)

// get adapts an endpoint to GET (and HEAD), with the per-request timeout.
func (a *API) get(h handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			a.writeError(w, r, &Error{Status: http.StatusMethodNotAllowed, Code: CodeMethodNotAllowed,
				Message: fmt.Sprintf("method %s not allowed on %s; use GET", r.Method, r.URL.Path)})
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), a.set.QueryTimeout)
		defer cancel()
		v, err := h(ctx, r)
		if err != nil {
			a.writeError(w, r, err)
			return
		}
		a.writeJSON(w, r, http.StatusOK, v)
	})
}

// nonNil makes an empty list encode as [] rather than null.
func nonNil(l []string) []string {
	if l == nil {
		return []string{}
	}
	return l
}
