package app_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"testing"

	"github.com/ariadnehq/ariadne/internal/app"
	"github.com/ariadnehq/ariadne/internal/app/apptest"
	"github.com/ariadnehq/ariadne/internal/cli"
	"github.com/ariadnehq/ariadne/internal/config"
)

// TestMain lets the test binary double as the server: with
// ARIADNE_TEST_SERVE=1 it runs `ariadne serve` with the remaining arguments,
// so crash tests can kill -9 a real server process without linking a second
// binary.
func TestMain(m *testing.M) {
	if os.Getenv("ARIADNE_TEST_SERVE") == "1" {
		os.Exit(cli.Run(context.Background(), append([]string{"serve"}, os.Args[1:]...),
			cli.Env{Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv}))
	}
	os.Exit(m.Run())
}

// startApp runs a server on ephemeral ports in a temporary directory.
func startApp(t *testing.T, mutate ...func(*config.Config)) *app.App {
	return apptest.Start(t, mutate...)
}

func TestHealthReadyMetrics(t *testing.T) {
	a := startApp(t)
	for _, tc := range []struct {
		path string
		want int
	}{
		{"/healthz", 200},
		{"/readyz", 200},
		{"/metrics", 200},
		{"/api/v1/nope", 404},
	} {
		resp, err := http.Get(fmt.Sprintf("http://%s%s", a.HTTPAddr(), tc.path))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("GET %s = %d, want %d (%s)", tc.path, resp.StatusCode, tc.want, body)
		}
	}
}

func TestShutdownIsIdempotent(t *testing.T) {
	a := startApp(t)
	ctx := context.Background()
	if err := a.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if err := a.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
}
