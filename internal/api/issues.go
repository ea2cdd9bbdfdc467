package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/ariadnehq/ariadne/internal/detect"
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
	// Series are the occurrences per bucket of the answer's series range
	// when the request asked for buckets, else [].
	Series []int64 `json:"series"`
}

// IssueSeries says what the issues' Series count: bucket i covers
// [Start + i·StepNs, Start + (i+1)·StepNs). Both are 0 when the request
// asked for no buckets.
type IssueSeries struct {
	SeriesStart  int64 `json:"seriesStart"`
	SeriesStepNs int64 `json:"seriesStepNs"`
}

// IssuesResponse answers GET /api/v1/issues.
type IssuesResponse struct {
	Issues []Issue `json:"issues"`
	IssueSeries
}

// IssueResponse answers GET, PATCH and POST /api/v1/issues/{id}.
type IssueResponse struct {
	Issue Issue `json:"issue"`
	IssueSeries
	// Contract is, for a contract drift (GET only), the payload shapes the
	// producer sent before and after, field by field; null otherwise, or
	// when the contracts are no longer stored.
	Contract *ContractDrift `json:"contract"`
}

// Contract is the inferred shape of what one producer (service, version)
// sent on a channel: field path ("a", "a.b", "items[]") → JSON type
// ("string", "number", "bool", "object", "array", "null", or several
// joined by "|" when it varied).
type Contract struct {
	Channel   string            `json:"channel"`
	Service   string            `json:"service"`
	Version   string            `json:"version"`
	Fields    map[string]string `json:"fields"`
	FirstSeen int64             `json:"firstSeen"`
	LastSeen  int64             `json:"lastSeen"`
}

// ContractsResponse answers GET /api/v1/contracts.
type ContractsResponse struct {
	Contracts []Contract `json:"contracts"`
}

// ContractDrift is the schema diff of a contract drift issue.
type ContractDrift struct {
	Channel  string `json:"channel"`
	Consumer string `json:"consumer"`
	// Before is what the channel carried before the producer's new shape,
	// After that shape.
	Before Contract `json:"before"`
	After  Contract `json:"after"`
	// Fields are every field path of either shape, in tree order.
	Fields []FieldDiff `json:"fields"`
}

