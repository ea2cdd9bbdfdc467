package lambda

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/ariadnehq/ariadne/internal/invocation"
	"github.com/ariadnehq/ariadne/internal/model"
)

// Limits bound what one delivery may hold.
type Limits struct {
	// MaxEvents caps the events (telemetry events or log events) of one
	// delivery; more is a 413.
	MaxEvents int
	// MaxLogBytes truncates a log record's body (marked ariadne.truncated);
	// Lambda's own limit for one CloudWatch event is 256 KB.
	MaxLogBytes int
	// MaxDecodedBytes caps what gzip and base64 may expand to, so a small
	// bomb cannot exhaust memory.
	MaxDecodedBytes int64
}

// DefaultLimits are generous for one extension flush or one subscription
// delivery (Telemetry API buffers hold at most 10 000 events / 1 MB; a
// CloudWatch Logs delivery is at most 1 MB compressed).
func DefaultLimits() Limits {
	return Limits{MaxEvents: 50_000, MaxLogBytes: 256 << 10, MaxDecodedBytes: 32 << 20}
}

// ErrTooLarge marks a delivery over a limit (HTTP 413).
var ErrTooLarge = fmt.Errorf("delivery over a size limit")

// telemetryEvent is one Telemetry API event (schema 2022-12-13 and later).
type telemetryEvent struct {
	Time   string          `json:"time"`
	Type   string          `json:"type"`
	Record json.RawMessage `json:"record"`
}

// ParseTelemetry reads a JSON array of Telemetry API events, as Lambda
// posts them to a subscriber and as Ariadne's extension forwards them.
// Invocation rows get source "telemetry". A malformed event makes the whole
// delivery invalid: the sender is ours or Lambda, so bad input is a bug to
// surface, not to skip.
func ParseTelemetry(body []byte, meta Meta, lim Limits) (*model.Batch, Stats, error) {
	var events []telemetryEvent
	if err := json.Unmarshal(body, &events); err != nil {
		return nil, Stats{}, fmt.Errorf("decode telemetry batch: want a JSON array of events: %w", err)
	}
	if lim.MaxEvents > 0 && len(events) > lim.MaxEvents {
		return nil, Stats{}, fmt.Errorf("telemetry batch of %d events, limit %d: %w", len(events), lim.MaxEvents, ErrTooLarge)
	}
	b := newBuilder(invocation.SourceTelemetry, meta, lim.MaxLogBytes)
	for i, ev := range events {
		if ev.Type == "" {
			return nil, Stats{}, fmt.Errorf("decode telemetry event %d: no type", i)
		}
		t, err := parseEventTime(ev.Time)
		if err != nil {
			return nil, Stats{}, fmt.Errorf("decode telemetry event %d (%s): %w", i, ev.Type, err)
		}
		if len(ev.Record) == 0 {
			ev.Record = json.RawMessage("null")
		}
		if err := b.event(t, ev.Type, ev.Record); err != nil {
			return nil, Stats{}, fmt.Errorf("decode telemetry event %d (%s): %w", i, ev.Type, err)
		}
	}
	batch, st := b.finish()
	return batch, st, nil
}

// parseEventTime reads the event's RFC 3339 time ("2022-10-12T00:03:50.000Z").
func parseEventTime(s string) (int64, error) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return 0, fmt.Errorf("time %q: want RFC 3339", s)
	}
	return t.UnixNano(), nil
}
