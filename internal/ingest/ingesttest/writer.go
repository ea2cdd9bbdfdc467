// Package ingesttest holds test doubles for ingest's tests: an in-memory
// store writer whose failures a test can script. It is for tests only.
package ingesttest

import (
	"context"
	"sync"

	"github.com/ariadnehq/ariadne/internal/model"
	"github.com/ariadnehq/ariadne/internal/store"
)

var _ store.Writer = (*Writer)(nil)

// Writer keeps every batch written to it in memory. Err, when set, makes
// Write fail with it and store nothing, as a real store does on
// ErrOverloaded or ErrUnavailable. Safe for concurrent use.
type Writer struct {
	mu      sync.Mutex
	err     error
	batches []model.Batch
	calls   int
}

// SetErr makes the following writes fail with err (nil: succeed again).
func (w *Writer) SetErr(err error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.err = err
}

// Write stores a copy of b's slices (the writer contract forbids retaining b).
func (w *Writer) Write(ctx context.Context, b *model.Batch) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.calls++
	if w.err != nil {
		return w.err
	}
	w.batches = append(w.batches, model.Batch{
		Spans:       append([]model.Span(nil), b.Spans...),
		Logs:        append([]model.LogRecord(nil), b.Logs...),
		Invocations: append([]model.Invocation(nil), b.Invocations...),
		MessageRefs: append([]model.MessageRef(nil), b.MessageRefs...),
	})
	return nil
}

// Calls is how many times Write was called, failed calls included.
func (w *Writer) Calls() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.calls
}

// All returns everything stored so far, merged into one batch.
func (w *Writer) All() model.Batch {
	w.mu.Lock()
	defer w.mu.Unlock()
	var all model.Batch
	for _, b := range w.batches {
		all.Spans = append(all.Spans, b.Spans...)
		all.Logs = append(all.Logs, b.Logs...)
		all.Invocations = append(all.Invocations, b.Invocations...)
		all.MessageRefs = append(all.MessageRefs, b.MessageRefs...)
	}
	return all
}

// Reset forgets everything stored.
func (w *Writer) Reset() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.batches, w.calls = nil, 0
}
