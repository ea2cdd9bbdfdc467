package alert_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ariadnehq/ariadne/internal/alert"
	"github.com/ariadnehq/ariadne/internal/alert/alerttest"
	"github.com/ariadnehq/ariadne/internal/model"
	"github.com/ariadnehq/ariadne/internal/store"
	"github.com/ariadnehq/ariadne/internal/store/duckdb"
)

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

type engine interface {
	store.IssueStore
	store.AlertStore
}

func openStore(t *testing.T) engine {
	t.Helper()
	e, err := duckdb.Open(t.Context(), duckdb.Settings{Dir: t.TempDir(), MemoryLimit: "256MB", Threads: 1})
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { _ = e.Close() })
	return e
}

// receiver is a real local HTTP receiver that fails the first n requests.
type receiver struct {
	mu     sync.Mutex
	fail   int
	bodies []string
	keys   []string
	tries  int
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.tries++
	if rc.fail > 0 {
		rc.fail--
		http.Error(w, "receiver down", http.StatusServiceUnavailable)
		return
	}
	rc.bodies = append(rc.bodies, string(b))
	rc.keys = append(rc.keys, r.Header.Get("Idempotency-Key"))
}

func (rc *receiver) got() ([]string, []string, int) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]string(nil), rc.bodies...), append([]string(nil), rc.keys...), rc.tries
}

// TestDelivery: for each target, a new issue is delivered once (however
// often evaluation and delivery run, and by two nodes), a failing receiver
// is retried after the back-off, and resolving the issue sends one
// "resolved" notification.
func TestDelivery(t *testing.T) {
	for _, target := range []string{alert.TargetWebhook, alert.TargetSlack, alert.TargetEmail} {
		t.Run(target, func(t *testing.T) {
			st := openStore(t)
			ctx := t.Context()
			clk := &clock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
			rc := &receiver{fail: 1}
			srv := httptest.NewServer(rc)
			t.Cleanup(srv.Close)
			smtpSrv := alerttest.NewSMTPServer(t)
			smtpSrv.Refuse(1)

			rule := store.AlertRule{ID: "r1", Name: "checkout errors", Kind: "error", Function: "checkout", AnyNew: true,
				Target: target, URL: srv.URL, To: "oncall@example.com", Created: clk.Now().Add(-time.Hour).UnixNano()}
			if target == alert.TargetEmail {
				rule.URL = ""
			}
			if err := alert.Validate(rule); err != nil {
				t.Fatal(err)
			}
			if err := st.PutAlertRule(ctx, rule); err != nil {
				t.Fatal(err)
			}
			set := func(holder string) alert.Settings {
				return alert.Settings{Now: clk.Now, Holder: holder, Backoff: []time.Duration{time.Minute},
					SMTP: alert.SMTP{Addr: smtpSrv.Addr(), From: "ariadne@example.com"}, BaseURL: "http://ariadne.local"}
			}
			nodes := []*alert.Alerter{alert.New(st, set("node-a")), alert.New(st, set("node-b"))}
			runAll := func() {
				for _, n := range nodes {
					if err := n.RunOnce(ctx); err != nil {
						t.Fatalf("run: %v", err)
					}
				}
			}
			delivered := func() []string {
				if target == alert.TargetEmail {
					var out []string
					for _, m := range smtpSrv.Messages() {
						if len(m.To) != 1 || m.To[0] != "oncall@example.com" || m.From != "ariadne@example.com" {
							t.Errorf("mail envelope %s → %v", m.From, m.To)
						}
						out = append(out, m.Data)
					}
					return out
				}
				b, _, _ := rc.got()
				return b
			}

			now := clk.Now().UnixNano()
			occ := []store.IssueOccurrence{{Kind: "error", Fingerprint: "fp", Title: "card declined in checkout", Function: "checkout",
				Severity: "error", Explanation: "checkout failed.", First: now - 1e9, Last: now, Count: 3, Traces: []model.TraceID{{1}}}}
			if err := st.CommitDetection(ctx, "errors.v1", 0, now, occ, now); err != nil {
				t.Fatal(err)
			}
			// Another issue the rule does not match.
			other := []store.IssueOccurrence{{Kind: "timeout", Fingerprint: "x", Title: "t", Function: "checkout", First: now, Last: now, Count: 1}}
			if err := st.CommitDetection(ctx, "timeouts.v1", 0, now, other, now); err != nil {
				t.Fatal(err)
			}

			runAll() // the receiver fails the first attempt
			if got := delivered(); len(got) != 0 {
				t.Fatalf("delivered despite the failing receiver: %v", got)
			}
			clk.Add(30 * time.Second)
			runAll() // back-off not over
			if got := delivered(); len(got) != 0 {
				t.Fatalf("retried before the back-off: %v", got)
			}
			clk.Add(31 * time.Second)
			runAll()
			runAll()
			got := delivered()
			if len(got) != 1 || !strings.Contains(got[0], "FIRING") || !strings.Contains(got[0], "card declined in checkout") {
				t.Fatalf("after the retry: %d notifications %q; want one firing", len(got), got)
			}
			if target == alert.TargetWebhook {
				var n alert.Notification
				if err := json.Unmarshal([]byte(got[0]), &n); err != nil || n.Type != alert.Firing || n.Issue.Count != 3 ||
					n.Issue.Kind != "error" || len(n.Issue.Traces) != 1 || n.URL == "" || n.Rule.ID != "r1" {
					t.Errorf("webhook body %s: %v", got[0], err)
				}
				if _, keys, _ := rc.got(); keys[0] != n.ID {
					t.Errorf("Idempotency-Key %q, want the event id %q", keys[0], n.ID)
				}
			}

			// Resolve: one resolved notification, whoever runs.
			if _, err := st.SetIssueStatus(ctx, store.IssueID("error", "fp"), store.IssueResolved, clk.Now().UnixNano()); err != nil {
				t.Fatal(err)
			}
			runAll()
			runAll()
			got = delivered()
			if len(got) != 2 || !strings.Contains(got[1], "RESOLVED") {
				t.Fatalf("after resolving: %q; want firing then resolved", got)
			}
			evs, _ := st.AlertEvents(ctx, "r1", 10)
			for _, ev := range evs {
				if ev.State != "delivered" {
					t.Errorf("event %s %s is %s", ev.Type, ev.ID, ev.State)
				}
			}

			// A regression is a new episode: notified again.
			clk.Add(time.Minute)
			now = clk.Now().UnixNano()
			occ[0].First, occ[0].Last, occ[0].Count = now, now, 1
			wm, _ := st.DetectorWatermark(ctx, "errors.v1")
			if err := st.CommitDetection(ctx, "errors.v1", wm, now, occ, now); err != nil {
				t.Fatal(err)
			}
			runAll()
			if got = delivered(); len(got) != 3 || !strings.Contains(got[2], "FIRING") {
				t.Errorf("after a regression: %d notifications; want a third, firing", len(got))
			}
		})
	}
}

