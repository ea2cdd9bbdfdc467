package clickhouse

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

	"github.com/ClickHouse/clickhouse-go/v2"

	"github.com/ariadnehq/ariadne/internal/invocation"
	"github.com/ariadnehq/ariadne/internal/model"
	"github.com/ariadnehq/ariadne/internal/store"
	"github.com/ariadnehq/ariadne/internal/store/shared"
)

var (
	_ store.DetectReader  = (*Engine)(nil)
	_ store.IssueStore    = (*Engine)(nil)
	_ store.AlertStore    = (*Engine)(nil)
	_ store.ContractStore = (*Engine)(nil)
)

// startWindow bounds the start of rows that may end in r, so that the
// scan is pruned by time.
func startWindow(col string, r store.TimeRange) string {
	w := store.TimeRange{End: r.End}
	if r.Start != 0 {
		w.Start = r.Start - store.DetectMaxDuration
	}
	return rangeCond(col, w)
}

// DetectSpans implements store.DetectReader.
func (e *Engine) DetectSpans(ctx context.Context, r store.TimeRange, f store.DetectSpanFilter, limit int) ([]model.Span, bool, error) {
	if err := shared.CheckRange(r); err != nil {
		return nil, false, fmt.Errorf("read spans for detection: %w", err)
	}
	var conds []string
	if f.Errors {
		conds = append(conds, "status_code = "+strconv.Itoa(int(model.StatusError)))
	}
	if len(f.AttrKeys) > 0 {
		conds = append(conds, "hasAny(mapKeys(attributes), ["+sqlStrs(f.AttrKeys)+"])")
	}
	for _, b := range f.AttrAtLeast {
		// Values are stored in canonical string form: an int attribute
		// parses back exactly, anything else is NULL.
		conds = append(conds, fmt.Sprintf("toInt64OrNull(attributes[%s]) >= %d", sqlStr(b.Key), b.Min))
	}
	if f.Producers {
		conds = append(conds, "kind = "+strconv.Itoa(int(model.KindProducer))+" OR messaging_operation IN ('publish', 'send', 'create')")
	}
	for _, d := range f.DestinationContains {
		conds = append(conds, "positionCaseInsensitiveUTF8(destination, "+sqlStr(d)+") > 0")
	}
	out := []model.Span{}
	if len(conds) == 0 {
		return out, false, nil
	}
	if err := e.readable("read spans for detection"); err != nil {
		return nil, false, err
	}
	limit = clampRows(limit)
	t := &e.sch.spans
	q := "SELECT " + t.list() + " FROM " + e.t("spans") + " WHERE " + startWindow("start_time", r) + " AND " + rangeCond("(start_time + duration_ns)", r) +
		" AND ((" + strings.Join(conds, ") OR (") + ")) ORDER BY start_time, span_id LIMIT " + strconv.Itoa(limit+1)
	rows, err := selectRows(ctx, e, t, q, (*spanRow).fix)
	if err != nil {
		return nil, false, e.fail("read spans for detection", err)
	}
	rows = dedupSpans(rows)
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
	var conds []string
	if len(q.Statuses) > 0 {
		var lits []string
		for _, s := range q.Statuses {
			lits = append(lits, sqlStr(string(s)))
			if s == model.InvocationTimeout || s == model.InvocationCrash {
				lits = append(lits, sqlStr(string(model.InvocationStarted)))
			}
		}
		conds = append(conds, "max(status IN ("+strings.Join(lits, ", ")+"))")
	}
	if q.MinAttempt > 0 {
		// The merge counts attempts from gaps between rows too.
		conds = append(conds, "max(attempt) >= "+strconv.Itoa(int(q.MinAttempt))+
			" OR max(start) - min(start) > "+strconv.FormatInt(invocation.AttemptGap, 10))
	}
	if q.ColdStarts {
		conds = append(conds, "max(cold_start OR init_duration > 0)")
	}
	out := []model.Invocation{}
	if len(conds) == 0 {
		return out, false, nil
	}
	if err := e.readable("read invocations for detection"); err != nil {
		return nil, false, err
	}
	limit = clampRows(limit)
	// A start marker's deadline only counts while nothing else ended the
	// invocation: rows are never updated, the marker stays "started".
	end := `(if(countIf(status != 'started') > 0, maxIf(start + duration, status != 'started'),
		max(if(deadline > 0, deadline + ` + strconv.FormatInt(invocation.DeadlineGrace, 10) + `, start))))`
	query := "SELECT request_id, min(start) AS s FROM " + e.t("invocations") + " WHERE " + startWindow("start", q.TimeRange) +
		" GROUP BY request_id HAVING " + rangeCond(end, q.TimeRange) + " AND ((" + strings.Join(conds, ") OR (") + "))" +
		" ORDER BY s, request_id LIMIT " + strconv.Itoa(limit+1)
	var keys []shared.InvKey
	err := e.each(ctx, query, func(scan func(...any) error) error {
		var k shared.InvKey
		if err := scan(&k.ID, &k.Start); err != nil {
			return err
		}
		keys = append(keys, k)
		return nil
	})
	if err != nil {
		return nil, false, e.fail("read invocations for detection", err)
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
		return nil, false, e.fail("read invocations for detection", err)
	}
	for _, k := range keys {
		rec, ok := recs[k.ID]
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

// Shared state in KeeperMap. A row updated by several nodes changes by
// compare-and-set: read it with its rev, compute the new row, and run
// ALTER TABLE … UPDATE … WHERE key = k AND rev = old in strict mode, which
// Keeper applies atomically (a concurrent change fails it) and which
// records a fresh rev in revs. The writer then reads revs back: its rev
// there means it won (another writer may have changed the row again since,
// so rev alone would not say).

func strict(ctx context.Context) context.Context {
	return clickhouse.Context(ctx, clickhouse.WithSettings(clickhouse.Settings{"keeper_map_strict_mode": 1}))
}

// keeperConflict reports the exceptions of a strict-mode write that lost
// a race: the key exists, or its version moved.
func keeperConflict(err error) bool {
	var ex *clickhouse.Exception
	if !errors.As(err, &ex) || ex.Code != 999 {
		return false
	}
	m := strings.ToLower(ex.Message)
	return strings.Contains(m, "node exists") || strings.Contains(m, "version") || strings.Contains(m, "bad")
}

// insertNew inserts one row unless its key exists; false when it did.
func (e *Engine) insertNew(ctx context.Context, table, cols, values string) (bool, error) {
	err := e.conn.Exec(strict(ctx), "INSERT INTO "+e.t(table)+" ("+cols+") VALUES ("+values+")")
	if keeperConflict(err) {
		return false, nil
	}
	return err == nil, err
}

// casUpdate sets set on the row keyCol = key whose rev is old and says
// whether this update is the one that happened.
func (e *Engine) casUpdate(ctx context.Context, table, keyCol, key, old, set string) (bool, error) {
	rev := newToken()
	err := e.conn.Exec(strict(ctx), fmt.Sprintf("ALTER TABLE %s UPDATE %s, rev = %s, revs = arraySlice(arrayPushBack(revs, %s), -8) WHERE %s = %s AND rev = %s",
		e.t(table), set, sqlStr(rev), sqlStr(rev), keyCol, sqlStr(key), sqlStr(old)))
	if keeperConflict(err) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	var won uint8
	err = e.conn.QueryRow(ctx, fmt.Sprintf("SELECT has(revs, %s) FROM %s WHERE %s = %s", sqlStr(rev), e.t(table), keyCol, sqlStr(key))).Scan(&won)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return won == 1, err
}

// casAttempts bounds the retries of a compare-and-set under contention.
const casAttempts = 20

func lit(v any) string {
	switch x := v.(type) {
	case string:
		return sqlStr(x)
	case bool:
		if x {
			return "true"
		}
		return "false"
	case int64:
		return strconv.FormatInt(x, 10)
	case int32:
		return strconv.FormatInt(int64(x), 10)
	case int:
		return strconv.Itoa(x)
	}
	panic(fmt.Sprintf("lit: %T", v))
}

func lits(vs ...any) string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = lit(v)
	}
	return strings.Join(out, ", ")
}

