package ariadne

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/attribute"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/ariadnehq/ariadne/sdk/internal/redact"
)

// errCoolingDown is returned while the guard refuses to talk to a backend
// that failed recently.
var errCoolingDown = errors.New("backend cooling down after a failed export")

// errBusy is returned when too many exports are still hanging on a backend
// that ignores its deadline.
var errBusy = errors.New("too many exports in flight")

// guard bounds what a sick backend can cost the function: each export gets
// a hard deadline, and after a failure every export is refused at once for
// the cool-down, so a black-holed endpoint costs one timeout per cool-down
// period instead of one per invocation (the Lumigo reporter's rule).
type guard struct {
	timeout time.Duration
	cool    time.Duration
	now     func() time.Time

	until    atomic.Int64 // Unix ns before which exports are refused
	failures atomic.Uint64
	slots    chan struct{}
	onFail   func(error) // told once per cool-down; may be nil
}

func newGuard(timeout, cool time.Duration) *guard {
	return &guard{timeout: timeout, cool: cool, now: time.Now, slots: make(chan struct{}, 4)}
}

func (g *guard) open() bool { return g.now().UnixNano() >= g.until.Load() }

// run calls f with a deadline. f runs on its own goroutine so that an
// exporter that ignores its context still cannot hold the caller past the
// deadline; the slots bound how many such stragglers may pile up.
func (g *guard) run(ctx context.Context, f func(context.Context) error) error {
	if !g.open() {
		return errCoolingDown
	}
	select {
	case g.slots <- struct{}{}:
	default:
		return errBusy
	}
	ctx, cancel := context.WithTimeout(ctx, g.timeout)
	done := make(chan error, 1)
	go func() {
		defer func() {
			if r := recover(); r != nil {
				done <- fmt.Errorf("exporter panicked: %v", r)
			}
			<-g.slots
		}()
		done <- f(ctx)
	}()
	var err error
	select {
	case err = <-done:
	case <-ctx.Done():
		err = ctx.Err()
	}
	cancel()
	if err != nil {
		g.until.Store(g.now().Add(g.cool).UnixNano())
		g.failures.Add(1)
		err = fmt.Errorf("export telemetry: %w", err)
		if g.onFail != nil {
			g.onFail(err)
		}
		return err
	}
	return nil
}

// batcher is a bounded in-memory queue drained by explicit flushes (end of
// invocation) and by a background loop (markers, full batches, a ticker for
// long-running services). Over the bound, items are dropped and counted:
// losing telemetry is preferred to blocking the function.
type batcher[T any] struct {
	max      int
	maxBytes int
	batch    int
	size     func(T) int // approximate bytes held by one item
	export   func(context.Context, []T) error
	guard    *guard

	mu      sync.Mutex
	buf     []T
	sizes   []int
	bytes   int
	flushMu sync.Mutex // one drain at a time keeps batches in order

	dropped  atomic.Uint64
	exported atomic.Uint64
	kick     chan struct{}
}

// newBatcher bounds the queue by count and by approximate bytes: payloads
// make span sizes vary by orders of magnitude, and a count alone would let a
// long cool-down hold tens of megabytes in a 128 MB function.
func newBatcher[T any](max, maxBytes, batch int, size func(T) int, g *guard, export func(context.Context, []T) error) *batcher[T] {
	return &batcher[T]{max: max, maxBytes: maxBytes, batch: batch, size: size, export: export, guard: g, kick: make(chan struct{}, 1)}
}

// add queues v; urgent asks the background loop to export now.
func (b *batcher[T]) add(v T, urgent bool) {
	n := b.size(v)
	b.mu.Lock()
	if len(b.buf) >= b.max || (b.maxBytes > 0 && b.bytes+n > b.maxBytes && len(b.buf) > 0) {
		b.mu.Unlock()
		b.dropped.Add(1)
		return
	}
	b.buf = append(b.buf, v)
	b.sizes = append(b.sizes, n)
	b.bytes += n
	full := len(b.buf) >= b.batch
	b.mu.Unlock()
	if urgent || full {
		select {
		case b.kick <- struct{}{}:
		default:
		}
	}
}

func (b *batcher[T]) take() []T {
	b.mu.Lock()
	defer b.mu.Unlock()
	n := len(b.buf)
	if n == 0 {
		return nil
	}
	if n > b.batch {
		n = b.batch
	}
	out := make([]T, n)
	copy(out, b.buf)
	for _, sz := range b.sizes[:n] {
		b.bytes -= sz
	}
	rest := copy(b.buf, b.buf[n:])
	copy(b.sizes, b.sizes[n:])
	var zero T
	for i := rest; i < len(b.buf); i++ {
		b.buf[i] = zero // release references for the GC
	}
	b.buf = b.buf[:rest]
	b.sizes = b.sizes[:rest]
	return out
}

