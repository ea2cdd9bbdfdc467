package api

import (
	"context"
	"net/http"

	"github.com/ariadnehq/ariadne/internal/alert"
	"github.com/ariadnehq/ariadne/internal/store"
)

// AlertRule is an alert rule on the wire. Kind and function ("" = any)
// select issues; anyNew fires once per new issue (and per regression),
// otherwise threshold occurrences within windowNs fire. Target is webhook
// or slack (url) or email (to: comma-separated addresses).
type AlertRule struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	Kind      string `json:"kind"`
	Function  string `json:"function"`
	AnyNew    bool   `json:"anyNew"`
	Threshold int64  `json:"threshold"`
	WindowNs  int64  `json:"windowNs"`
	Target    string `json:"target"`
	URL       string `json:"url"`
	To        string `json:"to"`
	Created   int64  `json:"created"`
}

// AlertEvent is one notification and its delivery state.
type AlertEvent struct {
	ID          string `json:"id"`
	RuleID      string `json:"ruleId"`
	IssueID     string `json:"issueId"`
	Type        string `json:"type"` // firing | resolved
	Episode     int64  `json:"episode"`
	State       string `json:"state"` // pending | delivered | failed
	Attempts    int32  `json:"attempts"`
	NextAttempt int64  `json:"nextAttempt"`
	LastError   string `json:"lastError"`
	Created     int64  `json:"created"`
	DeliveredAt int64  `json:"deliveredAt"`
}

// AlertRulesResponse answers GET /api/v1/alerts/rules.
type AlertRulesResponse struct {
	Rules []AlertRule `json:"rules"`
}

// AlertRuleResponse answers the single-rule endpoints; Events (GET only)
// is the rule's delivery history, newest first.
type AlertRuleResponse struct {
	Rule   AlertRule    `json:"rule"`
	Events []AlertEvent `json:"events,omitempty"`
}

// AlertEventsResponse answers GET /api/v1/alerts/events.
type AlertEventsResponse struct {
	Events []AlertEvent `json:"events"`
}

// alertHistory caps the events returned with a rule.
const alertHistory = 100

func toRule(r *store.AlertRule) AlertRule {
	return AlertRule{ID: r.ID, Name: r.Name, Kind: r.Kind, Function: r.Function, AnyNew: r.AnyNew, Threshold: r.Threshold,
		WindowNs: r.WindowNs, Target: r.Target, URL: r.URL, To: r.To, Created: r.Created}
}

func toEvents(evs []store.AlertEvent) []AlertEvent {
	out := make([]AlertEvent, len(evs))
	for i, e := range evs {
		out[i] = AlertEvent{ID: e.ID, RuleID: e.RuleID, IssueID: e.IssueID, Type: e.Type, Episode: e.Episode, State: e.State,
			Attempts: e.Attempts, NextAttempt: e.NextAttempt, LastError: e.LastError, Created: e.Created, DeliveredAt: e.DeliveredAt}
	}
	return out
}

func (a *API) alertStore() (store.AlertStore, error) {
	s, ok := a.r.(store.AlertStore)
	if !ok {
		return nil, &Error{Status: http.StatusNotImplemented, Code: CodeInternal, Message: "this store does not keep alert rules"}
	}
	return s, nil
}

// GET /api/v1/alerts/rules.
func (a *API) listAlertRules(ctx context.Context, r *http.Request) (any, error) {
	st, err := a.alertStore()
	if err != nil {
		return nil, err
	}
	if err := checkParams(r.URL.Query(), nil, ""); err != nil {
		return nil, err
	}
	rules, err := st.AlertRules(ctx)
	if err != nil {
		return nil, err
	}
	out := AlertRulesResponse{Rules: make([]AlertRule, len(rules))}
	for i := range rules {
		out.Rules[i] = toRule(&rules[i])
	}
	return out, nil
}