// TestThreshold: a threshold rule fires only once the issue counts enough
// occurrences within its window.
func TestThreshold(t *testing.T) {
	st := openStore(t)
	ctx := t.Context()
	clk := &clock{t: time.Date(2026, 3, 1, 12, 0, 30, 0, time.UTC)}
	rc := &receiver{}
	srv := httptest.NewServer(rc)
	t.Cleanup(srv.Close)
	rule := store.AlertRule{ID: "t", Name: "many timeouts", Kind: "timeout", Threshold: 5, WindowNs: int64(10 * time.Minute),
		Target: alert.TargetSlack, URL: srv.URL, Created: clk.Now().UnixNano()}
	if err := st.PutAlertRule(ctx, rule); err != nil {
		t.Fatal(err)
	}
	a := alert.New(st, alert.Settings{Now: clk.Now})
	wm := int64(0)
	commit := func(n int64) {
		now := clk.Now().UnixNano()
		occ := []store.IssueOccurrence{{Kind: "timeout", Fingerprint: "f", Title: "f timed out", Function: "f", First: now, Last: now, Count: n}}
		if err := st.CommitDetection(ctx, "timeouts.v1", wm, now, occ, now); err != nil {
			t.Fatal(err)
		}
		wm = now
	}
	commit(3)
	if err := a.RunOnce(ctx); err != nil {
		t.Fatal(err)
	}
	if b, _, _ := rc.got(); len(b) != 0 {
		t.Fatalf("fired below the threshold: %v", b)
	}
	clk.Add(time.Minute)
	commit(2)
	if err := a.RunOnce(ctx); err != nil {
		t.Fatal(err)
	}
	b, _, _ := rc.got()
	if len(b) != 1 || !strings.Contains(b[0], `"text":"[FIRING] f timed out`) {
		t.Fatalf("at the threshold: %v", b)
	}
}

func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		rule store.AlertRule
		want string // substring of the error, "" = valid
	}{
		{"webhook", store.AlertRule{Target: "webhook", URL: "https://x.example/h", AnyNew: true}, ""},
		{"email", store.AlertRule{Target: "email", To: "a@example.com, b@example.com", Threshold: 1, WindowNs: 60e9}, ""},
		{"bad-target", store.AlertRule{Target: "pager", AnyNew: true}, "target"},
		{"bad-url", store.AlertRule{Target: "slack", URL: "ftp://x", AnyNew: true}, "url"},
		{"bad-to", store.AlertRule{Target: "email", To: "nobody", AnyNew: true}, "to"},
		{"no-threshold", store.AlertRule{Target: "webhook", URL: "http://x", WindowNs: 60e9}, "threshold"},
		{"no-window", store.AlertRule{Target: "webhook", URL: "http://x", Threshold: 2}, "window"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := alert.Validate(tc.rule)
			if (err == nil) != (tc.want == "") || err != nil && !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Validate = %v, want %q", err, tc.want)
			}
		})
	}
}
