package shared

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/ariadnehq/ariadne/internal/model"
	"github.com/ariadnehq/ariadne/internal/store"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// queue runs a Committer whose Commit records the names of every group's
// batches and fails a group when fail says so. The first commit waits
// until release, so that a test can queue writes behind it.
type queue struct {
	t       *testing.T
	c       *Committer
	held    chan struct{} // closed once the first commit has begun
	release chan struct{}
	fail    func(names []string) error

	mu     sync.Mutex
	groups [][]string
	infos  []store.CommitInfo
}

func newQueue(t *testing.T, s CommitSettings, fail func(names []string) error) *queue {
	q := &queue{t: t, held: make(chan struct{}), release: make(chan struct{}), fail: fail}
	s.Commit = func(bs []*model.Batch) (rows, dropped int, err error) {
		names := make([]string, len(bs))
		for i, b := range bs {
			names[i] = b.Logs[0].Body.Str
			rows += b.Len()
		}
		q.mu.Lock()
		q.groups = append(q.groups, names)
		first := len(q.groups) == 1
		q.mu.Unlock()
		if first {
			close(q.held)
			<-q.release
		}
		if q.fail != nil {
			if err := q.fail(names); err != nil {
				return 0, 0, err
			}
		}
		return rows, 0, nil
	}
	s.OnCommit = func(ci store.CommitInfo) {
		q.mu.Lock()
		q.infos = append(q.infos, ci)
		q.mu.Unlock()
	}
	q.c = NewCommitter(s)
	go q.c.Run()
	t.Cleanup(func() {
		q.unblock()
		q.c.Close()
	})
	return q
}

func (q *queue) unblock() {
	select {
	case <-q.release:
	default:
		close(q.release)
	}
}

// batch is a batch of rows log records, named by their body.
func batch(name string, rows int) *model.Batch {
	b := &model.Batch{Logs: make([]model.LogRecord, rows)}
	for i := range b.Logs {
		b.Logs[i].Body = model.Value{Type: model.TypeString, Str: name}
	}
	return b
}

// write starts a Write; its outcome arrives on the channel.
func (q *queue) write(ctx context.Context, name string, rows int) <-chan error {
	out := make(chan error, 1)
	go func() { out <- q.c.Write(ctx, batch(name, rows)) }()
	return out
}

// waitQueued waits until rows rows are queued (the test's deadline bounds
// the wait).
func (q *queue) waitQueued(rows int64) {
	for q.c.Stats().QueuedRows != rows {
		time.Sleep(time.Millisecond)
	}
}

func (q *queue) wantGroups(want ...[]string) {
	q.t.Helper()
	q.mu.Lock()
	defer q.mu.Unlock()
	if !reflect.DeepEqual(q.groups, want) {
		q.t.Errorf("groups committed: %q, want %q", q.groups, want)
	}
}

