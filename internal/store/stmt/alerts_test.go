package stmt

import (
	"testing"

	"github.com/ariadnehq/ariadne/internal/store"
)

func TestAlertStatements(t *testing.T) {
	r := store.AlertRule{ID: "rule", Name: "on-call's", Function: "api", AnyNew: true, Threshold: 5, WindowNs: 60e9,
		Target: "webhook", URL: "http://x", Created: 7}
	golden(t, "alerts-rules", func(d Dialect) string {
		qs := append([]string{AlertRules(d), AlertRule(d, "rule"), PutAlertRule(d, r)}, DeleteAlertRule(d, "rule")...)
		return join(qs)
	})
	golden(t, "alerts-events", func(d Dialect) string {
		return join([]string{AlertEvents(d, "", 10), AlertEvents(d, "rule", 5), AlertEvent(d, "ev")})
	})
	firing := store.AlertEvent{ID: "ev1", RuleID: "rule", IssueID: "iss", Type: "firing", Episode: 3, Created: 4}
	resolved := firing
	resolved.ID, resolved.Type = "ev2", "resolved"
	golden(t, "alerts-enqueue", func(d Dialect) string {
		if d.ch {
			return join([]string{FiringAlerts(d, resolved), KeeperInsertNew(d, "alert_events", AlertEventInsertColumns+", "+keeperRevColumns,
				NewAlertValues(d, firing, "r1"))})
		}
		return join([]string{EnqueueAlert(d, firing), EnqueueAlert(d, resolved)})
	})
	golden(t, "alerts-claim", func(d Dialect) string {
		outcome := AlertOutcome(d, "failed", 0, "HTTP 500: it's down", 0)
		if d.ch {
			return join([]string{DueAlerts(d, 100, 10), AlertLease(d, "node-a", 200), AlertLeaseHolder(d, "ev1"), outcome})
		}
		return join([]string{ClaimAlerts(d, "node-a", 100, 200, 10), FinishAlert(d, "ev1", "node-a", outcome)})
	})
}

func join(qs []string) string {
	out := ""
	for i, q := range qs {
		if i > 0 {
			out += ";\n"
		}
		out += q
	}
	return out
}
