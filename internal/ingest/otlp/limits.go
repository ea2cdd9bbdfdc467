package otlp

import (
	"errors"
	"fmt"
	"time"
)

// Limits bound what one request and one item may cost. Every limit is a
// setting and every refusal is counted (DESIGN.md §4, "bound everything").
type Limits struct {
	// MaxHTTPBodyBytes caps an OTLP/HTTP body, both as sent and after
	// decompression (OTLP spec: 413 over it). Default 20 MiB.
	MaxHTTPBodyBytes int64
	// MaxGRPCMessageBytes caps one OTLP/gRPC message after decompression
	// (RESOURCE_EXHAUSTED over it). Default 4 MiB. Applied through
	// GRPCServerOptions.
	MaxGRPCMessageBytes int
	// MaxAttributes caps each attribute list: a span's, a resource's, an
	// event's, a link's, a log record's. Default 1000.
	MaxAttributes int
	// MaxEvents and MaxLinks cap one span's events and links. Default 1000 each.
	MaxEvents int
	MaxLinks  int
	// MaxValueBytes caps the canonical form of one attribute value or log
	// body, and span names and status messages. Default 256 KiB.
	MaxValueBytes int
	// MaxKeyBytes caps one attribute key. Default 1 KiB.
	MaxKeyBytes int
	// MaxValueDepth caps how deeply arrays and maps nest inside one value
	// (an array of strings has depth 1). Default 16.
	MaxValueDepth int
	// MaxConcurrentRequests caps requests decoded and written at once,
	// across HTTP and gRPC, so that memory stays bounded under a burst.
	// Default 64.
	MaxConcurrentRequests int
	// ConcurrencyWait is how long a request waits for a free slot before it
	// is refused as overload (429 / RESOURCE_EXHAUSTED). Default 2 s.
	ConcurrencyWait time.Duration
	// RetryAfter is what overload and unavailability answers tell the client
	// to wait (Retry-After, RetryInfo). Default 1 s.
	RetryAfter time.Duration
}

// DefaultLimits returns the limits used when a field is left zero.
func DefaultLimits() Limits {
	return Limits{
		MaxHTTPBodyBytes:      20 << 20,
		MaxGRPCMessageBytes:   4 << 20,
		MaxAttributes:         1000,
		MaxEvents:             1000,
		MaxLinks:              1000,
		MaxValueBytes:         256 << 10,
		MaxKeyBytes:           1 << 10,
		MaxValueDepth:         16,
		MaxConcurrentRequests: 64,
		ConcurrencyWait:       2 * time.Second,
		RetryAfter:            time.Second,
	}
}

// withDefaults fills zero fields from DefaultLimits.
func (l Limits) withDefaults() Limits {
	d := DefaultLimits()
	if l.MaxHTTPBodyBytes == 0 {
		l.MaxHTTPBodyBytes = d.MaxHTTPBodyBytes
	}
	if l.MaxGRPCMessageBytes == 0 {
		l.MaxGRPCMessageBytes = d.MaxGRPCMessageBytes
	}
	if l.MaxAttributes == 0 {
		l.MaxAttributes = d.MaxAttributes
	}
	if l.MaxEvents == 0 {
		l.MaxEvents = d.MaxEvents
	}
	if l.MaxLinks == 0 {
		l.MaxLinks = d.MaxLinks
	}
	if l.MaxValueBytes == 0 {
		l.MaxValueBytes = d.MaxValueBytes
	}
	if l.MaxKeyBytes == 0 {
		l.MaxKeyBytes = d.MaxKeyBytes
	}
	if l.MaxValueDepth == 0 {
		l.MaxValueDepth = d.MaxValueDepth
	}
	if l.MaxConcurrentRequests == 0 {
		l.MaxConcurrentRequests = d.MaxConcurrentRequests
	}
	if l.ConcurrencyWait == 0 {
		l.ConcurrencyWait = d.ConcurrencyWait
	}
	if l.RetryAfter == 0 {
		l.RetryAfter = d.RetryAfter
	}
	return l
}

// Validate reports every negative or out-of-range field, naming it.
func (l Limits) Validate() error {
	var errs []error
	check := func(name string, v int64) {
		if v < 0 {
			errs = append(errs, fmt.Errorf("limits.%s: must not be negative, got %d", name, v))
		}
	}
	check("MaxHTTPBodyBytes", l.MaxHTTPBodyBytes)
	check("MaxGRPCMessageBytes", int64(l.MaxGRPCMessageBytes))
	check("MaxAttributes", int64(l.MaxAttributes))
	check("MaxEvents", int64(l.MaxEvents))
	check("MaxLinks", int64(l.MaxLinks))
	check("MaxValueBytes", int64(l.MaxValueBytes))
	check("MaxKeyBytes", int64(l.MaxKeyBytes))
	check("MaxValueDepth", int64(l.MaxValueDepth))
	check("MaxConcurrentRequests", int64(l.MaxConcurrentRequests))
	check("ConcurrencyWait", int64(l.ConcurrencyWait))
	check("RetryAfter", int64(l.RetryAfter))
	if l.MaxValueDepth > maxValueDepthCeiling {
		errs = append(errs, fmt.Errorf("limits.MaxValueDepth: at most %d, got %d", maxValueDepthCeiling, l.MaxValueDepth))
	}
	return errors.Join(errs...)
}
