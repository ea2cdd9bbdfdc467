package lambda

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// maxHistory bounds the events kept for subscribers that subscribe late
// (Lambda delivers init-phase events to subscriptions made during init).
const maxHistory = 1000

// TelemetryEvent is one Telemetry API event as delivered to subscribers
// (schema version 2022-12-13).
type TelemetryEvent struct {
	Time   string `json:"time"`
	Type   string `json:"type"`
	Record any    `json:"record"`
}

// telemetry fans an environment's events out to its subscribers.
type telemetry struct {
	e       *env
	mu      sync.Mutex
	history []TelemetryEvent
	subs    []*subscriber
	closed  bool
}

func newTelemetry(e *env) *telemetry { return &telemetry{e: e} }

func category(typ string) string {
	if strings.HasPrefix(typ, "platform.") {
		return "platform"
	}
	return typ
}

func (t *telemetry) emit(typ string, record any) {
	ev := TelemetryEvent{Time: tsMillis(time.Now()), Type: typ, Record: record}
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.history) < maxHistory {
		t.history = append(t.history, ev)
	}
	for _, s := range t.subs {
		if s.types[category(typ)] {
			s.add(ev)
		}
	}
}

type subscribeRequest struct {
	SchemaVersion string `json:"schemaVersion"`
	Destination   struct {
		Protocol string `json:"protocol"`
		URI      string `json:"URI"`
	} `json:"destination"`
	Types     []string `json:"types"`
	Buffering struct {
		MaxItems  int `json:"maxItems"`
		MaxBytes  int `json:"maxBytes"`
		TimeoutMs int `json:"timeoutMs"`
	} `json:"buffering"`
}

// validate applies the documented constraints of the Subscribe request.
func (r *subscribeRequest) validate() (string, error) {
	switch r.SchemaVersion {
	case "2022-07-01", "2022-12-13", "2025-01-29":
	default:
		return "", fmt.Errorf("unsupported schemaVersion %q", r.SchemaVersion)
	}
	if r.Destination.Protocol != "HTTP" {
		return "", fmt.Errorf("destination protocol %q is not supported here (HTTP only)", r.Destination.Protocol)
	}
	u, err := url.Parse(r.Destination.URI)
	if err != nil || u.Port() == "" {
		return "", fmt.Errorf("URI port is not provided")
	}
	if len(r.Types) == 0 {
		return "", fmt.Errorf("types should not be empty")
	}
	for _, typ := range r.Types {
		if typ != "platform" && typ != "function" && typ != "extension" {
			return "", fmt.Errorf("unknown type %q", typ)
		}
	}
	b := &r.Buffering
	if b.MaxItems == 0 {
		b.MaxItems = 1000
	}
	if b.MaxBytes == 0 {
		b.MaxBytes = 256 * 1024
	}
	if b.TimeoutMs == 0 {
		b.TimeoutMs = 1000
	}
	if b.MaxItems < 1000 || b.MaxItems > 10000 || b.MaxBytes < 262144 || b.MaxBytes > 1048576 || b.TimeoutMs < 25 || b.TimeoutMs > 30000 {
		return "", fmt.Errorf("buffering out of range")
	}
	// The sandbox host name resolves to the sandbox itself on Lambda.
	if h := u.Hostname(); h == "sandbox.localdomain" || h == "sandbox" || h == "0.0.0.0" {
		u.Host = "127.0.0.1:" + u.Port()
	}
	return u.String(), nil
}

func (t *telemetry) subscribe(name string, r subscribeRequest, uri string) {
	s := &subscriber{
		uri:      uri,
		types:    map[string]bool{},
		maxItems: r.Buffering.MaxItems,
		maxBytes: r.Buffering.MaxBytes,
		timeout:  time.Duration(r.Buffering.TimeoutMs) * time.Millisecond,
		kick:     make(chan struct{}, 1),
		stop:     make(chan struct{}),
		client:   &http.Client{Timeout: 2 * time.Second},
		log:      t.e.svc.set.Logger,
	}
	for _, typ := range r.Types {
		s.types[typ] = true
	}
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		return
	}
	for _, ev := range t.history {
		if s.types[category(ev.Type)] {
			s.add(ev)
		}
	}
	t.subs = append(t.subs, s)
	t.e.wg.Add(1)
	go func() {
		defer t.e.wg.Done()
		s.loop()
	}()
	t.mu.Unlock()
	t.emit("platform.telemetrySubscription", map[string]any{"name": name, "state": "Subscribed", "types": r.Types})
}

// flush delivers everything buffered, synchronously.
func (t *telemetry) flush() {
	t.mu.Lock()
	subs := append([]*subscriber(nil), t.subs...)
	t.mu.Unlock()
	for _, s := range subs {
		s.flush()
	}
}

func (t *telemetry) close() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return
	}
	t.closed = true
	for _, s := range t.subs {
		close(s.stop)
	}
}

// subscriber buffers events for one destination and posts them as a JSON
// array, on timeout or when the buffer is full.
type subscriber struct {
	uri      string
	types    map[string]bool
	maxItems int
	maxBytes int
	timeout  time.Duration
	kick     chan struct{}
	stop     chan struct{}
	client   *http.Client
	log      *slog.Logger

	mu     sync.Mutex
	buf    []TelemetryEvent
	bytes  int
	postMu sync.Mutex
}

func (s *subscriber) add(ev TelemetryEvent) {
	s.mu.Lock()
	s.buf = append(s.buf, ev)
	s.bytes += 64 + len(fmt.Sprint(ev.Record))
	full := len(s.buf) >= s.maxItems || s.bytes >= s.maxBytes
	s.mu.Unlock()
	if full {
		select {
		case s.kick <- struct{}{}:
		default:
		}
	}
}

func (s *subscriber) loop() {
	t := time.NewTicker(s.timeout)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
		case <-s.kick:
		}
		s.flush()
	}
}

func (s *subscriber) flush() {
	s.postMu.Lock()
	defer s.postMu.Unlock()
	s.mu.Lock()
	batch := s.buf
	s.buf, s.bytes = nil, 0
	s.mu.Unlock()
	if len(batch) == 0 {
		return
	}
	body, err := json.Marshal(batch)
	if err != nil {
		s.log.Debug("marshal telemetry", "err", err)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.uri, bytes.NewReader(body))
	if err != nil {
		return
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := s.client.Do(req)
	if err != nil {
		s.log.Debug("deliver telemetry", "uri", s.uri, "err", err)
		return
	}
	_ = resp.Body.Close()
}
