// Package lambda is a local stand-in for AWS Lambda. It runs unmodified
// function binaries (built with aws-lambda-go's lambda.Start, or any custom
// runtime) as their own processes against a local Runtime API, and external
// extension binaries against the Extensions and Telemetry APIs.
//
// It enforces the configured timeout and memory size by killing the process
// and reports both as Lambda does (platform log lines, Telemetry API events,
// invoke responses). Execution environments are reused while warm and
// replaced after a crash, a timeout, an out-of-memory kill or idleness.
// Reserved concurrency throttles; asynchronous invokes are retried with
// back-off and then sent to an on-failure destination or dead-letter target.
//
// The package owns processes and listeners it starts and nothing else: it
// never reaches into other local services directly, it calls the Deliver
// callback for destinations.
package lambda

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Errors returned by Invoke and InvokeAsync. Compare with errors.Is.
var (
	ErrNotFound  = errors.New("function not found")
	ErrThrottled = errors.New("rate exceeded")
	ErrTooLarge  = errors.New("request payload too large")
	ErrClosed    = errors.New("lambda service closed")

	// errAccountLimit is the throttle of Settings.ConcurrencyLimit.
	errAccountLimit = fmt.Errorf("%w: concurrency limit of the account", ErrThrottled)
)

// Payload limits as documented by AWS.
const (
	maxSyncPayload  = 6 * 1024 * 1024
	maxAsyncPayload = 1024 * 1024
)

// Status is the outcome of one invocation attempt, in the vocabulary of
// Ariadne's invocations table.
type Status string

// Invocation outcomes.
const (
	StatusOK        Status = "ok"
	StatusError     Status = "error"
	StatusTimeout   Status = "timeout"
	StatusOOM       Status = "oom"
	StatusCrash     Status = "crash"
	StatusThrottled Status = "throttled"
)

// Log sources of a LogLine.
const (
	SourceFunction  = "function"
	SourceExtension = "extension"
	SourcePlatform  = "platform"
)

// LogLine is one line of what Lambda would write to the function's log
// stream: function or extension output, or a platform line (START, END,
// REPORT, INIT_START, "Task timed out after …").
type LogLine struct {
	Time      time.Time
	Function  string
	RequestID string // empty outside an invocation
	Source    string // SourceFunction, SourceExtension or SourcePlatform
	Text      string
}

// Record describes one finished invocation attempt (or a throttle).
type Record struct {
	Function        string
	RequestID       string
	Status          Status
	ErrorType       string
	ColdStart       bool
	Attempt         int // 1 for sync invokes; async retries count up
	Async           bool
	Start           time.Time
	Duration        time.Duration
	InitDuration    time.Duration // non-zero on a cold start
	BilledDuration  time.Duration
	MemoryMB        int
	MaxMemoryUsedMB int
	TraceHeader     string
}

// Function is the configuration of one function.
type Function struct {
	Name       string
	Binary     string   // executable started as the runtime (the "bootstrap")
	Args       []string // extra arguments for Binary
	Handler    string   // value of _HANDLER; defaults to the binary's base name
	MemoryMB   int      // default 128
	Timeout    time.Duration
	Env        map[string]string
	Extensions []string // external extension executables started in every environment
	// ReservedConcurrency limits concurrent environments; nil means unlimited,
	// 0 throttles every invoke.
	ReservedConcurrency *int
	Async               AsyncConfig
}

// AsyncConfig is a function's event invoke configuration.
type AsyncConfig struct {
	MaxRetryAttempts *int          // default 2
	MaxEventAge      time.Duration // default 6h
	OnSuccess        string        // destination ARN (SQS, SNS or Lambda)
	OnFailure        string        // destination ARN (SQS, SNS or Lambda)
	DeadLetterTarget string        // DLQ ARN (SQS or SNS); gets the original event
}

