package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/ariadnehq/ariadne/internal/store"
)

// Issue is one detected issue (internal/detect) on the wire.
type Issue struct {
	ID           string   `json:"id"`
	Kind         string   `json:"kind"`
	Title        string   `json:"title"`
	Function     string   `json:"function"`
	Channel      string   `json:"channel"`
	Severity     string   `json:"severity"`
	Status       string   `json:"status"`
	FirstSeen    int64    `json:"firstSeen"`
	LastSeen     int64    `json:"lastSeen"`
	Count        int64    `json:"count"`
	SampleTraces []string `json:"sampleTraces"`
	Explanation  string   `json:"explanation"`
	// OpenedAt is when the current episode began (a regression starts a
	// new one); ResolvedAt is 0 unless resolved.
	OpenedAt    int64 `json:"openedAt"`
	ResolvedAt  int64 `json:"resolvedAt"`
	Regressions int32 `json:"regressions"`
	UpdatedAt   int64 `json:"updatedAt"`
}

// IssuesResponse answers GET /api/v1/issues.
type IssuesResponse struct {
	Issues []Issue `json:"issues"`
}

// IssueResponse answers GET, PATCH and POST /api/v1/issues/{id}.
type IssueResponse struct {
	Issue Issue `json:"issue"`
}

// IssueUpdate is the body of PATCH (or POST) /api/v1/issues/{id}.
type IssueUpdate struct {
	Status string `json:"status"`
}

// DetectResponse answers POST /api/v1/issues/detect.
type DetectResponse struct {
	Windows     int `json:"windows"`
	Occurrences int `json:"occurrences"`
}

var issueParams = []string{"kind", "status", "function", "start", "end", "limit"}

// maxBody bounds the JSON bodies the API reads (issue updates, rules).
const maxBody = 64 << 10

func toIssue(is *store.Issue) Issue {
	out := Issue{ID: is.ID, Kind: is.Kind, Title: is.Title, Function: is.Function, Channel: is.Channel, Severity: is.Severity,
		Status: string(is.Status), FirstSeen: is.FirstSeen, LastSeen: is.LastSeen, Count: is.Count, Explanation: is.Explanation,
		OpenedAt: is.OpenedAt, ResolvedAt: is.ResolvedAt, Regressions: is.Regressions, UpdatedAt: is.UpdatedAt,
		SampleTraces: make([]string, len(is.SampleTraces))}
	for i, t := range is.SampleTraces {
		out.SampleTraces[i] = t.String()
	}
	return out
}

func (a *API) issueStore() (store.IssueStore, error) {
	s, ok := a.r.(store.IssueStore)
	if !ok {
		return nil, &Error{Status: http.StatusNotImplemented, Code: CodeInternal, Message: "this store does not keep issues"}
	}
	return s, nil
}

// methods adapts endpoints keyed by HTTP method, with the per-request
// timeout and a JSON 405 for the others (HEAD follows GET).
func (a *API) methods(hs map[string]handlerFunc) http.Handler {
	var allow []string
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
		if hs[m] != nil {
			allow = append(allow, m)
		}
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		m := r.Method
		if m == http.MethodHead {
			m = http.MethodGet
		}
		h := hs[m]
		if h == nil {
			w.Header().Set("Allow", strings.Join(allow, ", "))
			a.writeError(w, r, &Error{Status: http.StatusMethodNotAllowed, Code: CodeMethodNotAllowed,
				Message: fmt.Sprintf("method %s not allowed on %s; use %s", r.Method, r.URL.Path, strings.Join(allow, ", "))})
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), a.set.QueryTimeout)
		defer cancel()
		v, err := h(ctx, r)
		if err != nil {
			a.writeError(w, r, err)
			return
		}
		status := http.StatusOK
		if c, ok := v.(created); ok {
			status, v = http.StatusCreated, c.v
		}
		a.writeJSON(w, r, status, v)
	})
}

// created marks an answer as 201 Created.
type created struct{ v any }

