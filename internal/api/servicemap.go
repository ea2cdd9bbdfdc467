package api

import (
	"context"
	"net/http"

	"github.com/ariadnehq/ariadne/internal/model"
	"github.com/ariadnehq/ariadne/internal/servicemap"
	"github.com/ariadnehq/ariadne/internal/store"
)

// The service map (DESIGN.md §5, docs/servicemap.md): nodes and edges with
// RED figures for a time range, an environment, or one transaction. The
// store must implement store.ServiceMapReader; when it does not the
// endpoints answer 404 rather than fail at start-up.

// ServiceMapResponse answers GET /api/v1/servicemap.
type ServiceMapResponse struct {
	Start int64 `json:"start"`
	End   int64 `json:"end"`
	// TraceID is the transaction drawn ("" for a time range); Traces its
	// traces.
	TraceID          string    `json:"traceId"`
	Traces           []string  `json:"traces"`
	Nodes            []MapNode `json:"nodes"`
	Edges            []MapEdge `json:"edges"`
	Truncated        bool      `json:"truncated"`
	TruncatedReasons []string  `json:"truncatedReasons"`
}

// REDStats are the rate, errors and duration figures of a node, an edge or
// a point of a series.
type REDStats struct {
	Count     int64   `json:"count"`
	Errors    int64   `json:"errors"`
	Rate      float64 `json:"rate"`      // per second; 0 for a transaction's map
	ErrorRate float64 `json:"errorRate"` // errors / count
	P50Ns     int64   `json:"p50Ns"`
	P95Ns     int64   `json:"p95Ns"`
	P99Ns     int64   `json:"p99Ns"`
}

// MapNode is one node.
type MapNode struct {
	ID           string `json:"id"`   // "<kind>:<name>"
	Kind         string `json:"kind"` // function | service | queue | topic | stream | eventbus | bucket | table | workflow | database | http | aws
	Name         string `json:"name"`
	Service      string `json:"service"`
	Instrumented bool   `json:"instrumented"`
	REDStats
	ColdStarts     int64   `json:"coldStarts"`
	ColdStartShare float64 `json:"coldStartShare"`
}

// MapEdge is one edge.
type MapEdge struct {
	ID   string `json:"id"`
	From string `json:"from"`
	To   string `json:"to"`
	Kind string `json:"kind"` // call | produce | route | consume | invoke
	REDStats
	// Lag is the queue lag (consumer start − producer end) of consume and
	// invoke edges; null when unknown.
	Lag *LagStats `json:"lag"`
}

// LagStats are queue lag percentiles over Count hops.
type LagStats struct {
	Count int64 `json:"count"`
	P50Ns int64 `json:"p50Ns"`
	P95Ns int64 `json:"p95Ns"`
	P99Ns int64 `json:"p99Ns"`
}

var serviceMapParams = []string{"start", "end", "environment", "traceId"}

func (a *API) mapper() (*servicemap.Mapper, error) {
	r, ok := a.r.(store.ServiceMapReader)
	if !ok {
		return nil, &Error{Status: http.StatusNotFound, Code: CodeNotFound,
			Message: "this store does not support the service map"}
	}
	return servicemap.New(r, servicemap.Settings{Pricing: a.pricing()}), nil
}

// transaction is what a map or a price of one transaction needs: its
// traces and where they lie in time, so the store scans only that span.
type transaction struct {
	id         model.TraceID
	traces     []model.TraceID
	start, end int64 // [start, end) Unix ns; 0 when unknown
}

// transactionTraces resolves ?traceId= to the traces of its transaction.
func (a *API) transactionTraces(ctx context.Context, s string) (transaction, error) {
	id, err := model.ParseTraceID(s)
	if err != nil || id.IsZero() {
		return transaction{}, invalid("traceId", "%q: want 32 lowercase hex digits", s)
	}
	c, err := a.correlator()
	if err != nil {
		return transaction{}, err
	}
	tx, err := c.Transaction(ctx, id)
	if err != nil {
		return transaction{}, err
	}
	out := transaction{id: id, traces: make([]model.TraceID, 0, len(tx.Traces))}
	for _, t := range tx.Traces {
		if !t.Missing {
			out.traces = append(out.traces, t.TraceID)
		}
	}
	if tx.StartTime > 0 && tx.EndTime >= tx.StartTime {
		out.start, out.end = tx.StartTime, tx.EndTime+1
	}
	return out, nil
}

// GET /api/v1/servicemap?start=&end=&environment=&traceId=
func (a *API) getServiceMap(ctx context.Context, r *http.Request) (any, error) {
	m, err := a.mapper()
	if err != nil {
		return nil, err
	}
	v := r.URL.Query()
	if err := checkParams(v, serviceMapParams, ""); err != nil {
		return nil, err
	}
	q := servicemap.Query{Environment: v.Get("environment")}
	out := ServiceMapResponse{Traces: []string{}}
	if s := v.Get("traceId"); s != "" {
		if v.Has("start") || v.Has("end") {
			return nil, invalid("traceId", "a transaction's map takes no start or end")
		}
		tx, err := a.transactionTraces(ctx, s)
		if err != nil {
			return nil, err
		}
		q.TraceIDs, q.Start, q.End = tx.traces, tx.start, tx.end
		out.TraceID = tx.id.String()
		for _, t := range tx.traces {
			out.Traces = append(out.Traces, t.String())
		}
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
	}
	g, err := m.Build(ctx, q)
	if err != nil {
		return nil, err
	}
	out.Start, out.End = g.Start, g.End
	out.Nodes = make([]MapNode, len(g.Nodes))
	for i, n := range g.Nodes {
		out.Nodes[i] = MapNode{ID: n.ID, Kind: n.Kind, Name: n.Name, Service: n.Service, Instrumented: n.Instrumented,
			REDStats: toREDStats(n.Stats), ColdStarts: n.ColdStarts, ColdStartShare: n.ColdStartShare}
	}
	out.Edges = make([]MapEdge, len(g.Edges))
	for i, e := range g.Edges {
		me := MapEdge{ID: e.ID, From: e.From, To: e.To, Kind: e.Kind, REDStats: toREDStats(e.Stats)}
		if e.Lag != nil {
			me.Lag = &LagStats{Count: e.LagCount, P50Ns: e.Lag.P50, P95Ns: e.Lag.P95, P99Ns: e.Lag.P99}
		}
		out.Edges[i] = me
	}
	out.Truncated, out.TruncatedReasons = g.Truncated, nonNil(g.TruncatedReasons)
	return out, nil
}

func toREDStats(s servicemap.Stats) REDStats {
	return REDStats{Count: s.Count, Errors: s.Errors, Rate: s.Rate, ErrorRate: s.ErrorRate, P50Ns: s.P50, P95Ns: s.P95, P99Ns: s.P99}
}
