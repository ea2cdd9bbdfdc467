// Package alert turns issues into notifications: rules (an issue kind, a
// function or channel, a threshold over a window, or "any new issue")
// delivered to generic webhooks, Slack-compatible webhooks and e-mail over
// SMTP, with a "resolved" notification when the issue is resolved.
//
// Delivery state lives in the store (store.AlertStore), not in memory:
// evaluation inserts one event per (rule, issue, firing|resolved, episode)
// — a second insert by any node is a no-op — and delivery leases each
// event to one node at a time, retrying with back-off when the receiver
// fails. Several nodes therefore notify once. (A node that delivers and then
// dies before recording it leaves the lease to expire and the event is sent
// again: at-least-once, with the event id as Idempotency-Key so a receiver
// can drop the repeat.)
//
// The package reads issues and writes only alert state; it must not run
// detectors or import an engine.
package alert

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/mail"
	"net/smtp"
	"net/url"
	"strings"
	"time"

	"github.com/ariadnehq/ariadne/internal/store"
)

// Targets of a rule.
const (
	TargetWebhook = "webhook"
	TargetSlack   = "slack"
	TargetEmail   = "email"
)

// Event types.
const (
	Firing   = "firing"
	Resolved = "resolved"
)

// Store is what the alerter needs of an engine.
type Store interface {
	store.IssueStore
	store.AlertStore
}

// SMTP configures e-mail delivery.
type SMTP struct {
	Addr     string // host:port; "" disables e-mail rules' delivery (they fail)
	From     string
	Username string // PLAIN auth when set (only over TLS or to localhost, as net/smtp insists)
	Password string
}

// Settings configure an Alerter. Zero fields take their defaults.
type Settings struct {
	Logger *slog.Logger
	Now    func() time.Time
	// Interval between background evaluations and deliveries. Default 10s.
	Interval time.Duration
	// Holder names this node in delivery leases. Default: random.
	Holder string
	// Client sends webhooks. Default: a client with a 10 s timeout.
	Client *http.Client
	SMTP   SMTP
	// Backoff is the wait before each retry of a failed delivery; after
	// the last one the event is given up ("failed"). Default 5s, 30s, 2m,
	// 10m, 30m.
	Backoff []time.Duration
	// Lease bounds how long one delivery attempt may hold an event.
	// Default 1m.
	Lease time.Duration
	// Lookback is how far back evaluation looks at open issues (by last
	// seen). Default 24h. Resolved issues are looked at whenever seen (the
	// newest store.MaxLimit).
	Lookback time.Duration
	// BaseURL, when set, links notifications to the UI (BaseURL/issues/ID).
	BaseURL string
}

func (s Settings) withDefaults() Settings {
	if s.Logger == nil {
		s.Logger = slog.New(slog.DiscardHandler)
	}
	if s.Now == nil {
		s.Now = time.Now
	}
	if s.Interval <= 0 {
		s.Interval = 10 * time.Second
	}
	if s.Holder == "" {
		s.Holder = NewID()
	}
	if s.Client == nil {
		s.Client = &http.Client{Timeout: 10 * time.Second}
	}
	if s.Backoff == nil {
		s.Backoff = []time.Duration{5 * time.Second, 30 * time.Second, 2 * time.Minute, 10 * time.Minute, 30 * time.Minute}
	}
	if s.Lease <= 0 {
		s.Lease = time.Minute
	}
	if s.Lookback <= 0 {
		s.Lookback = 24 * time.Hour
	}
	return s
}

