// Package apptest starts a whole Ariadne server inside a test: embedded
// storage in t.TempDir(), every listener on an ephemeral 127.0.0.1 port,
// logs discarded, and a graceful shutdown when the test ends.
package apptest

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/ariadnehq/ariadne/internal/app"
	"github.com/ariadnehq/ariadne/internal/config"
)

// Start runs a server; each mutate may adjust the configuration first
// (an empty address disables that listener).
func Start(t testing.TB, mutate ...func(*config.Config)) *app.App {
	t.Helper()
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	cfg.OTLPGRPCAddr, cfg.OTLPHTTPAddr, cfg.HTTPAddr = "127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:0"
	cfg.MemoryLimit = "1GB"
	for _, m := range mutate {
		m(&cfg)
	}
	a, err := app.Start(context.Background(), cfg, app.Settings{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatalf("start ariadne: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := a.Shutdown(ctx); err != nil {
			t.Errorf("shut down ariadne: %v", err)
		}
	})
	return a
}

// DetectOnDemand leaves detection to explicit runs (POST
// /api/v1/issues/detect): the background run happens once at start, and
// windows end lag behind now.
func DetectOnDemand(lag time.Duration) func(*config.Config) {
	return func(c *config.Config) { c.DetectInterval, c.DetectLag = time.Hour, lag }
}
