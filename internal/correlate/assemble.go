package correlate

import (
	"cmp"
	"slices"
	"strings"

	"github.com/ariadnehq/ariadne/internal/model"
)

type spanKey struct {
	trace model.TraceID
	span  model.SpanID
}

func keyOf(s *model.Span) spanKey { return spanKey{s.TraceID, s.SpanID} }

// assemble turns a walk and the spans of its traces into a Transaction.
func assemble(id model.TraceID, g *graph, spans []model.Span) *Transaction {
	tx := &Transaction{TraceID: id, Spans: spans, Status: StatusOK,
		Truncated: len(g.reasons) > 0, TruncatedReasons: g.reasons}
	byID := make(map[spanKey]*model.Span, len(spans))
	for i := range spans {
		byID[keyOf(&spans[i])] = &spans[i]
	}
	tx.Traces = traceInfos(g, spans)
	for _, ti := range tx.Traces {
		if ti.ErrorCount > 0 {
			tx.FailedTraces++
		}
	}
	if tx.FailedTraces > 0 {
		tx.Status = StatusError
	}
	for i := range spans {
		s := &spans[i]
		if tx.StartTime == 0 || s.StartTime < tx.StartTime {
			tx.StartTime = s.StartTime
		}
		tx.EndTime = max(tx.EndTime, s.EndTime())
	}
	tx.DurationNs = tx.EndTime - tx.StartTime
	tx.Destinations = []string{}
	for _, r := range g.refs {
		if _, in := g.depth[r.TraceID]; in && r.Destination != "" && !slices.Contains(tx.Destinations, r.Destination) {
			tx.Destinations = append(tx.Destinations, r.Destination)
		}
	}
	slices.Sort(tx.Destinations)
	tx.Edges = edges(g.pairs, byID)
	tx.CriticalPath = criticalPath(spans, byID, tx.Edges)
	return tx
}

// traceInfos summarises every trace of the walk from its spans.
func traceInfos(g *graph, spans []model.Span) []TraceInfo {
	infos := make(map[model.TraceID]*TraceInfo, len(g.order))
	out := make([]TraceInfo, len(g.order))
	for i, id := range g.order {
		out[i] = TraceInfo{TraceID: id, Depth: g.depth[id], Status: StatusOK, Missing: true}
		infos[id] = &out[i]
	}
	// Root: a span without parent (the earliest one if several), else
	// the earliest span of the trace.
	rootAt := map[model.TraceID]bool{}
	for i := range spans {
		s := &spans[i]
		ti := infos[s.TraceID]
		if ti == nil {
			continue
		}
		isRoot := s.ParentSpanID.IsZero()
		if ti.Missing || (isRoot && !rootAt[s.TraceID]) {
			ti.RootService, ti.RootName = s.Service, s.Name
			if isRoot {
				rootAt[s.TraceID] = true
			}
		}
		if ti.Missing || s.StartTime < ti.StartTime {
			end := ti.StartTime + ti.DurationNs
			if ti.Missing {
				end = s.EndTime()
			}
			ti.StartTime = s.StartTime
			ti.DurationNs = end - s.StartTime
		}
		if e := s.EndTime(); e > ti.StartTime+ti.DurationNs {
			ti.DurationNs = e - ti.StartTime
		}
		ti.Missing = false
		ti.SpanCount++
		if s.IsError() {
			ti.ErrorCount++
			ti.Status = StatusError
		}
		if ti.Function == "" && s.Function != "" {
			ti.Function = s.Function
		}
		if ti.Trigger == "" && s.Trigger != "" {
			ti.Trigger = s.Trigger
		}
	}
	slices.SortStableFunc(out, func(a, b TraceInfo) int {
		if a.Missing != b.Missing {
			if a.Missing {
				return 1
			}
			return -1
		}
		return cmp.Compare(a.StartTime, b.StartTime)
	})
	return out
}