// NewID returns a random 16-hex-digit id (rule ids, node names).
func NewID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// Validate checks a rule as the API and the CLI receive it; the message
// names the field.
func Validate(r store.AlertRule) error {
	var errs []error
	switch r.Target {
	case TargetWebhook, TargetSlack:
		u, err := url.Parse(r.URL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs = append(errs, fmt.Errorf("url: %q is not an http(s) URL", r.URL))
		}
	case TargetEmail:
		if _, err := mail.ParseAddressList(r.To); err != nil || strings.TrimSpace(r.To) == "" {
			errs = append(errs, fmt.Errorf("to: %q is not a list of e-mail addresses", r.To))
		}
	default:
		errs = append(errs, fmt.Errorf("target: %q, want webhook, slack or email", r.Target))
	}
	if !r.AnyNew {
		if r.Threshold < 1 {
			errs = append(errs, errors.New("threshold: want at least 1 (or anyNew)"))
		}
		if r.WindowNs < int64(time.Second) || r.WindowNs > int64(7*24*time.Hour) {
			errs = append(errs, errors.New("window: want between 1s and 7 days"))
		}
	}
	if len(r.Name) > 200 || len(r.Kind) > 100 || len(r.Function) > 500 {
		errs = append(errs, errors.New("name, kind or function: too long"))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("invalid alert rule: %w", err)
	}
	return nil
}

// Alerter evaluates rules and delivers notifications.
type Alerter struct {
	st  Store
	set Settings
}

// New returns an alerter over st.
func New(st Store, s Settings) *Alerter { return &Alerter{st: st, set: s.withDefaults()} }

