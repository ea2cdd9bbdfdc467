package main

import (
	"encoding/json"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// logRecord is one function or extension line, attributed to its
// invocation while the events are still in order.
type logRecord struct {
	Time      int64 // Unix ns
	Body      string
	Level     string
	RequestID string
	TraceID   string // hex, from the invocation's X-Ray trace
	Stream    string // function | extension
}

// buffer holds events until the forwarder takes them. It is bounded by
// count and bytes; over the bound new events are dropped and counted, so a
// slow or dead backend never grows memory or blocks the Telemetry API.
type buffer struct {
	maxEvents, maxBytes int
	dropped             atomic.Int64

	mu       sync.Mutex
	platform [][]byte
	logs     []logRecord
	n, bytes int
	// Attribution state: events arrive in order, so a line belongs to the
	// last invocation started.
	current      string
	currentTrace string
	open         map[string]bool // started, report not seen yet
	reported     chan struct{}   // closed and replaced when open shrinks
}

func newBuffer(maxEvents, maxBytes int) *buffer {
	return &buffer{maxEvents: maxEvents, maxBytes: maxBytes, open: map[string]bool{}, reported: make(chan struct{})}
}

type event struct {
	Time   string          `json:"time"`
	Type   string          `json:"type"`
	Record json.RawMessage `json:"record"`
}

type platformRecord struct {
	RequestID string `json:"requestId"`
	Tracing   *struct {
		Value string `json:"value"`
	} `json:"tracing"`
}

// add takes one delivery in order; it reports whether an invocation
// finished (its report arrived), which is worth forwarding promptly.
func (b *buffer) add(events []json.RawMessage) (finished bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, raw := range events {
		var ev event
		if json.Unmarshal(raw, &ev) != nil {
			continue
		}
		switch {
		case strings.HasPrefix(ev.Type, "platform."):
			var rec platformRecord
			_ = json.Unmarshal(ev.Record, &rec)
			switch ev.Type {
			case "platform.start":
				b.current, b.currentTrace = rec.RequestID, ""
				if rec.Tracing != nil {
					b.currentTrace = xrayToW3C(rec.Tracing.Value)
				}
				if rec.RequestID != "" {
					b.open[rec.RequestID] = true
				}
			case "platform.report":
				if b.open[rec.RequestID] {
					delete(b.open, rec.RequestID)
					close(b.reported)
					b.reported = make(chan struct{})
				}
				finished = true
			}
			if b.admit(len(raw)) {
				b.platform = append(b.platform, raw)
			}
		case ev.Type == "function" || ev.Type == "extension":
			lr := b.logRecord(ev)
			if b.admit(len(lr.Body) + 64) {
				b.logs = append(b.logs, lr)
			}
		}
	}
	return finished
}

// admit accounts for one event of size bytes, or counts it dropped.
func (b *buffer) admit(size int) bool {
	if b.n+1 > b.maxEvents || b.bytes+size > b.maxBytes {
		b.dropped.Add(1)
		return false
	}
	b.n++
	b.bytes += size
	return true
}

func (b *buffer) logRecord(ev event) logRecord {
	lr := logRecord{Stream: ev.Type, RequestID: b.current, TraceID: b.currentTrace}
	if t, err := time.Parse(time.RFC3339Nano, ev.Time); err == nil {
		lr.Time = t.UnixNano()
	}
	var text string
	if json.Unmarshal(ev.Record, &text) == nil {
		lr.Body = strings.TrimRight(text, "\r\n")
		lr.Level = levelOf(lr.Body)
		return lr
	}
	// JSON log format.
	var obj struct {
		Timestamp string `json:"timestamp"`
		Level     string `json:"level"`
		RequestID string `json:"requestId"`
		Message   any    `json:"message"`
	}
	lr.Body = string(ev.Record)
	if json.Unmarshal(ev.Record, &obj) == nil {
		if s, ok := obj.Message.(string); ok {
			lr.Body = s
		}
		lr.Level = obj.Level
		if obj.RequestID != "" && obj.RequestID != lr.RequestID {
			lr.RequestID, lr.TraceID = obj.RequestID, ""
		}
		if t, err := time.Parse(time.RFC3339Nano, obj.Timestamp); err == nil {
			lr.Time = t.UnixNano()
		}
	}
	return lr
}

// take empties the buffer.
func (b *buffer) take() ([][]byte, []logRecord) {
	b.mu.Lock()
	defer b.mu.Unlock()
	p, l := b.platform, b.logs
	b.platform, b.logs, b.n, b.bytes = nil, nil, 0, 0
	return p, l
}

// waitReports waits up to d for every started invocation's report.
func (b *buffer) waitReports(d time.Duration) {
	deadline := time.NewTimer(max(d, 0))
	defer deadline.Stop()
	for {
		b.mu.Lock()
		n, ch := len(b.open), b.reported
		b.mu.Unlock()
		if n == 0 {
			return
		}
		select {
		case <-ch:
		case <-deadline.C:
			return
		}
	}
}

// levelOf finds the level of a Node.js or Python formatted line
// ("<time>\t<request id>\tINFO\t…", "[INFO]\t<time>\t…").
func levelOf(s string) string {
	if !strings.Contains(s, "\t") {
		return ""
	}
	for i, f := range strings.SplitN(s, "\t", 5) {
		if i >= 4 {
			break
		}
		switch f = strings.Trim(f, "[]"); f {
		case "TRACE", "DEBUG", "INFO", "WARN", "WARNING", "ERROR", "FATAL", "CRITICAL":
			return f
		}
	}
	return ""
}

// xrayToW3C turns "Root=1-5759e988-bd862e3fe1be46a994272793;…" into the
// W3C trace id X-Ray maps it to; "" when there is no valid root.
func xrayToW3C(h string) string {
	for part := range strings.SplitSeq(h, ";") {
		root, ok := strings.CutPrefix(strings.TrimSpace(part), "Root=")
		if !ok {
			continue
		}
		if len(root) != 35 || root[:2] != "1-" || root[10] != '-' {
			return ""
		}
		id := strings.ToLower(root[2:10] + root[11:])
		for _, c := range id {
			if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
				return ""
			}
		}
		return id
	}
	return ""
}
