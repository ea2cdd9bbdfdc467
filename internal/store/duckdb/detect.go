package duckdb

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/ariadnehq/ariadne/internal/model"
	"github.com/ariadnehq/ariadne/internal/store"
	"github.com/ariadnehq/ariadne/internal/store/shared"
	"github.com/ariadnehq/ariadne/internal/store/stmt"
)

var (
	_ store.DetectReader  = (*Engine)(nil)
	_ store.IssueStore    = (*Engine)(nil)
	_ store.AlertStore    = (*Engine)(nil)
	_ store.ContractStore = (*Engine)(nil)
)

// conflict maps DuckDB's optimistic-concurrency failure (two transactions
// writing the same row) to store.ErrConflict: the loser retries or gives
// up, as the contract says.
func conflict(op string, err error) error {
	if err == nil {
		return nil
	}
	// Two nodes inserting the same new row (a detector's first watermark,
	// a new issue) meet a key violation rather than a write conflict:
	// the same race, the same answer.
	msg := err.Error()
	if strings.Contains(msg, "Conflict") || strings.Contains(msg, "conflict") || strings.Contains(msg, "Constraint Error") ||
		strings.Contains(msg, "constraint violation") {
		return fmt.Errorf("%s: %w: %v", op, store.ErrConflict, err)
	}
	return unavailable(op, err)
}

// DetectSpans implements store.DetectReader.
func (e *Engine) DetectSpans(ctx context.Context, r store.TimeRange, f store.DetectSpanFilter, limit int) ([]model.Span, bool, error) {
	if err := shared.CheckRange(r); err != nil {
		return nil, false, fmt.Errorf("read spans for detection: %w", err)
	}
	limit = shared.Clamp(limit, store.MaxCorrelationRows)
	t := &e.schema.spans
	q := stmt.DetectSpans(stmt.DuckDB(), t.columnList(""), r, f, limit)
	out := []model.Span{}
	if q == "" {
		return out, false, nil
	}
	rows, err := selectRows(ctx, e.db, t, q)
	if err != nil {
		return nil, false, unavailable("read spans for detection", err)
	}
	for i := range rows {
		out = append(out, rows[i].Span)
	}
	if len(out) > limit {
		return out[:limit], true, nil
	}
	return out, false, nil
}

// DetectInvocations implements store.DetectReader: SQL picks the request
// ids some row of which could make the merged record match, the merge
// decides.
func (e *Engine) DetectInvocations(ctx context.Context, q store.DetectInvocationQuery, limit int) ([]model.Invocation, bool, error) {
	if err := shared.CheckRange(q.TimeRange); err != nil {
		return nil, false, fmt.Errorf("read invocations for detection: %w", err)
	}
	limit = shared.Clamp(limit, store.MaxCorrelationRows)
	query := stmt.DetectInvocationKeys(stmt.DuckDB(), q, limit)
	out := []model.Invocation{}
	if query == "" {
		return out, false, nil
	}
	rs, err := e.db.QueryContext(ctx, query)
	if err != nil {
		return nil, false, unavailable("read invocations for detection", err)
	}
	var keys []invKey
	for rs.Next() {
		var k invKey
		if err := rs.Scan(&k.id, &k.start); err != nil {
			rs.Close()
			return nil, false, unavailable("read invocations for detection", err)
		}
		keys = append(keys, k)
	}
	rs.Close()
	if err := rs.Err(); err != nil {
		return nil, false, unavailable("read invocations for detection", err)
	}
	truncated := len(keys) > limit
	if truncated {
		keys = keys[:limit]
	}
	if len(keys) == 0 {
		return out, false, nil
	}
	recs, err := e.mergedInvocations(ctx, keys, q.Now)
	if err != nil {
		return nil, false, unavailable("read invocations for detection", err)
	}
	for _, k := range keys {
		rec, ok := recs[k.id]
		if !ok {
			continue
		}
		if slices.Contains(q.Statuses, rec.Status) || (q.MinAttempt > 0 && rec.Attempt >= q.MinAttempt) ||
			(q.ColdStarts && (rec.ColdStart || rec.InitDurationNs > 0)) {
			out = append(out, rec)
		}
	}
	return out, truncated, nil
}

