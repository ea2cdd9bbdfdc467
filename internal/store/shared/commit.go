package shared

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ariadnehq/ariadne/internal/model"
	"github.com/ariadnehq/ariadne/internal/store"
)

// CommitSettings configure a Committer. Commit is required; the zero value
// of the others means the default given with each.
type CommitSettings struct {
	// QueueRows bounds the rows accepted but not yet acknowledged; a write
	// that would go over it is refused with store.ErrOverloaded. A batch
	// larger than the bound is admitted when nothing else is queued, so
	// that a client retrying it gets in once the queue drains: the ingest
	// body limits bound its size. Must be positive.
	QueueRows int
	// MaxBatchRows caps the rows of one group (one commit); a single batch
	// larger than it is committed alone. Must be positive.
	MaxBatchRows int
	// Commit stores the batches of one group durably and all together, or
	// none of them, and says how many rows it wrote and how many it dropped
	// as already stored. It runs on the goroutine of Run, one call at a
	// time, and must not retain batches (or its elements) after it returns.
	Commit func(batches []*model.Batch) (rows, dropped int, err error)
	// Split says whether a group that failed with err is retried one batch
	// at a time, so that one bad batch does not fail its neighbours; nil:
	// never.
	Split func(err error) bool
	// OnCommit, when set, sees every commit attempt that decides the
	// outcome of its batches, before their writers learn it.
	OnCommit func(store.CommitInfo)
	// Logger receives failed commits; nil discards them.
	Logger *slog.Logger
	// Now times commits for OnCommit; nil: time.Now.
	Now func() time.Time
}

// Request states: Run and a writer whose context ends race to move a
// queued request out of stateQueued; whoever wins decides whether it is
// committed.
const (
	stateQueued int32 = iota
	stateTaken
	stateCancelled
)

type request struct {
	b     *model.Batch
	rows  int
	state atomic.Int32
	done  chan error // buffered: Run never blocks on a gone writer
}

// Committer is the group-commit queue in front of an engine's writer.
// Write calls queue their batches; Run takes everything queued (up to
// MaxBatchRows), commits it once and then acknowledges every batch of that
// group: concurrent writers share the cost of one commit. There is no
// timer: when idle, a batch is committed at once; while a commit runs, new
// batches pile up and share the next one, so the commit rate adapts to the
// engine's latency.
//
// Create it with NewCommitter and run Run on a goroutine of the engine's;
// Close stops it.
type Committer struct {
	set CommitSettings
	log *slog.Logger
	now func() time.Time

	mu      sync.Mutex
	pending []*request
	queued  int64 // rows of requests not yet acknowledged
	closing bool

	wake    chan struct{}
	stop    chan struct{}
	stopped chan struct{}

	// group is the batches handed to Commit, reused between commits; only
	// Run touches it.
	group []*model.Batch

	commits, failed, committedRows, droppedRows, overloaded atomic.Uint64
}