func wantErr(t *testing.T, what string, got, want error) {
	t.Helper()
	if (want == nil && got != nil) || (want != nil && !errors.Is(got, want)) {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
}

// TestCommitterBound: a write that would take the queue over its bound is
// refused with ErrOverloaded and counted; one that just fits is accepted.
func TestCommitterBound(t *testing.T) {
	q := newQueue(t, CommitSettings{QueueRows: 10, MaxBatchRows: 100}, nil)
	a := q.write(t.Context(), "a", 6)
	<-q.held
	b := q.write(t.Context(), "b", 4)
	q.waitQueued(10)
	wantErr(t, "Write over the bound", q.c.Write(t.Context(), batch("c", 1)), store.ErrOverloaded)
	q.unblock()
	wantErr(t, "Write a", <-a, nil)
	wantErr(t, "Write b", <-b, nil)
	q.wantGroups([]string{"a"}, []string{"b"})
	st := q.c.Stats()
	want := store.WriteStats{QueueCapacity: 10, Commits: 2, CommittedRows: 10, Overloaded: 1}
	if st != want {
		t.Errorf("Stats = %+v, want %+v", st, want)
	}
}

// TestCommitterOversizedBatch: a batch larger than the bound gets in when
// nothing else is queued, and meanwhile holds off everything else;
// behind other writes it is overloaded, so that its client retries
// and gets in once the queue has drained.
func TestCommitterOversizedBatch(t *testing.T) {
	t.Run("empty queue", func(t *testing.T) {
		q := newQueue(t, CommitSettings{QueueRows: 10, MaxBatchRows: 5}, nil)
		big := q.write(t.Context(), "big", 11)
		select {
		case err := <-big:
			t.Fatalf("Write of 11 rows = %v before any commit, want it taken", err)
		case <-q.held:
		}
		wantErr(t, "Write behind the big batch", q.c.Write(t.Context(), batch("small", 1)), store.ErrOverloaded)
		q.unblock()
		wantErr(t, "Write of 11 rows", <-big, nil)
		q.wantGroups([]string{"big"})
		if st := q.c.Stats(); st.CommittedRows != 11 || st.QueuedRows != 0 {
			t.Errorf("Stats = %+v, want 11 rows committed and none queued", st)
		}
	})
	t.Run("behind another write", func(t *testing.T) {
		q := newQueue(t, CommitSettings{QueueRows: 10, MaxBatchRows: 5}, nil)
		a := q.write(t.Context(), "a", 1)
		<-q.held
		wantErr(t, "Write of 11 rows", q.c.Write(t.Context(), batch("big", 11)), store.ErrOverloaded)
		q.unblock()
		wantErr(t, "Write a", <-a, nil)
		wantErr(t, "retried Write of 11 rows", q.c.Write(t.Context(), batch("big", 11)), nil)
		q.wantGroups([]string{"a"}, []string{"big"})
		if st := q.c.Stats(); st.Overloaded != 1 {
			t.Errorf("Stats = %+v, want 1 overloaded", st)
		}
	})
}

// TestCommitterCancelQueued: a writer that gives up while its batch is
// queued gets its context's error, the batch is never committed and its
// rows are released at once.
func TestCommitterCancelQueued(t *testing.T) {
	q := newQueue(t, CommitSettings{QueueRows: 10, MaxBatchRows: 100}, nil)
	a := q.write(t.Context(), "a", 2)
	<-q.held
	ctx, cancel := context.WithCancel(t.Context())
	b := q.write(ctx, "b", 3)
	q.waitQueued(5)
	cancel()
	wantErr(t, "cancelled Write", <-b, context.Canceled)
	if got := q.c.Stats().QueuedRows; got != 2 {
		t.Errorf("%d rows queued after the cancel, want 2", got)
	}
	q.unblock()
	wantErr(t, "Write a", <-a, nil)
	q.c.Close()
	q.wantGroups([]string{"a"})
}

// TestCommitterCancelCommitting: a writer that gives up while its batch is
// being committed waits for the commit and gets its true outcome.
func TestCommitterCancelCommitting(t *testing.T) {
	errCommit := errors.New("disk gone")
	q := newQueue(t, CommitSettings{QueueRows: 10, MaxBatchRows: 100},
		func([]string) error { return errCommit })
	ctx, cancel := context.WithCancel(t.Context())
	a := q.write(ctx, "a", 1)
	<-q.held
	cancel()
	runtime.Gosched() // let Write see the cancel before the commit ends
	select {
	case err := <-a:
		t.Fatalf("Write returned %v while its batch was being committed", err)
	default:
	}
	q.unblock()
	wantErr(t, "Write", <-a, errCommit)
	if st := q.c.Stats(); st.FailedCommits != 1 || st.QueuedRows != 0 {
		t.Errorf("Stats = %+v, want 1 failed commit and none queued", st)
	}
}

// TestCommitterSplit: a group that fails is retried one batch at a time
// when Split says so, and otherwise fails as a whole.
func TestCommitterSplit(t *testing.T) {
	invalid := func(err error) bool { return errors.Is(err, store.ErrInvalid) }
	tests := []struct {
		name    string
		split   func(error) bool
		failure error // what a group holding "bad" fails with
		groups  [][]string
		errs    []error // of b, bad, c
		commits uint64
		failed  uint64
	}{
		{"split", invalid, store.ErrInvalid,
			[][]string{{"a"}, {"b", "bad", "c"}, {"b"}, {"bad"}, {"c"}},
			[]error{nil, store.ErrInvalid, nil}, 3, 1},
		{"error outside the rule", invalid, store.ErrUnavailable,
			[][]string{{"a"}, {"b", "bad", "c"}},
			[]error{store.ErrUnavailable, store.ErrUnavailable, store.ErrUnavailable}, 1, 1},
		{"no rule", nil, store.ErrInvalid,
			[][]string{{"a"}, {"b", "bad", "c"}},
			[]error{store.ErrInvalid, store.ErrInvalid, store.ErrInvalid}, 1, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			q := newQueue(t, CommitSettings{QueueRows: 100, MaxBatchRows: 100, Split: tc.split},
				func(names []string) error {
					if slices.Contains(names, "bad") {
						return fmt.Errorf("commit: %w", tc.failure)
					}
					return nil
				})
			a := q.write(t.Context(), "a", 1)
			<-q.held
			var outs []<-chan error
			for i, name := range []string{"b", "bad", "c"} {
				outs = append(outs, q.write(t.Context(), name, 1))
				q.waitQueued(int64(i + 2)) // queued in this order
			}
			q.unblock()
			wantErr(t, "Write a", <-a, nil)
			for i, name := range []string{"b", "bad", "c"} {
				wantErr(t, "Write "+name, <-outs[i], tc.errs[i])
			}
			q.wantGroups(tc.groups...)
			st := q.c.Stats()
			if st.Commits != tc.commits || st.FailedCommits != tc.failed || st.QueuedRows != 0 {
				t.Errorf("Stats = %+v, want %d commits, %d failed, none queued", st, tc.commits, tc.failed)
			}
			q.mu.Lock()
			defer q.mu.Unlock()
			if n := uint64(len(q.infos)); n != tc.commits+tc.failed {
				t.Errorf("OnCommit saw %d commits, want %d", n, tc.commits+tc.failed)
			}
		})
	}
}

