package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeLambda serves the Extensions and Telemetry APIs: lifecycle events
// come from the events channel; the subscription's URI is recorded.
type fakeLambda struct {
	t      *testing.T
	srv    *httptest.Server
	events chan string
	mu     sync.Mutex
	uri    string
	nexts  []time.Time // when event/next was called
	subbed chan struct{}
}

func newFakeLambda(t *testing.T) *fakeLambda {
	f := &fakeLambda{t: t, events: make(chan string, 10), subbed: make(chan struct{})}
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+pathRegister, func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Lambda-Extension-Name") == "" {
			http.Error(w, "no name", 400)
			return
		}
		w.Header().Set("Lambda-Extension-Identifier", "ext-1")
		w.Write([]byte(`{"functionName":"orders","functionVersion":"$LATEST","handler":"bootstrap"}`))
	})
	mux.HandleFunc("PUT "+pathTelemetry, func(w http.ResponseWriter, r *http.Request) {
		var sub struct{ Destination struct{ URI string } }
		json.NewDecoder(r.Body).Decode(&sub)
		f.mu.Lock()
		f.uri = sub.Destination.URI
		f.mu.Unlock()
		close(f.subbed)
	})
	mux.HandleFunc("GET "+pathNext, func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.nexts = append(f.nexts, time.Now())
		f.mu.Unlock()
		select {
		case ev := <-f.events:
			w.Write([]byte(ev))
		case <-r.Context().Done():
		}
	})
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeLambda) deliver(events ...string) {
	f.t.Helper()
	<-f.subbed
	f.mu.Lock()
	uri := f.uri
	f.mu.Unlock()
	resp, err := http.Post(uri, "application/json", strings.NewReader("["+strings.Join(events, ",")+"]"))
	if err != nil {
		f.t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		f.t.Fatalf("telemetry delivery: status %d", resp.StatusCode)
	}
}

func (f *fakeLambda) nextCalls() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.nexts)
}

// fakeAriadne records what the extension posts.
type fakeAriadne struct {
	srv   *httptest.Server
	mu    sync.Mutex
	posts map[string][][]byte
	hdrs  []http.Header
	delay time.Duration
}

func newFakeAriadne(t *testing.T, delay time.Duration) *fakeAriadne {
	a := &fakeAriadne{posts: map[string][][]byte{}, delay: delay}
	a.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if a.delay > 0 {
			select {
			case <-time.After(a.delay):
			case <-r.Context().Done():
				return
			}
		}
		a.mu.Lock()
		a.posts[r.URL.Path] = append(a.posts[r.URL.Path], body)
		a.hdrs = append(a.hdrs, r.Header.Clone())
		a.mu.Unlock()
	}))
	t.Cleanup(a.srv.Close)
	return a
}

func (a *fakeAriadne) got(path string) []byte {
	a.mu.Lock()
	defer a.mu.Unlock()
	return bytes.Join(a.posts[path], []byte("\n"))
}

func testConfig(lambdaAddr, endpoint string) config {
	c, err := loadConfig(func(k string) string {
		switch k {
		case "AWS_LAMBDA_RUNTIME_API":
			return lambdaAddr
		case "ARIADNE_ENDPOINT":
			return endpoint
		case "ARIADNE_EXTENSION_FLUSH_INTERVAL":
			return "50ms"
		case "ARIADNE_EXTENSION_TIMEOUT":
			return "300ms"
		}
		return ""
	})
	if err != nil {
		panic(err)
	}
	return c
}

const (
	reqID = "6d68ca91-49c9-448d-89b8-7ca3e6dc66aa"
	xray  = "Root=1-62e900b2-710d76f009d6e7785905449a;Parent=0efbd19962d95b05;Sampled=1"
)

