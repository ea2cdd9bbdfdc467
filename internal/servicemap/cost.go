package servicemap

import (
	"context"
	"fmt"
	"math"

	"github.com/ariadnehq/ariadne/internal/model"
	"github.com/ariadnehq/ariadne/internal/store"
)

// CostQuery selects the invocations to price: those that started in
// [Start, End), or, with TraceIDs, those of a transaction's traces.
type CostQuery struct {
	Start, End int64
	Function   string
	TraceIDs   []model.TraceID
}

// FunctionCost is what one function's invocations cost. Prices come from
// invocation.Pricing (Settings): billed duration × configured memory at
// the GB-second price plus the request price, for the invocations whose
// billing figures the platform reported; the others are counted but not
// priced, because a guess would mislead.
type FunctionCost struct {
	Function    string
	Invocations int64
	Billed      int64
	GBSeconds   float64
	BilledNs    int64
	CostUSD     float64
}

// Cost is the answer of a cost query: per function, most expensive
// first, and the total.
type Cost struct {
	Functions []FunctionCost
	Total     FunctionCost
	// PerGBSecond and PerRequest are the prices used, USD.
	PerGBSecond float64
	PerRequest  float64
	Truncated   bool
}

// Cost prices the invocations of q.
func (m *Mapper) Cost(ctx context.Context, q CostQuery) (*Cost, error) {
	if len(q.TraceIDs) > store.MaxMapTraces {
		return nil, fmt.Errorf("read cost: %d traces, at most %d: %w", len(q.TraceIDs), store.MaxMapTraces, store.ErrInvalid)
	}
	rows, truncated, err := m.st.Cost(ctx, store.CostQuery{
		TimeRange: store.TimeRange{Start: q.Start, End: q.End}, Function: q.Function, TraceIDs: q.TraceIDs,
	})
	if err != nil {
		return nil, fmt.Errorf("read cost: %w", err)
	}
	p := m.set.Pricing
	out := &Cost{Functions: make([]FunctionCost, 0, len(rows)), PerGBSecond: p.PerGBSecond, PerRequest: p.PerRequest, Truncated: truncated}
	for _, r := range rows {
		fc := FunctionCost{Function: r.Function, Invocations: r.Invocations, Billed: r.Billed,
			GBSeconds: round(r.GBSeconds, 1e9), BilledNs: r.BilledNs,
			CostUSD: round(r.GBSeconds*p.PerGBSecond+float64(r.Billed)*p.PerRequest, 1e12)}
		out.Functions = append(out.Functions, fc)
		out.Total.Invocations += fc.Invocations
		out.Total.Billed += fc.Billed
		out.Total.GBSeconds += r.GBSeconds
		out.Total.BilledNs += fc.BilledNs
		out.Total.CostUSD += r.GBSeconds*p.PerGBSecond + float64(r.Billed)*p.PerRequest
	}
	out.Total.GBSeconds = round(out.Total.GBSeconds, 1e9)
	out.Total.CostUSD = round(out.Total.CostUSD, 1e12)
	return out, nil
}

// round keeps JSON figures stable (pico-dollars, nano-GB-seconds), as
// invocation.Pricing.Cost does.
func round(v, scale float64) float64 { return math.Round(v*scale) / scale }
