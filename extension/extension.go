package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Extensions and Telemetry API paths (docs.aws.amazon.com/lambda/latest/dg/
// runtimes-extensions-api.html, telemetry-api.html).
const (
	pathRegister  = "/2020-01-01/extension/register"
	pathNext      = "/2020-01-01/extension/event/next"
	pathTelemetry = "/2022-07-01/telemetry"
)

// Headers the server reads (internal/ingest/lambda).
const (
	headerFunction = "X-Ariadne-Function"
	headerVersion  = "X-Ariadne-Function-Version"
	headerDropped  = "X-Ariadne-Dropped"
)

// maxTelemetryBody bounds one delivery from the Telemetry API (Lambda's
// own maximum is 1 MB).
const maxTelemetryBody = 8 << 20

// shutdownWait is the longest the extension waits after SHUTDOWN for the
// platform.report of an invocation still open, before its final flush.
const shutdownWait = time.Second

func run(ctx context.Context, getenv func(string) string, name string) error {
	cfg, err := loadConfig(getenv)
	if err != nil {
		return err
	}
	ext := newExtension(cfg)
	return ext.run(ctx, name)
}

type extension struct {
	cfg    config
	api    string // http://$AWS_LAMBDA_RUNTIME_API
	lambda *http.Client
	out    *http.Client
	buf    *buffer
	kick   chan struct{}
	errs   atomic.Int64 // forwarding failures, for rate-limited reporting
	sent   atomic.Int64 // events forwarded
	logf   func(format string, args ...any)
}

func newExtension(cfg config) *extension {
	return &extension{
		cfg:    cfg,
		api:    "http://" + cfg.RuntimeAPI,
		lambda: &http.Client{}, // event/next blocks until the next event: no timeout
		out:    &http.Client{Timeout: cfg.Timeout},
		buf:    newBuffer(cfg.BufferEvents, cfg.BufferBytes),
		kick:   make(chan struct{}, 1),
		logf: func(format string, args ...any) {
			fmt.Fprintf(os.Stderr, "ariadne-extension: "+format+"\n", args...)
		},
	}
}

func (e *extension) run(ctx context.Context, name string) error {
	id, info, err := e.register(ctx, name)
	if err != nil {
		return err
	}
	if info.FunctionName != "" {
		e.cfg.Function = info.FunctionName
	}
	if info.FunctionVersion != "" {
		e.cfg.Version = info.FunctionVersion
	}
	var (
		srv  *http.Server
		fwd  sync.WaitGroup
		stop = make(chan struct{})
	)
	if e.cfg.Endpoint == "" {
		e.logf("ARIADNE_ENDPOINT is not set; not subscribing to telemetry")
	} else {
		if srv, err = e.subscribe(ctx, id); err != nil {
			// The function must run even when telemetry cannot be had.
			e.logf("subscribe to telemetry: %v", err)
		}
		fwd.Add(1)
		go func() {
			defer fwd.Done()
			e.forward(stop)
		}()
	}
	// stopAll ends the forwarder and the listener, waiting for an
	// in-flight send at most until deadline.
	stopAll := func(deadline time.Time) {
		close(stop)
		done := make(chan struct{})
		go func() { fwd.Wait(); close(done) }()
		t := time.NewTimer(max(time.Until(deadline), 0))
		defer t.Stop()
		select {
		case <-done:
		case <-t.C:
		}
		if srv != nil {
			srv.Close()
		}
	}
	for {
		ev, err := e.next(ctx, id)
		if err != nil {
			stopAll(time.Now().Add(e.cfg.Timeout))
			return err
		}
		switch ev.EventType {
		case "INVOKE":
			// Forward what the previous invocation left (its report
			// arrives after it ended), without holding this one up.
			e.signal()
		case "SHUTDOWN":
			deadline := time.Now().Add(2 * time.Second)
			if ev.DeadlineMs > 0 {
				deadline = time.UnixMilli(ev.DeadlineMs).Add(-100 * time.Millisecond)
			}
			if e.cfg.Endpoint != "" {
				e.shutdown(deadline)
			}
			stopAll(deadline)
			if d := e.buf.dropped.Load(); d > 0 {
				e.logf("dropped %d events (buffer full or backend unreachable)", d)
			}
			return nil
		}
	}
}

func (e *extension) signal() {
	select {
	case e.kick <- struct{}{}:
	default:
	}
}

type registerInfo struct {
	FunctionName    string `json:"functionName"`
	FunctionVersion string `json:"functionVersion"`
}

func (e *extension) register(ctx context.Context, name string) (string, registerInfo, error) {
	var info registerInfo
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.api+pathRegister,
		bytes.NewReader([]byte(`{"events":["INVOKE","SHUTDOWN"]}`)))
	if err != nil {
		return "", info, fmt.Errorf("register: %w", err)
	}
	req.Header.Set("Lambda-Extension-Name", name)
	resp, err := e.lambda.Do(req)
	if err != nil {
		return "", info, fmt.Errorf("register: %w", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	id := resp.Header.Get("Lambda-Extension-Identifier")
	if resp.StatusCode != http.StatusOK || id == "" {
		return "", info, fmt.Errorf("register: status %d: %s", resp.StatusCode, body)
	}
	_ = json.Unmarshal(body, &info) // optional details
	return id, info, nil
}

// subscribe starts the telemetry listener and subscribes it.
func (e *extension) subscribe(ctx context.Context, id string) (*http.Server, error) {
	ln, err := net.Listen("tcp", e.cfg.Listen)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", e.cfg.Listen, err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(e.receive), ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	host, _, _ := net.SplitHostPort(e.cfg.Listen)
	if host == "" || host == "0.0.0.0" {
		host = "sandbox.localdomain"
	}
	uri := "http://" + net.JoinHostPort(host, strconv.Itoa(ln.Addr().(*net.TCPAddr).Port))
	// The smallest buffering timeout Lambda allows: events reach us
	// quickly, and we do our own batching towards Ariadne.
	sub := fmt.Sprintf(`{"schemaVersion":"2022-12-13","types":["platform","function","extension"],`+
		`"buffering":{"maxItems":1000,"maxBytes":262144,"timeoutMs":25},"destination":{"protocol":"HTTP","URI":%q}}`, uri)
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, e.api+pathTelemetry, bytes.NewReader([]byte(sub)))
	if err != nil {
		srv.Close()
		return nil, err
	}
	req.Header.Set("Lambda-Extension-Identifier", id)
	req.Header.Set("Content-Type", "application/json")
	resp, err := e.lambda.Do(req)
	if err != nil {
		srv.Close()
		return nil, err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode != http.StatusOK {
		srv.Close()
		return nil, fmt.Errorf("status %d: %s", resp.StatusCode, body)
	}
	return srv, nil
}

type lifecycleEvent struct {
	EventType  string `json:"eventType"`
	DeadlineMs int64  `json:"deadlineMs"`
	RequestID  string `json:"requestId"`
}

func (e *extension) next(ctx context.Context, id string) (lifecycleEvent, error) {
	var ev lifecycleEvent
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, e.api+pathNext, nil)
	if err != nil {
		return ev, fmt.Errorf("next event: %w", err)
	}
	req.Header.Set("Lambda-Extension-Identifier", id)
	resp, err := e.lambda.Do(req)
	if err != nil {
		return ev, fmt.Errorf("next event: %w", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusOK {
		return ev, fmt.Errorf("next event: status %d: %s", resp.StatusCode, body)
	}
	if err := json.Unmarshal(body, &ev); err != nil {
		return ev, fmt.Errorf("next event: %w", err)
	}
	return ev, nil
}

// receive handles one Telemetry API delivery.
func (e *extension) receive(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxTelemetryBody))
	if err != nil {
		http.Error(w, "body too large", http.StatusRequestEntityTooLarge)
		return
	}
	var events []json.RawMessage
	if err := json.Unmarshal(body, &events); err != nil {
		http.Error(w, "want a JSON array", http.StatusBadRequest)
		return
	}
	if e.buf.add(events) {
		e.signal()
	}
	w.WriteHeader(http.StatusOK)
}

// shutdown waits (briefly, within the deadline) for the reports of open
// invocations, then flushes everything before the deadline.
func (e *extension) shutdown(deadline time.Time) {
	e.buf.waitReports(min(time.Until(deadline)/2, shutdownWait))
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()
	e.flush(ctx)
}

// forward sends the buffer when kicked and every FlushInterval until stop
// closes. Each request is bounded by the client's timeout.
func (e *extension) forward(stop <-chan struct{}) {
	t := time.NewTicker(e.cfg.FlushInterval)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		case <-e.kick:
		}
		e.flush(context.Background())
	}
}

