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

	"github.com/ClickHouse/clickhouse-go/v2"

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

// detectSQL is the dialect of this engine's statements.
func (e *Engine) detectSQL() stmt.Dialect { return stmt.ClickHouse(e.t) }

// DetectSpans implements store.DetectReader.
func (e *Engine) DetectSpans(ctx context.Context, r store.TimeRange, f store.DetectSpanFilter, limit int) ([]model.Span, bool, error) {
	if err := shared.CheckRange(r); err != nil {
		return nil, false, fmt.Errorf("read spans for detection: %w", err)
	}
	if err := e.readable("read spans for detection"); err != nil {
		return nil, false, err
	}
	limit = shared.Clamp(limit, store.MaxCorrelationRows)
	t := &e.sch.spans
	q := stmt.DetectSpans(e.detectSQL(), t.list(), r, f, limit)
	out := []model.Span{}
	if q == "" {
		return out, false, nil
	}
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
	if err := e.readable("read invocations for detection"); err != nil {
		return nil, false, err
	}
	limit = shared.Clamp(limit, store.MaxCorrelationRows)
	query := stmt.DetectInvocationKeys(e.detectSQL(), q, limit)
	out := []model.Invocation{}
	if query == "" {
		return out, false, nil
	}
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
	err := e.conn.Exec(strict(ctx), stmt.KeeperInsertNew(e.detectSQL(), table, cols, values))
	if keeperConflict(err) {
		return false, nil
	}
	return err == nil, err
}

// casUpdate sets set on the row keyCol = key whose rev is old and says
// whether this update is the one that happened.
func (e *Engine) casUpdate(ctx context.Context, table, keyCol, key, old, set string) (bool, error) {
	rev := newToken()
	return e.casUpdateRev(ctx, table, keyCol, key, old, set, rev, stmt.KeeperRevsPush(e.detectSQL(), rev))
}

// casUpdateRev is casUpdate recording write rev and setting revs to
// revsExpr.
func (e *Engine) casUpdateRev(ctx context.Context, table, keyCol, key, old, set, rev, revsExpr string) (bool, error) {
	d := e.detectSQL()
	err := e.conn.Exec(strict(ctx), stmt.KeeperCASUpdate(d, table, keyCol, key, old, set, rev, revsExpr))
	if keeperConflict(err) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	var won uint8
	err = e.conn.QueryRow(ctx, stmt.KeeperCASWon(d, table, keyCol, key, rev)).Scan(&won)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return won == 1, err
}

// casAttempts bounds the retries of a compare-and-set under contention.
const casAttempts = 20

// scanIssue scans an issue; with revs set, also its rev and revs (the
// columns stmt.Issue adds).
func scanIssue(scan func(...any) error, rev *string, revs *[]string) (store.Issue, error) {
	var (
		is             store.Issue
		status, traces string
	)
	dest := []any{&is.ID, &is.Kind, &is.Fingerprint, &is.Title, &is.Function, &is.Channel, &is.Severity, &status,
		&is.FirstSeen, &is.LastSeen, &is.Count, &traces, &is.Explanation, &is.OpenedAt, &is.ResolvedAt, &is.Regressions, &is.UpdatedAt}
	if rev != nil {
		dest = append(dest, rev, revs)
	}
	if err := scan(dest...); err != nil {
		return is, err
	}
	is.Status, is.SampleTraces = store.IssueStatus(status), shared.ParseTraces(traces)
	return is, nil
}

// issue reads one issue with its rev and revs; found false when unknown.
func (e *Engine) issue(ctx context.Context, id string) (is store.Issue, rev string, revs []string, found bool, err error) {
	err = e.each(ctx, stmt.Issue(e.detectSQL(), id), func(scan func(...any) error) error {
		var err error
		is, err = scanIssue(scan, &rev, &revs)
		found = true
		return err
	})
	return is, rev, revs, found, err
}

// putIssue writes is over the row of rev (or as a new row when !found),
// keeping the fold markers of revs and setting marker (issueRevs); false
// when another writer got there first.
func (e *Engine) putIssue(ctx context.Context, is *store.Issue, rev string, revs []string, found bool, marker string) (bool, error) {
	d := e.detectSQL()
	w := newToken()
	next := stmt.KeeperRevs(d, issueRevs(revs, w, marker))
	if !found {
		return e.insertNew(ctx, "issues", stmt.IssueColumns+", rev, revs", stmt.IssueValues(d, is)+", "+d.Str(w)+", "+next)
	}
	return e.casUpdateRev(ctx, "issues", "id", is.ID, rev, stmt.IssueSets(d, is), w, next)
}

// updateIssue applies change to issue id by compare-and-set, retrying on
// contention, and sets fold marker marker ("" for none) with it;
// ErrNotFound when the issue is unknown and change needs one.
func (e *Engine) updateIssue(ctx context.Context, id, marker string, change func(is *store.Issue, revs []string, found bool) (store.Issue, bool)) (store.Issue, error) {
	for range casAttempts {
		is, rev, revs, found, err := e.issue(ctx, id)
		if err != nil {
			return is, err
		}
		next, ok := change(&is, revs, found)
		if !ok {
			if !found {
				return is, fmt.Errorf("issue %q: %w", id, store.ErrNotFound)
			}
			return is, nil
		}
		won, err := e.putIssue(ctx, &next, rev, revs, found, marker)
		if err != nil {
			return is, err
		}
		if won {
			return next, nil
		}
	}
	return store.Issue{}, fmt.Errorf("issue %q: %d lost races: %w", id, casAttempts, store.ErrConflict)
}

