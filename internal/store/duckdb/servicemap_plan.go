package duckdb

import (
	"context"
	"database/sql"
	"fmt"
	"math"

	"github.com/ariadnehq/ariadne/internal/store"
	"github.com/ariadnehq/ariadne/internal/store/rollup"
)

// The read side of the rollups (servicemap_rollup.go) is package
// rollup's; this engine plans a read from its rollup tables and runs all
// the pieces of one answer in one transaction, so they see one snapshot.

// rollups is the engine as package rollup's readers plan and read on it.
type rollups struct{ e *Engine }

var _ rollup.Planner = rollups{}

// rollupPlan plans r. When step > 0 (RED), minutes that straddle a
// boundary Start + i·step are read raw, so every rolled-up minute falls in
// one step.
func (e *Engine) rollupPlan(ctx context.Context, qr queryer, r store.TimeRange, step int64) (rollup.Plan, bool, error) {
	set := e.set.Rollups
	if set.MinSpans < 0 {
		return rollup.Plan{}, false, nil
	}
	lo := rollup.CeilMinute(r.Start)
	hi := int64(math.MaxInt64)
	if r.End != 0 {
		hi = rollup.FloorMinute(r.End)
	}
	if hi <= lo {
		return rollup.Plan{}, false, nil
	}
	hiLit := "9223372036854775807"
	if r.End != 0 {
		hiLit = fmt.Sprint(hi)
	}
	rs, err := qr.QueryContext(ctx, fmt.Sprintf(`SELECT 0, max(sealed), 0 FROM rollup_state
UNION ALL SELECT 1, minute, 0 FROM rollup_todo WHERE minute >= %[1]d AND minute < %[2]s
UNION ALL SELECT 2, minute, 0 FROM (SELECT DISTINCT minute FROM rollup_marks)
UNION ALL SELECT 3, minute, spans FROM rollup_minutes WHERE minute >= %[1]d AND minute < %[2]s`, lo, hiLit))
	if err != nil {
		return rollup.Plan{}, false, err
	}
	var (
		sealed  = int64(math.MaxInt64)
		invalid []store.TimeRange
		counts  []rollup.MinuteSpans
	)
	for rs.Next() {
		var kind, m, n int64
		if err := rs.Scan(&kind, &m, &n); err != nil {
			rs.Close()
			return rollup.Plan{}, false, err
		}
		switch kind {
		case 0:
			sealed = m
		case 1:
			invalid = append(invalid, store.TimeRange{Start: m, End: m + minuteNs})
		case 2:
			invalid = append(invalid, rollup.Reach(m))
		case 3:
			counts = append(counts, rollup.MinuteSpans{Minute: m, Spans: n})
		}
	}
	rs.Close()
	if err := rs.Err(); err != nil {
		return rollup.Plan{}, false, err
	}
	p, ok := rollup.NewPlan(r, step, sealed, invalid, counts, set.MinSpans)
	return p, ok, nil
}

// Rolled implements rollup.Planner: plan and read share one transaction.
func (ro rollups) Rolled(ctx context.Context, op string, r store.TimeRange, step int64, read func(rollup.Source, rollup.Plan) error) (ok bool, err error) {
	e := ro.e
	if e.set.Rollups.MinSpans < 0 {
		return false, nil
	}
	tx, err := e.db.BeginTx(ctx, nil)
	if err != nil {
		return false, unavailable(op, err)
	}
	defer tx.Rollback() //nolint:errcheck // read only
	p, ok, err := e.rollupPlan(ctx, tx, r, step)
	if err != nil {
		return false, unavailable(op, err)
	}
	if !ok {
		return false, nil
	}
	if err := read(txSource{e: e, tx: tx}, p); err != nil {
		return false, unavailable(op, err)
	}
	return true, nil
}

// txSource runs the statements of one answer in its transaction.
type txSource struct {
	e  *Engine
	tx *sql.Tx
}

var _ rollup.Source = txSource{}

// Groups implements rollup.Source.
func (s txSource) Groups(ctx context.Context, query string, shape rollup.Shape, row func(*rollup.Row)) error {
	rs, err := s.tx.QueryContext(ctx, query)
	if err != nil {
		return err
	}
	defer rs.Close()
	ks := make([]sql.NullString, shape.Keys)
	dst := make([]any, 0, shape.Keys+7)
	for i := range ks {
		dst = append(dst, &ks[i])
	}
	r := rollup.Row{Keys: make([]string, shape.Keys)}
	var flag bool
	switch shape.Extra {
	case rollup.Flag:
		dst = append(dst, &flag)
	case rollup.Metric, rollup.Int:
		dst = append(dst, &r.Extra)
	}
	var b int64
	dst = append(dst, &b, &r.N, &r.Errors)
	if shape.Cold {
		dst = append(dst, &r.Cold)
	}
	dst = append(dst, &r.Lo, &r.Hi)
	for rs.Next() {
		if err := rs.Scan(dst...); err != nil {
			return err
		}
		for i, k := range ks {
			r.Keys[i] = k.String
		}
		if shape.Extra == rollup.Flag {
			r.Extra = 0
			if flag {
				r.Extra = 1
			}
		}
		r.Bucket = int16(b)
		row(&r)
	}
	return rs.Err()
}

// HopExtent implements rollup.Source.
func (s txSource) HopExtent(ctx context.Context, r store.TimeRange) (lo, hi int64, ok bool, err error) {
	return s.e.hopExtent(ctx, s.tx, r, nil)
}
