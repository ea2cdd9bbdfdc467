// Package otlp receives OpenTelemetry traces and logs over OTLP/gRPC and
// OTLP/HTTP (protobuf and JSON, gzip, zstd and deflate), decodes them with
// pdata, normalises them into model.Batch (derived columns, message refs,
// invocation rows; docs/attributes.md is the contract) and hands each
// request's batch to a Writer, answering the client only after the writer
// committed it.
//
// The package owns the OTLP status-code mapping: bad data is 400 /
// INVALID_ARGUMENT and never retried, a body over a limit 413 /
// RESOURCE_EXHAUSTED, overload 429 / RESOURCE_EXHAUSTED with RetryInfo, an
// unavailable store 503 / UNAVAILABLE; items that break a per-item limit are
// refused one by one through OTLP partial success. It must not import a
// storage engine, and it never answers success for data it did not hand to
// the writer.
package otlp

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ariadnehq/ariadne/internal/model"
	"github.com/ariadnehq/ariadne/internal/store"
)

// Writer is what the receiver needs of a store: store.Writer's contract.
// Write returns nil only after b is durably committed; it may fail with
// store.ErrOverloaded, store.ErrUnavailable or store.ErrInvalid. The strings
// of b share one copy of the request body, so a writer must not keep any
// past Write without cloning it (strings.Clone): it would pin the body.
type Writer interface {
	Write(ctx context.Context, b *model.Batch) error
}

var _ Writer = store.Writer(nil)

// Settings are what the embedding program injects.
type Settings struct {
	// Limits bound requests and items; zero fields take DefaultLimits.
	Limits Limits
	// Logger receives refusals at debug level and store trouble at warn;
	// nil discards.
	Logger *slog.Logger
	// Registerer receives the receiver's metrics (ariadne_ingest_*); nil
	// keeps them in a private registry.
	Registerer prometheus.Registerer
}

// Receiver decodes OTLP requests and writes them. It serves HTTP
// (HTTPHandler) and gRPC (RegisterGRPC) at once; both share the limits, the
// concurrency slots and the metrics. Safe for concurrent use.
type Receiver struct {
	w     Writer
	lim   Limits
	log   *slog.Logger
	m     *metrics
	slots chan struct{}
	pools pools
}

// NewReceiver builds a receiver writing to w. It fails on invalid limits and
// when the metrics are already registered with s.Registerer.
func NewReceiver(w Writer, s Settings) (*Receiver, error) {
	if w == nil {
		return nil, errors.New("new OTLP receiver: nil writer")
	}
	if err := s.Limits.Validate(); err != nil {
		return nil, fmt.Errorf("new OTLP receiver: %w", err)
	}
	lim := s.Limits.withDefaults()
	log := s.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	reg := s.Registerer
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	m, err := newMetrics(reg)
	if err != nil {
		return nil, fmt.Errorf("new OTLP receiver: %w", err)
	}
	return &Receiver{
		w:     w,
		lim:   lim,
		log:   log,
		m:     m,
		slots: make(chan struct{}, lim.MaxConcurrentRequests),
	}, nil
}

// Limits returns the limits in force, defaults filled in.
func (r *Receiver) Limits() Limits { return r.lim }

// signal is what a request carries.
type signal uint8

const (
	signalTraces signal = iota
	signalLogs
)

func (s signal) String() string {
	if s == signalLogs {
		return "logs"
	}
	return "traces"
}

func (s signal) items() string {
	if s == signalLogs {
		return "log records"
	}
	return "spans"
}

// errKind is the edge classification of a failed request: every error is
// mapped once, here, to an HTTP status and a gRPC code.
type errKind uint8

const (
	kindMalformed errKind = iota + 1
	kindTooLarge
	kindUnsupportedMedia
	kindOverloaded
	kindUnavailable
	kindCanceled
)

func (k errKind) String() string {
	switch k {
	case kindMalformed:
		return "malformed"
	case kindTooLarge:
		return "too_large"
	case kindUnsupportedMedia:
		return "unsupported_media_type"
	case kindOverloaded:
		return "overloaded"
	case kindUnavailable:
		return "unavailable"
	case kindCanceled:
		return "canceled"
	}
	return "unknown"
}