// edges groups the producer–consumer pairs into one edge per producer span
// and consumer trace. The SDK records a message's id on the invocation span
// and again on its per-message processing span (which also links to the
// producer), so one hop typically arrives as several pairs; the edge ends
// at the consumer span that started first — the moment of delivery.
func edges(pairs []pair, byID map[spanKey]*model.Span) []Edge {
	type gk struct {
		prod  spanKey
		trace model.TraceID
	}
	idx := map[gk]int{}
	var out []Edge
	for _, p := range pairs {
		if !p.edge {
			continue
		}
		k := gk{spanKey{p.from.TraceID, p.from.SpanID}, p.to.TraceID}
		i, ok := idx[k]
		if !ok {
			i = len(out)
			idx[k] = i
			out = append(out, Edge{
				ProducerTraceID: p.from.TraceID, ProducerSpanID: p.from.SpanID,
				ConsumerTraceID: p.to.TraceID, ConsumerSpanID: p.to.SpanID,
				ConsumerStart: p.to.Time, Status: StatusOK,
			})
		}
		e := &out[i]
		cs := byID[spanKey{p.to.TraceID, p.to.SpanID}]
		start := p.to.Time
		if cs != nil {
			start = cs.StartTime
		}
		if start < e.ConsumerStart || (start == e.ConsumerStart && e.ConsumerSpanID != p.to.SpanID && byID[spanKey{e.ConsumerTraceID, e.ConsumerSpanID}] == nil) {
			e.ConsumerSpanID, e.ConsumerStart = p.to.SpanID, start
		}
		ch := channelOf(p.from.Key)
		if ch != "link" {
			e.Keys = append(e.Keys, p.from.Key)
			e.MessageIDs = append(e.MessageIDs, idOfKey(p.from.Key))
		}
		if channelRank(ch) > channelRank(e.Channel) {
			e.Channel = ch
		}
		if e.Destination == "" {
			e.Destination = cmp.Or(p.from.Destination, p.to.Destination)
		}
	}
	for i := range out {
		e := &out[i]
		slices.Sort(e.Keys)
		e.Keys = slices.Compact(e.Keys)
		slices.Sort(e.MessageIDs)
		e.MessageIDs = slices.Compact(e.MessageIDs)
		if e.Keys == nil {
			e.Keys, e.MessageIDs = []string{}, []string{}
		}
		if ps := byID[spanKey{e.ProducerTraceID, e.ProducerSpanID}]; ps != nil {
			e.ProducerEnd = ps.EndTime()
			e.LagNs = e.ConsumerStart - e.ProducerEnd
			e.LagKnown = true
			if e.Channel == "link" && ps.MessagingSystem != "" {
				e.Channel = ps.MessagingSystem
			}
			if e.Destination == "" {
				e.Destination = ps.Destination
			}
		}
		if cs := byID[spanKey{e.ConsumerTraceID, e.ConsumerSpanID}]; cs != nil {
			if cs.IsError() {
				e.Status = StatusError
			}
			if e.Channel == "link" && cs.MessagingSystem != "" {
				e.Channel = cs.MessagingSystem
			}
			if e.Destination == "" {
				e.Destination = cs.Destination
			}
		}
	}
	// A link to a span that is not stored (an X-Ray parent that AWS put
	// in AWSTraceHeader, a producer that was not sampled) says nothing
	// about the hop: no producer, no id, no lag. Its trace still shows,
	// as missing.
	out = slices.DeleteFunc(out, func(e Edge) bool { return len(e.Keys) == 0 && !e.LagKnown })
	// A synchronous call whose callee continued the caller's trace (a
	// Lambda invoke with a client context) is already drawn as parent and
	// child; as an edge it would add a negative "lag" and a detour to the
	// critical path.
	out = slices.DeleteFunc(out, func(e Edge) bool {
		return e.ProducerTraceID == e.ConsumerTraceID && descends(byID, spanKey{e.ConsumerTraceID, e.ConsumerSpanID}, e.ProducerSpanID)
	})
	slices.SortFunc(out, func(a, b Edge) int {
		if c := cmp.Compare(a.ConsumerStart, b.ConsumerStart); c != 0 {
			return c
		}
		return strings.Compare(string(a.ProducerSpanID[:]), string(b.ProducerSpanID[:]))
	})
	return out
}

// criticalPath walks back from the span that ended last: up its parent
// chain, and across a hop whenever a span on the way consumed a message
// (to the producer that ended last, the one the consumer waited for),
// until a span with neither parent nor producer. Reversed, that is the
// chain of work and waits that decided when the transaction finished —
// the async extension of a trace's critical path, which stops at the
// trace boundary in Jaeger.
func criticalPath(spans []model.Span, byID map[spanKey]*model.Span, es []Edge) []Step {
	if len(spans) == 0 {
		return []Step{}
	}
	incoming := map[spanKey][]*Edge{}
	for i := range es {
		e := &es[i]
		if byID[spanKey{e.ProducerTraceID, e.ProducerSpanID}] == nil {
			continue
		}
		k := spanKey{e.ConsumerTraceID, e.ConsumerSpanID}
		incoming[k] = append(incoming[k], e)
	}
	last := &spans[0]
	for i := range spans {
		if spans[i].EndTime() > last.EndTime() {
			last = &spans[i]
		}
	}
	var rev []Step
	seen := map[spanKey]bool{}
	for cur := last; cur != nil && !seen[keyOf(cur)]; {
		seen[keyOf(cur)] = true
		rev = append(rev, Step{Kind: "span", TraceID: cur.TraceID, SpanID: cur.SpanID, Service: cur.Service,
			Name: cur.Name, StartTime: cur.StartTime, EndTime: cur.EndTime()})
		if in := incoming[keyOf(cur)]; len(in) > 0 {
			e := slices.MaxFunc(in, func(a, b *Edge) int { return cmp.Compare(a.ProducerEnd, b.ProducerEnd) })
			rev = append(rev, Step{Kind: "hop", TraceID: e.ConsumerTraceID, SpanID: e.ConsumerSpanID,
				StartTime: e.ProducerEnd, EndTime: e.ConsumerStart, Channel: e.Channel, Destination: e.Destination})
			cur = byID[spanKey{e.ProducerTraceID, e.ProducerSpanID}]
			continue
		}
		if cur.ParentSpanID.IsZero() {
			break
		}
		cur = byID[spanKey{cur.TraceID, cur.ParentSpanID}]
	}
	slices.Reverse(rev)
	return rev
}

// channelRank orders the kinds one hop may be known by: a kind of
// DESIGN.md §3 (which our SDK records) over the messaging.system another
// instrumentation reported for the same id ("aws_eventbridge:<id>" next to
// "events:<id>"), over a bare link.
func channelRank(ch string) int {
	switch {
	case ch == "":
		return 0
	case ch == "link":
		return 1
	case ch == "msg" || !slices.Contains(knownKinds(), ch):
		return 2
	}
	return 3
}

// descends reports whether span k has anc among its stored ancestors.
func descends(byID map[spanKey]*model.Span, k spanKey, anc model.SpanID) bool {
	s := byID[k]
	for depth := 0; s != nil && depth < 256 && !s.ParentSpanID.IsZero(); depth++ {
		if s.ParentSpanID == anc {
			return true
		}
		s = byID[spanKey{s.TraceID, s.ParentSpanID}]
	}
	return false
}