// readRule decodes and validates a rule body; id and created come from
// the server.
func (a *API) readRule(r *http.Request) (store.AlertRule, error) {
	var in AlertRule
	if err := readJSON(r, &in); err != nil {
		return store.AlertRule{}, err
	}
	rule := store.AlertRule{Name: in.Name, Kind: in.Kind, Function: in.Function, AnyNew: in.AnyNew, Threshold: in.Threshold,
		WindowNs: in.WindowNs, Target: in.Target, URL: in.URL, To: in.To}
	if err := alert.Validate(rule); err != nil {
		return rule, &Error{Status: http.StatusBadRequest, Code: CodeInvalidArgument, Message: err.Error()}
	}
	return rule, nil
}

// POST /api/v1/alerts/rules creates a rule: 201 with its id.
func (a *API) createAlertRule(ctx context.Context, r *http.Request) (any, error) {
	st, err := a.alertStore()
	if err != nil {
		return nil, err
	}
	rule, err := a.readRule(r)
	if err != nil {
		return nil, err
	}
	rule.ID, rule.Created = alert.NewID(), a.set.Now().UnixNano()
	if err := st.PutAlertRule(ctx, rule); err != nil {
		return nil, err
	}
	return created{AlertRuleResponse{Rule: toRule(&rule)}}, nil
}

// GET /api/v1/alerts/rules/{id}: the rule and its delivery history.
func (a *API) getAlertRule(ctx context.Context, r *http.Request) (any, error) {
	st, err := a.alertStore()
	if err != nil {
		return nil, err
	}
	rule, err := st.AlertRule(ctx, r.PathValue("id"))
	if err != nil {
		return nil, err
	}
	evs, err := st.AlertEvents(ctx, rule.ID, alertHistory)
	if err != nil {
		return nil, err
	}
	return AlertRuleResponse{Rule: toRule(&rule), Events: toEvents(evs)}, nil
}

// PUT /api/v1/alerts/rules/{id} replaces a rule (keeping its creation time,
// so "any new issue" keeps meaning new since the rule was made).
func (a *API) putAlertRule(ctx context.Context, r *http.Request) (any, error) {
	st, err := a.alertStore()
	if err != nil {
		return nil, err
	}
	old, err := st.AlertRule(ctx, r.PathValue("id"))
	if err != nil {
		return nil, err
	}
	rule, err := a.readRule(r)
	if err != nil {
		return nil, err
	}
	rule.ID, rule.Created = old.ID, old.Created
	if err := st.PutAlertRule(ctx, rule); err != nil {
		return nil, err
	}
	return AlertRuleResponse{Rule: toRule(&rule)}, nil
}

// DELETE /api/v1/alerts/rules/{id} removes a rule and its history.
func (a *API) deleteAlertRule(ctx context.Context, r *http.Request) (any, error) {
	st, err := a.alertStore()
	if err != nil {
		return nil, err
	}
	rule, err := st.AlertRule(ctx, r.PathValue("id"))
	if err != nil {
		return nil, err
	}
	if err := st.DeleteAlertRule(ctx, rule.ID); err != nil {
		return nil, err
	}
	return AlertRuleResponse{Rule: toRule(&rule)}, nil
}

// GET /api/v1/alerts/events?rule=&limit= lists notifications, newest first.
func (a *API) listAlertEvents(ctx context.Context, r *http.Request) (any, error) {
	st, err := a.alertStore()
	if err != nil {
		return nil, err
	}
	v := r.URL.Query()
	if err := checkParams(v, []string{"rule", "limit"}, ""); err != nil {
		return nil, err
	}
	limit, err := parseLimit("limit", v.Get("limit"), alertHistory, store.MaxLimit)
	if err != nil {
		return nil, err
	}
	evs, err := st.AlertEvents(ctx, v.Get("rule"), limit)
	if err != nil {
		return nil, err
	}
	return AlertEventsResponse{Events: toEvents(evs)}, nil
}
