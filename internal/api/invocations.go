package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/ariadnehq/ariadne/internal/invocation"
	"github.com/ariadnehq/ariadne/internal/model"
	"github.com/ariadnehq/ariadne/internal/store"
)

// InvocationRecord is one invocation merged from every source that knows
// it (package invocation documents the precedence); Source lists them.
type InvocationRecord struct {
	Invocation
	// CostUSD is billed duration × memory at the GB-second price plus the
	// request price; 0 when the platform's billing figures are unknown.
	CostUSD float64 `json:"costUsd"`
}

// InvocationsResponse answers GET /api/v1/invocations.
type InvocationsResponse struct {
	Invocations []InvocationRecord `json:"invocations"`
	NextCursor  string             `json:"nextCursor"`
}

// InvocationResponse answers GET /api/v1/invocations/{requestId}.
type InvocationResponse struct {
	Invocation InvocationRecord `json:"invocation"`
	// TraceID is the trace holding the invocation's spans ("" when none is
	// known): the SDK's trace, else the X-Ray trace the platform reported.
	TraceID string `json:"traceId"`
	Logs    []Log  `json:"logs"`
}

var invocationParams = []string{"function", "status", "coldStart", "start", "end",
	"minDuration", "maxDuration", "limit", "cursor"}

// invocationLogLimit caps the logs returned with one invocation.
const invocationLogLimit = store.MaxLimit

// invocationLogSlack widens the log window around an invocation: lines are
// stamped by the runtime or by the log pipeline, a little before the
// platform's start or after its end.
const invocationLogSlack = int64(time.Minute)

func (a *API) invocationReader() (store.InvocationReader, error) {
	r, ok := a.r.(store.InvocationReader)
	if !ok {
		return nil, &Error{Status: http.StatusNotImplemented, Code: CodeInternal,
			Message: "this store does not keep invocation records"}
	}
	return r, nil
}

func (a *API) pricing() invocation.Pricing {
	if a.set.Pricing == (invocation.Pricing{}) {
		return invocation.DefaultPricing()
	}
	return a.set.Pricing
}

func (a *API) toRecord(inv *model.Invocation) InvocationRecord {
	return InvocationRecord{Invocation: toInvocation(inv), CostUSD: a.pricing().Cost(inv)}
}

// GET /api/v1/invocations?function=&status=&coldStart=&start=&end=&minDuration=&maxDuration=&limit=&cursor=
// lists merged invocation records, newest first. status takes a
// comma-separated list (status=timeout,oom).
func (a *API) listInvocations(ctx context.Context, r *http.Request) (any, error) {
	ir, err := a.invocationReader()
	if err != nil {
		return nil, err
	}
	v := r.URL.Query()
	if err := checkParams(v, invocationParams, ""); err != nil {
		return nil, err
	}
	now := a.set.Now()
	q := store.InvocationQuery{Function: v.Get("function"), Cursor: v.Get("cursor"), Now: now.UnixNano()}
	if q.TimeRange, err = parseRange(v, now, a.set.DefaultLookback); err != nil {
		return nil, err
	}
	if s := v.Get("status"); s != "" {
		for st := range strings.SplitSeq(s, ",") {
			switch st := model.InvocationStatus(strings.TrimSpace(st)); st {
			case model.InvocationOK, model.InvocationError, model.InvocationTimeout, model.InvocationOOM,
				model.InvocationCrash, model.InvocationThrottled, model.InvocationStarted:
				q.Statuses = append(q.Statuses, st)
			default:
				return nil, invalid("status", "%q: want ok, error, timeout, oom, crash, throttled or started (comma-separated)", st)
			}
		}
	}
	if v.Has("coldStart") {
		b, err := parseBool("coldStart", v.Get("coldStart"))
		if err != nil {
			return nil, err
		}
		q.ColdStart = &b
	}
	if s := v.Get("minDuration"); s != "" {
		if q.MinDuration, err = parseDuration("minDuration", s); err != nil {
			return nil, err
		}
	}
	if s := v.Get("maxDuration"); s != "" {
		if q.MaxDuration, err = parseDuration("maxDuration", s); err != nil {
			return nil, err
		}
	}
	if q.MaxDuration != 0 && q.MinDuration > q.MaxDuration {
		return nil, invalid("minDuration", "is larger than maxDuration")
	}
	if q.Limit, err = parseLimit("limit", v.Get("limit"), a.set.DefaultLimit, store.MaxLimit); err != nil {
		return nil, err
	}
	recs, next, err := ir.Invocations(ctx, q)
	if err != nil {
		return nil, err
	}
	out := InvocationsResponse{Invocations: make([]InvocationRecord, len(recs)), NextCursor: next}
	for i := range recs {
		out.Invocations[i] = a.toRecord(&recs[i])
	}
	return out, nil
}

// GET /api/v1/invocations/{requestId}: the merged record, its trace id and
// its log lines in time order.
func (a *API) getInvocation(ctx context.Context, r *http.Request) (any, error) {
	ir, err := a.invocationReader()
	if err != nil {
		return nil, err
	}
	if err := checkParams(r.URL.Query(), nil, ""); err != nil {
		return nil, err
	}
	id := r.PathValue("requestId")
	if id == "" || len(id) > 256 {
		return nil, invalid("requestId", "want a request id of 1 to 256 characters")
	}
	inv, err := ir.Invocation(ctx, id, a.set.Now().UnixNano())
	if errors.Is(err, store.ErrNotFound) {
		return nil, &Error{Status: http.StatusNotFound, Code: CodeNotFound,
			Message: fmt.Sprintf("invocation %s not found (never received, or removed by retention)", id)}
	}
	if err != nil {
		return nil, err
	}
	end := inv.Start + max(inv.DurationNs, inv.Deadline-inv.Start, 0)
	logs, err := ir.InvocationLogs(ctx, id, store.TimeRange{Start: inv.Start - invocationLogSlack, End: end + invocationLogSlack}, invocationLogLimit)
	if err != nil {
		return nil, err
	}
	out := InvocationResponse{Invocation: a.toRecord(&inv), TraceID: hexTrace(inv.TraceID), Logs: make([]Log, len(logs))}
	for i := range logs {
		out.Logs[i] = toLog(&logs[i])
	}
	return out, nil
}