// FieldDiff is one field path of the two shapes: change is same, added,
// removed or changed (its type); before and after are its types ("" where
// absent). renamedTo and renamedFrom pair a removed top-level field with
// an added one of the same type.
type FieldDiff struct {
	Path        string `json:"path"`
	Change      string `json:"change"`
	Before      string `json:"before"`
	After       string `json:"after"`
	RenamedTo   string `json:"renamedTo"`
	RenamedFrom string `json:"renamedFrom"`
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

var issueParams = []string{"kind", "status", "function", "start", "end", "limit", "buckets"}

// issueOneParams are the parameters of GET /api/v1/issues/{id}: the range
// and buckets of its series.
var issueOneParams = []string{"start", "end", "buckets"}

// maxBody bounds the JSON bodies the API reads (issue updates, rules).
const maxBody = 64 << 10

func toIssue(is *store.Issue) Issue {
	out := Issue{ID: is.ID, Kind: is.Kind, Title: is.Title, Function: is.Function, Channel: is.Channel, Severity: is.Severity,
		Status: string(is.Status), FirstSeen: is.FirstSeen, LastSeen: is.LastSeen, Count: is.Count, Explanation: is.Explanation,
		OpenedAt: is.OpenedAt, ResolvedAt: is.ResolvedAt, Regressions: is.Regressions, UpdatedAt: is.UpdatedAt,
		SampleTraces: make([]string, len(is.SampleTraces)), Series: []int64{}}
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
	sr, err := a.seriesRange(v.Get("buckets"), q.TimeRange, now)
	if err != nil {
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
	if out.IssueSeries, err = a.fillSeries(ctx, out.Issues, sr); err != nil {
		return nil, err
	}
	return out, nil
}

// maxIssueBuckets bounds the buckets of an issue's series.
const maxIssueBuckets = 200

// seriesRange turns the buckets parameter into the series range over r
// (start default: the lookback before end; end default: now): the whole
// minutes of the range (occurrences are counted per minute, so the start
// is rounded up to one) in at most buckets buckets of whole minutes. The
// zero range when buckets is absent.
func (a *API) seriesRange(buckets string, r store.TimeRange, now time.Time) (store.SeriesRange, error) {
	if buckets == "" {
		return store.SeriesRange{}, nil
	}
	n, err := strconv.Atoi(buckets)
	if err != nil || n < 1 || n > maxIssueBuckets {
		return store.SeriesRange{}, invalid("buckets", "%q: want an integer from 1 to %d", buckets, maxIssueBuckets)
	}
	end := r.End
	if end == 0 {
		end = now.UnixNano()
	}
	start := r.Start
	if start == 0 {
		start = end - int64(a.set.DefaultLookback)
	}
	minute := int64(time.Minute)
	if up := (start + minute - 1) / minute * minute; up < end {
		start = up
	} else {
		start -= start % minute // a range within one minute
	}
	if end <= start {
		return store.SeriesRange{}, invalid("end", "leaves no time for the series")
	}
	step := (end - start + int64(n) - 1) / int64(n)
	step = (step + minute - 1) / minute * minute
	return store.SeriesRange{Start: start, End: end, Step: step}, nil
}

// fillSeries sets the Series of issues over sr (nothing when sr is zero).
func (a *API) fillSeries(ctx context.Context, issues []Issue, sr store.SeriesRange) (IssueSeries, error) {
	if sr.Step == 0 {
		return IssueSeries{}, nil
	}
	rd, ok := a.r.(store.IssueSeriesReader)
	if !ok {
		return IssueSeries{}, &Error{Status: http.StatusNotImplemented, Code: CodeInternal, Message: "buckets: this store does not keep issue counts over time"}
	}
	ids := make([]string, len(issues))
	for i := range issues {
		ids[i] = issues[i].ID
	}
	series, err := rd.IssueSeries(ctx, ids, sr)
	if err != nil {
		return IssueSeries{}, err
	}
	for i := range issues {
		if s := series[issues[i].ID]; s != nil {
			issues[i].Series = s
		}
	}
	return IssueSeries{SeriesStart: sr.Start, SeriesStepNs: sr.Step}, nil
}

// GET /api/v1/issues/{id}?start=&end=&buckets=: the issue, its
// occurrences over the range when buckets is given, and for a contract
// drift the schema diff.
func (a *API) getIssue(ctx context.Context, r *http.Request) (any, error) {
	st, err := a.issueStore()
	if err != nil {
		return nil, err
	}
	v := r.URL.Query()
	if err := checkParams(v, issueOneParams, ""); err != nil {
		return nil, err
	}
	now := a.set.Now()
	var tr store.TimeRange
	for _, p := range []struct {
		name string
		dst  *int64
	}{{"start", &tr.Start}, {"end", &tr.End}} {
		if s := v.Get(p.name); s != "" {
			if *p.dst, err = parseTime(p.name, s, now); err != nil {
				return nil, err
			}
		}
	}
	if tr.End != 0 && tr.End <= tr.Start {
		return nil, invalid("end", "is not after start")
	}
	sr, err := a.seriesRange(v.Get("buckets"), tr, now)
	if err != nil {
		return nil, err
	}
	is, err := st.Issue(ctx, r.PathValue("id"))
	if err != nil {
		return nil, err
	}
	out := IssueResponse{Issue: toIssue(&is)}
	one := []Issue{out.Issue}
	if out.IssueSeries, err = a.fillSeries(ctx, one, sr); err != nil {
		return nil, err
	}
	out.Issue = one[0]
	if is.Kind == detect.KindContractDrift {
		if out.Contract, err = a.contractDrift(ctx, &is); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func toContract(c *store.Contract) Contract {
	out := Contract{Channel: c.Channel, Service: c.Service, Version: c.Version, Fields: c.Fields, FirstSeen: c.FirstSeen, LastSeen: c.LastSeen}
	if out.Fields == nil {
		out.Fields = map[string]string{}
	}
	return out
}

// contractDrift is the schema diff of a contract drift issue; nil when the
// store keeps no contracts or no longer has both.
func (a *API) contractDrift(ctx context.Context, is *store.Issue) (*ContractDrift, error) {
	cst, ok := a.r.(store.ContractStore)
	src, ok2 := detect.ParseDriftFingerprint(is.Fingerprint)
	if !ok || !ok2 {
		return nil, nil
	}
	cs, err := cst.Contracts(ctx, src.Channel)
	if err != nil {
		return nil, err
	}
	before, after, ok := detect.DriftContracts(src, cs)
	if !ok {
		return nil, nil
	}
	out := &ContractDrift{Channel: src.Channel, Consumer: src.Consumer, Before: toContract(&before), After: toContract(&after)}
	for _, d := range detect.SchemaDiff(before.Fields, after.Fields) {
		out.Fields = append(out.Fields, FieldDiff{Path: d.Path, Change: d.Change, Before: d.Before, After: d.After,
			RenamedTo: d.RenamedTo, RenamedFrom: d.RenamedFrom})
	}
	if out.Fields == nil {
		out.Fields = []FieldDiff{}
	}
	return out, nil
}

// GET /api/v1/contracts?channel=: the payload shapes every producer
// (service, version) sent on a channel, oldest first seen first.
func (a *API) listContracts(ctx context.Context, r *http.Request) (any, error) {
	cst, ok := a.r.(store.ContractStore)
	if !ok {
		return nil, &Error{Status: http.StatusNotImplemented, Code: CodeInternal, Message: "this store does not keep contracts"}
	}
	v := r.URL.Query()
	if err := checkParams(v, []string{"channel"}, ""); err != nil {
		return nil, err
	}
	ch := v.Get("channel")
	if ch == "" {
		return nil, invalid("channel", "required: the queue, topic or bus whose producers to list")
	}
	cs, err := cst.Contracts(ctx, ch)
	if err != nil {
		return nil, err
	}
	out := ContractsResponse{Contracts: make([]Contract, len(cs))}
	for i := range cs {
		out.Contracts[i] = toContract(&cs[i])
	}
	return out, nil
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
