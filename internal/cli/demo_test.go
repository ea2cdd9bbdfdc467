package cli

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/ariadnehq/ariadne/internal/config"
)

// TestDemoFlags: bad choices are usage errors (exit 2) before anything
// starts or is built.
func TestDemoFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"demo", "--app", "lambda"}, `--app must be shop or synthetic, got "lambda"`},
		{[]string{"demo", "--faults", "timeout,bogus"}, `--faults: unknown fault "bogus"`},
		{[]string{"demo", "--rate", "0"}, "--rate must be in (0, 1000]"},
	} {
		_, errOut, code := run(context.Background(), t, nil, tc.args...)
		if code != 2 || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q", tc.args, code, errOut, tc.want)
		}
	}
}

// TestDemoLogLevel: the demo is quiet (warnings and errors) unless
// --log-level asks for more or less.
func TestDemoLogLevel(t *testing.T) {
	ctx := context.Background()
	cfg := config.Default()
	l := demoLogger(Env{Stderr: io.Discard}, cfg)
	if l.Enabled(ctx, slog.LevelInfo) || !l.Enabled(ctx, slog.LevelWarn) {
		t.Errorf("default demo logger: info %v, warn %v; want warnings only", l.Enabled(ctx, slog.LevelInfo), l.Enabled(ctx, slog.LevelWarn))
	}
	cfg.LogLevel = "debug"
	if l := demoLogger(Env{Stderr: io.Discard}, cfg); !l.Enabled(ctx, slog.LevelDebug) {
		t.Error("--log-level=debug: the demo logger drops debug records")
	}
	cfg.LogLevel = "error"
	if l := demoLogger(Env{Stderr: io.Discard}, cfg); l.Enabled(ctx, slog.LevelWarn) {
		t.Error("--log-level=error: the demo logger keeps warnings")
	}
}