// sets renders "a = 1, b = 'x'" from name, value pairs.
func sets(pairs ...any) string {
	var b strings.Builder
	for i := 0; i < len(pairs); i += 2 {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(pairs[i].(string) + " = " + lit(pairs[i+1]))
	}
	return b.String()
}

// DetectorWatermark implements store.IssueStore.
func (e *Engine) DetectorWatermark(ctx context.Context, name string) (int64, error) {
	if err := e.readable("read detector watermark"); err != nil {
		return 0, err
	}
	var wm int64
	err := e.conn.QueryRow(ctx, "SELECT watermark FROM "+e.t("detector_state")+" WHERE name = "+sqlStr(name)).Scan(&wm)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, e.fail("read detector watermark", err)
	}
	return wm, nil
}

// CommitDetection implements store.IssueStore. The watermark's
// compare-and-set decides which node counts the window; that node then
// folds the occurrences into the issues, each by its own compare-and-set.
// Unlike the embedded engine the two steps are not one transaction: a node
// that dies between them loses that window's occurrences (never counts
// them twice).
func (e *Engine) CommitDetection(ctx context.Context, name string, from, to int64, occ []store.IssueOccurrence, now int64) error {
	if err := e.readable("commit detection"); err != nil {
		return err
	}
	var (
		wm  int64
		rev string
	)
	err := e.conn.QueryRow(ctx, "SELECT watermark, rev FROM "+e.t("detector_state")+" WHERE name = "+sqlStr(name)).Scan(&wm, &rev)
	missing := errors.Is(err, sql.ErrNoRows)
	if err != nil && !missing {
		return e.fail("commit detection", err)
	}
	if wm != from {
		return fmt.Errorf("commit detection %s: watermark is %d, not %d: %w", name, wm, from, store.ErrConflict)
	}
	var won bool
	if missing {
		r := newToken()
		won, err = e.insertNew(ctx, "detector_state", "name, watermark, updated_at, rev, revs",
			lits(name, to, now, r)+", ["+sqlStr(r)+"]")
	} else {
		won, err = e.casUpdate(ctx, "detector_state", "name", name, rev, sets("watermark", to, "updated_at", now))
	}
	if err != nil {
		return e.fail("commit detection", err)
	}
	if !won {
		return fmt.Errorf("commit detection %s: another node committed the window from %d: %w", name, from, store.ErrConflict)
	}
	var counts []string
	for i := range occ {
		if err := e.foldOccurrence(ctx, &occ[i], now); err != nil {
			return e.fail("commit detection: fold occurrence", err)
		}
		o := &occ[i]
		bucket := o.Last - o.Last%int64(time.Minute)
		counts = append(counts, "("+lits(store.IssueID(o.Kind, o.Fingerprint), bucket, o.Count)+")")
	}
	if len(counts) > 0 {
		if err := e.conn.Exec(ctx, "INSERT INTO "+e.t("issue_counts")+" (issue_id, bucket, count) VALUES "+strings.Join(counts, ", ")); err != nil {
			return e.fail("commit detection: count occurrences", err)
		}
	}
	return nil
}

