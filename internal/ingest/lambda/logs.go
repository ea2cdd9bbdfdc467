package lambda

import (
	"encoding/json"
	"strings"
	"time"

	"github.com/ariadnehq/ariadne/internal/invocation"
	"github.com/ariadnehq/ariadne/internal/model"
)

// line handles one line (one CloudWatch log event) of a function's log
// stream at time t (Unix ns): a platform line, a platform event in JSON
// log format, or the function's own output.
func (b *builder) line(t int64, msg string) error {
	b.stats.Events++
	text := strings.TrimRight(msg, "\r\n")
	if strings.HasPrefix(text, "{") {
		// Lambda's JSON log format writes platform events as telemetry
		// events and function lines as objects.
		var ev telemetryEvent
		if err := json.Unmarshal([]byte(text), &ev); err == nil && strings.HasPrefix(ev.Type, "platform.") && len(ev.Record) > 0 {
			if et, err := parseEventTime(ev.Time); err == nil {
				t = et
			}
			b.stats.Events-- // event counts it again
			return b.event(t, ev.Type, ev.Record)
		}
		b.logRecord(t, "function", json.RawMessage(text))
		return nil
	}
	if b.platformLine(t, text) {
		return nil
	}
	b.textLine(t, "function", text)
	return nil
}

// platformLine parses the platform's text lines; false means the line is
// the function's.
//
//	START RequestId: <id> Version: $LATEST
//	END RequestId: <id>
//	REPORT RequestId: <id>	Duration: 102.25 ms	Billed Duration: 103 ms	Memory Size: 128 MB	Max Memory Used: 70 MB	Init Duration: 150.83 ms
//	XRAY TraceId: 1-…	SegmentId: …	Sampled: true	(inside REPORT, after a newline)
//	… Status: timeout | Status: error	Error Type: Runtime.OutOfMemory	(inside REPORT)
//	2024-01-01T00:00:03.000Z <id> Task timed out after 3.00 seconds
//	RequestId: <id> Error: Runtime exited with error: signal: killed
//	Runtime.ExitError | Runtime.OutOfMemory	(the error type, on its own line)
//	INIT_START …, INIT_REPORT …, INIT_RUNTIME_DONE …, EXTENSION …, TELEMETRY …, LOGS …, PLATFORM …
func (b *builder) platformLine(t int64, text string) bool {
	switch {
	case strings.HasPrefix(text, "START RequestId: "):
		id := firstField(text[len("START RequestId: "):])
		r := b.begin(id)
		if r.Start == 0 || t < r.Start {
			r.Start = t
		}
		b.current = id
		return true
	case strings.HasPrefix(text, "END RequestId: "):
		id := firstField(text[len("END RequestId: "):])
		b.inv(id)
		if b.current == id {
			b.current = ""
		}
		return true
	case strings.HasPrefix(text, "REPORT RequestId: "):
		b.report(t, text)
		return true
	case strings.HasPrefix(text, "RequestId: ") && strings.Contains(text, " Error: "):
		rest := text[len("RequestId: "):]
		id := firstField(rest)
		_, msg, _ := strings.Cut(rest, " Error: ")
		r := b.inv(id)
		errType := "Runtime.ExitError"
		// Older runtimes put the error type on the next line of the same event.
		if first, next, ok := strings.Cut(msg, "\n"); ok {
			msg = first
			if et := strings.TrimSpace(next); isErrorTypeLine(et) {
				errType = et
			}
		}
		if strings.Contains(msg, "signal: killed") {
			b.killed[id] = true
		}
		setStatus(r, invocation.ErrorTypeStatus(errType), errType)
		return true
	case isErrorTypeLine(text):
		if b.current != "" {
			r := b.inv(b.current)
			st := invocation.ErrorTypeStatus(text)
			if invocation.Finality(st) >= invocation.Finality(r.Status) {
				r.Status, r.ErrorType = st, text
			}
		}
		return true
	}
	if i := strings.Index(text, " Task timed out after "); i > 0 {
		f := strings.Fields(text[:i])
		if len(f) >= 1 && looksLikeRequestID(f[len(f)-1]) {
			id := f[len(f)-1]
			if len(f) >= 2 {
				if ts, err := time.Parse(time.RFC3339Nano, f[0]); err == nil {
					t = ts.UnixNano()
				}
			}
			r := b.inv(id)
			if r.Start == 0 {
				r.Start = t
			}
			setStatus(r, model.InvocationTimeout, "Sandbox.Timedout")
			return true
		}
	}
	for _, p := range []string{"INIT_START ", "INIT_REPORT ", "INIT_RUNTIME_DONE", "EXTENSION\t", "EXTENSION ", "TELEMETRY\t", "LOGS\t", "PLATFORM\t", "RESTORE_START", "RESTORE_REPORT"} {
		if strings.HasPrefix(text, p) {
			b.stats.Ignored++
			return true
		}
	}
	return false
}

// isErrorTypeLine matches a line that is only a platform error type
// ("Runtime.ExitError", "Runtime.OutOfMemory", "Sandbox.Timedout").
func isErrorTypeLine(s string) bool {
	for _, p := range []string{"Runtime.", "Sandbox.", "Extension."} {
		if rest, ok := strings.CutPrefix(s, p); ok && rest != "" && !strings.ContainsAny(rest, " \t:") {
			return true
		}
	}
	return false
}

func firstField(s string) string {
	if f := strings.Fields(s); len(f) > 0 {
		return f[0]
	}
	return ""
}

// report parses a REPORT line (possibly with an XRAY line after a newline).
func (b *builder) report(t int64, text string) {
	var (
		r                *model.Invocation
		status, errType  string
		memory, maxUsed  float64
		dur, billed, ini float64
	)
	for _, part := range strings.FieldsFunc(text, func(c rune) bool { return c == '\t' || c == '\n' }) {
		name, val, ok := strings.Cut(strings.TrimSpace(part), ": ")
		if !ok {
			continue
		}
		switch name {
		case "REPORT RequestId":
			r = b.inv(strings.TrimSpace(val))
		case "Duration":
			dur, _ = parseFloatField(val)
		case "Billed Duration":
			billed, _ = parseFloatField(val)
		case "Memory Size":
			memory, _ = parseFloatField(val)
		case "Max Memory Used":
			maxUsed, _ = parseFloatField(val)
		case "Init Duration":
			ini, _ = parseFloatField(val)
		case "Status":
			status = strings.TrimSpace(val)
		case "Error Type":
			errType = strings.TrimSpace(val)
		case "XRAY TraceId":
			if r != nil && r.TraceID.IsZero() {
				if id, ok := invocation.TraceIDFromXRay(strings.TrimSpace(val)); ok {
					r.TraceID = id
				}
			}
		}
	}
	if r == nil || r.RequestID == "" {
		return
	}
	b.ended[r.RequestID] = true
	r.DurationNs = msNs(dur)
	r.BilledDurationNs = msNs(billed)
	r.MemoryMB = int32(memory)
	r.MaxMemoryMB = int32(maxUsed)
	if ini > 0 {
		r.InitDurationNs = msNs(ini)
		r.ColdStart = true
	}
	if r.Start == 0 {
		r.Start = t - r.DurationNs // the latest it can have started
	}
	setStatus(r, invocation.PlatformStatus(status, errType), errType)
	if b.current == r.RequestID {
		b.current = ""
	}
}
