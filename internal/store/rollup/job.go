package rollup

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"
)

// Job runs an engine's rollup job: in the background every
// Settings.Interval, and on demand (Run), one run at a time in this
// process. Close stops it.
type Job struct {
	run  func(ctx context.Context, settleAll bool) error
	mu   sync.Mutex
	stop chan struct{}
	done chan struct{}
	once sync.Once
}

// StartJob starts run every s.Interval with settleAll false, unless the
// interval is negative. A tick is skipped while idle reports true (an
// engine not yet or no longer able to write); a failed run is logged to
// log and retried at the next tick. run must return when its context is
// cancelled, as it is by Close.
func StartJob(s Settings, log *slog.Logger, idle func() bool, run func(ctx context.Context, settleAll bool) error) *Job {
	j := &Job{run: run, stop: make(chan struct{}), done: make(chan struct{})}
	if s.Interval < 0 {
		close(j.done)
		return j
	}
	go j.loop(s.Interval, log, idle)
	return j
}

func (j *Job) loop(every time.Duration, log *slog.Logger, idle func() bool) {
	defer close(j.done)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-j.stop:
			return
		case <-t.C:
		}
		if idle != nil && idle() {
			continue
		}
		ctx, cancel := context.WithCancel(context.Background())
		go func() {
			select {
			case <-j.stop:
				cancel()
			case <-ctx.Done():
			}
		}()
		err := j.Run(ctx, false)
		cancel()
		if err != nil && !errors.Is(err, context.Canceled) {
			log.Warn("service map rollup failed", "err", err)
		}
	}
}

// Run runs the job once, after the run in progress if any. settleAll
// takes every write so far as settled (RollupNow).
func (j *Job) Run(ctx context.Context, settleAll bool) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.run(ctx, settleAll)
}

// Close stops the background runs and waits for the one in progress. It
// is idempotent.
func (j *Job) Close() {
	j.once.Do(func() { close(j.stop) })
	<-j.done
}
