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
	"time"

	"github.com/ariadnehq/ariadne/internal/invocation"
	"github.com/ariadnehq/ariadne/internal/model"
	"github.com/ariadnehq/ariadne/internal/store"
)

var (
	_ store.DetectReader  = (*Engine)(nil)
	_ store.IssueStore    = (*Engine)(nil)
	_ store.AlertStore    = (*Engine)(nil)
	_ store.ContractStore = (*Engine)(nil)
)

// sqlStr is a SQL string literal; used where a list of strings would
// otherwise need one placeholder per element.
func sqlStr(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

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
	if err := checkRange(r); err != nil {
		return nil, false, fmt.Errorf("read spans for detection: %w", err)
	}
	var conds []string
	if f.Errors {
		conds = append(conds, "status_code = "+strconv.Itoa(int(model.StatusError)))
	}
	if len(f.AttrKeys) > 0 {
		lits := make([]string, len(f.AttrKeys))
		for i, k := range f.AttrKeys {
			lits[i] = sqlStr(k)
		}
		conds = append(conds, "list_has_any(attr_keys, ["+strings.Join(lits, ", ")+"])")
	}
	for _, b := range f.AttrAtLeast {
		// Attribute values are stored in canonical string form; an int
		// attribute casts back exactly, anything else to NULL.
		conds = append(conds, fmt.Sprintf("TRY_CAST(attr_values[list_position(attr_keys, %s)] AS BIGINT) >= %d", sqlStr(b.Key), b.Min))
	}
	if f.Producers {
		conds = append(conds, "kind = "+strconv.Itoa(int(model.KindProducer))+" OR messaging_operation IN ('publish', 'send', 'create')")
	}
	for _, d := range f.DestinationContains {
		conds = append(conds, "contains(lower(destination), "+sqlStr(strings.ToLower(d))+")")
	}
	out := []model.Span{}
	if len(conds) == 0 {
		return out, false, nil
	}
	limit = clampRows(limit)
	t := &e.schema.spans
	q := "SELECT " + t.columnList("") + " FROM spans WHERE " + startWindow("start_time", r) + " AND " + rangeCond("start_time + duration_ns", r) +
		" AND (" + strings.Join(conds, " OR ") + ") ORDER BY start_time, span_id LIMIT " + strconv.Itoa(limit+1)
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

// startWindow bounds the start of rows that may end in r, so that zone
// maps prune the scan.
func startWindow(col string, r store.TimeRange) string {
	w := store.TimeRange{End: r.End}
	if r.Start != 0 {
		w.Start = r.Start - store.DetectMaxDuration
	}
	return rangeCond(col, w)
}

// DetectInvocations implements store.DetectReader: SQL picks the request
// ids some row of which could make the merged record match, the merge
// decides.
func (e *Engine) DetectInvocations(ctx context.Context, q store.DetectInvocationQuery, limit int) ([]model.Invocation, bool, error) {
	if err := checkRange(q.TimeRange); err != nil {
		return nil, false, fmt.Errorf("read invocations for detection: %w", err)
	}
	var conds []string
	if len(q.Statuses) > 0 {
		var lits []string
		for _, s := range q.Statuses {
			lits = append(lits, sqlStr(string(s)))
			if s == model.InvocationTimeout || s == model.InvocationCrash {
				lits = append(lits, sqlStr(string(model.InvocationStarted)))
			}
		}
		conds = append(conds, "bool_or(status IN ("+strings.Join(lits, ", ")+"))")
	}
	if q.MinAttempt > 0 {
		// The merge counts attempts from the gaps between rows (async
		// retries reuse the request id), so rows spread wider than one
		// gap are candidates too.
		conds = append(conds, "max(attempt) >= "+strconv.Itoa(int(q.MinAttempt))+
			` OR max("start") - min("start") > `+strconv.FormatInt(invocation.AttemptGap, 10))
	}
	if q.ColdStarts {
		conds = append(conds, "bool_or(cold_start OR init_duration > 0)")
	}
	out := []model.Invocation{}
	if len(conds) == 0 {
		return out, false, nil
	}
	limit = clampRows(limit)
	// A start marker's deadline only counts while nothing else ended the
	// invocation: rows are never updated, the marker stays "started".
	end := `CASE WHEN bool_or(status <> 'started') THEN max(CASE WHEN status <> 'started' THEN "start" + coalesce(duration, 0) END)
		ELSE max(CASE WHEN deadline > 0 THEN deadline + ` + strconv.FormatInt(invocation.DeadlineGrace, 10) + ` ELSE "start" END) END`
	query := `SELECT request_id, min("start") AS s FROM invocations WHERE ` + startWindow(`"start"`, q.TimeRange) +
		" GROUP BY request_id HAVING " + rangeCond(end, q.TimeRange) + " AND (" + strings.Join(conds, " OR ") + ")" + " ORDER BY s, request_id LIMIT " + strconv.Itoa(limit+1)
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

const issueCols = "id, kind, fingerprint, title, function, channel, severity, status, first_seen, last_seen, count, " +
	"sample_traces, explanation, opened_at, resolved_at, regressions, updated_at"

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
	is.SampleTraces = parseTraces(traces.String)
	return is, nil
}

func parseTraces(s string) []model.TraceID {
	out := []model.TraceID{}
	for _, f := range strings.Fields(s) {
		if id, err := model.ParseTraceID(f); err == nil {
			out = append(out, id)
		}
	}
	return out
}

func formatTraces(ids []model.TraceID) string {
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = id.String()
	}
	return strings.Join(s, " ")
}

