package lambda

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"
)

// invocation is one request handed to a runtime.
type invocation struct {
	requestID     string
	payload       []byte
	deadline      time.Time
	trace         string
	arn           string
	clientContext string
	done          chan runtimeResult // runtime's response or error, buffered 1
}

type runtimeResult struct {
	body      []byte
	isError   bool
	errorType string
}

// extension is one registered external extension.
type extension struct {
	id      string
	name    string
	events  map[string]bool
	queue   chan []byte // next event for the extension, buffered 1
	waiting bool        // blocked in event/next (guarded by env.mu)
	ready   bool        // called event/next at least once
}

// env is one execution environment: a Runtime API listener, the runtime
// process and the extension processes.
type env struct {
	svc *Service
	fn  *function
	id  string

	ln  net.Listener
	srv *http.Server

	runtime       *exec.Cmd
	runtimeExited chan struct{} // closed when the runtime process has exited
	runtimeErr    error         // valid after runtimeExited is closed
	extCmds       []*exec.Cmd
	extExited     []chan struct{}
	oom           atomic.Bool
	maxRSS        atomic.Int64
	failed        atomic.Bool // timed out, crashed or OOM: never reuse
	failReason    atomic.Value

	ready     chan struct{} // closed when the runtime first asks for work
	readyOnce sync.Once
	initErr   chan runtimeResult // runtime posted init/error
	next      chan *invocation   // buffered 1

	mu          sync.Mutex
	current     *invocation
	exts        map[string]*extension
	extChanged  chan struct{}
	initPhase   bool
	invocations int
	initDur     time.Duration
	initFailure string    // error type of a failed init phase
	lastUsed    time.Time // guarded by function.mu
	logBuf      *bytes.Buffer
	pipes       []*outPipe

	tel *telemetry

	closed       chan struct{}
	shutdownOnce sync.Once
	wg           sync.WaitGroup
}

func (e *env) usable() bool {
	if e.failed.Load() {
		return false
	}
	select {
	case <-e.runtimeExited:
		return false
	case <-e.closed:
		return false
	default:
		return true
	}
}

func (e *env) shutdownReason() string {
	if r, ok := e.failReason.Load().(string); ok {
		return r
	}
	return "spindown"
}

func (e *env) fail(reason string) {
	e.failReason.CompareAndSwap(nil, reason)
	e.failed.Store(true)
}

// startEnv creates an environment and runs its init phase. An init failure
// is not an error here: the environment is returned failed, and the
// invocation reports it as Lambda does.
func (s *Service) startEnv(fn *function) (*env, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("listen runtime api: %w", err)
	}
	e := &env{
		svc:           s,
		fn:            fn,
		id:            randomHex(32),
		ln:            ln,
		runtimeExited: make(chan struct{}),
		ready:         make(chan struct{}),
		initErr:       make(chan runtimeResult, 1),
		next:          make(chan *invocation, 1),
		exts:          map[string]*extension{},
		extChanged:    make(chan struct{}),
		initPhase:     true,
		closed:        make(chan struct{}),
	}
	e.tel = newTelemetry(e)
	e.srv = &http.Server{Handler: e.handler(), ReadHeaderTimeout: 10 * time.Second}
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		_ = e.srv.Serve(ln)
	}()
	e.runInit()
	return e, nil
}

func (e *env) baseEnv() []string {
	cfg := e.fn.cfg
	set := e.svc.set
	vars := map[string]string{
		"AWS_LAMBDA_RUNTIME_API":          e.ln.Addr().String(),
		"AWS_LAMBDA_FUNCTION_NAME":        cfg.Name,
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": strconv.Itoa(cfg.MemoryMB),
		"AWS_LAMBDA_FUNCTION_VERSION":     "$LATEST",
		"AWS_LAMBDA_LOG_GROUP_NAME":       "/aws/lambda/" + cfg.Name,
		"AWS_LAMBDA_LOG_STREAM_NAME":      time.Now().UTC().Format("2006/01/02") + "/[$LATEST]" + e.id,
		"AWS_LAMBDA_INITIALIZATION_TYPE":  "on-demand",
		"AWS_REGION":                      set.Region,
		"AWS_DEFAULT_REGION":              set.Region,
		"AWS_EXECUTION_ENV":               "AWS_Lambda_provided.al2023",
		"LAMBDA_TASK_ROOT":                filepath.Dir(cfg.Binary),
		"LAMBDA_RUNTIME_DIR":              filepath.Dir(cfg.Binary),
		"_HANDLER":                        cfg.Handler,
		"TZ":                              ":UTC",
		// The host's PATH, so that binaries of the machine are found; no HOME,
		// so that the user's ~/.aws does not leak into functions.
		"PATH":   os.Getenv("PATH"),
		"TMPDIR": os.TempDir(),
	}
	for k, v := range set.Env {
		vars[k] = v
	}
	for k, v := range cfg.Env {
		vars[k] = v
	}
	out := make([]string, 0, len(vars))
	for k, v := range vars {
		if v != "" {
			out = append(out, k+"="+v)
		}
	}
	return out
}