func (b *batcher[T]) len() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.buf)
}

// flush exports everything queued, batch by batch. While the guard is
// cooling down it returns at once and leaves the queue alone (bounded), so
// the data can still go out once the backend is back.
func (b *batcher[T]) flush(ctx context.Context) error {
	b.flushMu.Lock()
	defer b.flushMu.Unlock()
	for {
		if !b.guard.open() {
			return nil
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		items := b.take()
		if len(items) == 0 {
			return nil
		}
		err := b.guard.run(ctx, func(ctx context.Context) error { return b.export(ctx, items) })
		if err != nil {
			b.dropped.Add(uint64(len(items)))
			return err
		}
		b.exported.Add(uint64(len(items)))
	}
}

// spanSize approximates the memory a queued span holds: a fixed part plus
// its string attributes, where payloads live.
func spanSize(s sdktrace.ReadOnlySpan) int {
	n := 512
	for _, a := range s.Attributes() {
		n += len(a.Key) + 16
		if a.Value.Type() == attribute.STRING {
			n += len(a.Value.AsString())
		}
	}
	return n + 128*len(s.Events())
}

// logSize approximates the memory a queued log record holds.
func logSize(r sdklog.Record) int {
	n := 256 + len(r.Body().AsString())
	r.WalkAttributes(func(kv attribute.KeyValue) bool {
		n += len(kv.Key) + 16
		if kv.Value.Type() == attribute.STRING {
			n += len(kv.Value.AsString())
		}
		return true
	})
	return n
}

// spanQueue is the SDK's span processor. Besides queueing ended spans it
// tracks outbound (client and producer) spans still open, so the timeout
// timer can say what an invocation was waiting for. Tracking sits in
// OnStart/OnEnd so it sees spans from any OTel instrumentation, not only
// ours.
type spanQueue struct {
	b *batcher[sdktrace.ReadOnlySpan]

	mu       sync.Mutex
	inflight map[trace.SpanID]sdktrace.ReadOnlySpan
}

var _ sdktrace.SpanProcessor = (*spanQueue)(nil)

func newSpanQueue(b *batcher[sdktrace.ReadOnlySpan]) *spanQueue {
	return &spanQueue{b: b, inflight: make(map[trace.SpanID]sdktrace.ReadOnlySpan)}
}

func outbound(k trace.SpanKind) bool { return k == trace.SpanKindClient || k == trace.SpanKindProducer }

func (q *spanQueue) OnStart(_ context.Context, s sdktrace.ReadWriteSpan) {
	if !outbound(s.SpanKind()) {
		return
	}
	q.mu.Lock()
	if len(q.inflight) < 4096 {
		q.inflight[s.SpanContext().SpanID()] = s
	}
	q.mu.Unlock()
}

func (q *spanQueue) OnEnd(s sdktrace.ReadOnlySpan) {
	if outbound(s.SpanKind()) {
		q.mu.Lock()
		delete(q.inflight, s.SpanContext().SpanID())
		q.mu.Unlock()
	}
	if !s.SpanContext().IsSampled() {
		return
	}
	q.b.add(s, s.Name() == MarkerSpanName)
}

// inFlight returns the open outbound spans of one trace.
func (q *spanQueue) inFlight(tid trace.TraceID) []sdktrace.ReadOnlySpan {
	q.mu.Lock()
	defer q.mu.Unlock()
	var out []sdktrace.ReadOnlySpan
	for _, s := range q.inflight {
		if s.SpanContext().TraceID() == tid {
			out = append(out, s)
		}
	}
	return out
}

func (q *spanQueue) ForceFlush(ctx context.Context) error { return q.b.flush(ctx) }
func (q *spanQueue) Shutdown(ctx context.Context) error   { return q.b.flush(ctx) }

// logQueue is the SDK's log processor.
type logQueue struct {
	b        *batcher[sdklog.Record]
	redactor *redact.Redactor
}

var _ sdklog.Processor = (*logQueue)(nil)

func (q *logQueue) Enabled(context.Context, sdklog.EnabledParameters) bool { return true }

func (q *logQueue) OnEmit(_ context.Context, r *sdklog.Record) error {
	// The record is reused by the SDK after OnEmit returns.
	c := r.Clone()
	safe(func() { scrubLog(q.redactor, &c) })
	q.b.add(c, false)
	return nil
}

func (q *logQueue) ForceFlush(ctx context.Context) error { return q.b.flush(ctx) }
func (q *logQueue) Shutdown(ctx context.Context) error   { return q.b.flush(ctx) }