func invocationEvents(id string) []string {
	return []string{
		fmt.Sprintf(`{"time":"2026-11-25T10:00:00.200Z","type":"platform.start","record":{"requestId":%q,"tracing":{"type":"X-Amzn-Trace-Id","value":%q}}}`, id, xray),
		`{"time":"2026-11-25T10:00:00.210Z","type":"function","record":"2026-11-25T10:00:00.210Z\t` + id + `\tINFO\thandling order 42\n"}`,
		`{"time":"2026-11-25T10:00:00.220Z","type":"extension","record":"other extension says hi"}`,
		fmt.Sprintf(`{"time":"2026-11-25T10:00:00.300Z","type":"platform.runtimeDone","record":{"requestId":%q,"status":"success"}}`, id),
		fmt.Sprintf(`{"time":"2026-11-25T10:00:00.310Z","type":"platform.report","record":{"requestId":%q,"status":"success","metrics":{"durationMs":100,"billedDurationMs":100,"memorySizeMB":128,"maxMemoryUsedMB":20}}}`, id),
	}
}

func startExtension(t *testing.T, cfg config) (done chan error) {
	done = make(chan error, 1)
	go func() { done <- newExtension(cfg).run(t.Context(), "ariadne-extension") }()
	return done
}

func TestForwardAndShutdownFlush(t *testing.T) {
	lam := newFakeLambda(t)
	ari := newFakeAriadne(t, 0)
	cfg := testConfig(strings.TrimPrefix(lam.srv.URL, "http://"), ari.srv.URL)
	cfg.FlushInterval = time.Hour // only SHUTDOWN flushes
	done := startExtension(t, cfg)
	lam.events <- fmt.Sprintf(`{"eventType":"INVOKE","requestId":%q,"deadlineMs":%d}`, reqID, time.Now().Add(time.Minute).UnixMilli())
	ev := invocationEvents(reqID)
	lam.deliver(ev[:3]...)
	lam.events <- fmt.Sprintf(`{"eventType":"SHUTDOWN","shutdownReason":"spindown","deadlineMs":%d}`, time.Now().Add(2*time.Second).UnixMilli())
	// The report arrives after SHUTDOWN: the extension waits for it.
	time.Sleep(50 * time.Millisecond)
	lam.deliver(ev[3:]...)
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("extension did not exit after SHUTDOWN")
	}
	tel := ari.got("/api/v1/lambda/telemetry")
	var events []struct{ Type string }
	for _, part := range bytes.Split(tel, []byte("\n")) {
		var evs []struct{ Type string }
		if err := json.Unmarshal(part, &evs); err != nil {
			t.Fatalf("telemetry body %s: %v", part, err)
		}
		events = append(events, evs...)
	}
	if len(events) != 3 || events[2].Type != "platform.report" {
		t.Errorf("forwarded platform events %+v", events)
	}
	logs := string(ari.got("/v1/logs"))
	for _, want := range []string{`handling order 42"`, `"faas.invocation_id","value":{"stringValue":"` + reqID, `"traceId":"62e900b2710d76f009d6e7785905449a"`,
		`"severityText":"INFO"`, `"ariadne.lambda.stream","value":{"stringValue":"extension"`, `"faas.name","value":{"stringValue":"orders"`} {
		if !strings.Contains(logs, want) {
			t.Errorf("OTLP logs lack %s:\n%s", want, logs)
		}
	}
	ari.mu.Lock()
	h := ari.hdrs[0]
	ari.mu.Unlock()
	if h.Get(headerFunction) != "orders" || h.Get("Content-Type") != "application/json" {
		t.Errorf("headers %v", h)
	}
}

// TestNeverDelaysTheFunction: with a backend that hangs, the extension
// still asks for the next event at once after INVOKE and answers telemetry
// deliveries at once.
func TestNeverDelaysTheFunction(t *testing.T) {
	lam := newFakeLambda(t)
	ari := newFakeAriadne(t, 10*time.Second)
	cfg := testConfig(strings.TrimPrefix(lam.srv.URL, "http://"), ari.srv.URL)
	done := startExtension(t, cfg)
	<-lam.subbed
	for lam.nextCalls() == 0 {
		time.Sleep(time.Millisecond)
	}
	for i := range 5 {
		id := fmt.Sprintf("00000000-0000-4000-8000-%012d", i)
		// The extension is blocked in event/next (call number before);
		// after INVOKE it must call again at once: before+1 calls.
		before := lam.nextCalls()
		start := time.Now()
		lam.events <- fmt.Sprintf(`{"eventType":"INVOKE","requestId":%q}`, id)
		t0 := time.Now()
		lam.deliver(invocationEvents(id)...)
		if d := time.Since(t0); d > 200*time.Millisecond {
			t.Errorf("telemetry delivery took %v with a hanging backend", d)
		}
		for lam.nextCalls() < before+1 && time.Since(start) < 2*time.Second {
			time.Sleep(time.Millisecond)
		}
		if d := time.Since(start); d > 200*time.Millisecond {
			t.Errorf("invocation %d: next event asked for after %v", i, d)
		}
	}
	lam.events <- fmt.Sprintf(`{"eventType":"SHUTDOWN","deadlineMs":%d}`, time.Now().Add(time.Second).UnixMilli())
	select {
	case <-done:
	case <-time.After(1500 * time.Millisecond):
		t.Fatal("extension did not exit within its SHUTDOWN deadline (1 s) with a hanging backend")
	}
}