// mergeTraces appends add to have, dropping repeats, and keeps the newest
// store.MaxSampleTraces.
func mergeTraces(have, add []model.TraceID) []model.TraceID {
	for _, id := range add {
		if id.IsZero() {
			continue
		}
		if i := slices.Index(have, id); i >= 0 {
			have = slices.Delete(have, i, i+1)
		}
		have = append(have, id)
	}
	if len(have) > store.MaxSampleTraces {
		have = have[len(have)-store.MaxSampleTraces:]
	}
	return have
}

// DetectorWatermark implements store.IssueStore.
func (e *Engine) DetectorWatermark(ctx context.Context, name string) (int64, error) {
	var wm int64
	err := e.db.QueryRowContext(ctx, "SELECT watermark FROM detector_state WHERE name = ?", name).Scan(&wm)
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
	if err := tx.QueryRowContext(ctx, "SELECT watermark FROM detector_state WHERE name = ?", name).Scan(&cur); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return conflict("commit detection", err)
	}
	if cur.Int64 != from {
		return fmt.Errorf("commit detection %s: watermark is %d, not %d: %w", name, cur.Int64, from, store.ErrConflict)
	}
	if cur.Valid {
		_, err = tx.ExecContext(ctx, "UPDATE detector_state SET watermark = ?, updated_at = ? WHERE name = ?", to, now, name)
	} else {
		_, err = tx.ExecContext(ctx, "INSERT INTO detector_state VALUES (?, ?, ?)", name, to, now)
	}
	if err != nil {
		return conflict("commit detection", err)
	}
	for i := range occ {
		if err := foldOccurrence(ctx, tx, &occ[i], now); err != nil {
			return conflict("commit detection", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return conflict("commit detection", err)
	}
	return nil
}

func foldOccurrence(ctx context.Context, tx *sql.Tx, o *store.IssueOccurrence, now int64) error {
	id := store.IssueID(o.Kind, o.Fingerprint)
	is, err := scanIssue(tx.QueryRowContext(ctx, "SELECT "+issueCols+" FROM issues WHERE id = ?", id))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		_, err = tx.ExecContext(ctx, "INSERT INTO issues ("+issueCols+") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
			id, o.Kind, o.Fingerprint, o.Title, o.Function, o.Channel, o.Severity, string(store.IssueOpen), o.First, o.Last, o.Count,
			formatTraces(mergeTraces(nil, o.Traces)), o.Explanation, o.First, int64(0), int32(0), now)
	case err != nil:
		return err
	default:
		if is.Status == store.IssueResolved && o.Last > is.ResolvedAt {
			is.Status, is.Regressions, is.OpenedAt, is.ResolvedAt = store.IssueOpen, is.Regressions+1, max(o.First, is.ResolvedAt), 0
		}
		_, err = tx.ExecContext(ctx, `UPDATE issues SET title = ?, severity = ?, status = ?, first_seen = ?, last_seen = ?, count = ?,
			sample_traces = ?, explanation = ?, opened_at = ?, resolved_at = ?, regressions = ?, updated_at = ? WHERE id = ?`,
			o.Title, o.Severity, string(is.Status), min(is.FirstSeen, o.First), max(is.LastSeen, o.Last), is.Count+o.Count,
			formatTraces(mergeTraces(is.SampleTraces, o.Traces)), o.Explanation, is.OpenedAt, is.ResolvedAt, is.Regressions, now, id)
	}
	if err != nil {
		return err
	}
	bucket := o.Last - o.Last%int64(time.Minute)
	_, err = tx.ExecContext(ctx, `INSERT INTO issue_counts VALUES (?, ?, ?)
		ON CONFLICT (issue_id, bucket) DO UPDATE SET count = issue_counts.count + excluded.count`, id, bucket, o.Count)
	return err
}

