// Package lambdatest is a minimal AWS Lambda Runtime API for tests: a
// function binary built with lambda.Start (wrapped by the Ariadne SDK or
// not) runs as a child process with AWS_LAMBDA_RUNTIME_API pointing here,
// and the test invokes it like the Lambda service would. It implements the
// runtime side only (next, response, error), not extensions or telemetry.
package lambdatest

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

const prefix = "/2018-06-01/runtime/"

// RuntimeAPI is a Lambda Runtime API server. It is safe for concurrent use,
// though like Lambda it hands one invocation at a time to each caller of
// next.
type RuntimeAPI struct {
	srv   *http.Server
	ln    net.Listener
	queue chan *pending
	seq   atomic.Int64

	mu      sync.Mutex
	pending map[string]*pending
}

type pending struct {
	id      string
	payload []byte
	opts    Invocation
	done    chan Result
}

// Invocation describes one invoke.
type Invocation struct {
	// RequestID defaults to a fresh id.
	RequestID string
	// Timeout sets the deadline the function sees; default 3s.
	Timeout time.Duration
	// FunctionARN is the invoked ARN.
	FunctionARN string
	// ClientContext is passed base64-encoded JSON, as Lambda does.
	ClientContext map[string]any
}

// Result is what the function returned.
type Result struct {
	RequestID string
	Payload   []byte
	// Error is the function error document when it failed (including a
	// panic reported by aws-lambda-go).
	Error []byte
}

// Start listens on 127.0.0.1 at a free port.
func Start() (*RuntimeAPI, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("listen runtime api: %w", err)
	}
	r := &RuntimeAPI{ln: ln, queue: make(chan *pending, 64), pending: map[string]*pending{}}
	r.srv = &http.Server{Handler: http.HandlerFunc(r.serve), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = r.srv.Serve(ln) }()
	return r, nil
}

// Addr is the value for AWS_LAMBDA_RUNTIME_API (host:port).
func (r *RuntimeAPI) Addr() string { return r.ln.Addr().String() }

// Close stops the server.
func (r *RuntimeAPI) Close() error { return r.srv.Close() }

// Invoke queues payload and waits for the function's answer or ctx.
func (r *RuntimeAPI) Invoke(ctx context.Context, payload []byte, inv Invocation) (Result, error) {
	if inv.RequestID == "" {
		inv.RequestID = fmt.Sprintf("00000000-0000-4000-8000-%012d", r.seq.Add(1))
	}
	if inv.Timeout == 0 {
		inv.Timeout = 3 * time.Second
	}
	if inv.FunctionARN == "" {
		inv.FunctionARN = "arn:aws:lambda:us-east-1:123456789012:function:test"
	}
	p := &pending{id: inv.RequestID, payload: payload, opts: inv, done: make(chan Result, 1)}
	r.mu.Lock()
	r.pending[p.id] = p
	r.mu.Unlock()
	select {
	case r.queue <- p:
	case <-ctx.Done():
		return Result{}, fmt.Errorf("queue invocation: %w", ctx.Err())
	}
	select {
	case res := <-p.done:
		return res, nil
	case <-ctx.Done():
		return Result{}, fmt.Errorf("wait for invocation %s: %w", p.id, ctx.Err())
	}
}

func (r *RuntimeAPI) serve(w http.ResponseWriter, req *http.Request) {
	path := strings.TrimPrefix(req.URL.Path, prefix)
	switch {
	case req.Method == http.MethodGet && path == "invocation/next":
		var p *pending
		select {
		case p = <-r.queue:
		case <-req.Context().Done():
			return
		}
		deadline := time.Now().Add(p.opts.Timeout).UnixMilli()
		h := w.Header()
		h.Set("Lambda-Runtime-Aws-Request-Id", p.id)
		h.Set("Lambda-Runtime-Deadline-Ms", strconv.FormatInt(deadline, 10))
		h.Set("Lambda-Runtime-Invoked-Function-Arn", p.opts.FunctionARN)
		h.Set("Lambda-Runtime-Trace-Id", "Root=1-00000000-000000000000000000000000;Parent=0000000000000000;Sampled=0")
		if p.opts.ClientContext != nil {
			b, _ := json.Marshal(p.opts.ClientContext)
			h.Set("Lambda-Runtime-Client-Context", base64.StdEncoding.EncodeToString(b))
		}
		h.Set("Content-Type", "application/json")
		_, _ = w.Write(p.payload)
	case req.Method == http.MethodPost && strings.HasPrefix(path, "invocation/"):
		rest := strings.TrimPrefix(path, "invocation/")
		id, kind, _ := strings.Cut(rest, "/")
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		p := r.pending[id]
		delete(r.pending, id)
		r.mu.Unlock()
		if p == nil {
			http.Error(w, "unknown request id", http.StatusBadRequest)
			return
		}
		res := Result{RequestID: id}
		if kind == "error" {
			res.Error = body
		} else {
			res.Payload = body
		}
		p.done <- res
		w.WriteHeader(http.StatusAccepted)
	case req.Method == http.MethodPost && path == "init/error":
		w.WriteHeader(http.StatusAccepted)
	default:
		http.Error(w, "not found", http.StatusNotFound)
	}
}