func (e *env) command(path string, args []string, source string) (*exec.Cmd, error) {
	cmd := exec.Command(path, args...)
	cmd.Dir = filepath.Dir(path)
	cmd.Env = e.baseEnv()
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	for _, dst := range []*io.Writer{&cmd.Stdout, &cmd.Stderr} {
		p, err := e.newPipe(source)
		if err != nil {
			return nil, err
		}
		*dst = p.w
	}
	return cmd, nil
}

// start starts cmd and closes the parent's copies of its output pipes.
func (e *env) start(cmd *exec.Cmd) error {
	err := cmd.Start()
	for _, w := range []io.Writer{cmd.Stdout, cmd.Stderr} {
		if f, ok := w.(*os.File); ok {
			_ = f.Close()
		}
	}
	return err
}

// outPipe carries one output stream of a process into the log stream.
type outPipe struct {
	r, w *os.File
	mu   sync.Mutex // held while a chunk is being split into lines
}

func (e *env) newPipe(source string) (*outPipe, error) {
	r, w, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("create pipe: %w", err)
	}
	p := &outPipe{r: r, w: w}
	lw := &lineWriter{emit: func(s string) { e.output(source, s) }}
	e.mu.Lock()
	e.pipes = append(e.pipes, p)
	e.mu.Unlock()
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		defer r.Close()
		buf := make([]byte, 32*1024)
		for {
			n, err := r.Read(buf)
			if n > 0 {
				p.mu.Lock()
				_, _ = lw.Write(buf[:n])
				p.mu.Unlock()
			}
			if err != nil {
				lw.flush()
				return
			}
		}
	}()
	return p, nil
}

