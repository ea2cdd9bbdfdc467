// Package lambda ingests the platform's own account of Lambda invocations:
// Telemetry API event batches (as Ariadne's extension forwards them) and
// CloudWatch Logs subscription payloads holding the function's log stream.
// Both become invocation rows (source "telemetry" or "logs") and log
// records tied to the invocation and, when its X-Ray trace is known, to the
// trace; package invocation merges the rows with the SDK's at read time.
//
// The package decodes and validates with bounds on every size; it must not
// keep state between requests (any Ariadne node may receive any delivery)
// and must not read the store.
package lambda

import (
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/ariadnehq/ariadne/internal/invocation"
	"github.com/ariadnehq/ariadne/internal/model"
)

// Attribute keys set on log records (docs/attributes.md).
const (
	attrInvocationID = "faas.invocation_id"
	attrFunction     = "faas.name"
	attrSource       = "ariadne.source"
	attrStream       = "ariadne.lambda.stream" // function | extension
	attrTruncated    = "ariadne.truncated"
)

// Meta is what a delivery says about its function outside the events.
type Meta struct {
	Function string
	Version  string
}

// builder accumulates what one delivery says about each request id: one
// invocation row per request id and source, and the log records. A
// delivery is read in order; lines between a START (platform.start) and
// its END belong to that request.
type builder struct {
	source  string
	meta    Meta
	maxLog  int
	invs    map[string]*model.Invocation // the current attempt's row of each request id
	rows    []*model.Invocation          // every row, in first-seen order
	ended   map[string]bool              // the current attempt was reported
	current string
	killed  map[string]bool // "Runtime exited with error: signal: killed" seen
	batch   model.Batch
	stats   Stats
}

// Stats counts what a delivery held, for the response and for metrics.
type Stats struct {
	Events      int            `json:"events"`
	Invocations int            `json:"invocations"`
	Logs        int            `json:"logs"`
	Ignored     int            `json:"ignored"` // events that carry nothing Ariadne stores
	Types       map[string]int `json:"-"`
}

func newBuilder(source string, meta Meta, maxLog int) *builder {
	return &builder{source: source, meta: meta, maxLog: maxLog, invs: map[string]*model.Invocation{},
		ended: map[string]bool{}, killed: map[string]bool{}, stats: Stats{Types: map[string]int{}}}
}

// inv returns the row of a request id, creating it.
func (b *builder) inv(id string) *model.Invocation {
	if r := b.invs[id]; r != nil {
		return r
	}
	r := &model.Invocation{RequestID: id, Function: b.meta.Function, Source: b.source, Status: model.InvocationStarted}
	b.invs[id] = r
	b.rows = append(b.rows, r)
	return r
}

// begin returns the row of an attempt that starts now: a new one when the
// request id's previous attempt was already reported (Lambda's async
// retries reuse the request id).
func (b *builder) begin(id string) *model.Invocation {
	if b.ended[id] {
		b.settle(b.invs[id])
		delete(b.invs, id)
		delete(b.ended, id)
		delete(b.killed, id)
	}
	return b.inv(id)
}

// setStatus keeps the most final status seen (a later "success" report does
// not undo a "Task timed out" line of the same delivery).
func setStatus(r *model.Invocation, st model.InvocationStatus, errType string) {
	switch {
	case invocation.Finality(st) > invocation.Finality(r.Status):
		r.Status, r.ErrorType = st, errType
	case invocation.Finality(st) == invocation.Finality(r.Status) && r.ErrorType == "":
		r.Status, r.ErrorType = st, errType
	}
}

// settle draws what only the whole attempt tells: a runtime killed at its
// memory size was Lambda's out-of-memory killer.
func (b *builder) settle(r *model.Invocation) {
	if b.invs[r.RequestID] == r && b.killed[r.RequestID] && r.Status == model.InvocationCrash &&
		r.MemoryMB > 0 && r.MaxMemoryMB >= r.MemoryMB {
		r.Status, r.ErrorType = model.InvocationOOM, "Runtime.OutOfMemory"
	}
}

// finish returns the batch: invocation rows in first-seen order.
func (b *builder) finish() (*model.Batch, Stats) {
	for _, r := range b.rows {
		b.settle(r)
		if r.Function == "" {
			r.Function = b.meta.Function
		}
		b.batch.Invocations = append(b.batch.Invocations, *r)
	}
	b.stats.Invocations = len(b.batch.Invocations)
	b.stats.Logs = len(b.batch.Logs)
	return &b.batch, b.stats
}

