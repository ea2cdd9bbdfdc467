package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestReadyTimeAndMemory measures the built binary as Lambda runs it: the
// time from exec to its first event/next call (when Lambda considers the
// extension initialised), and its resident memory when idle and after a
// burst of telemetry. The figures go to docs/benchmarks-extension.md; the
// bounds here only catch regressions by an order of magnitude.
func TestReadyTimeAndMemory(t *testing.T) {
	const runs = 10
	var ready []time.Duration
	var idleRSS, peakRSS int64
	for i := range runs {
		lam := newFakeLambda(t)
		ari := newFakeAriadne(t, 0)
		cmd := exec.Command(bins.extension)
		cmd.Env = []string{
			"AWS_LAMBDA_RUNTIME_API=" + strings.TrimPrefix(lam.srv.URL, "http://"),
			"ARIADNE_ENDPOINT=" + ari.srv.URL,
			"AWS_LAMBDA_FUNCTION_NAME=bench",
		}
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		start := time.Now()
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		for lam.nextCalls() == 0 {
			if time.Since(start) > 5*time.Second {
				cmd.Process.Kill()
				t.Fatalf("not ready after 5s: %s", stderr.String())
			}
			time.Sleep(100 * time.Microsecond)
		}
		lam.mu.Lock()
		ready = append(ready, lam.nexts[0].Sub(start))
		lam.mu.Unlock()
		if i == runs-1 {
			time.Sleep(100 * time.Millisecond)
			idleRSS = status(t, cmd.Process.Pid, "VmRSS")
			// A burst: 2000 invocations' events with a line of output each.
			for j := range 400 {
				var evs []string
				for k := range 5 {
					evs = append(evs, invocationEvents(fmt.Sprintf("00000000-0000-4000-8000-%012d", j*5+k))...)
				}
				lam.deliver(evs...)
			}
			time.Sleep(300 * time.Millisecond)
			peakRSS = status(t, cmd.Process.Pid, "VmHWM")
		}
		lam.events <- fmt.Sprintf(`{"eventType":"SHUTDOWN","deadlineMs":%d}`, time.Now().Add(2*time.Second).UnixMilli())
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("extension exited: %v: %s", err, stderr.String())
			}
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			t.Fatal("extension did not exit after SHUTDOWN")
		}
	}
	slices.Sort(ready)
	st, _ := os.Stat(bins.extension)
	t.Logf("binary %.1f MB (stripped); time to ready over %d runs: min %v, median %v, max %v; RSS idle %.1f MB, peak after 2000 invocations %.1f MB (GOMAXPROCS %d)",
		float64(st.Size())/(1<<20), runs, ready[0], ready[runs/2], ready[runs-1], float64(idleRSS)/(1<<20), float64(peakRSS)/(1<<20), runtime.GOMAXPROCS(0))
	if ready[runs/2] > time.Second {
		t.Errorf("median time to ready %v", ready[runs/2])
	}
	if peakRSS > 64<<20 {
		t.Errorf("peak RSS %d bytes", peakRSS)
	}
}

// status reads a size field (kB) of /proc/<pid>/status in bytes.
func status(t *testing.T, pid int, field string) int64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Skipf("no /proc: %v", err)
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			f := strings.Fields(v)
			n, _ := strconv.ParseInt(f[0], 10, 64)
			return n << 10
		}
	}
	t.Fatalf("no %s in /proc/%d/status", field, pid)
	return 0
}
