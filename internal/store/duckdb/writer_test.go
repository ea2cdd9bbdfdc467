package duckdb

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/ariadnehq/ariadne/internal/model"
	"github.com/ariadnehq/ariadne/internal/store"
)

func smallBatch(n int) model.Batch {
	g := newGen(n + 1)
	var b model.Batch
	g.batch(&b, n, 1)
	return b
}

// TestCommitHooks checks the numbers the app turns into metrics.
func TestCommitHooks(t *testing.T) {
	var mu sync.Mutex
	var infos []store.CommitInfo
	e, err := Open(t.Context(), Settings{Dir: t.TempDir(), MemoryLimit: "256MB", Threads: 1, QueueSpans: 1000,
		OnCommit: func(ci store.CommitInfo) {
			mu.Lock()
			infos = append(infos, ci)
			mu.Unlock()
		}})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	b := smallBatch(1)
	for range 2 { // the second write is a retry: all ten spans dropped
		if err := e.Write(t.Context(), &b); err != nil {
			t.Fatal(err)
		}
	}
	st := e.WriteStats()
	want := store.WriteStats{QueueCapacity: 1000, Commits: 2, CommittedRows: 10, DroppedRows: 10}
	if st != want {
		t.Errorf("WriteStats = %+v, want %+v", st, want)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(infos) != 2 || infos[0].Rows != 10 || infos[1].Dropped != 10 || infos[0].Duration <= 0 || infos[0].Err != nil {
		t.Errorf("OnCommit saw %+v", infos)
	}
}

// TestWriteCancelled: a caller that gives up while queued leaves nothing
// written, and the queue gives its rows back.
func TestWriteCancelled(t *testing.T) {
	e, err := Open(t.Context(), Settings{Dir: t.TempDir(), MemoryLimit: "256MB", Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	// With the writer busy or not, a cancelled write either commits fully
	// (already taken) or not at all; it never leaves rows queued.
	b := smallBatch(2)
	err = e.Write(ctx, &b)
	_, rerr := e.Trace(t.Context(), b.Spans[0].TraceID)
	switch {
	case err == nil && rerr != nil:
		t.Fatalf("write succeeded but trace missing: %v", rerr)
	case errors.Is(err, context.Canceled) && !errors.Is(rerr, store.ErrNotFound):
		t.Fatalf("cancelled write is visible: %v", rerr)
	case err != nil && !errors.Is(err, context.Canceled):
		t.Fatalf("Write = %v", err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for e.WriteStats().QueuedRows != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("queue holds %d rows", e.WriteStats().QueuedRows)
		}
		time.Sleep(time.Millisecond)
	}
}

// TestInvalidUTF8 keeps what it can of a bad string instead of letting
// DuckDB turn it into NULL.
func TestInvalidUTF8(t *testing.T) {
	e, err := Open(t.Context(), Settings{Dir: t.TempDir(), MemoryLimit: "256MB", Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	b := smallBatch(3)
	b.Spans[0].Name = "bad\xff name"
	b.Spans[0].Attributes[0].Value.Str = "v\xfe"
	b.Spans[0].MessageIDs = []string{"m\xc3"}
	if err := e.Write(t.Context(), &b); err != nil {
		t.Fatal(err)
	}
	tr, err := e.Trace(t.Context(), b.Spans[0].TraceID)
	if err != nil {
		t.Fatal(err)
	}
	got := tr.Spans[0]
	if got.Name != "bad\uFFFD name" || got.Attributes[0].Value.Str != "v\uFFFD" || got.MessageIDs[0] != "m\uFFFD" {
		t.Errorf("got name %q, attribute %q, message ids %q", got.Name, got.Attributes[0].Value.Str, got.MessageIDs)
	}
}

// TestRetentionDuringIngest: DeleteBefore runs on its own connection while
// the writer commits; neither may fail on the other.
func TestRetentionDuringIngest(t *testing.T) {
	e, err := Open(t.Context(), Settings{Dir: t.TempDir(), MemoryLimit: "256MB", Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	g := newGen(4000)
	done := make(chan error, 1)
	go func() {
		var b model.Batch
		for first := 0; first < 4000; first += 100 {
			g.batch(&b, first, 100)
			if err := e.Write(context.Background(), &b); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	for i := 0; ; i++ {
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("Write during retention: %v", err)
			}
			// Everything before the last trace's start goes.
			if _, err := e.DeleteBefore(t.Context(), g.traceStart(3999)); err != nil {
				t.Fatal(err)
			}
			r, err := e.SearchTraces(t.Context(), store.TraceQuery{Limit: 10})
			if err != nil {
				t.Fatal(err)
			}
			if len(r.Traces) != 1 || r.Traces[0].TraceID != benchTraceID(3999) {
				t.Fatalf("after retention: %+v", r.Traces)
			}
			return
		default:
		}
		if _, err := e.DeleteBefore(t.Context(), g.traceStart(min(i*50, 3000))); err != nil {
			t.Fatalf("DeleteBefore during ingest: %v", err)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestCloseLeavesNoGoroutines: the writer and everything it started end
// with Close.
func TestCloseLeavesNoGoroutines(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	e, err := Open(t.Context(), Settings{Dir: t.TempDir(), MemoryLimit: "256MB", Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	b := smallBatch(4)
	if err := e.Write(t.Context(), &b); err != nil {
		t.Fatal(err)
	}
	if _, err := e.SearchTraces(t.Context(), store.TraceQuery{Service: "svc-4"}); err != nil {
		t.Fatal(err)
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestWriteOverBound: a batch larger than the queue bound gets in when
// nothing else is queued; behind another write it is overloaded, so that
// its client retries and gets in once the queue has drained.
func TestWriteOverBound(t *testing.T) {
	const bound = 10
	held, release := make(chan struct{}), make(chan struct{})
	var hold, unblock sync.Once
	e, err := Open(t.Context(), Settings{Dir: t.TempDir(), MemoryLimit: "256MB", Threads: 1, QueueSpans: bound,
		OnCommit: func(store.CommitInfo) {
			// The first commit's hook keeps the writer busy, so that the
			// next write stays queued.
			hold.Do(func() {
				close(held)
				<-release
			})
		}})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		unblock.Do(func() { close(release) })
		e.Close()
	}()
	write := func(b *model.Batch) <-chan error {
		out := make(chan error, 1)
		go func() { out <- e.Write(context.Background(), b) }()
		return out
	}
	first, queued := smallBatch(1), smallBatch(2)
	firstDone := write(&first)
	<-held
	queuedDone := write(&queued)
	for e.WriteStats().QueuedRows != int64(queued.Len()) {
		time.Sleep(time.Millisecond)
	}
	big, extra := smallBatch(3), smallBatch(4)
	big.Spans = append(big.Spans, extra.Spans[0])
	if big.Len() != bound+1 {
		t.Fatalf("big batch of %d rows, want %d", big.Len(), bound+1)
	}
	if err := e.Write(t.Context(), &big); !errors.Is(err, store.ErrOverloaded) {
		t.Errorf("Write over the bound behind a queued write = %v, want ErrOverloaded", err)
	}
	unblock.Do(func() { close(release) })
	for _, done := range []<-chan error{firstDone, queuedDone} {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	if err := e.Write(t.Context(), &big); err != nil {
		t.Fatalf("Write over the bound into an empty queue = %v, want it taken", err)
	}
	for id, want := range map[model.TraceID]int{big.Spans[0].TraceID: 10, extra.Spans[0].TraceID: 1} {
		tr, err := e.Trace(t.Context(), id)
		if err != nil {
			t.Fatal(err)
		}
		if len(tr.Spans) != want {
			t.Errorf("trace %s has %d spans, want %d", id, len(tr.Spans), want)
		}
	}
	if st := e.WriteStats(); st.Overloaded != 1 || st.QueuedRows != 0 {
		t.Errorf("WriteStats = %+v, want 1 overloaded and none queued", st)
	}
}