// drain waits (briefly) until output already written by the process has
// been turned into log lines, so that lines land in the invocation that
// wrote them, as on Lambda.
func (p *outPipe) drain() {
	rc, err := p.r.SyscallConn()
	if err != nil {
		return
	}
	for range 50 {
		pending := 0
		_ = rc.Control(func(fd uintptr) {
			var n int32
			_, _, errno := syscall.Syscall(syscall.SYS_IOCTL, fd, syscall.TIOCINQ, uintptr(unsafe.Pointer(&n)))
			if errno == 0 {
				pending = int(n)
			}
		})
		if pending == 0 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	p.mu.Lock()
	p.mu.Unlock() //nolint:staticcheck // a barrier: waits for the chunk being processed
}

func (e *env) drainOutput() {
	e.mu.Lock()
	pipes := append([]*outPipe(nil), e.pipes...)
	e.mu.Unlock()
	for _, p := range pipes {
		p.drain()
	}
}

// runInit runs the init phase: extensions register, the runtime starts and
// asks for its first event.
func (e *env) runInit() {
	cfg := e.fn.cfg
	start := time.Now()
	e.tel.emit("platform.initStart", map[string]any{
		"initializationType": "on-demand",
		"phase":              "init",
		"runtimeVersion":     "provided:al2023.v1",
		"runtimeVersionArn":  "arn:aws:lambda:" + e.svc.set.Region + "::runtime:localcloud",
		"functionName":       cfg.Name,
		"functionVersion":    "$LATEST",
		"instanceId":         e.id,
		"instanceMaxMemory":  cfg.MemoryMB,
	})
	e.platform("", "INIT_START Runtime Version: provided:al2023.v1\tRuntime Version ARN: arn:aws:lambda:"+e.svc.set.Region+"::runtime:localcloud")

	deadline := time.NewTimer(e.svc.set.InitTimeout)
	defer deadline.Stop()
	status, errType := "success", ""

	for _, path := range cfg.Extensions {
		exited := make(chan struct{})
		cmd, err := e.command(path, nil, SourceExtension)
		if err == nil {
			err = e.start(cmd)
		}
		if err != nil {
			e.platform("", fmt.Sprintf("EXTENSION\tName: %s\tState: LaunchError\tError: %v", baseName(path), err))
			close(exited)
			status, errType = "error", "Extension.LaunchError"
		} else {
			e.wg.Add(1)
			go func() {
				defer e.wg.Done()
				_ = cmd.Wait()
				close(exited)
				e.notifyExt()
			}()
		}
		e.extCmds = append(e.extCmds, cmd)
		e.extExited = append(e.extExited, exited)
	}
	if status == "success" && !e.waitExtensions(deadline.C, func() bool { return len(e.exts) >= len(cfg.Extensions) }) {
		status, errType = "error", "Extension.InitError"
	}

	if status == "success" {
		var err error
		e.runtime, err = e.command(cfg.Binary, cfg.Args, SourceFunction)
		if err == nil {
			err = e.start(e.runtime)
		}
		if err != nil {
			e.platform("", fmt.Sprintf("Error: start runtime: %v", err))
			close(e.runtimeExited)
			e.runtimeErr = err
			status, errType = "error", "Runtime.InvalidEntrypoint"
		} else {
			e.wg.Add(2)
			go func() {
				defer e.wg.Done()
				e.runtimeErr = e.runtime.Wait()
				close(e.runtimeExited)
			}()
			go func() {
				defer e.wg.Done()
				e.watchMemory()
			}()
			select {
			case <-e.ready:
				if !e.waitExtensions(deadline.C, func() bool { return true }) {
					status, errType = "error", "Extension.InitError"
				}
			case r := <-e.initErr:
				status, errType = "error", orDefault(r.errorType, "Runtime.InitError")
			case <-e.runtimeExited:
				status, errType = "error", "Runtime.ExitError"
				if e.oom.Load() {
					errType = "Runtime.OutOfMemory"
				}
			case <-deadline.C:
				status, errType = "error", "Sandbox.Timedout"
			}
		}
	}

	e.mu.Lock()
	e.initPhase = false
	e.initDur = time.Since(start)
	e.mu.Unlock()
	done := map[string]any{"initializationType": "on-demand", "phase": "init", "status": status}
	report := map[string]any{"initializationType": "on-demand", "phase": "init", "status": status,
		"metrics": map[string]any{"durationMs": ms(e.initDur)}}
	if errType != "" {
		done["errorType"] = errType
		report["errorType"] = errType
		e.fail("failure")
		e.initFailure = errType
		e.platform("", fmt.Sprintf("INIT_REPORT Init Duration: %.2f ms\tPhase: init\tStatus: error\tError Type: %s", ms(e.initDur), errType))
	}
	e.tel.emit("platform.initRuntimeDone", done)
	e.tel.emit("platform.initReport", report)
}

// waitExtensions waits until cond holds and every registered extension has
// called event/next (or exited). The caller must not hold e.mu.
func (e *env) waitExtensions(deadline <-chan time.Time, cond func() bool) bool {
	for {
		e.mu.Lock()
		ok := cond()
		for _, x := range e.exts {
			if !x.waiting {
				ok = false
			}
		}
		if e.extensionsExitedLocked() {
			ok = true
		}
		ch := e.extChanged
		e.mu.Unlock()
		if ok {
			return true
		}
		select {
		case <-ch:
		case <-deadline:
			return false
		case <-e.closed:
			return false
		}
	}
}

func (e *env) extensionsExitedLocked() bool {
	for _, ch := range e.extExited {
		select {
		case <-ch:
		default:
			return false
		}
	}
	return len(e.extExited) > 0
}

func (e *env) notifyExt() {
	e.mu.Lock()
	close(e.extChanged)
	e.extChanged = make(chan struct{})
	e.mu.Unlock()
}

// invoke runs one invocation on a ready (or failed-at-init) environment.
func (e *env) invoke(inv *invocation) *Result {
	cfg := e.fn.cfg
	e.mu.Lock()
	cold := e.invocations == 0
	e.invocations++
	initDur := time.Duration(0)
	if cold {
		initDur = e.initDur
	}
	e.current = inv
	e.logBuf = &bytes.Buffer{}
	e.mu.Unlock()
	defer func() {
		e.mu.Lock()
		e.current = nil
		e.mu.Unlock()
	}()

	start := time.Now()
	inv.deadline = start.Add(cfg.Timeout)
	tracing := map[string]any{"type": "X-Amzn-Trace-Id", "value": inv.trace, "spanId": randomHex(16)}
	e.platform(inv.requestID, fmt.Sprintf("START RequestId: %s Version: $LATEST", inv.requestID))
	e.tel.emit("platform.start", map[string]any{"requestId": inv.requestID, "version": "$LATEST", "tracing": tracing})

	res := &Result{Record: Record{
		Function: cfg.Name, RequestID: inv.requestID, ColdStart: cold, Start: start,
		InitDuration: initDur, MemoryMB: cfg.MemoryMB, TraceHeader: inv.trace, Status: StatusOK,
	}}

	var rr runtimeResult
	switch {
	case e.initFailure != "":
		res.Status, res.ErrorType = StatusCrash, e.initFailure
		msg := fmt.Sprintf("RequestId: %s Error: %s", inv.requestID, e.exitMessage())
		rr = runtimeResult{isError: true, body: errorDoc(msg, e.initFailure)}
	default:
		e.sendExtensions("INVOKE", map[string]any{
			"eventType": "INVOKE", "deadlineMs": inv.deadline.UnixMilli(), "requestId": inv.requestID,
			"invokedFunctionArn": inv.arn,
			"tracing":            map[string]any{"type": "X-Amzn-Trace-Id", "value": inv.trace},
		})
		e.next <- inv
		timer := time.NewTimer(time.Until(inv.deadline))
		select {
		case rr = <-inv.done:
		case <-e.runtimeExited:
			select {
			case rr = <-inv.done: // answered, then exited (aws-lambda-go after a panic)
			default:
				rr = e.crashResult(inv, res)
			}
		case <-timer.C:
			e.kill(e.runtime)
			res.Status, res.ErrorType = StatusTimeout, "Sandbox.Timedout"
			msg := fmt.Sprintf("%s %s Task timed out after %.2f seconds",
				time.Now().UTC().Format("2006-01-02T15:04:05.000Z"), inv.requestID, cfg.Timeout.Seconds())
			e.platform(inv.requestID, msg)
			rr = runtimeResult{isError: true, body: mustJSON(map[string]string{"errorMessage": msg})}
		case <-e.closed:
			rr = e.crashResult(inv, res)
		}
		timer.Stop()
		select {
		case <-e.next: // never picked up
		default:
		}
	}
	runtimeDur := time.Since(start)
	e.drainOutput()
	e.sampleMemory()
	if rr.isError && res.Status == StatusOK {
		res.Status = StatusError
		res.ErrorType = orDefault(rr.errorType, "Unhandled")
	}
	done := map[string]any{
		"requestId": inv.requestID,
		"status":    telemetryStatus(res.Status),
		"metrics":   map[string]any{"durationMs": ms(runtimeDur), "producedBytes": len(rr.body)},
		"tracing":   tracing,
		"spans": []any{
			map[string]any{"name": "responseLatency", "start": tsMillis(start), "durationMs": ms(runtimeDur)},
			map[string]any{"name": "responseDuration", "start": tsMillis(start.Add(runtimeDur)), "durationMs": 0.0},
		},
	}
	if res.Status != StatusOK {
		done["errorType"] = res.ErrorType
	}
	e.tel.emit("platform.runtimeDone", done)

	if res.Status == StatusOK || res.Status == StatusError {
		// The invoke phase ends when every extension asked for the next event.
		t := time.NewTimer(max(time.Until(inv.deadline), 0))
		e.waitExtensions(t.C, func() bool { return true })
		t.Stop()
	} else if res.Status == StatusTimeout {
		e.fail("timeout")
	} else {
		e.fail("failure")
	}

	res.Duration = time.Since(start)
	res.BilledDuration = time.Duration(math.Ceil(ms(res.Duration))) * time.Millisecond
	res.MaxMemoryUsedMB = int(math.Ceil(float64(e.maxRSS.Load()) / (1 << 20)))
	if res.Status == StatusOOM {
		res.MaxMemoryUsedMB = cfg.MemoryMB
	}
	e.platform(inv.requestID, "END RequestId: "+inv.requestID)
	report := fmt.Sprintf("REPORT RequestId: %s\tDuration: %.2f ms\tBilled Duration: %d ms\tMemory Size: %d MB\tMax Memory Used: %d MB\t",
		inv.requestID, ms(res.Duration), res.BilledDuration.Milliseconds(), cfg.MemoryMB, res.MaxMemoryUsedMB)
	if cold {
		report += fmt.Sprintf("Init Duration: %.2f ms\t", ms(initDur))
	}
	switch res.Status {
	case StatusOK, StatusError:
	case StatusTimeout:
		report += "Status: timeout"
	default:
		report += "Status: error\tError Type: " + res.ErrorType
	}
	e.platform(inv.requestID, report)
	metrics := map[string]any{
		"durationMs": ms(res.Duration), "billedDurationMs": res.BilledDuration.Milliseconds(),
		"memorySizeMB": cfg.MemoryMB, "maxMemoryUsedMB": res.MaxMemoryUsedMB,
	}
	if cold {
		metrics["initDurationMs"] = ms(initDur)
	}
	rep := map[string]any{"requestId": inv.requestID, "status": telemetryStatus(res.Status), "metrics": metrics, "tracing": tracing}
	if res.Status != StatusOK {
		rep["errorType"] = res.ErrorType
	}
	e.tel.emit("platform.report", rep)

	res.Payload = rr.body
	if rr.isError {
		res.FunctionError = "Unhandled"
	}
	e.mu.Lock()
	tail := e.logBuf.Bytes()
	if len(tail) > 4096 {
		tail = tail[len(tail)-4096:]
	}
	res.LogTail = string(tail)
	e.logBuf = nil
	e.mu.Unlock()
	return res
}

// crashResult describes a runtime that exited during an invocation.
func (e *env) crashResult(inv *invocation, res *Result) runtimeResult {
	res.Status, res.ErrorType = StatusCrash, "Runtime.ExitError"
	if e.oom.Load() {
		res.Status, res.ErrorType = StatusOOM, "Runtime.OutOfMemory"
	}
	msg := fmt.Sprintf("RequestId: %s Error: %s", inv.requestID, e.exitMessage())
	e.platform(inv.requestID, msg)
	e.platform(inv.requestID, res.ErrorType)
	return runtimeResult{isError: true, body: errorDoc(msg, "Runtime.ExitError")}
}

func (e *env) exitMessage() string {
	if e.runtime == nil {
		return "init failed: " + e.initFailure
	}
	select {
	case <-e.runtimeExited:
	case <-time.After(time.Second):
		return "Runtime exited with error: unknown"
	}
	if e.runtimeErr == nil {
		return "Runtime exited without providing a reason"
	}
	var ee *exec.ExitError
	if errors.As(e.runtimeErr, &ee) {
		return "Runtime exited with error: " + ee.Error()
	}
	return "Runtime exited with error: " + e.runtimeErr.Error()
}

// sendExtensions queues an event for every extension registered for kind.
func (e *env) sendExtensions(kind string, ev map[string]any) {
	b := mustJSON(ev)
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, x := range e.exts {
		if !x.events[kind] {
			continue
		}
		select {
		case x.queue <- b:
			x.waiting = false
		default:
		}
	}
}

// shutdown runs the shutdown phase: pending telemetry is delivered,
// extensions get SHUTDOWN and a grace period, then every process is killed.
// It is idempotent.
func (e *env) shutdown(reason string) {
	e.shutdownOnce.Do(func() {
		if e.runtime != nil && e.runtime.Process != nil {
			// The runtime gets no SHUTDOWN event; Lambda stops it first.
			e.kill(e.runtime)
		}
		e.tel.flush()
		grace := e.svc.set.ShutdownGrace
		e.sendExtensions("SHUTDOWN", map[string]any{
			"eventType": "SHUTDOWN", "shutdownReason": reason,
			"deadlineMs": time.Now().Add(grace).UnixMilli(),
		})
		t := time.NewTimer(grace)
		for _, ch := range e.extExited {
			select {
			case <-ch:
			case <-t.C:
			}
		}
		t.Stop()
		for _, c := range e.extCmds {
			e.kill(c)
		}
		close(e.closed)
		e.tel.close()
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		_ = e.srv.Shutdown(ctx)
		cancel()
		_ = e.srv.Close()
		e.wg.Wait()
	})
}

func (e *env) kill(c *exec.Cmd) {
	if c == nil || c.Process == nil {
		return
	}
	_ = syscall.Kill(-c.Process.Pid, syscall.SIGKILL)
	_ = c.Process.Kill()
}

// watchMemory samples the resident set of the environment's processes and
// kills the runtime when it exceeds the memory size, as Lambda's cgroup does.
func (e *env) watchMemory() {
	limit := int64(e.fn.cfg.MemoryMB) << 20
	t := time.NewTicker(e.svc.set.MemoryPollInterval)
	defer t.Stop()
	for {
		select {
		case <-e.runtimeExited:
			return
		case <-e.closed:
			return
		case <-t.C:
		}
		if e.sampleMemory() > limit {
			e.oom.Store(true)
			e.kill(e.runtime)
			return
		}
	}
}

// sampleMemory records and returns the environment's resident set size.
func (e *env) sampleMemory() int64 {
	var total int64
	if e.runtime != nil && e.runtime.Process != nil {
		total += rss(e.runtime.Process.Pid)
	}
	for _, c := range e.extCmds {
		if c.Process != nil {
			total += rss(c.Process.Pid)
		}
	}
	for {
		old := e.maxRSS.Load()
		if total <= old || e.maxRSS.CompareAndSwap(old, total) {
			return total
		}
	}
}

// rss reads VmRSS of a process in bytes; 0 if it is gone.
func rss(pid int) int64 {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0
	}
	i := bytes.Index(b, []byte("VmRSS:"))
	if i < 0 {
		return 0
	}
	f := strings.Fields(string(b[i+6 : i+6+bytes.IndexByte(b[i+6:], '\n')]))
	if len(f) == 0 {
		return 0
	}
	kb, _ := strconv.ParseInt(f[0], 10, 64)
	return kb << 10
}

