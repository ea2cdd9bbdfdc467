package stmt

import (
	"strings"

	"github.com/ariadnehq/ariadne/internal/store"
)

// AlertRuleColumns are the columns of an alert rule, in the order the
// engines scan them.
const AlertRuleColumns = "id, name, kind, function, any_new, threshold, window_ns, target, url, to_addrs, created"

// AlertEventColumns are the columns of an alert event the engines scan.
const AlertEventColumns = "id, rule_id, issue_id, type, episode, state, attempts, next_attempt, last_error, created, delivered_at"

func boolLit(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

// AlertRules lists the rules, oldest first, at most store.MaxLimit.
func AlertRules(d Dialect) string {
	return "SELECT " + AlertRuleColumns + " FROM " + d.Table("alert_rules") + " ORDER BY created, id LIMIT " + Int(store.MaxLimit)
}

// AlertRule reads rule id.
func AlertRule(d Dialect, id string) string {
	return "SELECT " + AlertRuleColumns + " FROM " + d.Table("alert_rules") + " WHERE id = " + d.Str(id)
}

// PutAlertRule creates or replaces rule r.ID. A KeeperMap insert replaces
// the key's row; DuckDB says so.
func PutAlertRule(d Dialect, r store.AlertRule) string {
	verb := "INSERT OR REPLACE INTO "
	if d.ch {
		verb = "INSERT INTO "
	}
	return verb + d.Table("alert_rules") + " (" + AlertRuleColumns + ") VALUES (" + strings.Join([]string{
		d.Str(r.ID), d.Str(r.Name), d.Str(r.Kind), d.Str(r.Function), boolLit(r.AnyNew), Int(r.Threshold), Int(r.WindowNs),
		d.Str(r.Target), d.Str(r.URL), d.Str(r.To), Int(r.Created)}, ", ") + ")"
}

// DeleteAlertRule removes rule id and then its events.
func DeleteAlertRule(d Dialect, id string) []string {
	return []string{
		"DELETE FROM " + d.Table("alert_rules") + " WHERE id = " + d.Str(id),
		"DELETE FROM " + d.Table("alert_events") + " WHERE rule_id = " + d.Str(id),
	}
}

// AlertEvents lists the events of rule ruleID ("" = every rule), newest
// first, at most limit.
func AlertEvents(d Dialect, ruleID string, limit int) string {
	cond := "true"
	if ruleID != "" {
		cond = "rule_id = " + d.Str(ruleID)
	}
	return "SELECT " + AlertEventColumns + " FROM " + d.Table("alert_events") + " WHERE " + cond +
		" ORDER BY created DESC, id LIMIT " + Int(int64(limit))
}

// AlertEvent reads event id.
func AlertEvent(d Dialect, id string) string {
	return "SELECT " + AlertEventColumns + " FROM " + d.Table("alert_events") + " WHERE id = " + d.Str(id)
}

// firingOf is the condition of the firing event a resolved event ev
// answers.
func firingOf(d Dialect, ev store.AlertEvent) string {
	return "rule_id = " + d.Str(ev.RuleID) + " AND issue_id = " + d.Str(ev.IssueID) + " AND type = 'firing' AND episode = " + Int(ev.Episode)
}

// FiringAlerts counts the firing events a resolved event ev answers, which
// it needs to be stored. ClickHouse only: DuckDB's EnqueueAlert tests it
// in the insert.
func FiringAlerts(d Dialect, ev store.AlertEvent) string {
	return "SELECT count() FROM " + d.Table("alert_events") + " WHERE " + firingOf(d, ev)
}

// AlertEventInsertColumns are the columns a new event is inserted with;
// ClickHouse adds keeperRevColumns.
const AlertEventInsertColumns = "id, rule_id, issue_id, type, episode, state, attempts, next_attempt, lease_holder, lease_until, last_error, created, delivered_at"

// newAlertValues are the values of AlertEventInsertColumns of ev, pending.
// DuckDB marks "no lease holder, no error" NULL, ClickHouse "".
func newAlertValues(d Dialect, ev store.AlertEvent) string {
	none := "NULL"
	if d.ch {
		none = "''"
	}
	return strings.Join([]string{d.Str(ev.ID), d.Str(ev.RuleID), d.Str(ev.IssueID), d.Str(ev.Type), Int(ev.Episode), "'pending'", "0",
		Int(ev.Created), none, "0", none, Int(ev.Created), "0"}, ", ")
}

// NewAlertValues are the values of AlertEventInsertColumns of a pending
// event ev, then its first rev and revs: the row ClickHouse inserts with
// KeeperInsertNew.
func NewAlertValues(d Dialect, ev store.AlertEvent, rev string) string {
	return newAlertValues(d, ev) + ", " + d.Str(rev) + ", " + KeeperRevs(d, []string{rev})
}

// EnqueueAlert stores ev as pending unless its notification exists (the
// unique index on rule, issue, type and episode makes the insert do
// nothing), and a resolved event only after its firing one. DuckDB only:
// ClickHouse inserts with KeeperInsertNew after FiringAlerts.
func EnqueueAlert(d Dialect, ev store.AlertEvent) string {
	cond := "true"
	if ev.Type == "resolved" {
		cond = "EXISTS (SELECT 1 FROM " + d.Table("alert_events") + " WHERE " + firingOf(d, ev) + ")"
	}
	return "INSERT INTO " + d.Table("alert_events") + " (" + AlertEventInsertColumns + ") SELECT " + newAlertValues(d, ev) +
		" WHERE " + cond + " ON CONFLICT DO NOTHING"
}

// dueAlerts is the condition of the pending events due at now with no
// live lease.
func dueAlerts(now int64) string {
	return "state = 'pending' AND next_attempt <= " + Int(now) + " AND lease_until <= " + Int(now)
}

// alertLease is the change that leases an event to holder until
// leaseUntil.
func alertLease(d Dialect, holder string, leaseUntil int64) string {
	return "lease_holder = " + d.Str(holder) + ", lease_until = " + Int(leaseUntil) + ", attempts = attempts + 1"
}

// ClaimAlerts leases up to limit due events to holder and returns them, in
// one UPDATE whose losing transaction fails with a conflict. DuckDB only:
// ClickHouse leases each of DueAlerts by compare-and-set (AlertLease).
func ClaimAlerts(d Dialect, holder string, now, leaseUntil int64, limit int) string {
	t := d.Table("alert_events")
	return "UPDATE " + t + " SET " + alertLease(d, holder, leaseUntil) + " WHERE id IN (SELECT id FROM " + t + " WHERE " + dueAlerts(now) +
		" ORDER BY created, id LIMIT " + Int(int64(limit)) + ") AND state = 'pending' AND lease_until <= " + Int(now) +
		" RETURNING " + AlertEventColumns
}

// DueAlerts selects (id, rev) of up to limit due events, oldest first.
// ClickHouse only (see ClaimAlerts).
func DueAlerts(d Dialect, now int64, limit int) string {
	return "SELECT id, rev FROM " + d.Table("alert_events") + " WHERE " + dueAlerts(now) + " ORDER BY created, id LIMIT " + Int(int64(limit))
}

// AlertLease is the change of KeeperCASUpdate that leases an event to
// holder. ClickHouse only.
func AlertLease(d Dialect, holder string, leaseUntil int64) string {
	return alertLease(d, holder, leaseUntil)
}

// AlertLeaseHolder reads (lease_holder, rev) of event id. ClickHouse only.
func AlertLeaseHolder(d Dialect, id string) string {
	return "SELECT lease_holder, rev FROM " + d.Table("alert_events") + " WHERE id = " + d.Str(id)
}

// AlertOutcome is the change that records a delivery attempt and ends the
// lease: state, delivered at (0 unless delivered), the error, the next
// attempt.
func AlertOutcome(d Dialect, state string, deliveredAt int64, errMsg string, nextAttempt int64) string {
	none := "NULL"
	if d.ch {
		none = "''"
	}
	return "state = " + d.Str(state) + ", delivered_at = " + Int(deliveredAt) + ", last_error = " + d.Str(errMsg) +
		", next_attempt = " + Int(nextAttempt) + ", lease_holder = " + none + ", lease_until = 0"
}

// FinishAlert applies AlertOutcome to event id if holder still holds its
// lease. DuckDB only: ClickHouse applies it by compare-and-set after
// AlertLeaseHolder.
func FinishAlert(d Dialect, id, holder, outcome string) string {
	return "UPDATE " + d.Table("alert_events") + " SET " + outcome + " WHERE id = " + d.Str(id) + " AND lease_holder = " + d.Str(holder)
}