// Settings configures the service. Zero values get defaults.
type Settings struct {
	Region    string // default us-east-1
	AccountID string // default 000000000000
	Addr      string // invoke API listen address, default 127.0.0.1:0
	Logger    *slog.Logger
	// Logs receives every log line of every function (the log stream).
	// It is called from many goroutines and must not block for long.
	Logs func(LogLine)
	// OnInvocation receives one Record per finished attempt and per throttle.
	OnInvocation func(Record)
	// Deliver sends a destination or dead-letter message to the resource
	// named by targetARN. attrs are message attributes (string typed).
	Deliver func(ctx context.Context, targetARN string, body []byte, attrs map[string]string) error
	// Env is added to the environment of every function process (for
	// example AWS_ENDPOINT_URL_SQS pointing at the local SQS).
	Env map[string]string
	// ConcurrencyLimit bounds the environments of all functions together
	// (the account limit), default 100: each one is a process here.
	ConcurrencyLimit   int
	IdleTimeout        time.Duration   // idle environments are shut down, default 5m
	RetryDelays        []time.Duration // async back-off per retry, default 1m, 2m
	ThrottleRetryDelay time.Duration   // async re-try after a throttle, default 1s
	ShutdownGrace      time.Duration   // time extensions get after SHUTDOWN, default 2s
	InitTimeout        time.Duration   // default 10s
	MemoryPollInterval time.Duration   // RSS sampling period, default 5ms
}

func (s *Settings) defaults() {
	if s.Region == "" {
		s.Region = "us-east-1"
	}
	if s.AccountID == "" {
		s.AccountID = "000000000000"
	}
	if s.Addr == "" {
		s.Addr = "127.0.0.1:0"
	}
	if s.Logger == nil {
		s.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if s.ConcurrencyLimit <= 0 {
		s.ConcurrencyLimit = 100
	}
	if s.IdleTimeout <= 0 {
		s.IdleTimeout = 5 * time.Minute
	}
	if len(s.RetryDelays) == 0 {
		s.RetryDelays = []time.Duration{time.Minute, 2 * time.Minute}
	}
	if s.ThrottleRetryDelay <= 0 {
		s.ThrottleRetryDelay = time.Second
	}
	if s.ShutdownGrace <= 0 {
		s.ShutdownGrace = 2 * time.Second
	}
	if s.InitTimeout <= 0 {
		s.InitTimeout = 10 * time.Second
	}
	if s.MemoryPollInterval <= 0 {
		s.MemoryPollInterval = 5 * time.Millisecond
	}
}

// Service is a running local Lambda. Create it with New, stop it with Close.
type Service struct {
	set      Settings
	ctx      context.Context
	cancel   context.CancelFunc
	ln       net.Listener
	srv      *http.Server
	endpoint string

	mu        sync.Mutex
	functions map[string]*function
	closed    bool

	pending   atomic.Int64 // queued async events
	active    atomic.Int64 // environments initialising or invoking, all functions
	wg        sync.WaitGroup
	closeOnce sync.Once
}

// New starts the invoke API (the Lambda control plane subset that
// aws-sdk-go-v2's Invoke uses) and the idle reaper.
func New(ctx context.Context, set Settings) (*Service, error) {
	set.defaults()
	ln, err := net.Listen("tcp", set.Addr)
	if err != nil {
		return nil, fmt.Errorf("listen lambda api: %w", err)
	}
	ctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	s := &Service{
		set:       set,
		ctx:       ctx,
		cancel:    cancel,
		ln:        ln,
		endpoint:  "http://" + ln.Addr().String(),
		functions: map[string]*function{},
	}
	s.srv = &http.Server{Handler: s.apiHandler(), ReadHeaderTimeout: 10 * time.Second}
	s.wg.Add(2)
	go func() {
		defer s.wg.Done()
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.set.Logger.Error("lambda api stopped", "err", err)
		}
	}()
	go func() {
		defer s.wg.Done()
		s.reap()
	}()
	return s, nil
}

// Endpoint is the base URL for aws-sdk-go-v2's lambda client (BaseEndpoint).
func (s *Service) Endpoint() string { return s.endpoint }

// Region returns the configured region.
func (s *Service) Region() string { return s.set.Region }

// FunctionARN returns the unqualified ARN of a function name.
func (s *Service) FunctionARN(name string) string {
	return fmt.Sprintf("arn:aws:lambda:%s:%s:function:%s", s.set.Region, s.set.AccountID, name)
}

// CreateFunction registers a function. Its environments start on demand.
func (s *Service) CreateFunction(f Function) error {
	if f.Name == "" || f.Binary == "" {
		return fmt.Errorf("create function %q: name and binary are required", f.Name)
	}
	if f.MemoryMB <= 0 {
		f.MemoryMB = 128
	}
	if f.Timeout <= 0 {
		f.Timeout = 3 * time.Second
	}
	if f.Async.MaxRetryAttempts == nil {
		two := 2
		f.Async.MaxRetryAttempts = &two
	}
	if f.Async.MaxEventAge <= 0 {
		f.Async.MaxEventAge = 6 * time.Hour
	}
	if f.Handler == "" {
		f.Handler = baseName(f.Binary)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return fmt.Errorf("create function %q: %w", f.Name, ErrClosed)
	}
	if _, ok := s.functions[f.Name]; ok {
		return fmt.Errorf("create function %q: already exists", f.Name)
	}
	s.functions[f.Name] = &function{cfg: f, arn: s.FunctionARN(f.Name)}
	return nil
}