// readJSON decodes a bounded JSON body strictly (unknown fields are a 400,
// like unknown query parameters).
func readJSON(r *http.Request, v any) error {
	dec := json.NewDecoder(io.LimitReader(r.Body, maxBody+1))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
			return invalid("body", "want a JSON object of at most %d bytes", maxBody)
		}
		return invalid("body", "%v", err)
	}
	return nil
}

// GET /api/v1/issues?kind=&status=&function=&start=&end=&limit= lists
// issues, most recently seen first. function matches the function or the
// channel; start and end bound the last occurrence and are open by default
// (issues outlive the lookback of searches).
func (a *API) listIssues(ctx context.Context, r *http.Request) (any, error) {
	st, err := a.issueStore()
	if err != nil {
		return nil, err
	}
	v := r.URL.Query()
	if err := checkParams(v, issueParams, ""); err != nil {
		return nil, err
	}
	now := a.set.Now()
	q := store.IssueQuery{Kind: v.Get("kind"), Function: v.Get("function")}
	if s := v.Get("status"); s != "" {
		switch st := store.IssueStatus(s); st {
		case store.IssueOpen, store.IssueResolved, store.IssueIgnored:
			q.Status = st
		default:
			return nil, invalid("status", "%q: want open, resolved or ignored", s)
		}
	}
	for _, p := range []struct {
		name string
		dst  *int64
	}{{"start", &q.Start}, {"end", &q.End}} {
		if s := v.Get(p.name); s != "" {
			if *p.dst, err = parseTime(p.name, s, now); err != nil {
				return nil, err
			}
		}
	}
	if q.End != 0 && q.End < q.Start {
		return nil, invalid("end", "is before start")
	}
	if q.Limit, err = parseLimit("limit", v.Get("limit"), 100, store.MaxLimit); err != nil {
		return nil, err
	}
	list, err := st.Issues(ctx, q)
	if err != nil {
		return nil, err
	}
	out := IssuesResponse{Issues: make([]Issue, len(list))}
	for i := range list {
		out.Issues[i] = toIssue(&list[i])
	}
	return out, nil
}

// GET /api/v1/issues/{id}.
func (a *API) getIssue(ctx context.Context, r *http.Request) (any, error) {
	st, err := a.issueStore()
	if err != nil {
		return nil, err
	}
	if err := checkParams(r.URL.Query(), nil, ""); err != nil {
		return nil, err
	}
	is, err := st.Issue(ctx, r.PathValue("id"))
	if err != nil {
		return nil, err
	}
	return IssueResponse{Issue: toIssue(&is)}, nil
}

// PATCH (or POST) /api/v1/issues/{id} with {"status":"resolved"} changes
// the issue's status: open, resolved (a later occurrence reopens it as a
// regression) or ignored (counted, never alerted).
func (a *API) updateIssue(ctx context.Context, r *http.Request) (any, error) {
	st, err := a.issueStore()
	if err != nil {
		return nil, err
	}
	var u IssueUpdate
	if err := readJSON(r, &u); err != nil {
		return nil, err
	}
	s := store.IssueStatus(u.Status)
	switch s {
	case store.IssueOpen, store.IssueResolved, store.IssueIgnored:
	default:
		return nil, invalid("status", "%q: want open, resolved or ignored", u.Status)
	}
	is, err := st.SetIssueStatus(ctx, r.PathValue("id"), s, a.set.Now().UnixNano())
	if err != nil {
		return nil, err
	}
	return IssueResponse{Issue: toIssue(&is)}, nil
}

// POST /api/v1/issues/detect runs the detectors now, up to the present
// minus their lag, instead of waiting for the next background run.
func (a *API) runDetect(ctx context.Context, _ *http.Request) (any, error) {
	if a.set.Detect == nil {
		return nil, &Error{Status: http.StatusNotImplemented, Code: CodeInternal, Message: "detection is not running on this server"}
	}
	w, o, err := a.set.Detect(ctx)
	if err != nil {
		return nil, err
	}
	return DetectResponse{Windows: w, Occurrences: o}, nil
}