// output handles one line written by the runtime or an extension.
func (e *env) output(source, text string) {
	e.mu.Lock()
	reqID := ""
	if e.current != nil {
		reqID = e.current.requestID
	}
	if e.logBuf != nil {
		e.logBuf.WriteString(text + "\n")
	}
	e.mu.Unlock()
	e.svc.log(LogLine{Time: time.Now(), Function: e.fn.cfg.Name, RequestID: reqID, Source: source, Text: text})
	e.tel.emit(source, text)
}

// platform writes a platform line to the log stream.
func (e *env) platform(reqID, text string) {
	e.mu.Lock()
	if e.logBuf != nil {
		e.logBuf.WriteString(text + "\n")
	}
	e.mu.Unlock()
	e.svc.log(LogLine{Time: time.Now(), Function: e.fn.cfg.Name, RequestID: reqID, Source: SourcePlatform, Text: text})
}

// lineWriter splits a process's output into lines.
type lineWriter struct {
	mu   sync.Mutex
	buf  []byte
	emit func(string)
}

func (w *lineWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, p...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			break
		}
		w.emit(strings.TrimRight(string(w.buf[:i]), "\r"))
		w.buf = w.buf[i+1:]
	}
	if len(w.buf) > 256*1024 { // a line longer than Lambda keeps
		w.emit(string(w.buf))
		w.buf = w.buf[:0]
	}
	return len(p), nil
}

func (w *lineWriter) flush() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.buf) > 0 {
		w.emit(string(w.buf))
		w.buf = nil
	}
}

func telemetryStatus(s Status) string {
	switch s {
	case StatusOK:
		return "success"
	case StatusTimeout:
		return "timeout"
	default:
		return "error"
	}
}

func errorDoc(msg, typ string) []byte {
	return mustJSON(map[string]string{"errorMessage": msg, "errorType": typ})
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("marshal %T: %v", v, err)) // only our own map literals reach here
	}
	return b
}

func ms(d time.Duration) float64 {
	return math.Round(float64(d.Microseconds())/10) / 100
}

func tsMillis(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}