func TestBufferBound(t *testing.T) {
	b := newBuffer(4, 1<<20)
	var evs []json.RawMessage
	for _, e := range invocationEvents(reqID) {
		evs = append(evs, json.RawMessage(e))
	}
	if !b.add(evs) {
		t.Error("a report did not ask for a flush")
	}
	if got := b.dropped.Load(); got != 1 {
		t.Errorf("dropped %d, want 1", got)
	}
	p, l := b.take()
	if len(p)+len(l) != 4 {
		t.Errorf("kept %d platform + %d logs, want 4", len(p), len(l))
	}
	// After take the buffer has room again.
	b.add(evs[:1])
	if p, _ := b.take(); len(p) != 1 {
		t.Errorf("after take: %d", len(p))
	}
	small := newBuffer(100, 200) // bytes bound
	small.add(evs)
	if small.dropped.Load() == 0 {
		t.Error("byte bound not applied")
	}
}

func TestConfig(t *testing.T) {
	for _, tc := range []struct {
		env  map[string]string
		want string // error substring, "" = ok
	}{
		{map[string]string{}, "AWS_LAMBDA_RUNTIME_API"},
		{map[string]string{"AWS_LAMBDA_RUNTIME_API": "127.0.0.1:9001", "ARIADNE_ENDPOINT": "ariadne:7070"}, "ARIADNE_ENDPOINT"},
		{map[string]string{"AWS_LAMBDA_RUNTIME_API": "127.0.0.1:9001", "ARIADNE_HEADERS": "novalue"}, "ARIADNE_HEADERS"},
		{map[string]string{"AWS_LAMBDA_RUNTIME_API": "127.0.0.1:9001", "ARIADNE_EXTENSION_BUFFER_EVENTS": "-1"}, "BUFFER_EVENTS"},
		{map[string]string{"AWS_LAMBDA_RUNTIME_API": "127.0.0.1:9001", "ARIADNE_EXTENSION_TIMEOUT": "soon"}, "TIMEOUT"},
		{map[string]string{"AWS_LAMBDA_RUNTIME_API": "127.0.0.1:9001", "ARIADNE_ENDPOINT": "http://a:7070/", "ARIADNE_HEADERS": "authorization=Bearer x, x-team=a"}, ""},
	} {
		c, err := loadConfig(func(k string) string { return tc.env[k] })
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%v: %v", tc.env, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%v: error %v, want one naming %s", tc.env, err, tc.want)
		case tc.want == "":
			if c.Endpoint != "http://a:7070" || c.Headers["x-team"] != "a" || c.Listen != "127.0.0.1:0" {
				t.Errorf("config %+v", c)
			}
		}
	}
	c, _ := loadConfig(func(k string) string {
		if k == "AWS_LAMBDA_RUNTIME_API" {
			return "169.254.100.1:9001"
		}
		return ""
	})
	if c.Listen != "sandbox.localdomain:0" {
		t.Errorf("listen on Lambda: %q", c.Listen)
	}
}

func TestXRay(t *testing.T) {
	if got := xrayToW3C(xray); got != "62e900b2710d76f009d6e7785905449a" {
		t.Errorf("xrayToW3C = %q", got)
	}
	for _, bad := range []string{"", "Root=1-62e900b2-710d76f009d6e778590544", "Parent=1", "Root=1-62e900b2-710d76f009d6e7785905449z"} {
		if got := xrayToW3C(bad); got != "" {
			t.Errorf("xrayToW3C(%q) = %q", bad, got)
		}
	}
}