type rowScanner interface{ Scan(...any) error }

func scanIssue(r rowScanner) (store.Issue, error) {
	var (
		is                                          store.Issue
		title, fn, ch, sev, traces, expl, status, k sql.NullString
	)
	err := r.Scan(&is.ID, &k, &is.Fingerprint, &title, &fn, &ch, &sev, &status, &is.FirstSeen, &is.LastSeen, &is.Count,
		&traces, &expl, &is.OpenedAt, &is.ResolvedAt, &is.Regressions, &is.UpdatedAt)
	if err != nil {
		return is, err
	}
	is.Kind, is.Title, is.Function, is.Channel, is.Severity = k.String, title.String, fn.String, ch.String, sev.String
	is.Status, is.Explanation = store.IssueStatus(status.String), expl.String
	is.SampleTraces = shared.ParseTraces(traces.String)
	return is, nil
}

// DetectorWatermark implements store.IssueStore.
func (e *Engine) DetectorWatermark(ctx context.Context, name string) (int64, error) {
	var wm int64
	err := e.db.QueryRowContext(ctx, stmt.DetectorWatermark(stmt.DuckDB(), name)).Scan(&wm)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, unavailable("read detector watermark", err)
	}
	return wm, nil
}

// CommitDetection implements store.IssueStore in one transaction; the
// watermark row is the compare-and-set that makes a window count once.
func (e *Engine) CommitDetection(ctx context.Context, name string, from, to int64, occ []store.IssueOccurrence, now int64) (err error) {
	d := stmt.DuckDB()
	// Not ctx: database/sql rolls a transaction back asynchronously when
	// its context ends, which could leave it open past Close; the defer
	// below rolls back synchronously instead.
	tx, err := e.db.BeginTx(context.WithoutCancel(ctx), nil)
	if err != nil {
		return unavailable("commit detection", err)
	}
	defer func() {
		if err != nil {
			tx.Rollback()
		}
	}()
	var cur sql.NullInt64
	if err := tx.QueryRowContext(ctx, stmt.DetectorWatermark(d, name)).Scan(&cur); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return conflict("commit detection", err)
	}
	if cur.Int64 != from {
		return fmt.Errorf("commit detection %s: watermark is %d, not %d: %w", name, cur.Int64, from, store.ErrConflict)
	}
	if _, err = tx.ExecContext(ctx, stmt.SetDetectorWatermark(d, name, cur.Valid, to, now)); err != nil {
		return conflict("commit detection", err)
	}
	for i := range occ {
		if err := foldOccurrence(ctx, tx, &occ[i], now); err != nil {
			return conflict("commit detection", err)
		}
	}
	if q := stmt.AddIssueCounts(d, stmt.OccurrenceCounts(occ)); q != "" {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return conflict("commit detection", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return conflict("commit detection", err)
	}
	return nil
}

func foldOccurrence(ctx context.Context, tx *sql.Tx, o *store.IssueOccurrence, now int64) error {
	d := stmt.DuckDB()
	is, err := scanIssue(tx.QueryRowContext(ctx, stmt.Issue(d, store.IssueID(o.Kind, o.Fingerprint))))
	var next store.Issue
	switch {
	case errors.Is(err, sql.ErrNoRows):
		next = shared.FoldOccurrence(nil, o, now)
	case err != nil:
		return err
	default:
		next = shared.FoldOccurrence(&is, o, now)
	}
	_, err = tx.ExecContext(ctx, stmt.PutIssue(d, &next))
	return err
}