// Run evaluates and delivers every Interval until ctx is done.
func (a *Alerter) Run(ctx context.Context) {
	t := time.NewTicker(a.set.Interval)
	defer t.Stop()
	for {
		if err := a.RunOnce(ctx); err != nil && ctx.Err() == nil {
			a.set.Logger.Warn("alert run failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// RunOnce evaluates every rule, then delivers what is due.
func (a *Alerter) RunOnce(ctx context.Context) error {
	_, errE := a.Evaluate(ctx)
	_, errD := a.Deliver(ctx)
	return errors.Join(errE, errD)
}

func matches(r *store.AlertRule, is *store.Issue) bool {
	if r.Kind != "" && r.Kind != is.Kind {
		return false
	}
	if r.Function != "" && r.Function != is.Function && r.Function != is.Channel {
		return false
	}
	return true
}

// Evaluate enqueues the notifications the rules call for and returns how
// many were new.
func (a *Alerter) Evaluate(ctx context.Context) (int, error) {
	rules, err := a.st.AlertRules(ctx)
	if err != nil || len(rules) == 0 {
		return 0, err
	}
	now := a.set.Now().UnixNano()
	issues, err := a.st.Issues(ctx, store.IssueQuery{TimeRange: store.TimeRange{Start: now - int64(a.set.Lookback)}, Status: store.IssueOpen})
	if err != nil {
		return 0, fmt.Errorf("evaluate alerts: %w", err)
	}
	// Resolved issues whatever their last occurrence: one resolved a week
	// after it was last seen still owes its "resolved" notification.
	resolved, err := a.st.Issues(ctx, store.IssueQuery{Status: store.IssueResolved})
	if err != nil {
		return 0, fmt.Errorf("evaluate alerts: %w", err)
	}
	issues = append(issues, resolved...)
	counts := map[int64]map[string]int64{} // by window
	n := 0
	for ri := range rules {
		r := &rules[ri]
		if !r.AnyNew && counts[r.WindowNs] == nil {
			if counts[r.WindowNs], err = a.st.IssueCounts(ctx, now-r.WindowNs); err != nil {
				return n, fmt.Errorf("evaluate alerts: %w", err)
			}
		}
		for ii := range issues {
			is := &issues[ii]
			if !matches(r, is) {
				continue
			}
			ev := store.AlertEvent{RuleID: r.ID, IssueID: is.ID, Episode: is.OpenedAt, Created: now}
			switch is.Status {
			case store.IssueOpen:
				if r.AnyNew && is.OpenedAt < r.Created {
					continue // the rule is younger than the issue: not new
				}
				if !r.AnyNew && counts[r.WindowNs][is.ID] < r.Threshold {
					continue
				}
				ev.Type = Firing
			case store.IssueResolved:
				ev.Type = Resolved
			default:
				continue
			}
			ok, err := a.st.EnqueueAlert(ctx, ev)
			if err != nil {
				return n, fmt.Errorf("evaluate alerts: %w", err)
			}
			if ok {
				n++
			}
		}
	}
	return n, nil
}

// Deliver sends the events due now and returns how many were delivered.
func (a *Alerter) Deliver(ctx context.Context) (int, error) {
	now := a.set.Now()
	evs, err := a.st.ClaimAlerts(ctx, a.set.Holder, now.UnixNano(), now.Add(a.set.Lease).UnixNano(), 50)
	if err != nil {
		return 0, fmt.Errorf("deliver alerts: %w", err)
	}
	n := 0
	var errs []error
	for _, ev := range evs {
		sendErr := a.send(ctx, ev)
		next := int64(0)
		msg := ""
		if sendErr != nil {
			msg = truncate(sendErr.Error(), 500)
			if int(ev.Attempts) <= len(a.set.Backoff) {
				next = a.set.Now().Add(a.set.Backoff[ev.Attempts-1]).UnixNano()
			}
			a.set.Logger.Warn("alert delivery failed", "event", ev.ID, "attempt", ev.Attempts, "retry", next != 0, "err", sendErr)
		} else {
			n++
		}
		if err := a.st.FinishAlert(ctx, ev.ID, a.set.Holder, sendErr == nil, msg, next, a.set.Now().UnixNano()); err != nil {
			errs = append(errs, fmt.Errorf("deliver alert %s: %w", ev.ID, err))
		}
	}
	return n, errors.Join(errs...)
}

// Notification is the JSON a generic webhook receives.
type Notification struct {
	ID    string       `json:"id"` // the event id, also the Idempotency-Key header
	Type  string       `json:"type"`
	Rule  RuleRef      `json:"rule"`
	Issue IssueSummary `json:"issue"`
	URL   string       `json:"url,omitempty"`
	Text  string       `json:"text"`
}

// RuleRef names the rule that fired.
type RuleRef struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// IssueSummary is the issue as a notification carries it.
type IssueSummary struct {
	ID          string   `json:"id"`
	Kind        string   `json:"kind"`
	Title       string   `json:"title"`
	Function    string   `json:"function,omitempty"`
	Channel     string   `json:"channel,omitempty"`
	Severity    string   `json:"severity"`
	Status      string   `json:"status"`
	Count       int64    `json:"count"`
	FirstSeen   int64    `json:"firstSeen"`
	LastSeen    int64    `json:"lastSeen"`
	Explanation string   `json:"explanation"`
	Traces      []string `json:"sampleTraces"`
}

func (a *Alerter) notification(ev store.AlertEvent, r *store.AlertRule, is *store.Issue) Notification {
	n := Notification{ID: ev.ID, Type: ev.Type, Rule: RuleRef{ID: r.ID, Name: r.Name},
		Issue: IssueSummary{ID: is.ID, Kind: is.Kind, Title: is.Title, Function: is.Function, Channel: is.Channel,
			Severity: is.Severity, Status: string(is.Status), Count: is.Count, FirstSeen: is.FirstSeen, LastSeen: is.LastSeen,
			Explanation: is.Explanation, Traces: []string{}}}
	for _, t := range is.SampleTraces {
		n.Issue.Traces = append(n.Issue.Traces, t.String())
	}
	if a.set.BaseURL != "" {
		n.URL = strings.TrimRight(a.set.BaseURL, "/") + "/issues/" + is.ID
	}
	state := "FIRING"
	if ev.Type == Resolved {
		state = "RESOLVED"
	}
	n.Text = fmt.Sprintf("[%s] %s (%s, %d occurrences)\n%s", state, is.Title, is.Severity, is.Count, is.Explanation)
	if n.URL != "" {
		n.Text += "\n" + n.URL
	}
	return n
}

func (a *Alerter) send(ctx context.Context, ev store.AlertEvent) error {
	r, err := a.st.AlertRule(ctx, ev.RuleID)
	if err != nil {
		return fmt.Errorf("read rule: %w", err)
	}
	is, err := a.st.Issue(ctx, ev.IssueID)
	if err != nil {
		return fmt.Errorf("read issue: %w", err)
	}
	n := a.notification(ev, &r, &is)
	switch r.Target {
	case TargetWebhook:
		return a.post(ctx, r.URL, ev.ID, n)
	case TargetSlack:
		return a.post(ctx, r.URL, ev.ID, map[string]string{"text": n.Text})
	case TargetEmail:
		return a.mail(r.To, n)
	}
	return fmt.Errorf("unknown target %q", r.Target)
}

func (a *Alerter) post(ctx context.Context, u, id string, v any) error {
	body, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode notification: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("post notification: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", id)
	req.Header.Set("User-Agent", "ariadne-alert")
	resp, err := a.set.Client.Do(req)
	if err != nil {
		return fmt.Errorf("post notification: %w", err)
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("post notification: receiver answered %s: %s", resp.Status, bytes.TrimSpace(msg))
	}
	return nil
}

func (a *Alerter) mail(to string, n Notification) error {
	if a.set.SMTP.Addr == "" {
		return errors.New("send e-mail: no SMTP server configured")
	}
	list, err := mail.ParseAddressList(to)
	if err != nil {
		return fmt.Errorf("send e-mail: %w", err)
	}
	rcpt := make([]string, len(list))
	for i, ad := range list {
		rcpt[i] = ad.Address
	}
	from := a.set.SMTP.From
	if from == "" {
		from = "ariadne@localhost"
	}
	subject := "[Ariadne] " + strings.ToUpper(n.Type) + ": " + n.Issue.Title
	var b strings.Builder
	fmt.Fprintf(&b, "From: %s\r\nTo: %s\r\nSubject: %s\r\nDate: %s\r\nMessage-ID: <%s@ariadne>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n",
		from, strings.Join(rcpt, ", "), strings.ReplaceAll(truncate(subject, 200), "\n", " "), a.set.Now().UTC().Format(time.RFC1123Z), n.ID)
	b.WriteString(strings.ReplaceAll(n.Text, "\n", "\r\n"))
	b.WriteString("\r\n")
	var auth smtp.Auth
	if a.set.SMTP.Username != "" {
		host, _, _ := strings.Cut(a.set.SMTP.Addr, ":")
		auth = smtp.PlainAuth("", a.set.SMTP.Username, a.set.SMTP.Password, host)
	}
	if err := sendMail(a.set.SMTP.Addr, auth, from, rcpt, b.String()); err != nil {
		return fmt.Errorf("send e-mail: %w", err)
	}
	return nil
}

// sendMail is smtp.SendMail with a deadline on the whole conversation: a
// mail server that stops answering must not hold a delivery forever.
func sendMail(addr string, auth smtp.Auth, from string, to []string, msg string) error {
	conn, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		return err
	}
	defer conn.Close()
	if err := conn.SetDeadline(time.Now().Add(30 * time.Second)); err != nil {
		return err
	}
	host, _, _ := strings.Cut(addr, ":")
	c, err := smtp.NewClient(conn, host)
	if err != nil {
		return err
	}
	defer c.Close()
	if ok, _ := c.Extension("STARTTLS"); ok {
		if err := c.StartTLS(&tls.Config{ServerName: host}); err != nil {
			return err
		}
	}
	if auth != nil {
		if err := c.Auth(auth); err != nil {
			return err
		}
	}
	if err := c.Mail(from); err != nil {
		return err
	}
	for _, r := range to {
		if err := c.Rcpt(r); err != nil {
			return err
		}
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := io.WriteString(w, msg); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	return c.Quit()
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