// Issues implements store.IssueStore.
func (e *Engine) Issues(ctx context.Context, q store.IssueQuery) ([]store.Issue, error) {
	if err := shared.CheckRange(q.TimeRange); err != nil {
		return nil, fmt.Errorf("list issues: %w", err)
	}
	if err := e.readable("list issues"); err != nil {
		return nil, err
	}
	limit := q.Limit
	if limit <= 0 || limit > store.MaxLimit {
		limit = store.MaxLimit
	}
	out := []store.Issue{}
	err := e.each(ctx, stmt.Issues(e.detectSQL(), q, limit), func(scan func(...any) error) error {
		is, err := scanIssue(scan, nil, nil)
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
	is, _, _, found, err := e.issue(ctx, id)
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
	is, err := e.updateIssue(ctx, id, "", func(is *store.Issue, _ []string, found bool) (store.Issue, bool) {
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
	ids, err := e.strings(ctx, "resolve stale issues", stmt.StaleIssueIDs(e.detectSQL(), before))
	if err != nil {
		return 0, err
	}
	n := 0
	for _, id := range ids {
		changed := false
		_, err := e.updateIssue(ctx, id, "", func(is *store.Issue, _ []string, found bool) (store.Issue, bool) {
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
	err := e.each(ctx, stmt.IssueCounts(e.detectSQL(), since), func(scan func(...any) error) error {
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
	err := e.each(ctx, stmt.AlertRules(e.detectSQL()), func(scan func(...any) error) error {
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
	err := e.each(ctx, stmt.AlertRule(e.detectSQL(), id), func(scan func(...any) error) error {
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
	if err := e.conn.Exec(ctx, stmt.PutAlertRule(e.detectSQL(), r)); err != nil {
		return e.fail("put alert rule", err)
	}
	return nil
}

// DeleteAlertRule implements store.AlertStore.
func (e *Engine) DeleteAlertRule(ctx context.Context, id string) error {
	if _, err := e.AlertRule(ctx, id); err != nil {
		return fmt.Errorf("delete alert rule: %w", err)
	}
	for _, q := range stmt.DeleteAlertRule(e.detectSQL(), id) {
		if err := e.conn.Exec(ctx, q); err != nil {
			return e.fail("delete alert rule", err)
		}
	}
	return nil
}

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
	d := e.detectSQL()
	if ev.ID == "" {
		ev.ID = store.IssueID(ev.RuleID+"\x00"+ev.IssueID+"\x00"+ev.Type, strconv.FormatInt(ev.Episode, 10))
	}
	if ev.Type == "resolved" {
		var n uint64
		if err := e.conn.QueryRow(ctx, stmt.FiringAlerts(d, ev)).Scan(&n); err != nil {
			return false, e.fail("enqueue alert", err)
		}
		if n == 0 {
			return false, nil
		}
	}
	ok, err := e.insertNew(ctx, "alert_events", stmt.AlertEventInsertColumns+", rev, revs", stmt.NewAlertValues(d, ev, newToken()))
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
	d := e.detectSQL()
	type cand struct{ id, rev string }
	var cands []cand
	err := e.each(ctx, stmt.DueAlerts(d, now, limit), func(scan func(...any) error) error {
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
		won, err := e.casUpdate(ctx, "alert_events", "id", c.id, c.rev, stmt.AlertLease(d, holder, leaseUntil))
		if err != nil {
			return nil, e.fail("claim alerts", err)
		}
		if !won {
			continue
		}
		err = e.each(ctx, stmt.AlertEvent(d, c.id), func(scan func(...any) error) error {
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
	d := e.detectSQL()
	for range casAttempts {
		var (
			h, rev string
			found  bool
		)
		err := e.each(ctx, stmt.AlertLeaseHolder(d, id), func(scan func(...any) error) error {
			found = true
			return scan(&h, &rev)
		})
		if err != nil {
			return e.fail("finish alert", err)
		}
		if !found || h != holder {
			return fmt.Errorf("finish alert %q: lease lost: %w", id, store.ErrConflict)
		}
		won, err := e.casUpdate(ctx, "alert_events", "id", id, rev, stmt.AlertOutcome(d, state, deliveredAt, errMsg, nextAttempt))
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
	out := []store.AlertEvent{}
	err := e.each(ctx, stmt.AlertEvents(e.detectSQL(), ruleID, limit), func(scan func(...any) error) error {
		ev, err := scanEvent(scan)
		out = append(out, ev)
		return err
	})
	if err != nil {
		return nil, e.fail("list alert events", err)
	}
	return out, nil
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
	d := e.detectSQL()
	for i := range cs {
		c := &cs[i]
		key := stmt.ContractKey(c)
		done := false
		for range casAttempts {
			var (
				fields, rev string
				first, last int64
				found       bool
			)
			err := e.each(ctx, stmt.Contract(d, c), func(scan func(...any) error) error {
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
				won, err = e.casUpdate(ctx, "contracts", "key", key, rev, stmt.ContractSets(d, string(b), first, last))
			} else {
				won, err = e.insertNew(ctx, "contracts", stmt.ContractInsertColumns, stmt.ContractValues(d, c, string(b), first, last, newToken()))
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
	err := e.each(ctx, stmt.Contracts(e.detectSQL(), channel), func(scan func(...any) error) error {
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
