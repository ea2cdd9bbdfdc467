package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/ariadnehq/ariadne/internal/invocation"
	"github.com/ariadnehq/ariadne/internal/model"
	"github.com/ariadnehq/ariadne/internal/store"
)

// GET /api/v1/traces/{traceId}: one trace, spans, logs and merged invocation records,
// each in time order (the store's order).
func (a *API) getTrace(ctx context.Context, r *http.Request) (any, error) {
	if err := checkParams(r.URL.Query(), nil, ""); err != nil {
		return nil, err
	}
	raw := r.PathValue("traceId")
	id, err := model.ParseTraceID(raw)
	if err != nil {
		return nil, invalid("traceId", "%q: want 32 hex digits", raw)
	}
	if id.IsZero() {
		return nil, invalid("traceId", "the all-zero trace id is not a trace")
	}
	t, err := a.r.Trace(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		// The store's message names its query; the user wants the id.
		return nil, &Error{Status: http.StatusNotFound, Code: CodeNotFound,
			Message: fmt.Sprintf("trace %s not found (never received, or removed by retention)", id)}
	}
	if err != nil {
		return nil, err
	}
	// The store keeps one invocation row per source (SDK, start marker,
	// platform); a reader wants one record per request id.
	t.Invocations = invocation.MergeAll(t.Invocations, a.set.Now().UnixNano())
	return encodedJSON(appendTrace(make([]byte, 0, 1024+len(t.Spans)*1024), t)), nil
}

// searchParams are the parameters of GET /api/v1/traces besides attr.KEY.
var searchParams = []string{"start", "end", "service", "operation", "error",
	"minDuration", "maxDuration", "q", "limit", "cursor"}

const attrPrefix = "attr."

// GET /api/v1/traces?…: search, newest first.
func (a *API) searchTraces(ctx context.Context, r *http.Request) (any, error) {
	q, err := a.parseSearch(r)
	if err != nil {
		return nil, err
	}
	res, err := a.r.SearchTraces(ctx, q)
	if err != nil {
		return nil, err
	}
	out := SearchResponse{Traces: make([]TraceSummary, len(res.Traces)), NextCursor: res.NextCursor}
	for i := range res.Traces {
		out.Traces[i] = toSummary(&res.Traces[i])
	}
	return out, nil
}

// parseSearch turns the query string into a store.TraceQuery.
func (a *API) parseSearch(r *http.Request) (store.TraceQuery, error) {
	v := r.URL.Query()
	var q store.TraceQuery
	if err := checkParams(v, searchParams, attrPrefix); err != nil {
		return q, err
	}
	var err error
	if q.TimeRange, err = parseRange(v, a.set.Now(), a.set.DefaultLookback); err != nil {
		return q, err
	}
	q.Service = v.Get("service")
	q.Operation = v.Get("operation")
	q.Text = v.Get("q")
	q.Cursor = v.Get("cursor")
	if v.Has("error") {
		if q.ErrorOnly, err = parseBool("error", v.Get("error")); err != nil {
			return q, err
		}
	}
	if s := v.Get("minDuration"); s != "" {
		if q.MinDuration, err = parseDuration("minDuration", s); err != nil {
			return q, err
		}
	}
	if s := v.Get("maxDuration"); s != "" {
		if q.MaxDuration, err = parseDuration("maxDuration", s); err != nil {
			return q, err
		}
	}
	if q.MaxDuration != 0 && q.MinDuration > q.MaxDuration {
		return q, invalid("minDuration", "is larger than maxDuration")
	}
	if q.Limit, err = parseLimit("limit", v.Get("limit"), a.set.DefaultLimit, store.MaxLimit); err != nil {
		return q, err
	}
	for name, vals := range v {
		key, ok := strings.CutPrefix(name, attrPrefix)
		if !ok {
			continue
		}
		if key == "" {
			return q, invalid(name, "want attr.KEY=VALUE with a key")
		}
		for _, val := range vals {
			// Conditions compare canonical strings (model.Value), so the
			// type is left to the engine.
			q.Attributes = append(q.Attributes, model.Attr{Key: key, Value: model.Value{Str: val}})
		}
	}
	// Query-string order is lost in the map; a fixed order keeps engine
	// queries (and their plans and caches) identical for identical requests.
	slices.SortFunc(q.Attributes, func(x, y model.Attr) int {
		if c := strings.Compare(x.Key, y.Key); c != 0 {
			return c
		}
		return strings.Compare(x.Value.Str, y.Value.Str)
	})
	return q, nil
}