// Issues implements store.IssueStore.
func (e *Engine) Issues(ctx context.Context, q store.IssueQuery) ([]store.Issue, error) {
	if err := checkRange(q.TimeRange); err != nil {
		return nil, fmt.Errorf("list issues: %w", err)
	}
	conds := []string{rangeCond("last_seen", q.TimeRange)}
	var args []any
	if q.Kind != "" {
		conds, args = append(conds, "kind = ?"), append(args, q.Kind)
	}
	if q.Status != "" {
		conds, args = append(conds, "status = ?"), append(args, string(q.Status))
	}
	if q.Function != "" {
		conds, args = append(conds, "(function = ? OR channel = ?)"), append(args, q.Function, q.Function)
	}
	limit := q.Limit
	if limit <= 0 || limit > store.MaxLimit {
		limit = store.MaxLimit
	}
	rs, err := e.db.QueryContext(ctx, "SELECT "+issueCols+" FROM issues WHERE "+strings.Join(conds, " AND ")+
		" ORDER BY last_seen DESC, id LIMIT "+strconv.Itoa(limit), args...)
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
	is, err := scanIssue(e.db.QueryRowContext(ctx, "SELECT "+issueCols+" FROM issues WHERE id = ?", id))
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
	resolvedAt := "0"
	if s == store.IssueResolved {
		resolvedAt = strconv.FormatInt(now, 10)
	}
	res, err := e.db.ExecContext(ctx, "UPDATE issues SET status = ?, resolved_at = "+resolvedAt+", updated_at = ? WHERE id = ?", string(s), now, id)
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
	res, err := e.db.ExecContext(ctx, "UPDATE issues SET status = 'resolved', resolved_at = ?, updated_at = ? WHERE status = 'open' AND last_seen < ?",
		now, now, before)
	if err != nil {
		return 0, conflict("resolve stale issues", err)
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}

// IssueCounts implements store.IssueStore.
func (e *Engine) IssueCounts(ctx context.Context, since int64) (map[string]int64, error) {
	rs, err := e.db.QueryContext(ctx, "SELECT issue_id, sum(count)::BIGINT FROM issue_counts WHERE bucket >= ? GROUP BY issue_id",
		since-since%int64(time.Minute))
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

const ruleCols = "id, name, kind, function, any_new, threshold, window_ns, target, url, to_addrs, created"

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
	rs, err := e.db.QueryContext(ctx, "SELECT "+ruleCols+" FROM alert_rules ORDER BY created, id LIMIT "+strconv.Itoa(store.MaxLimit))
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
	ru, err := scanRule(e.db.QueryRowContext(ctx, "SELECT "+ruleCols+" FROM alert_rules WHERE id = ?", id))
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
	_, err := e.db.ExecContext(ctx, "INSERT OR REPLACE INTO alert_rules ("+ruleCols+") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
		r.ID, r.Name, r.Kind, r.Function, r.AnyNew, r.Threshold, r.WindowNs, r.Target, r.URL, r.To, r.Created)
	if err != nil {
		return conflict("put alert rule", err)
	}
	return nil
}

// DeleteAlertRule implements store.AlertStore.
func (e *Engine) DeleteAlertRule(ctx context.Context, id string) error {
	res, err := e.db.ExecContext(ctx, "DELETE FROM alert_rules WHERE id = ?", id)
	if err != nil {
		return conflict("delete alert rule", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("delete alert rule %q: %w", id, store.ErrNotFound)
	}
	if _, err := e.db.ExecContext(ctx, "DELETE FROM alert_events WHERE rule_id = ?", id); err != nil {
		return conflict("delete alert rule", err)
	}
	return nil
}

const eventCols = "id, rule_id, issue_id, type, episode, state, attempts, next_attempt, last_error, created, delivered_at"

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
	cond := "TRUE"
	if ev.Type == "resolved" {
		cond = "EXISTS (SELECT 1 FROM alert_events WHERE rule_id = $2 AND issue_id = $3 AND type = 'firing' AND episode = $5)"
	}
	res, err := e.db.ExecContext(ctx, `INSERT INTO alert_events (id, rule_id, issue_id, type, episode, state, attempts, next_attempt,
		lease_holder, lease_until, last_error, created, delivered_at)
		SELECT $1, $2, $3, $4, $5, 'pending', 0, $6, NULL, 0, NULL, $6, 0 WHERE `+cond+` ON CONFLICT DO NOTHING`,
		ev.ID, ev.RuleID, ev.IssueID, ev.Type, ev.Episode, ev.Created)
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
	rs, err := e.db.QueryContext(ctx, `UPDATE alert_events SET lease_holder = ?, lease_until = ?, attempts = attempts + 1
		WHERE id IN (SELECT id FROM alert_events WHERE state = 'pending' AND next_attempt <= ? AND lease_until <= ?
		ORDER BY created, id LIMIT `+strconv.Itoa(limit)+`) AND state = 'pending' AND lease_until <= ? RETURNING `+eventCols,
		holder, leaseUntil, now, now, now)
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
	res, err := e.db.ExecContext(ctx, `UPDATE alert_events SET state = ?, delivered_at = ?, last_error = ?, next_attempt = ?,
		lease_holder = NULL, lease_until = 0 WHERE id = ? AND lease_holder = ?`, state, deliveredAt, errMsg, nextAttempt, id, holder)
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
	cond, args := "TRUE", []any{}
	if ruleID != "" {
		cond, args = "rule_id = ?", append(args, ruleID)
	}
	rs, err := e.db.QueryContext(ctx, "SELECT "+eventCols+" FROM alert_events WHERE "+cond+" ORDER BY created DESC, id LIMIT "+strconv.Itoa(limit), args...)
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
	for _, c := range cs {
		var (
			fields      string
			first, last int64
		)
		err := tx.QueryRowContext(ctx, "SELECT fields, first_seen, last_seen FROM contracts WHERE channel = ? AND service = ? AND version = ?",
			c.Channel, c.Service, c.Version).Scan(&fields, &first, &last)
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
		if _, err := tx.ExecContext(ctx, `INSERT INTO contracts VALUES (?, ?, ?, ?, ?, ?)
			ON CONFLICT (channel, service, version) DO UPDATE SET fields = excluded.fields, first_seen = excluded.first_seen, last_seen = excluded.last_seen`,
			c.Channel, c.Service, c.Version, string(b), first, last); err != nil {
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
	rs, err := e.db.QueryContext(ctx, "SELECT service, version, fields, first_seen, last_seen FROM contracts WHERE channel = ? ORDER BY first_seen, service, version LIMIT "+
		strconv.Itoa(store.MaxLimit), channel)
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