const issueCols = "id, kind, fingerprint, title, function, channel, severity, status, first_seen, last_seen, count, " +
	"sample_traces, explanation, opened_at, resolved_at, regressions, updated_at"

func scanIssue(scan func(...any) error, rev *string) (store.Issue, error) {
	var (
		is             store.Issue
		status, traces string
	)
	dest := []any{&is.ID, &is.Kind, &is.Fingerprint, &is.Title, &is.Function, &is.Channel, &is.Severity, &status,
		&is.FirstSeen, &is.LastSeen, &is.Count, &traces, &is.Explanation, &is.OpenedAt, &is.ResolvedAt, &is.Regressions, &is.UpdatedAt}
	if rev != nil {
		dest = append(dest, rev)
	}
	if err := scan(dest...); err != nil {
		return is, err
	}
	is.Status, is.SampleTraces = store.IssueStatus(status), shared.ParseTraces(traces)
	return is, nil
}

func issueValues(is *store.Issue) []any {
	return []any{is.ID, is.Kind, is.Fingerprint, is.Title, is.Function, is.Channel, is.Severity, string(is.Status),
		is.FirstSeen, is.LastSeen, is.Count, shared.FormatTraces(is.SampleTraces), is.Explanation, is.OpenedAt, is.ResolvedAt,
		is.Regressions, is.UpdatedAt}
}