// NewCommitter returns a Committer with settings s; it commits nothing
// until Run is started.
func NewCommitter(s CommitSettings) *Committer {
	c := &Committer{
		set:     s,
		log:     s.Logger,
		now:     s.Now,
		wake:    make(chan struct{}, 1),
		stop:    make(chan struct{}),
		stopped: make(chan struct{}),
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	if c.now == nil {
		c.now = time.Now
	}
	return c
}

// Write queues b and waits for the outcome of its commit: nil once it is
// durable, store.ErrOverloaded when the queue is full, store.ErrUnavailable
// once Close began, or the error of its commit. A writer whose ctx ends
// while b is queued gets ctx's error and b is not committed; once b is
// being committed, Write waits for the true outcome (b is in use, and a
// commit is short).
func (c *Committer) Write(ctx context.Context, b *model.Batch) error {
	n := b.Len()
	if n == 0 {
		return nil
	}
	bound := int64(c.set.QueueRows)
	r := &request{b: b, rows: n, done: make(chan error, 1)}
	c.mu.Lock()
	if c.closing {
		c.mu.Unlock()
		return fmt.Errorf("write batch: store is closing: %w", store.ErrUnavailable)
	}
	// A batch over the bound alone is let in, or it could never be.
	if queued := c.queued; queued > 0 && queued+int64(n) > bound {
		c.mu.Unlock()
		c.overloaded.Add(1)
		return fmt.Errorf("write batch: %d rows with %d queued, bound %d: %w", n, queued, bound, store.ErrOverloaded)
	}
	c.pending = append(c.pending, r)
	c.queued += int64(n)
	c.mu.Unlock()
	select {
	case c.wake <- struct{}{}:
	default:
	}

	select {
	case err := <-r.done:
		return err
	case <-ctx.Done():
		if r.state.CompareAndSwap(stateQueued, stateCancelled) {
			c.mu.Lock()
			c.queued -= int64(n)
			c.mu.Unlock()
			return fmt.Errorf("write batch: %w", ctx.Err())
		}
		return <-r.done
	}
}

// Run commits queued batches until Close; then it commits everything
// accepted and returns.
func (c *Committer) Run() {
	defer close(c.stopped)
	for {
		select {
		case <-c.wake:
		case <-c.stop:
			for c.commitPending() {
			}
			return
		}
		for c.commitPending() {
		}
	}
}

// take removes up to MaxBatchRows of queued requests (at least one).
func (c *Committer) take() []*request {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []*request
	rows, i := 0, 0
	for ; i < len(c.pending); i++ {
		r := c.pending[i]
		if len(out) > 0 && rows+r.rows > c.set.MaxBatchRows {
			break
		}
		c.pending[i] = nil
		if !r.state.CompareAndSwap(stateQueued, stateTaken) {
			continue // cancelled; its writer released its rows
		}
		out = append(out, r)
		rows += r.rows
	}
	c.pending = c.pending[i:]
	if len(c.pending) == 0 {
		c.pending = nil
	}
	return out
}

// commitPending commits one group; false when nothing was queued.
func (c *Committer) commitPending() bool {
	reqs := c.take()
	if len(reqs) == 0 {
		return false
	}
	start := c.now()
	rows, dropped, err := c.commit(reqs)
	if err != nil && len(reqs) > 1 && c.set.Split != nil && c.set.Split(err) {
		for _, r := range reqs {
			one := []*request{r}
			start := c.now()
			rows, dropped, err := c.commit(one)
			c.finish(one, rows, dropped, err, start)
		}
		return true
	}
	c.finish(reqs, rows, dropped, err, start)
	return true
}

func (c *Committer) commit(reqs []*request) (rows, dropped int, err error) {
	c.group = c.group[:0]
	for _, r := range reqs {
		c.group = append(c.group, r.b)
	}
	rows, dropped, err = c.set.Commit(c.group)
	clear(c.group) // the batches belong to their writers once acknowledged
	return rows, dropped, err
}

func (c *Committer) finish(reqs []*request, rows, dropped int, err error, start time.Time) {
	d := c.now().Sub(start)
	if err != nil {
		c.failed.Add(1)
		c.log.Error("store commit failed", "batches", len(reqs), "err", err)
	} else {
		c.commits.Add(1)
		c.committedRows.Add(uint64(rows))
		c.droppedRows.Add(uint64(dropped))
	}
	total := 0
	for _, r := range reqs {
		total += r.rows
	}
	c.mu.Lock()
	c.queued -= int64(total)
	c.mu.Unlock()
	// Stats and hooks first, so that a writer that sees its Write return
	// also sees them updated.
	if f := c.set.OnCommit; f != nil {
		f(store.CommitInfo{Batches: len(reqs), Rows: rows, Dropped: dropped, Duration: d, Err: err})
	}
	for _, r := range reqs {
		r.done <- err
	}
}

// Stats is a snapshot of the queue and its commits.
func (c *Committer) Stats() store.WriteStats {
	c.mu.Lock()
	q := c.queued
	c.mu.Unlock()
	return store.WriteStats{
		QueuedRows:    q,
		QueueCapacity: int64(c.set.QueueRows),
		Commits:       c.commits.Load(),
		FailedCommits: c.failed.Load(),
		CommittedRows: c.committedRows.Load(),
		DroppedRows:   c.droppedRows.Load(),
		Overloaded:    c.overloaded.Load(),
	}
}

// Close refuses new writes with store.ErrUnavailable and waits until Run
// has committed every write accepted and returned; Commit is not called
// after it. Run must have been started. Idempotent.
func (c *Committer) Close() {
	c.mu.Lock()
	already := c.closing
	c.closing = true
	c.mu.Unlock()
	if !already {
		close(c.stop)
	}
	<-c.stopped
}
