package api

import (
	"context"
	"net/http"
	"time"

	"github.com/ariadnehq/ariadne/internal/servicemap"
)

// RED metrics and cost (docs/servicemap.md).

// REDResponse answers GET /api/v1/metrics/red.
type REDResponse struct {
	Start     int64       `json:"start"`
	End       int64       `json:"end"`
	StepNs    int64       `json:"stepNs"`
	Series    []REDSeries `json:"series"`
	Truncated bool        `json:"truncated"`
}

// REDSeries is one series: a point per step, zeros where nothing ran.
type REDSeries struct {
	Group  string     `json:"group"` // the service, function or operation; "" when not grouped
	Points []REDPoint `json:"points"`
}

// REDPoint is one step.
type REDPoint struct {
	Time int64 `json:"time"` // start of the step
	REDStats
	ColdStarts     int64   `json:"coldStarts"`
	ColdStartShare float64 `json:"coldStartShare"`
}

var redParams = []string{"start", "end", "step", "service", "function", "operation", "environment", "groupBy"}

// defaultPoints is how many points a series without step has.
const defaultPoints = 60

// GET /api/v1/metrics/red?service=&function=&operation=&environment=&groupBy=&step=&start=&end=
func (a *API) getRED(ctx context.Context, r *http.Request) (any, error) {
	m, err := a.mapper()
	if err != nil {
		return nil, err
	}
	v := r.URL.Query()
	if err := checkParams(v, redParams, ""); err != nil {
		return nil, err
	}
	now := a.set.Now()
	tr, err := parseRange(v, now, a.set.DefaultLookback)
	if err != nil {
		return nil, err
	}
	if tr.End == 0 {
		tr.End = now.UnixNano()
	}
	if tr.Start >= tr.End {
		return nil, invalid("start", "must be before end")
	}
	q := servicemap.REDQuery{Start: tr.Start, End: tr.End, Service: v.Get("service"), Function: v.Get("function"),
		Operation: v.Get("operation"), Environment: v.Get("environment"), GroupBy: v.Get("groupBy")}
	switch q.GroupBy {
	case "", "service", "function", "operation":
	default:
		return nil, invalid("groupBy", "%q: want service, function or operation", q.GroupBy)
	}
	if s := v.Get("step"); s != "" {
		if q.Step, err = parseDuration("step", s); err != nil {
			return nil, err
		}
		if q.Step < int64(time.Second) {
			return nil, invalid("step", "%q: at least 1s", s)
		}
		if (tr.End-tr.Start+q.Step-1)/q.Step > servicemap.MaxPoints {
			return nil, invalid("step", "%q gives more than %d points over the range; widen it", s, servicemap.MaxPoints)
		}
	} else {
		q.Step = max(int64(time.Second), (tr.End-tr.Start+defaultPoints-1)/defaultPoints)
	}
	red, err := m.RED(ctx, q)
	if err != nil {
		return nil, err
	}
	out := REDResponse{Start: red.Start, End: red.End, StepNs: red.Step, Series: make([]REDSeries, len(red.Series)), Truncated: red.Truncated}
	for i, s := range red.Series {
		rs := REDSeries{Group: s.Group, Points: make([]REDPoint, len(s.Points))}
		for j, p := range s.Points {
			rs.Points[j] = REDPoint{Time: p.Time, REDStats: toREDStats(p.Stats), ColdStarts: p.ColdStarts, ColdStartShare: p.ColdStartShare}
		}
		out.Series[i] = rs
	}
	return out, nil
}

// CostResponse answers GET /api/v1/cost.
type CostResponse struct {
	Start   int64  `json:"start"`
	End     int64  `json:"end"`
	TraceID string `json:"traceId"` // the transaction priced ("" for a time range)
	// Prices used, USD (settings; default Lambda's published x86 price).
	PricePerGBSecond float64        `json:"pricePerGbSecond"`
	PricePerRequest  float64        `json:"pricePerRequest"`
	Functions        []FunctionCost `json:"functions"`
	Total            FunctionCost   `json:"total"`
	Truncated        bool           `json:"truncated"`
}

// FunctionCost is what one function's invocations cost. Only invocations
// whose billed duration and memory are known (billed) are priced.
type FunctionCost struct {
	Function    string  `json:"function"`
	Invocations int64   `json:"invocations"`
	Billed      int64   `json:"billed"`
	GBSeconds   float64 `json:"gbSeconds"`
	BilledNs    int64   `json:"billedNs"`
	CostUSD     float64 `json:"costUsd"`
}

var costParams = []string{"start", "end", "function", "traceId", "groupBy"}

// GET /api/v1/cost?start=&end=&function=&groupBy=function, or ?traceId= for
// the transaction containing that trace.
func (a *API) getCost(ctx context.Context, r *http.Request) (any, error) {
	m, err := a.mapper()
	if err != nil {
		return nil, err
	}
	v := r.URL.Query()
	if err := checkParams(v, costParams, ""); err != nil {
		return nil, err
	}
	if g := v.Get("groupBy"); g != "" && g != "function" {
		return nil, invalid("groupBy", "%q: only function is supported", g)
	}
	q := servicemap.CostQuery{Function: v.Get("function")}
	out := CostResponse{}
	if s := v.Get("traceId"); s != "" {
		if v.Has("start") || v.Has("end") {
			return nil, invalid("traceId", "a transaction's cost takes no start or end")
		}
		tx, err := a.transactionTraces(ctx, s)
		if err != nil {
			return nil, err
		}
		q.TraceIDs = tx.traces
		out.TraceID = tx.id.String()
	} else {
		now := a.set.Now()
		tr, err := parseRange(v, now, a.set.DefaultLookback)
		if err != nil {
			return nil, err
		}
		if tr.End == 0 {
			tr.End = now.UnixNano()
		}
		if tr.Start >= tr.End {
			return nil, invalid("start", "must be before end")
		}
		q.Start, q.End = tr.Start, tr.End
		out.Start, out.End = tr.Start, tr.End
	}
	c, err := m.Cost(ctx, q)
	if err != nil {
		return nil, err
	}
	out.PricePerGBSecond, out.PricePerRequest, out.Truncated = c.PerGBSecond, c.PerRequest, c.Truncated
	out.Functions = make([]FunctionCost, len(c.Functions))
	for i, f := range c.Functions {
		out.Functions[i] = FunctionCost(f)
	}
	out.Total = FunctionCost(c.Total)
	out.Total.Function = ""
	return out, nil
}