// issue reads one issue and its rev; found false when unknown.
func (e *Engine) issue(ctx context.Context, id string) (is store.Issue, rev string, found bool, err error) {
	err = e.each(ctx, "SELECT "+issueCols+", rev FROM "+e.t("issues")+" WHERE id = "+sqlStr(id), func(scan func(...any) error) error {
		var err error
		is, err = scanIssue(scan, &rev)
		found = true
		return err
	})
	return is, rev, found, err
}

// putIssue writes is over the row of rev (or as a new row when !found);
// false when another writer got there first.
func (e *Engine) putIssue(ctx context.Context, is *store.Issue, rev string, found bool) (bool, error) {
	vals := issueValues(is)
	if !found {
		r := newToken()
		return e.insertNew(ctx, "issues", issueCols+", rev, revs", lits(vals...)+", "+sqlStr(r)+", ["+sqlStr(r)+"]")
	}
	names := strings.Split(issueCols, ", ")
	pairs := make([]any, 0, 2*len(names))
	for i, n := range names[1:] { // the key column cannot be updated
		pairs = append(pairs, n, vals[i+1])
	}
	return e.casUpdate(ctx, "issues", "id", is.ID, rev, sets(pairs...))
}

// updateIssue applies change to issue id by compare-and-set, retrying on
// contention; ErrNotFound when the issue is unknown and change needs one.
func (e *Engine) updateIssue(ctx context.Context, id string, change func(is *store.Issue, found bool) (store.Issue, bool)) (store.Issue, error) {
	for range casAttempts {
		is, rev, found, err := e.issue(ctx, id)
		if err != nil {
			return is, err
		}
		next, ok := change(&is, found)
		if !ok {
			if !found {
				return is, fmt.Errorf("issue %q: %w", id, store.ErrNotFound)
			}
			return is, nil
		}
		won, err := e.putIssue(ctx, &next, rev, found)
		if err != nil {
			return is, err
		}
		if won {
			return next, nil
		}
	}
	return store.Issue{}, fmt.Errorf("issue %q: %d lost races: %w", id, casAttempts, store.ErrConflict)
}

func (e *Engine) foldOccurrence(ctx context.Context, o *store.IssueOccurrence, now int64) error {
	_, err := e.updateIssue(ctx, store.IssueID(o.Kind, o.Fingerprint), func(is *store.Issue, found bool) (store.Issue, bool) {
		if !found {
			return shared.FoldOccurrence(nil, o, now), true
		}
		return shared.FoldOccurrence(is, o, now), true
	})
	return err
}

// Issues implements store.IssueStore.
func (e *Engine) Issues(ctx context.Context, q store.IssueQuery) ([]store.Issue, error) {
	if err := shared.CheckRange(q.TimeRange); err != nil {
		return nil, fmt.Errorf("list issues: %w", err)
	}
	if err := e.readable("list issues"); err != nil {
		return nil, err
	}
	conds := []string{rangeCond("last_seen", q.TimeRange)}
	if q.Kind != "" {
		conds = append(conds, "kind = "+sqlStr(q.Kind))
	}
	if q.Status != "" {
		conds = append(conds, "status = "+sqlStr(string(q.Status)))
	}
	if q.Function != "" {
		conds = append(conds, "(function = "+sqlStr(q.Function)+" OR channel = "+sqlStr(q.Function)+")")
	}
	limit := q.Limit
	if limit <= 0 || limit > store.MaxLimit {
		limit = store.MaxLimit
	}
	out := []store.Issue{}
	err := e.each(ctx, "SELECT "+issueCols+" FROM "+e.t("issues")+" WHERE "+strings.Join(conds, " AND ")+
		" ORDER BY last_seen DESC, id LIMIT "+strconv.Itoa(limit), func(scan func(...any) error) error {
		is, err := scanIssue(scan, nil)
		out = append(out, is)
		return err
	})
	if err != nil {
		return nil, e.fail("list issues", err)
	}
	return out, nil
}

