package rollup

import (
	"context"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"
)

// TestJob: the background runs tick, never overlap a Run, skip while
// idle, stop at Close (twice is fine), and a negative interval starts
// none.
func TestJob(t *testing.T) {
	var runs, inside, overlaps atomic.Int64
	var idle atomic.Bool
	run := func(ctx context.Context, settleAll bool) error {
		if inside.Add(1) > 1 {
			overlaps.Add(1)
		}
		time.Sleep(time.Millisecond)
		inside.Add(-1)
		runs.Add(1)
		return nil
	}
	log := slog.New(slog.DiscardHandler)
	j := StartJob(Settings{Interval: 2 * time.Millisecond}, log, idle.Load, run)
	for range 20 {
		if err := j.Run(t.Context(), true); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for runs.Load() < 25 {
		if time.Now().After(deadline) {
			t.Fatalf("%d runs in 10 s", runs.Load())
		}
		time.Sleep(time.Millisecond)
	}
	idle.Store(true)
	time.Sleep(5 * time.Millisecond) // a tick in progress ends
	n := runs.Load()
	time.Sleep(20 * time.Millisecond)
	if m := runs.Load(); m != n {
		t.Errorf("%d runs while idle", m-n)
	}
	j.Close()
	j.Close()
	if overlaps.Load() != 0 {
		t.Errorf("%d overlapping runs", overlaps.Load())
	}

	runs.Store(0)
	j = StartJob(Settings{Interval: -1}, log, nil, run)
	time.Sleep(10 * time.Millisecond)
	if runs.Load() != 0 {
		t.Errorf("%d background runs with a negative interval", runs.Load())
	}
	if err := j.Run(t.Context(), true); err != nil || runs.Load() != 1 {
		t.Errorf("Run: %v, %d runs", err, runs.Load())
	}
	j.Close()
}

// TestTodo: a write's reach is StaleBefore before to StaleAfter after its
// minute, cut to [lo, hi); dropping a reach removes all of it.
func TestTodo(t *testing.T) {
	const m = int64(60e9)
	base := 1000 * m
	td := Todo{}
	td.AddReach(base+5e9, 0, base+10*m)
	if got := td.Minutes(); len(got) != 11 || got[0] != base-m || got[10] != base+9*m {
		t.Errorf("reach cut at hi: %v", got)
	}
	td = Todo{}
	td.AddReach(base, base, base+100*m)
	if got := td.Minutes(); len(got) != 17 || got[0] != base || got[16] != base+16*m {
		t.Errorf("reach cut at lo: %v", got)
	}
	td.DropReach(base + m)
	if got := td.Minutes(); len(got) != 0 {
		t.Errorf("after DropReach: %v", got)
	}
	if got := Late([]int64{base, base + 10*m}, base+18*m); len(got) != 1 || got[0] != base {
		t.Errorf("Late = %v", got)
	}
}
