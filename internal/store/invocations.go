package store

import (
	"context"

	"github.com/ariadnehq/ariadne/internal/model"
)

// InvocationReader reads invocation records: one per request id, merged
// from every stored row of that request (SDK span and start marker,
// Telemetry API, platform log lines) by package invocation's precedence, so
// every engine answers alike. It is separate from Reader so that code
// written against Reader keeps compiling; every engine implements it.
type InvocationReader interface {
	// Invocations returns merged records matching q, newest start first
	// (ties by request id, descending), at most q.Limit (capped at
	// MaxLimit), and a cursor for the next page ("" on the last page).
	// Conditions apply to the merged record, so a record whose status
	// changes (a report arrives, a deadline passes) moves between pages
	// consistently with its stored rows at query time.
	Invocations(ctx context.Context, q InvocationQuery) ([]model.Invocation, string, error)
	// Invocation returns the merged record of one request id; ErrNotFound
	// when no row of it is stored. now (Unix ns) decides whether a started
	// invocation has passed its deadline.
	Invocation(ctx context.Context, requestID string, now int64) (model.Invocation, error)
	// InvocationLogs returns the log records of one request id in time
	// order, at most limit (capped at MaxLimit), looking only in r (the
	// invocation's time span, so engines can prune by time). An invocation
	// without logs yields an empty slice.
	InvocationLogs(ctx context.Context, requestID string, r TimeRange, limit int) ([]model.LogRecord, error)
}

// InvocationQuery selects invocation records. Zero fields do not filter.
type InvocationQuery struct {
	// TimeRange bounds the invocation's start.
	TimeRange
	Function string
	// Statuses keeps records whose merged status is one of these.
	Statuses []model.InvocationStatus
	// ColdStart, when set, keeps only cold (true) or warm (false) starts.
	ColdStart *bool
	// MinDuration and MaxDuration bound the merged duration, ns.
	MinDuration int64
	MaxDuration int64
	Limit       int
	Cursor      string
	// Now (Unix ns) decides whether a started invocation has passed its
	// deadline and became a timeout. Required.
	Now int64
}

// Match reports whether a merged record meets the record-level conditions
// of q (status, cold start, duration). Engines filter rows by time and
// function themselves and call Match after merging.
func (q *InvocationQuery) Match(inv *model.Invocation) bool {
	if len(q.Statuses) > 0 {
		found := false
		for _, s := range q.Statuses {
			if inv.Status == s {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	if q.ColdStart != nil && inv.ColdStart != *q.ColdStart {
		return false
	}
	if q.MinDuration > 0 && inv.DurationNs < q.MinDuration {
		return false
	}
	if q.MaxDuration > 0 && inv.DurationNs > q.MaxDuration {
		return false
	}
	return true
}