// Functions returns the names of the registered functions.
func (s *Service) Functions() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	names := make([]string, 0, len(s.functions))
	for n := range s.functions {
		names = append(names, n)
	}
	return names
}

// lookup resolves a function name, partial ARN or ARN (qualifier ignored).
func (s *Service) lookup(ref string) (*function, error) {
	name := ref
	if strings.HasPrefix(name, "arn:") {
		parts := strings.Split(name, ":")
		if len(parts) < 7 {
			return nil, fmt.Errorf("%w: %s", ErrNotFound, ref)
		}
		name = parts[6]
	} else if i := strings.IndexByte(name, ':'); i >= 0 {
		name = name[:i]
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, ErrClosed
	}
	fn, ok := s.functions[name]
	if !ok {
		return nil, fmt.Errorf("%w: %s", ErrNotFound, s.FunctionARN(name))
	}
	return fn, nil
}

// InvokeInput is one invocation request.
type InvokeInput struct {
	Function      string // name or ARN
	Payload       []byte
	TraceHeader   string // X-Amzn-Trace-Id to propagate; generated when empty
	ClientContext string // base64 client context, passed to the runtime
}

// Result is the outcome of a synchronous invocation as the caller sees it.
type Result struct {
	Record
	Payload       []byte // the function's response, or Lambda's error document
	FunctionError string // "Unhandled" when the invocation failed, else ""
	LogTail       string // the last 4 KB of the invocation's log lines
}

// Invoke runs a synchronous (RequestResponse) invocation. A function error,
// timeout or crash is not a Go error: it is reported in the Result. Errors
// are ErrNotFound, ErrThrottled, ErrTooLarge, ErrClosed or ctx's error.
func (s *Service) Invoke(ctx context.Context, in InvokeInput) (*Result, error) {
	fn, err := s.lookup(in.Function)
	if err != nil {
		return nil, fmt.Errorf("invoke: %w", err)
	}
	if len(in.Payload) > maxSyncPayload {
		return nil, fmt.Errorf("invoke %s: %w", fn.cfg.Name, ErrTooLarge)
	}
	return s.invoke(ctx, fn, in, newRequestID(), 1, false)
}

func (s *Service) invoke(ctx context.Context, fn *function, in InvokeInput, requestID string, attempt int, async bool) (*Result, error) {
	if len(in.Payload) == 0 {
		in.Payload = []byte("{}")
	}
	if in.TraceHeader == "" {
		in.TraceHeader = newTraceHeader()
	}
	e, err := s.acquire(ctx, fn)
	if err != nil {
		if errors.Is(err, ErrThrottled) {
			s.record(Record{Function: fn.cfg.Name, RequestID: requestID, Status: StatusThrottled,
				Attempt: attempt, Async: async, Start: time.Now(), MemoryMB: fn.cfg.MemoryMB, TraceHeader: in.TraceHeader})
		}
		return nil, fmt.Errorf("invoke %s: %w", fn.cfg.Name, err)
	}
	inv := &invocation{
		requestID:     requestID,
		payload:       in.Payload,
		trace:         in.TraceHeader,
		arn:           fn.arn,
		clientContext: in.ClientContext,
		done:          make(chan runtimeResult, 1),
	}
	res := e.invoke(inv)
	s.release(fn, e)
	res.Attempt = attempt
	res.Async = async
	s.record(res.Record)
	return res, nil
}

func (s *Service) record(r Record) {
	if s.set.OnInvocation != nil {
		s.set.OnInvocation(r)
	}
}

func (s *Service) log(l LogLine) {
	if s.set.Logs != nil {
		s.set.Logs(l)
	}
}

// function is the runtime state of one configured function.
type function struct {
	cfg Function
	arn string

	mu     sync.Mutex
	idle   []*env // most recently used last
	active int    // environments initialising or invoking
	all    map[*env]struct{}
}

