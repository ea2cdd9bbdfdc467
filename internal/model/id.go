package model

import (
	"encoding/hex"
	"fmt"
)

// TraceID is a 16-byte W3C trace id. The zero value means "none".
type TraceID [16]byte

// SpanID is an 8-byte W3C span id. The zero value means "none".
type SpanID [8]byte

func (t TraceID) String() string { return hex.EncodeToString(t[:]) }
func (s SpanID) String() string  { return hex.EncodeToString(s[:]) }

// IsZero reports whether the id is absent.
func (t TraceID) IsZero() bool { return t == TraceID{} }

// IsZero reports whether the id is absent.
func (s SpanID) IsZero() bool { return s == SpanID{} }

// ParseTraceID reads 32 hex digits (either case).
func ParseTraceID(s string) (TraceID, error) {
	var t TraceID
	if len(s) != 32 {
		return t, fmt.Errorf("parse trace id %q: want 32 hex digits, got %d characters", s, len(s))
	}
	if _, err := hex.Decode(t[:], []byte(s)); err != nil {
		return t, fmt.Errorf("parse trace id %q: %w", s, err)
	}
	return t, nil
}

// ParseSpanID reads 16 hex digits (either case).
func ParseSpanID(s string) (SpanID, error) {
	var id SpanID
	if len(s) != 16 {
		return id, fmt.Errorf("parse span id %q: want 16 hex digits, got %d characters", s, len(s))
	}
	if _, err := hex.Decode(id[:], []byte(s)); err != nil {
		return id, fmt.Errorf("parse span id %q: %w", s, err)
	}
	return id, nil
}
