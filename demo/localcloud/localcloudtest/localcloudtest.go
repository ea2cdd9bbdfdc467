// Package localcloudtest holds helpers for tests of the local cloud: it
// builds the test function and test extension binaries once per test binary
// and reads the JSON-lines files they write.
package localcloudtest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// Binaries are paths of built test executables.
type Binaries struct {
	Function  string // internal/testfn: an aws-lambda-go function
	Extension string // internal/testext: an extension recording telemetry
}

// Build compiles the test function and extension into dir.
func Build(ctx context.Context, dir string) (Binaries, error) {
	b := Binaries{Function: filepath.Join(dir, "testfn"), Extension: filepath.Join(dir, "testext")}
	for out, pkg := range map[string]string{
		b.Function:  "github.com/ariadnehq/ariadne/demo/localcloud/internal/testfn",
		b.Extension: "github.com/ariadnehq/ariadne/demo/localcloud/internal/testext",
	} {
		cmd := exec.CommandContext(ctx, "go", "build", "-o", out, pkg)
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if msg, err := cmd.CombinedOutput(); err != nil {
			return Binaries{}, fmt.Errorf("build %s: %w: %s", pkg, err, msg)
		}
	}
	return b, nil
}

// Main builds the binaries into a temporary directory, runs the tests,
// checks that no goroutine leaked and cleans up. Use it from TestMain: os.Exit(localcloudtest.Main(m, &bins)).
func Main(m *testing.M, bins *Binaries) int {
	flag.Parse()
	if f := flag.Lookup("test.fuzzworker"); f != nil && f.Value.String() == "true" {
		return m.Run() // fuzz workers run only fuzz targets, which need no binaries
	}
	dir, err := os.MkdirTemp("", "localcloudtest")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	if *bins, err = Build(ctx, dir); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	code := m.Run()
	if code == 0 {
		// Every service goroutine must be gone once the tests closed what
		// they started; idle keep-alive connections of SDK clients may stay.
		if err := goleak.Find(LeakOptions()...); err != nil {
			fmt.Fprintln(os.Stderr, "leaked goroutines:", err)
			return 1
		}
	}
	return code
}

// LeakOptions are the goleak options for localcloud tests: idle keep-alive
// connections of SDK clients may outlive a test.
func LeakOptions() []goleak.Option {
	return []goleak.Option{
		goleak.IgnoreTopFunction("net/http.(*persistConn).readLoop"),
		goleak.IgnoreTopFunction("net/http.(*persistConn).writeLoop"),
	}
}

// Line is one line of a JSON-lines file written by testext.
type Line struct {
	Source string `json:"source"` // "lifecycle" or "telemetry"
	Event  struct {
		Type      string          `json:"type"`      // telemetry event type
		EventType string          `json:"eventType"` // lifecycle event type
		Record    json.RawMessage `json:"record"`
		RequestID string          `json:"requestId"`
		Reason    string          `json:"shutdownReason"`
	} `json:"event"`
}

// ReadLines returns the raw lines of a JSON-lines file (none if missing).
func ReadLines(path string) [][]byte {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	var out [][]byte
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 1<<20), 8<<20)
	for sc.Scan() {
		out = append(out, append([]byte(nil), sc.Bytes()...))
	}
	return out
}

// ReadExtension parses a testext output file.
func ReadExtension(t testing.TB, path string) []Line {
	t.Helper()
	var out []Line
	for _, l := range ReadLines(path) {
		var line Line
		if err := json.Unmarshal(l, &line); err != nil {
			t.Fatalf("decode %s: %v", l, err)
		}
		out = append(out, line)
	}
	return out
}

// Eventually polls cond until it is true or the timeout passes.
func Eventually(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