// Issue implements store.IssueStore.
func (e *Engine) Issue(ctx context.Context, id string) (store.Issue, error) {
	if err := e.readable("read issue"); err != nil {
		return store.Issue{}, err
	}
	is, _, found, err := e.issue(ctx, id)
	if err != nil {
		return is, e.fail("read issue", err)
	}
	if !found {
		return is, fmt.Errorf("read issue %q: %w", id, store.ErrNotFound)
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
	if err := e.readable("set issue status"); err != nil {
		return store.Issue{}, err
	}
	is, err := e.updateIssue(ctx, id, func(is *store.Issue, found bool) (store.Issue, bool) {
		if !found {
			return *is, false
		}
		next := *is
		next.Status, next.ResolvedAt, next.UpdatedAt = s, 0, now
		if s == store.IssueResolved {
			next.ResolvedAt = now
		}
		return next, true
	})
	if err != nil {
		return is, e.fail("set issue status", err)
	}
	return is, nil
}

// ResolveStale implements store.IssueStore.
func (e *Engine) ResolveStale(ctx context.Context, before, now int64) (int, error) {
	if err := e.readable("resolve stale issues"); err != nil {
		return 0, err
	}
	ids, err := e.strings(ctx, "resolve stale issues", fmt.Sprintf("SELECT id FROM %s WHERE status = 'open' AND last_seen < %d ORDER BY id",
		e.t("issues"), before))
	if err != nil {
		return 0, err
	}
	n := 0
	for _, id := range ids {
		changed := false
		_, err := e.updateIssue(ctx, id, func(is *store.Issue, found bool) (store.Issue, bool) {
			if !found || is.Status != store.IssueOpen || is.LastSeen >= before {
				changed = false
				return *is, false
			}
			changed = true
			next := *is
			next.Status, next.ResolvedAt, next.UpdatedAt = store.IssueResolved, now, now
			return next, true
		})
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return n, e.fail("resolve stale issues", err)
		}
		if err == nil && changed {
			n++
		}
	}
	return n, nil
}

// IssueCounts implements store.IssueStore.
func (e *Engine) IssueCounts(ctx context.Context, since int64) (map[string]int64, error) {
	if err := e.readable("count issues"); err != nil {
		return nil, err
	}
	out := map[string]int64{}
	err := e.each(ctx, fmt.Sprintf("SELECT issue_id, sum(count) FROM %s WHERE bucket >= %d GROUP BY issue_id",
		e.t("issue_counts"), since-since%int64(time.Minute)), func(scan func(...any) error) error {
		var (
			id string
			n  int64
		)
		if err := scan(&id, &n); err != nil {
			return err
		}
		out[id] = n
		return nil
	})
	if err != nil {
		return nil, e.fail("count issues", err)
	}
	return out, nil
}

const ruleCols = "id, name, kind, function, any_new, threshold, window_ns, target, url, to_addrs, created"

func scanRule(scan func(...any) error) (store.AlertRule, error) {
	var r store.AlertRule
	err := scan(&r.ID, &r.Name, &r.Kind, &r.Function, &r.AnyNew, &r.Threshold, &r.WindowNs, &r.Target, &r.URL, &r.To, &r.Created)
	return r, err
}