// TestCommitterClose: Close commits every write accepted before it, then
// refuses writes with ErrUnavailable.
func TestCommitterClose(t *testing.T) {
	q := newQueue(t, CommitSettings{QueueRows: 10, MaxBatchRows: 100}, nil)
	a := q.write(t.Context(), "a", 1)
	<-q.held
	b := q.write(t.Context(), "b", 1)
	q.waitQueued(2)
	c := q.write(t.Context(), "c", 1)
	q.waitQueued(3)
	closed := make(chan struct{})
	go func() {
		q.c.Close()
		close(closed)
	}()
	for {
		q.c.mu.Lock()
		closing := q.c.closing
		q.c.mu.Unlock()
		if closing {
			break
		}
		time.Sleep(time.Millisecond)
	}
	wantErr(t, "Write while closing", q.c.Write(t.Context(), batch("late", 1)), store.ErrUnavailable)
	q.unblock()
	<-closed
	for name, out := range map[string]<-chan error{"a": a, "b": b, "c": c} {
		wantErr(t, "Write "+name, <-out, nil)
	}
	q.wantGroups([]string{"a"}, []string{"b", "c"})
	wantErr(t, "Write after Close", q.c.Write(t.Context(), batch("later", 1)), store.ErrUnavailable)
	q.c.Close() // idempotent
}

// TestCommitterGroups: writers that queue while a commit runs share the
// next commit, up to MaxBatchRows a commit.
func TestCommitterGroups(t *testing.T) {
	tests := []struct {
		name  string
		max   int
		sizes []int // batches a commit
	}{
		{"all in one", 100, []int{1, 4}},
		{"capped", 6, []int{1, 2, 2}},
		{"batch over the cap", 2, []int{1, 1, 1, 1, 1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var clock time.Time
			q := newQueue(t, CommitSettings{QueueRows: 100, MaxBatchRows: tc.max,
				Now: func() time.Time { clock = clock.Add(time.Second); return clock }}, nil)
			first := q.write(t.Context(), "first", 1)
			<-q.held
			var outs []<-chan error
			for i := range 4 {
				outs = append(outs, q.write(t.Context(), fmt.Sprint("w", i), 3))
			}
			q.waitQueued(13)
			q.unblock()
			wantErr(t, "first Write", <-first, nil)
			for i, out := range outs {
				wantErr(t, fmt.Sprint("Write ", i), <-out, nil)
			}
			q.mu.Lock()
			defer q.mu.Unlock()
			var sizes []int
			for _, g := range q.groups {
				sizes = append(sizes, len(g))
			}
			if !slices.Equal(sizes, tc.sizes) {
				t.Errorf("batches a commit: %v, want %v", sizes, tc.sizes)
			}
			for _, ci := range q.infos {
				if ci.Duration != time.Second || ci.Err != nil {
					t.Errorf("OnCommit saw %+v, want a duration of one tick of the clock", ci)
				}
			}
			if st := q.c.Stats(); st.Commits != uint64(len(tc.sizes)) || st.CommittedRows != 13 {
				t.Errorf("Stats = %+v, want %d commits of 13 rows", st, len(tc.sizes))
			}
		})
	}
}
