package shop_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/ariadnehq/ariadne/demo/localcloud/localcloudtest"
	"github.com/ariadnehq/ariadne/demo/shop"
	"github.com/ariadnehq/ariadne/internal/api"
	ariadneapp "github.com/ariadnehq/ariadne/internal/app"
	"github.com/ariadnehq/ariadne/internal/app/apptest"
	"github.com/ariadnehq/ariadne/internal/config"
)

func TestMain(m *testing.M) {
	code := m.Run()
	if code == 0 {
		// The shop, the cloud, the card processor and the server must be
		// gone once closed; idle keep-alive connections may stay.
		if err := goleak.Find(localcloudtest.LeakOptions()...); err != nil {
			fmt.Fprintln(os.Stderr, "leaked goroutines:", err)
			code = 1
		}
	}
	os.Exit(code)
}

const coldStartPeriod = 30 * time.Second

func startAriadne(t *testing.T) *ariadneapp.App {
	// The test runs the detectors through the API when it wants a verdict.
	// Cold starts are judged per 30 s, as the demo judges them per minute,
	// so that the burst is not lost in ten minutes of warm traffic.
	return apptest.Start(t, func(c *config.Config) { c.OTLPGRPCAddr = ""; c.ColdStartPeriod = coldStartPeriod },
		apptest.DetectOnDemand(2*time.Second))
}

type client struct {
	t    *testing.T
	base string
}

func (c client) get(path string, v any) {
	c.t.Helper()
	resp, err := http.Get(c.base + path)
	if err != nil {
		c.t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		c.t.Fatalf("GET %s: %d %s", path, resp.StatusCode, body)
	}
	if err := json.Unmarshal(body, v); err != nil {
		c.t.Fatalf("GET %s: %v", path, err)
	}
}

// issues runs the detectors and lists what they found, as the UI does.
func (c client) issues() []api.Issue {
	c.t.Helper()
	resp, err := http.Post(c.base+"/api/v1/issues/detect", "application/json", nil)
	if err != nil {
		c.t.Fatalf("POST detect: %v", err)
	}
	resp.Body.Close()
	var res api.IssuesResponse
	c.get("/api/v1/issues?limit=200", &res)
	return res.Issues
}

func (c client) invocations(function, query string) []api.InvocationRecord {
	c.t.Helper()
	var res api.InvocationsResponse
	c.get("/api/v1/invocations?limit=500&function="+url.QueryEscape(function)+query, &res)
	return res.Invocations
}

// want is one fault's expected finding: an issue of kind on function (and
// channel, and with text in its title, when given).
type want struct {
	fault                   shop.Fault
	kind, function, channel string
	title                   string
}

func (w want) match(is api.Issue) bool {
	return is.Kind == w.kind && is.Function == w.function && (w.channel == "" || is.Channel == w.channel) &&
		(w.title == "" || strings.Contains(is.Title, w.title))
}