// flush sends what the buffer holds; one flush at a time.
func (e *extension) flush(ctx context.Context) {
	platform, logs := e.buf.take()
	if len(platform) > 0 {
		body := append([]byte{'['}, bytes.Join(platform, []byte{','})...)
		body = append(body, ']')
		e.post(ctx, "/api/v1/lambda/telemetry", body, len(platform))
	}
	if len(logs) > 0 {
		body, err := json.Marshal(e.otlpLogs(logs))
		if err == nil {
			e.post(ctx, "/v1/logs", body, len(logs))
		}
	}
}

// post sends one request, retrying once on a network error or a retryable
// answer; what still fails is counted as dropped.
func (e *extension) post(ctx context.Context, path string, body []byte, n int) {
	var last error
	for attempt := range 2 {
		if attempt > 0 {
			select {
			case <-ctx.Done():
			case <-time.After(100 * time.Millisecond):
			}
		}
		if ctx.Err() != nil {
			last = ctx.Err()
			break
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.cfg.Endpoint+path, bytes.NewReader(body))
		if err != nil {
			last = err
			break
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set(headerFunction, e.cfg.Function)
		req.Header.Set(headerVersion, e.cfg.Version)
		req.Header.Set(headerDropped, strconv.FormatInt(e.buf.dropped.Load(), 10))
		for k, v := range e.cfg.Headers {
			req.Header.Set(k, v)
		}
		resp, err := e.out.Do(req)
		if err != nil {
			last = err
			continue
		}
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		resp.Body.Close()
		switch {
		case resp.StatusCode < 300:
			e.sent.Add(int64(n))
			return
		case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
			last = fmt.Errorf("%s: status %d: %s", path, resp.StatusCode, bytes.TrimSpace(msg))
			continue
		default:
			last = fmt.Errorf("%s: status %d: %s", path, resp.StatusCode, bytes.TrimSpace(msg))
		}
		break
	}
	e.buf.dropped.Add(int64(n))
	// Our stderr is the function's log stream and comes back to us as
	// telemetry: report the first failure and then every hundredth.
	if c := e.errs.Add(1); c == 1 || c%100 == 0 {
		e.logf("forward %d events to %s: %v", n, e.cfg.Endpoint, last)
	}
}