// telemetryRecord is the union of the platform.* record fields Ariadne reads.
type telemetryRecord struct {
	RequestID    string `json:"requestId"`
	Status       string `json:"status"`
	ErrorType    string `json:"errorType"`
	FunctionName string `json:"functionName"`
	Version      string `json:"functionVersion"`
	MaxMemory    int32  `json:"instanceMaxMemory"`
	Tracing      *struct {
		Type  string `json:"type"`
		Value string `json:"value"`
	} `json:"tracing"`
	Metrics *struct {
		DurationMs       float64 `json:"durationMs"`
		BilledDurationMs float64 `json:"billedDurationMs"`
		MemorySizeMB     int32   `json:"memorySizeMB"`
		MaxMemoryUsedMB  int32   `json:"maxMemoryUsedMB"`
		InitDurationMs   float64 `json:"initDurationMs"`
	} `json:"metrics"`
}

// event handles one Telemetry API event (also the JSON form of platform log
// lines under Lambda's JSON log format). t is the event time, Unix ns.
func (b *builder) event(t int64, typ string, raw json.RawMessage) error {
	b.stats.Events++
	b.stats.Types[typ]++
	switch typ {
	case "function", "extension":
		b.logRecord(t, typ, raw)
		return nil
	case "platform.start", "platform.runtimeDone", "platform.report":
	case "platform.initStart":
		var rec telemetryRecord
		if err := json.Unmarshal(raw, &rec); err != nil {
			return err
		}
		if b.meta.Function == "" {
			b.meta.Function = rec.FunctionName
		}
		b.stats.Ignored++
		return nil
	default:
		// platform.initRuntimeDone, platform.initReport, platform.extension,
		// platform.telemetrySubscription, platform.logsDropped,
		// platform.restore*: nothing per invocation. (An init failure shows
		// on the next invocation's report as its status.)
		b.stats.Ignored++
		return nil
	}
	var rec telemetryRecord
	if err := json.Unmarshal(raw, &rec); err != nil {
		return err
	}
	if rec.RequestID == "" {
		b.stats.Ignored++
		return nil
	}
	var r *model.Invocation
	if typ == "platform.start" {
		r = b.begin(rec.RequestID)
	} else {
		r = b.inv(rec.RequestID)
	}
	if rec.Tracing != nil && r.TraceID.IsZero() {
		if id, ok := invocation.TraceIDFromXRay(rec.Tracing.Value); ok {
			r.TraceID = id
		}
	}
	switch typ {
	case "platform.start":
		r.Start = t
		b.current = rec.RequestID
	case "platform.runtimeDone":
		setStatus(r, invocation.PlatformStatus(rec.Status, rec.ErrorType), rec.ErrorType)
	case "platform.report":
		b.ended[rec.RequestID] = true
		setStatus(r, invocation.PlatformStatus(rec.Status, rec.ErrorType), rec.ErrorType)
		if m := rec.Metrics; m != nil {
			r.DurationNs = msNs(m.DurationMs)
			r.BilledDurationNs = msNs(m.BilledDurationMs)
			r.MemoryMB = m.MemorySizeMB
			r.MaxMemoryMB = m.MaxMemoryUsedMB
			if m.InitDurationMs > 0 {
				r.InitDurationNs = msNs(m.InitDurationMs)
				r.ColdStart = true
			}
			if r.Start == 0 {
				// The report comes after the end; its time minus the
				// duration is the latest the invocation can have started.
				r.Start = t - r.DurationNs
			}
		}
	}
	return nil
}

func msNs(ms float64) int64 { return int64(ms*1e6 + 0.5) }

// logRecord turns a function or extension record (a text line, or an
// object under the JSON log format) into a log record.
func (b *builder) logRecord(t int64, stream string, raw json.RawMessage) {
	var text string
	if err := json.Unmarshal(raw, &text); err == nil {
		b.textLine(t, stream, text)
		return
	}
	// JSON log format: {"timestamp", "level", "requestId", "message", …}.
	var obj struct {
		Timestamp string `json:"timestamp"`
		Level     string `json:"level"`
		RequestID string `json:"requestId"`
		Message   any    `json:"message"`
	}
	if err := json.Unmarshal(raw, &obj); err != nil {
		b.textLine(t, stream, string(raw))
		return
	}
	body := string(raw)
	if s, ok := obj.Message.(string); ok {
		body = s
	}
	if ts, err := time.Parse(time.RFC3339Nano, obj.Timestamp); err == nil {
		t = ts.UnixNano()
	}
	b.appendLog(t, stream, obj.RequestID, obj.Level, body)
}