// AlertRules implements store.AlertStore.
func (e *Engine) AlertRules(ctx context.Context) ([]store.AlertRule, error) {
	if err := e.readable("list alert rules"); err != nil {
		return nil, err
	}
	out := []store.AlertRule{}
	err := e.each(ctx, "SELECT "+ruleCols+" FROM "+e.t("alert_rules")+" ORDER BY created, id LIMIT "+strconv.Itoa(store.MaxLimit),
		func(scan func(...any) error) error {
			r, err := scanRule(scan)
			out = append(out, r)
			return err
		})
	if err != nil {
		return nil, e.fail("list alert rules", err)
	}
	return out, nil
}

// AlertRule implements store.AlertStore.
func (e *Engine) AlertRule(ctx context.Context, id string) (store.AlertRule, error) {
	if err := e.readable("read alert rule"); err != nil {
		return store.AlertRule{}, err
	}
	var (
		r     store.AlertRule
		found bool
	)
	err := e.each(ctx, "SELECT "+ruleCols+" FROM "+e.t("alert_rules")+" WHERE id = "+sqlStr(id), func(scan func(...any) error) error {
		var err error
		r, err = scanRule(scan)
		found = true
		return err
	})
	if err != nil {
		return r, e.fail("read alert rule", err)
	}
	if !found {
		return r, fmt.Errorf("read alert rule %q: %w", id, store.ErrNotFound)
	}
	return r, nil
}

// PutAlertRule implements store.AlertStore (an insert replaces the key's row).
func (e *Engine) PutAlertRule(ctx context.Context, r store.AlertRule) error {
	if r.ID == "" {
		return fmt.Errorf("put alert rule: no id: %w", store.ErrInvalid)
	}
	if err := e.readable("put alert rule"); err != nil {
		return err
	}
	err := e.conn.Exec(ctx, "INSERT INTO "+e.t("alert_rules")+" ("+ruleCols+") VALUES ("+
		lits(r.ID, r.Name, r.Kind, r.Function, r.AnyNew, r.Threshold, r.WindowNs, r.Target, r.URL, r.To, r.Created)+")")
	if err != nil {
		return e.fail("put alert rule", err)
	}
	return nil
}

// DeleteAlertRule implements store.AlertStore.
func (e *Engine) DeleteAlertRule(ctx context.Context, id string) error {
	if _, err := e.AlertRule(ctx, id); err != nil {
		return fmt.Errorf("delete alert rule: %w", err)
	}
	for _, q := range []string{
		"DELETE FROM " + e.t("alert_rules") + " WHERE id = " + sqlStr(id),
		"DELETE FROM " + e.t("alert_events") + " WHERE rule_id = " + sqlStr(id),
	} {
		if err := e.conn.Exec(ctx, q); err != nil {
			return e.fail("delete alert rule", err)
		}
	}
	return nil
}

const eventCols = "id, rule_id, issue_id, type, episode, state, attempts, next_attempt, last_error, created, delivered_at"

func scanEvent(scan func(...any) error, extra ...any) (store.AlertEvent, error) {
	var ev store.AlertEvent
	dest := append([]any{&ev.ID, &ev.RuleID, &ev.IssueID, &ev.Type, &ev.Episode, &ev.State, &ev.Attempts, &ev.NextAttempt,
		&ev.LastError, &ev.Created, &ev.DeliveredAt}, extra...)
	return ev, scan(dest...)
}

// EnqueueAlert implements store.AlertStore: the event's id derives from
// (rule, issue, type, episode) and KeeperMap's strict insert refuses a
// second row under it, whichever node tries.
func (e *Engine) EnqueueAlert(ctx context.Context, ev store.AlertEvent) (bool, error) {
	if err := e.readable("enqueue alert"); err != nil {
		return false, err
	}
	if ev.ID == "" {
		ev.ID = store.IssueID(ev.RuleID+"\x00"+ev.IssueID+"\x00"+ev.Type, strconv.FormatInt(ev.Episode, 10))
	}
	if ev.Type == "resolved" {
		var n uint64
		err := e.conn.QueryRow(ctx, fmt.Sprintf("SELECT count() FROM %s WHERE rule_id = %s AND issue_id = %s AND type = 'firing' AND episode = %d",
			e.t("alert_events"), sqlStr(ev.RuleID), sqlStr(ev.IssueID), ev.Episode)).Scan(&n)
		if err != nil {
			return false, e.fail("enqueue alert", err)
		}
		if n == 0 {
			return false, nil
		}
	}
	r := newToken()
	ok, err := e.insertNew(ctx, "alert_events", eventCols+", lease_holder, lease_until, rev, revs",
		lits(ev.ID, ev.RuleID, ev.IssueID, ev.Type, ev.Episode, "pending", int32(0), ev.Created, "", ev.Created, int64(0), "", int64(0), r)+
			", ["+sqlStr(r)+"]")
	if err != nil {
		return false, e.fail("enqueue alert", err)
	}
	return ok, nil
}

