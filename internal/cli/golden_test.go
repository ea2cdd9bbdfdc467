package cli

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// golden compares got with testdata/name, or rewrites it under -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file (run go test -update to create it): %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("output differs from %s (go test -update rewrites it)\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

// syncBuffer is a bytes.Buffer safe for a command writing from its own goroutine.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// run runs the ariadne command line as main does, with a fixed environment:
// UTC times, no colours, 100 columns unless vars say otherwise.
func run(ctx context.Context, t *testing.T, vars map[string]string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errOut syncBuffer
	code = runTo(ctx, &out, &errOut, vars, args...)
	return out.String(), errOut.String(), code
}

func runTo(ctx context.Context, out, errOut *syncBuffer, vars map[string]string, args ...string) int {
	env := Env{Stdout: out, Stderr: errOut, Getenv: func(k string) string {
		if v, ok := vars[k]; ok {
			return v
		}
		switch k {
		case "TZ":
			return "UTC"
		}
		return ""
	}}
	return Run(ctx, args, env)
}