// TestShop runs the shop against a real Ariadne: clean traffic first, which
// must raise no issue, then every fault once on demand, each of which must
// be found as the right kind of issue on the right function — or, where
// Ariadne has no detector for it yet, leave its raw evidence in the API.
func TestShop(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the shop on a local cloud")
	}
	root, err := shop.FindRoot(".")
	if err != nil {
		t.Fatal(err)
	}
	srv := startAriadne(t)
	c := client{t: t, base: "http://" + srv.HTTPAddr()}
	s, err := shop.Start(t.Context(), shop.Settings{Root: root, Ariadne: srv.HTTPAddr(), Rate: 2, FirstFaults: -1,
		Progress: func(l string) { t.Log(l) }})
	if err != nil {
		t.Fatalf("start shop: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("close shop: %v", err)
		}
	})

	// Clean traffic: every function works, nothing to report.
	time.Sleep(12 * time.Second)
	for _, fn := range []string{"checkout-api", "payment", "inventory", "receipt", "email"} {
		if len(c.invocations(fn, "")) == 0 {
			t.Errorf("clean traffic: no invocation of %s", fn)
		}
	}
	time.Sleep(3 * time.Second) // past the detection lag
	for _, is := range c.issues() {
		// Every function's first invocations are cold; whether they
		// dominate its p95 depends on whether a 10-minute period happened
		// to end during these seconds, not on the traffic.
		if is.Kind == "cold_start" {
			continue
		}
		t.Errorf("clean traffic raised %s on %s (%s): %s", is.Kind, is.Function, is.Channel, is.Title)
	}
	if t.Failed() {
		t.FailNow()
	}

	sent := map[shop.Fault][]string{}
	for _, f := range shop.Faults() {
		ids, err := s.Inject(t.Context(), f)
		if err != nil {
			t.Fatalf("inject %s: %v", f, err)
		}
		sent[f] = ids
	}
	wants := []want{
		{fault: shop.FaultTimeout, kind: "timeout", function: "payment"},
		{fault: shop.FaultOOM, kind: "oom", function: "receipt"},
		{fault: shop.FaultCrash, kind: "crash", function: "email"},
		{fault: shop.FaultRetry, kind: "retry", function: "payment", channel: "payments"},
		{fault: shop.FaultRetry, kind: "error", function: "payment", title: "card processor answered"},
		{fault: shop.FaultPoison, kind: "dead_letter", function: "payment", channel: "payments"},
		{fault: shop.FaultPoison, kind: "error", function: "payment", title: "is not positive"},
		{fault: shop.FaultPartial, kind: "partial_batch_failure", function: "inventory", channel: "inventory", title: "stock row locked"},
		{fault: shop.FaultPartial, kind: "retry", function: "inventory", channel: "inventory"},
		{fault: shop.FaultDuplicate, kind: "error", function: "payment", title: "Post <str>"},
		{fault: shop.FaultDuplicate, kind: "duplicate_side_effect", function: "payment", channel: "payments", title: "/v1/charges"},
		{fault: shop.FaultDrift, kind: "contract_drift", function: "payment", channel: "payments", title: `checkout-api 2.0.0 renamed "amount" to "total"`},
		{fault: shop.FaultDrift, kind: "error", function: "payment", title: "no amount"},
		{fault: shop.FaultDrift, kind: "silent_async_failure", function: "checkout-api-v2", channel: "payments"},
		{fault: shop.FaultColdStart, kind: "cold_start", function: "checkout-api", title: "cold starts dominate checkout-api's p95"},
	}
	// The burst's cold-start period must end (and pass the lag) first.
	deadline := time.Now().Add(max(70*time.Second, 2*coldStartPeriod))
	var list []api.Issue
	var missing []want
	for {
		list, missing = c.issues(), nil
		for _, w := range wants {
			found := false
			for _, is := range list {
				found = found || w.match(is)
			}
			if !found {
				missing = append(missing, w)
			}
		}
		if len(missing) == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(3 * time.Second)
	}
	for _, w := range missing {
		t.Errorf("fault %s: no %s issue on %s %s %q", w.fault, w.kind, w.function, w.channel, w.title)
	}
	for _, is := range list {
		t.Logf("issue %-22s %-16s %-14s ×%-3d %s", is.Kind, is.Function, is.Channel, is.Count, is.Title)
	}

	// Raw evidence, the platform's view: statuses of the invocations.
	for _, e := range []struct{ function, status string }{{"payment", "timeout"}, {"receipt", "oom"}, {"email", "crash"}} {
		if len(c.invocations(e.function, "&status="+e.status)) == 0 {
			t.Errorf("no %s invocation of %s", e.status, e.function)
		}
	}
	// Duplicate charge: no detector yet; the card processor's ledger and a
	// second payment attempt of the order are the evidence.
	if id := sent[shop.FaultDuplicate][0]; s.Charges(id) < 2 {
		t.Errorf("order %s charged %d times, want a duplicate charge", id, s.Charges(id))
	} else {
		var tr api.SearchResponse
		c.get("/api/v1/traces?service=payment&limit=20&q="+url.QueryEscape(id), &tr)
		if len(tr.Traces) < 2 {
			t.Errorf("order %s: %d payment traces, want the failed attempt and the retry that charged again", id, len(tr.Traces))
		}
	}
	// Cold-start burst: the issue counts the burst's cold starts (the
	// first invocations of the clean traffic may have raised it already).
	if n := len(c.invocations("checkout-api", "&coldStart=true")); n < 4 {
		t.Errorf("checkout-api: %d cold starts after a burst of 12 orders, want several", n)
	}
	for _, is := range list {
		if is.Kind == "cold_start" && is.Function == "checkout-api" && is.Count < 4 {
			t.Errorf("cold_start on checkout-api counts %d cold starts, want the burst's", is.Count)
		}
	}
	// The poison message's life ends in the dead-letter queue.
	var msgs api.MessagesResponse
	c.get("/api/v1/messages?q="+url.QueryEscape(sent[shop.FaultPoison][0]), &msgs)
	dead := false
	for _, m := range msgs.Messages {
		var life api.MessageResponse
		c.get("/api/v1/messages/"+url.PathEscape(m.MessageID), &life)
		dead = dead || (life.State == "dead_lettered" && life.DeadLetter == "payments-dlq")
	}
	if !dead {
		t.Errorf("poison order %s: no dead-lettered message among %s", sent[shop.FaultPoison][0], fmt.Sprint(msgs.Messages))
	}
}