// ClaimAlerts implements store.AlertStore: each due event is leased by a
// compare-and-set on its row, so two claimers never both get it.
func (e *Engine) ClaimAlerts(ctx context.Context, holder string, now, leaseUntil int64, limit int) ([]store.AlertEvent, error) {
	if err := e.readable("claim alerts"); err != nil {
		return nil, err
	}
	if limit <= 0 || limit > store.MaxLimit {
		limit = store.MaxLimit
	}
	type cand struct{ id, rev string }
	var cands []cand
	err := e.each(ctx, fmt.Sprintf("SELECT id, rev FROM %s WHERE state = 'pending' AND next_attempt <= %d AND lease_until <= %d ORDER BY created, id LIMIT %d",
		e.t("alert_events"), now, now, limit), func(scan func(...any) error) error {
		var c cand
		err := scan(&c.id, &c.rev)
		cands = append(cands, c)
		return err
	})
	if err != nil {
		return nil, e.fail("claim alerts", err)
	}
	out := []store.AlertEvent{}
	for _, c := range cands {
		won, err := e.casUpdate(ctx, "alert_events", "id", c.id, c.rev,
			fmt.Sprintf("lease_holder = %s, lease_until = %d, attempts = attempts + 1", sqlStr(holder), leaseUntil))
		if err != nil {
			return nil, e.fail("claim alerts", err)
		}
		if !won {
			continue
		}
		err = e.each(ctx, "SELECT "+eventCols+" FROM "+e.t("alert_events")+" WHERE id = "+sqlStr(c.id), func(scan func(...any) error) error {
			ev, err := scanEvent(scan)
			out = append(out, ev)
			return err
		})
		if err != nil {
			return nil, e.fail("claim alerts", err)
		}
	}
	return out, nil
}

// FinishAlert implements store.AlertStore.
func (e *Engine) FinishAlert(ctx context.Context, id, holder string, delivered bool, errMsg string, nextAttempt, now int64) error {
	if err := e.readable("finish alert"); err != nil {
		return err
	}
	state, deliveredAt := "pending", int64(0)
	switch {
	case delivered:
		state, deliveredAt = "delivered", now
	case nextAttempt == 0:
		state = "failed"
	}
	for range casAttempts {
		var (
			h, rev string
			found  bool
		)
		err := e.each(ctx, "SELECT lease_holder, rev FROM "+e.t("alert_events")+" WHERE id = "+sqlStr(id), func(scan func(...any) error) error {
			found = true
			return scan(&h, &rev)
		})
		if err != nil {
			return e.fail("finish alert", err)
		}
		if !found || h != holder {
			return fmt.Errorf("finish alert %q: lease lost: %w", id, store.ErrConflict)
		}
		won, err := e.casUpdate(ctx, "alert_events", "id", id, rev, sets("state", state, "delivered_at", deliveredAt, "last_error", errMsg,
			"next_attempt", nextAttempt, "lease_holder", "", "lease_until", int64(0)))
		if err != nil {
			return e.fail("finish alert", err)
		}
		if won {
			return nil
		}
	}
	return fmt.Errorf("finish alert %q: %w", id, store.ErrConflict)
}