// acquire returns a warm idle environment or starts a new one (cold start),
// subject to reserved concurrency.
func (s *Service) acquire(ctx context.Context, fn *function) (*env, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if s.ctx.Err() != nil {
		return nil, ErrClosed
	}
	fn.mu.Lock()
	if rc := fn.cfg.ReservedConcurrency; rc != nil && fn.active >= *rc {
		fn.mu.Unlock()
		return nil, ErrThrottled
	}
	if s.active.Add(1) > int64(s.set.ConcurrencyLimit) {
		s.active.Add(-1)
		fn.mu.Unlock()
		return nil, errAccountLimit
	}
	fn.active++
	for len(fn.idle) > 0 {
		e := fn.idle[len(fn.idle)-1]
		fn.idle = fn.idle[:len(fn.idle)-1]
		if e.usable() {
			fn.mu.Unlock()
			return e, nil
		}
		delete(fn.all, e)
		s.goShutdown(e, "failure")
	}
	fn.mu.Unlock()

	e, err := s.startEnv(fn)
	if err != nil {
		fn.mu.Lock()
		fn.active--
		s.active.Add(-1)
		fn.mu.Unlock()
		return nil, err
	}
	fn.mu.Lock()
	if s.ctx.Err() != nil { // closed while this environment started
		fn.active--
		s.active.Add(-1)
		fn.mu.Unlock()
		e.shutdown("spindown")
		return nil, ErrClosed
	}
	if fn.all == nil {
		fn.all = map[*env]struct{}{}
	}
	fn.all[e] = struct{}{}
	fn.mu.Unlock()
	return e, nil
}

func (s *Service) release(fn *function, e *env) {
	fn.mu.Lock()
	defer fn.mu.Unlock()
	fn.active--
	s.active.Add(-1)
	switch {
	case s.ctx.Err() != nil:
		// Close shuts every environment down.
	case e.usable():
		e.lastUsed = time.Now()
		fn.idle = append(fn.idle, e)
	default:
		delete(fn.all, e)
		s.goShutdown(e, e.shutdownReason())
	}
}

func (s *Service) goShutdown(e *env, reason string) {
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		e.shutdown(reason)
	}()
}

// reap shuts down environments idle for longer than IdleTimeout and those
// whose runtime exited between invocations.
func (s *Service) reap() {
	period := min(s.set.IdleTimeout/2, time.Second)
	t := time.NewTicker(period)
	defer t.Stop()
	for {
		select {
		case <-s.ctx.Done():
			return
		case <-t.C:
		}
		s.mu.Lock()
		fns := make([]*function, 0, len(s.functions))
		for _, fn := range s.functions {
			fns = append(fns, fn)
		}
		s.mu.Unlock()
		for _, fn := range fns {
			fn.mu.Lock()
			kept := fn.idle[:0]
			for _, e := range fn.idle {
				switch {
				case !e.usable():
					delete(fn.all, e)
					s.goShutdown(e, "failure")
				case time.Since(e.lastUsed) > s.set.IdleTimeout:
					delete(fn.all, e)
					s.goShutdown(e, "spindown")
				default:
					kept = append(kept, e)
				}
			}
			fn.idle = kept
			fn.mu.Unlock()
		}
	}
}

// Close stops accepting invocations, shuts every environment down
// (extensions get SHUTDOWN) and waits for all goroutines. It is idempotent.
func (s *Service) Close() error {
	s.closeOnce.Do(func() {
		s.mu.Lock()
		s.closed = true
		fns := s.functions
		s.mu.Unlock()
		s.cancel()
		// Environments first, so that invocations in flight end now.
		for _, fn := range fns {
			fn.mu.Lock()
			for e := range fn.all {
				s.goShutdown(e, "spindown")
			}
			fn.all = nil
			fn.idle = nil
			fn.mu.Unlock()
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_ = s.srv.Shutdown(ctx)
		cancel()
		s.wg.Wait()
	})
	return nil
}

func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

func randomHex(n int) string {
	b := make([]byte, n/2)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// newTraceHeader returns an X-Ray trace header like the one Lambda makes.
func newTraceHeader() string {
	return fmt.Sprintf("Root=1-%08x-%s;Parent=%s;Sampled=1", time.Now().Unix(), randomHex(24), randomHex(16))
}

func baseName(p string) string {
	if i := strings.LastIndexByte(p, '/'); i >= 0 {
		return p[i+1:]
	}
	return p
}
