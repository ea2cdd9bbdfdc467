package app_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ariadnehq/ariadne/bench/tracegen"
	"github.com/ariadnehq/ariadne/internal/model"
	"github.com/ariadnehq/ariadne/internal/store"
	"github.com/ariadnehq/ariadne/internal/store/duckdb"
)

// TestKill9KeepsAcknowledgedSpans runs a real server process, sends batches
// from several clients, kills the process with SIGKILL at a random moment,
// restarts it on the same data directory, and repeats. Every span whose
// request was acknowledged must be in the store at the end.
func TestKill9KeepsAcknowledgedSpans(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test skipped in -short mode")
	}
	dir := t.TempDir()
	tpl, err := tracegen.New(7, 20) // 200 spans per request
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	acked := map[uint32]bool{} // batch number → acknowledged
	next := uint32(0)
	const rounds = 4
	rnd := rand.New(rand.NewPCG(1, 2))
	for round := 0; round < rounds; round++ {
		srv := startServerProcess(t, dir)
		stop := make(chan struct{})
		var wg sync.WaitGroup
		for w := 0; w < 3; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				buf := make([]byte, len(tpl.Body))
				c := &http.Client{Timeout: 10 * time.Second}
				for {
					select {
					case <-stop:
						return
					default:
					}
					mu.Lock()
					b := next
					next++
					mu.Unlock()
					tpl.Patch(buf, b, uint64(time.Now().UnixNano()))
					resp, err := c.Post(srv.otlpHTTP+"/v1/traces", "application/x-protobuf", bytes.NewReader(buf))
					if err != nil {
						continue // the server died mid-request: not acknowledged
					}
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode == http.StatusOK {
						mu.Lock()
						acked[b] = true
						mu.Unlock()
					}
				}
			}()
		}
		time.Sleep(time.Duration(700+rnd.IntN(1500)) * time.Millisecond)
		if err := srv.cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		srv.cmd.Wait()
		close(stop)
		wg.Wait()
	}
	mu.Lock()
	defer mu.Unlock()
	if len(acked) == 0 {
		t.Fatal("no request was acknowledged; the test proves nothing")
	}

	// Reopen the data directory in process and look every acknowledged trace up.
	eng, err := duckdb.Open(context.Background(), duckdb.Settings{Dir: dir, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatalf("reopen after crashes: %v", err)
	}
	defer eng.Close()
	ctx := context.Background()
	// One pass over every stored trace, then a check of each acknowledged one.
	stored := map[model.TraceID]int{}
	cursor := ""
	for {
		res, err := eng.SearchTraces(ctx, store.TraceQuery{Limit: store.MaxLimit, Cursor: cursor})
		if err != nil {
			t.Fatalf("list stored traces: %v", err)
		}
		for _, tr := range res.Traces {
			stored[tr.TraceID] = tr.SpanCount
		}
		if cursor = res.NextCursor; cursor == "" {
			break
		}
	}
	var missing int
	for b := range acked {
		for _, id := range tpl.TraceIDs(b) {
			if n := stored[model.TraceID(id)]; n != tracegen.SpansPerTrace {
				missing++
				if missing < 5 {
					t.Errorf("acknowledged batch %d, trace %x: %d of %d spans stored", b, id, n, tracegen.SpansPerTrace)
				}
			}
		}
	}
	if missing > 0 {
		t.Fatalf("%d traces of %d acknowledged batches incomplete after %d kill -9 rounds", missing, len(acked), rounds)
	}
	t.Logf("%d acknowledged batches (%d spans) intact after %d kill -9 rounds", len(acked), len(acked)*tpl.Spans, rounds)
}

type serverProcess struct {
	cmd      *exec.Cmd
	otlpHTTP string
	api      string
}

// startServerProcess runs this test binary as `ariadne serve` (see TestMain).
func startServerProcess(t *testing.T, dir string) *serverProcess {
	t.Helper()
	ports := freePorts(t, 3)
	cmd := exec.Command(os.Args[0], "--data-dir", dir, "--memory-limit", "1GB",
		"--otlp-grpc-addr", "127.0.0.1:"+ports[0], "--otlp-http-addr", "127.0.0.1:"+ports[1], "--http-addr", "127.0.0.1:"+ports[2])
	cmd.Env = append(os.Environ(), "ARIADNE_TEST_SERVE=1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &serverProcess{cmd: cmd, otlpHTTP: "http://127.0.0.1:" + ports[1], api: "http://127.0.0.1:" + ports[2]}
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(p.api + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return p
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	cmd.Process.Kill()
	cmd.Wait()
	t.Fatalf("server did not become ready: %s", stderr.String())
	return nil
}

func freePorts(t *testing.T, n int) []string {
	t.Helper()
	var out []string
	for i := 0; i < n; i++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		out = append(out, strconv.Itoa(l.Addr().(*net.TCPAddr).Port))
	}
	return out
}