// textLine is one line of text output. Runtimes of Node.js and Python
// prefix lines with the time, request id and level, tab-separated; others
// print what the function printed.
func (b *builder) textLine(t int64, stream, text string) {
	text = strings.TrimRight(text, "\r\n")
	reqID, level := "", ""
	if strings.Contains(text, "\t") {
		for i, f := range strings.SplitN(text, "\t", 5) {
			if i >= 4 {
				break
			}
			f = strings.Trim(f, "[]")
			switch {
			case reqID == "" && looksLikeRequestID(f):
				reqID = f
			case level == "" && severityOf(f) > 0:
				level = f
			}
		}
	}
	if stream == "function" && strings.Contains(text, "\tInvoke Error") {
		b.invokeError(reqID, text)
	}
	b.appendLog(t, stream, reqID, level, text)
}

// invokeError records the Node.js runtime's report of a handler error:
// "<time>\t<id>\tERROR\tInvoke Error \t{"errorType":"Error",…}".
func (b *builder) invokeError(reqID, text string) {
	if reqID == "" {
		reqID = b.current
	}
	if reqID == "" {
		return
	}
	errType := "Error"
	if i := strings.Index(text, `{"errorType":"`); i >= 0 {
		rest := text[i+len(`{"errorType":"`):]
		if j := strings.IndexByte(rest, '"'); j > 0 {
			errType = rest[:j]
		}
	}
	setStatus(b.inv(reqID), model.InvocationError, errType)
}

func (b *builder) appendLog(t int64, stream, reqID, level, body string) {
	if reqID == "" {
		reqID = b.current
	}
	truncated := false
	if b.maxLog > 0 && len(body) > b.maxLog {
		body, truncated = body[:b.maxLog], true
	}
	lr := model.LogRecord{
		Time: t, ObservedTime: t,
		SeverityText:   level,
		SeverityNumber: severityOf(level),
		Body:           model.Value{Type: model.TypeString, Str: body},
		Service:        b.meta.Function,
		Function:       b.meta.Function,
		InvocationID:   reqID,
		ScopeName:      "ariadne.lambda",
		Attributes:     model.Attributes{{Key: attrSource, Value: str("lambda")}, {Key: attrStream, Value: str(stream)}},
	}
	if reqID != "" {
		lr.Attributes = append(lr.Attributes, model.Attr{Key: attrInvocationID, Value: str(reqID)})
		if r := b.invs[reqID]; r != nil {
			lr.TraceID = r.TraceID
		}
	}
	if b.meta.Function != "" {
		lr.Attributes = append(lr.Attributes, model.Attr{Key: attrFunction, Value: str(b.meta.Function)})
	}
	if truncated {
		lr.Attributes = append(lr.Attributes, model.Attr{Key: attrTruncated, Value: model.Value{Type: model.TypeBool, Str: "true"}})
	}
	b.batch.Logs = append(b.batch.Logs, lr)
}

func str(s string) model.Value { return model.Value{Type: model.TypeString, Str: s} }

// severityOf maps a level name to the OTLP severity number (0 = unknown).
func severityOf(level string) uint8 {
	switch strings.ToUpper(level) {
	case "TRACE":
		return 1
	case "DEBUG":
		return 5
	case "INFO":
		return 9
	case "WARN", "WARNING":
		return 13
	case "ERROR":
		return 17
	case "FATAL", "CRITICAL":
		return 21
	}
	return 0
}

// looksLikeRequestID accepts the UUID form of Lambda request ids.
func looksLikeRequestID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i, c := range []byte(s) {
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
				return false
			}
		}
	}
	return true
}

// parseFloatField reads the number of "Name: 12.34 unit" in a REPORT line.
func parseFloatField(s string) (float64, bool) {
	f := strings.Fields(s)
	if len(f) == 0 {
		return 0, false
	}
	v, err := strconv.ParseFloat(f[0], 64)
	return v, err == nil
}