// Issues implements store.IssueStore.
func (e *Engine) Issues(ctx context.Context, q store.IssueQuery) ([]store.Issue, error) {
	if err := shared.CheckRange(q.TimeRange); err != nil {
		return nil, fmt.Errorf("list issues: %w", err)
	}
	limit := q.Limit
	if limit <= 0 || limit > store.MaxLimit {
		limit = store.MaxLimit
	}
	rs, err := e.db.QueryContext(ctx, stmt.Issues(stmt.DuckDB(), q, limit))
	if err != nil {
		return nil, unavailable("list issues", err)
	}
	defer rs.Close()
	out := []store.Issue{}
	for rs.Next() {
		is, err := scanIssue(rs)
		if err != nil {
			return nil, unavailable("list issues", err)
		}
		out = append(out, is)
	}
	if err := rs.Err(); err != nil {
		return nil, unavailable("list issues", err)
	}
	return out, nil
}

// Issue implements store.IssueStore.
func (e *Engine) Issue(ctx context.Context, id string) (store.Issue, error) {
	is, err := scanIssue(e.db.QueryRowContext(ctx, stmt.Issue(stmt.DuckDB(), id)))
	if errors.Is(err, sql.ErrNoRows) {
		return is, fmt.Errorf("read issue %q: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return is, unavailable("read issue", err)
	}
	return is, nil
}

// SetIssueStatus implements store.IssueStore.
func (e *Engine) SetIssueStatus(ctx context.Context, id string, s store.IssueStatus, now int64) (store.Issue, error) {
	switch s {
	case store.IssueOpen, store.IssueResolved, store.IssueIgnored:
	default:
		return store.Issue{}, fmt.Errorf("set issue status: unknown status %q: %w", s, store.ErrInvalid)
	}
	res, err := e.db.ExecContext(ctx, stmt.SetIssueStatus(stmt.DuckDB(), id, s, now))
	if err != nil {
		return store.Issue{}, conflict("set issue status", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return store.Issue{}, fmt.Errorf("set issue status %q: %w", id, store.ErrNotFound)
	}
	return e.Issue(ctx, id)
}

// ResolveStale implements store.IssueStore.
func (e *Engine) ResolveStale(ctx context.Context, before, now int64) (int, error) {
	res, err := e.db.ExecContext(ctx, stmt.ResolveStale(stmt.DuckDB(), before, now))
	if err != nil {
		return 0, conflict("resolve stale issues", err)
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}

// IssueCounts implements store.IssueStore.
func (e *Engine) IssueCounts(ctx context.Context, since int64) (map[string]int64, error) {
	rs, err := e.db.QueryContext(ctx, stmt.IssueCounts(stmt.DuckDB(), since))
	if err != nil {
		return nil, unavailable("count issues", err)
	}
	defer rs.Close()
	out := map[string]int64{}
	for rs.Next() {
		var id string
		var n int64
		if err := rs.Scan(&id, &n); err != nil {
			return nil, unavailable("count issues", err)
		}
		out[id] = n
	}
	if err := rs.Err(); err != nil {
		return nil, unavailable("count issues", err)
	}
	return out, nil
}

func scanRule(r rowScanner) (store.AlertRule, error) {
	var (
		ru                      store.AlertRule
		name, kind, fn, url, to sql.NullString
	)
	err := r.Scan(&ru.ID, &name, &kind, &fn, &ru.AnyNew, &ru.Threshold, &ru.WindowNs, &ru.Target, &url, &to, &ru.Created)
	ru.Name, ru.Kind, ru.Function, ru.URL, ru.To = name.String, kind.String, fn.String, url.String, to.String
	return ru, err
}

// AlertRules implements store.AlertStore.
func (e *Engine) AlertRules(ctx context.Context) ([]store.AlertRule, error) {
	rs, err := e.db.QueryContext(ctx, stmt.AlertRules(stmt.DuckDB()))
	if err != nil {
		return nil, unavailable("list alert rules", err)
	}
	defer rs.Close()
	out := []store.AlertRule{}
	for rs.Next() {
		ru, err := scanRule(rs)
		if err != nil {
			return nil, unavailable("list alert rules", err)
		}
		out = append(out, ru)
	}
	if err := rs.Err(); err != nil {
		return nil, unavailable("list alert rules", err)
	}
	return out, nil
}

// AlertRule implements store.AlertStore.
func (e *Engine) AlertRule(ctx context.Context, id string) (store.AlertRule, error) {
	ru, err := scanRule(e.db.QueryRowContext(ctx, stmt.AlertRule(stmt.DuckDB(), id)))
	if errors.Is(err, sql.ErrNoRows) {
		return ru, fmt.Errorf("read alert rule %q: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return ru, unavailable("read alert rule", err)
	}
	return ru, nil
}

// PutAlertRule implements store.AlertStore.
func (e *Engine) PutAlertRule(ctx context.Context, r store.AlertRule) error {
	if r.ID == "" {
		return fmt.Errorf("put alert rule: no id: %w", store.ErrInvalid)
	}
	_, err := e.db.ExecContext(ctx, stmt.PutAlertRule(stmt.DuckDB(), r))
	if err != nil {
		return conflict("put alert rule", err)
	}
	return nil
}

// DeleteAlertRule implements store.AlertStore.
func (e *Engine) DeleteAlertRule(ctx context.Context, id string) error {
	qs := stmt.DeleteAlertRule(stmt.DuckDB(), id)
	res, err := e.db.ExecContext(ctx, qs[0])
	if err != nil {
		return conflict("delete alert rule", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("delete alert rule %q: %w", id, store.ErrNotFound)
	}
	if _, err := e.db.ExecContext(ctx, qs[1]); err != nil {
		return conflict("delete alert rule", err)
	}
	return nil
}

func scanEvent(r rowScanner) (store.AlertEvent, error) {
	var (
		ev      store.AlertEvent
		lastErr sql.NullString
	)
	err := r.Scan(&ev.ID, &ev.RuleID, &ev.IssueID, &ev.Type, &ev.Episode, &ev.State, &ev.Attempts, &ev.NextAttempt, &lastErr, &ev.Created, &ev.DeliveredAt)
	ev.LastError = lastErr.String
	return ev, err
}

// EnqueueAlert implements store.AlertStore; the unique index makes a
// second insert of the same notification (by any node) a no-op.
func (e *Engine) EnqueueAlert(ctx context.Context, ev store.AlertEvent) (bool, error) {
	if ev.ID == "" {
		ev.ID = store.IssueID(ev.RuleID+"\x00"+ev.IssueID+"\x00"+ev.Type, strconv.FormatInt(ev.Episode, 10))
	}
	res, err := e.db.ExecContext(ctx, stmt.EnqueueAlert(stmt.DuckDB(), ev))
	if err != nil {
		err = conflict("enqueue alert", err)
		if errors.Is(err, store.ErrConflict) {
			return false, nil // another node inserted it at the same moment
		}
		return false, err
	}
	n, _ := res.RowsAffected()
	return n > 0, nil
}

// ClaimAlerts implements store.AlertStore with one conditional UPDATE, so
// two claimers never both get an event: DuckDB serialises the writers, and
// a losing transaction fails with a conflict, which here means "nothing
// for you this time".
func (e *Engine) ClaimAlerts(ctx context.Context, holder string, now, leaseUntil int64, limit int) ([]store.AlertEvent, error) {
	if limit <= 0 || limit > store.MaxLimit {
		limit = store.MaxLimit
	}
	rs, err := e.db.QueryContext(ctx, stmt.ClaimAlerts(stmt.DuckDB(), holder, now, leaseUntil, limit))
	if err != nil {
		if errors.Is(conflict("claim alerts", err), store.ErrConflict) {
			return []store.AlertEvent{}, nil
		}
		return nil, unavailable("claim alerts", err)
	}
	defer rs.Close()
	out := []store.AlertEvent{}
	for rs.Next() {
		ev, err := scanEvent(rs)
		if err != nil {
			return nil, unavailable("claim alerts", err)
		}
		out = append(out, ev)
	}
	if err := rs.Err(); err != nil {
		return nil, unavailable("claim alerts", err)
	}
	return out, nil
}

// FinishAlert implements store.AlertStore.
func (e *Engine) FinishAlert(ctx context.Context, id, holder string, delivered bool, errMsg string, nextAttempt, now int64) error {
	state, deliveredAt := "pending", int64(0)
	switch {
	case delivered:
		state, deliveredAt = "delivered", now
	case nextAttempt == 0:
		state = "failed"
	}
	d := stmt.DuckDB()
	res, err := e.db.ExecContext(ctx, stmt.FinishAlert(d, id, holder, stmt.AlertOutcome(d, state, deliveredAt, errMsg, nextAttempt)))
	if err != nil {
		return conflict("finish alert", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("finish alert %q: lease lost: %w", id, store.ErrConflict)
	}
	return nil
}

// AlertEvents implements store.AlertStore.
func (e *Engine) AlertEvents(ctx context.Context, ruleID string, limit int) ([]store.AlertEvent, error) {
	if limit <= 0 || limit > store.MaxLimit {
		limit = store.MaxLimit
	}
	rs, err := e.db.QueryContext(ctx, stmt.AlertEvents(stmt.DuckDB(), ruleID, limit))
	if err != nil {
		return nil, unavailable("list alert events", err)
	}
	defer rs.Close()
	out := []store.AlertEvent{}
	for rs.Next() {
		ev, err := scanEvent(rs)
		if err != nil {
			return nil, unavailable("list alert events", err)
		}
		out = append(out, ev)
	}
	if err := rs.Err(); err != nil {
		return nil, unavailable("list alert events", err)
	}
	return out, nil
}

// ObserveContracts implements store.ContractStore: read, merge in Go,
// write, per contract, in one transaction.
func (e *Engine) ObserveContracts(ctx context.Context, cs []store.Contract) (err error) {
	if len(cs) == 0 {
		return nil
	}
	// Not ctx: database/sql rolls a transaction back asynchronously when
	// its context ends, which could leave it open past Close; the defer
	// below rolls back synchronously instead.
	tx, err := e.db.BeginTx(context.WithoutCancel(ctx), nil)
	if err != nil {
		return unavailable("observe contracts", err)
	}
	defer func() {
		if err != nil {
			tx.Rollback()
		}
	}()
	d := stmt.DuckDB()
	for i := range cs {
		c := &cs[i]
		var (
			fields      string
			first, last int64
		)
		err := tx.QueryRowContext(ctx, stmt.Contract(d, c)).Scan(&fields, &first, &last)
		merged := map[string]string{}
		switch {
		case errors.Is(err, sql.ErrNoRows):
			first, last = c.FirstSeen, c.LastSeen
		case err != nil:
			return conflict("observe contracts", err)
		default:
			if err := json.Unmarshal([]byte(fields), &merged); err != nil {
				return fmt.Errorf("observe contracts: stored fields of %s: %w", c.Channel, err)
			}
			first, last = min(first, c.FirstSeen), max(last, c.LastSeen)
		}
		for k, t := range c.Fields {
			merged[k] = store.JoinTypes(merged[k], t)
		}
		b, _ := json.Marshal(merged)
		if _, err := tx.ExecContext(ctx, stmt.PutContract(d, c, string(b), first, last)); err != nil {
			return conflict("observe contracts", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return conflict("observe contracts", err)
	}
	return nil
}

// Contracts implements store.ContractStore.
func (e *Engine) Contracts(ctx context.Context, channel string) ([]store.Contract, error) {
	rs, err := e.db.QueryContext(ctx, stmt.Contracts(stmt.DuckDB(), channel))
	if err != nil {
		return nil, unavailable("read contracts", err)
	}
	defer rs.Close()
	out := []store.Contract{}
	for rs.Next() {
		c := store.Contract{Channel: channel}
		var fields string
		if err := rs.Scan(&c.Service, &c.Version, &fields, &c.FirstSeen, &c.LastSeen); err != nil {
			return nil, unavailable("read contracts", err)
		}
		if err := json.Unmarshal([]byte(fields), &c.Fields); err != nil {
			return nil, fmt.Errorf("read contracts of %s: %w", channel, err)
		}
		out = append(out, c)
	}
	if err := rs.Err(); err != nil {
		return nil, unavailable("read contracts", err)
	}
	return out, nil
}