// AlertEvents implements store.AlertStore.
func (e *Engine) AlertEvents(ctx context.Context, ruleID string, limit int) ([]store.AlertEvent, error) {
	if err := e.readable("list alert events"); err != nil {
		return nil, err
	}
	if limit <= 0 || limit > store.MaxLimit {
		limit = store.MaxLimit
	}
	cond := "true"
	if ruleID != "" {
		cond = "rule_id = " + sqlStr(ruleID)
	}
	out := []store.AlertEvent{}
	err := e.each(ctx, "SELECT "+eventCols+" FROM "+e.t("alert_events")+" WHERE "+cond+" ORDER BY created DESC, id LIMIT "+strconv.Itoa(limit),
		func(scan func(...any) error) error {
			ev, err := scanEvent(scan)
			out = append(out, ev)
			return err
		})
	if err != nil {
		return nil, e.fail("list alert events", err)
	}
	return out, nil
}

func contractKey(c *store.Contract) string {
	return c.Channel + "\x00" + c.Service + "\x00" + c.Version
}

// ObserveContracts implements store.ContractStore: read, merge, write by
// compare-and-set, per contract; merging is idempotent, so a retry after
// a lost race changes nothing it should not.
func (e *Engine) ObserveContracts(ctx context.Context, cs []store.Contract) error {
	if len(cs) == 0 {
		return nil
	}
	if err := e.readable("observe contracts"); err != nil {
		return err
	}
	for i := range cs {
		c := &cs[i]
		key := contractKey(c)
		done := false
		for range casAttempts {
			var (
				fields, rev string
				first, last int64
				found       bool
			)
			err := e.each(ctx, "SELECT fields, first_seen, last_seen, rev FROM "+e.t("contracts")+" WHERE key = "+sqlStr(key),
				func(scan func(...any) error) error {
					found = true
					return scan(&fields, &first, &last, &rev)
				})
			if err != nil {
				return e.fail("observe contracts", err)
			}
			merged := map[string]string{}
			if found {
				if err := json.Unmarshal([]byte(fields), &merged); err != nil {
					return fmt.Errorf("observe contracts: stored fields of %s: %w", c.Channel, err)
				}
				first, last = min(first, c.FirstSeen), max(last, c.LastSeen)
			} else {
				first, last = c.FirstSeen, c.LastSeen
			}
			for k, t := range c.Fields {
				merged[k] = store.JoinTypes(merged[k], t)
			}
			b, _ := json.Marshal(merged)
			var won bool
			if found {
				won, err = e.casUpdate(ctx, "contracts", "key", key, rev, sets("fields", string(b), "first_seen", first, "last_seen", last))
			} else {
				r := newToken()
				won, err = e.insertNew(ctx, "contracts", "key, channel, service, version, fields, first_seen, last_seen, rev, revs",
					lits(key, c.Channel, c.Service, c.Version, string(b), first, last, r)+", ["+sqlStr(r)+"]")
			}
			if err != nil {
				return e.fail("observe contracts", err)
			}
			if won {
				done = true
				break
			}
		}
		if !done {
			return fmt.Errorf("observe contracts: %w", store.ErrConflict)
		}
	}
	return nil
}

// Contracts implements store.ContractStore.
func (e *Engine) Contracts(ctx context.Context, channel string) ([]store.Contract, error) {
	if err := e.readable("read contracts"); err != nil {
		return nil, err
	}
	out := []store.Contract{}
	err := e.each(ctx, "SELECT service, version, fields, first_seen, last_seen FROM "+e.t("contracts")+" WHERE channel = "+sqlStr(channel)+
		" ORDER BY first_seen, service, version LIMIT "+strconv.Itoa(store.MaxLimit), func(scan func(...any) error) error {
		c := store.Contract{Channel: channel}
		var fields string
		if err := scan(&c.Service, &c.Version, &fields, &c.FirstSeen, &c.LastSeen); err != nil {
			return err
		}
		if err := json.Unmarshal([]byte(fields), &c.Fields); err != nil {
			return fmt.Errorf("contracts of %s: %w", channel, err)
		}
		out = append(out, c)
		return nil
	})
	if err != nil {
		return nil, e.fail("read contracts", err)
	}
	return out, nil
}