// errKindOf classifies an error of decoding or writing. Anything unknown is
// retryable unavailability: the client keeps the data and writes are
// idempotent, so retrying is always safe and dropping never is.
func errKindOf(err error) errKind {
	switch {
	case errors.Is(err, ErrMalformed), errors.Is(err, store.ErrInvalid):
		return kindMalformed
	case errors.Is(err, ErrTooLarge):
		return kindTooLarge
	case errors.Is(err, ErrUnsupportedEncoding), errors.Is(err, errUnsupportedMedia):
		return kindUnsupportedMedia
	case errors.Is(err, store.ErrOverloaded), errors.Is(err, errNoSlot):
		return kindOverloaded
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return kindCanceled
	}
	return kindUnavailable
}

var (
	errNoSlot           = errors.New("too many concurrent requests")
	errUnsupportedMedia = errors.New("unsupported content type")
)

// acquire takes a concurrency slot, waiting at most ConcurrencyWait.
func (r *Receiver) acquire(ctx context.Context) (release func(), err error) {
	release = func() { <-r.slots }
	select {
	case r.slots <- struct{}{}:
		return release, nil
	default:
	}
	t := time.NewTimer(r.lim.ConcurrencyWait)
	defer t.Stop()
	select {
	case r.slots <- struct{}{}:
		return release, nil
	case <-t.C:
		return nil, fmt.Errorf("acquire request slot: %d in flight: %w", cap(r.slots), errNoSlot)
	case <-ctx.Done():
		return nil, fmt.Errorf("acquire request slot: %w", ctx.Err())
	}
}

// write commits b, the normalised form of one request, and accounts for it.
func (r *Receiver) write(ctx context.Context, sig signal, b *model.Batch, rej *Rejections) error {
	r.m.rejectedItems(sig, rej)
	accepted := len(b.Spans)
	if sig == signalLogs {
		accepted = len(b.Logs)
	}
	if accepted == 0 {
		// Nothing left to store: an empty request is a success (OTLP spec),
		// and a request whose every item was refused is a partial success.
		return nil
	}
	if err := r.w.Write(ctx, b); err != nil {
		kind := errKindOf(err)
		r.m.itemsRefused(sig, kind, accepted)
		return fmt.Errorf("write %d %s: %w", accepted, sig.items(), err)
	}
	r.m.itemsAccepted(sig, accepted)
	return nil
}

// exportTraces decodes, normalises and writes one traces request body.
func (r *Receiver) exportTraces(ctx context.Context, proto string, body []byte, enc Encoding) (Rejections, error) {
	var b model.Batch
	rej, err := DecodeNormalizeTraces(body, enc, r.lim, &b)
	if err != nil {
		return Rejections{}, err
	}
	r.m.itemsReceived(signalTraces, proto, len(b.Spans)+int(rej.Total))
	return rej, r.write(ctx, signalTraces, &b, &rej)
}

// exportLogs decodes, normalises and writes one logs request body.
func (r *Receiver) exportLogs(ctx context.Context, proto string, body []byte, enc Encoding) (Rejections, error) {
	var b model.Batch
	rej, err := DecodeNormalizeLogs(body, enc, r.lim, &b)
	if err != nil {
		return Rejections{}, err
	}
	r.m.itemsReceived(signalLogs, proto, len(b.Logs)+int(rej.Total))
	return rej, r.write(ctx, signalLogs, &b, &rej)
}

// logFailure logs a failed request once, at a level that matches whose
// fault it is: clients' mistakes at debug, store trouble at warn.
func (r *Receiver) logFailure(ctx context.Context, proto string, sig signal, err error) {
	kind := errKindOf(err)
	level := slog.LevelDebug
	if kind == kindUnavailable {
		level = slog.LevelWarn
	}
	r.log.Log(ctx, level, "OTLP request refused",
		slog.String("protocol", proto), slog.String("signal", sig.String()),
		slog.String("reason", kind.String()), slog.Any("error", err))
}
