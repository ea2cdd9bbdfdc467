// Command ariadne-extension is Ariadne's Lambda external extension. It
// registers with the Extensions API, subscribes to the Telemetry API
// (platform events, function and extension logs), buffers what arrives in
// memory within a bound, and forwards it to an Ariadne server in the
// background: platform events to POST /api/v1/lambda/telemetry, log lines as
// OTLP/HTTP JSON logs to /v1/logs. It flushes on SHUTDOWN.
//
// It must never slow the function down: the event loop asks for the next
// event as soon as one arrives, forwarding happens on its own goroutine, a
// full buffer drops (and counts) instead of blocking, and a dead backend
// costs one short HTTP timeout on that goroutine. It imports only the
// standard library so that it starts in milliseconds and stays small.
//
// Settings (environment): ARIADNE_ENDPOINT (required, e.g.
// https://ariadne.example.com:7070), ARIADNE_HEADERS ("k1=v1,k2=v2" added to
// every request), ARIADNE_EXTENSION_BUFFER_EVENTS (default 10000),
// ARIADNE_EXTENSION_BUFFER_BYTES (default 4 MiB),
// ARIADNE_EXTENSION_FLUSH_INTERVAL (default 1s), ARIADNE_EXTENSION_TIMEOUT
// (per request, default 2s), ARIADNE_EXTENSION_LISTEN (telemetry listener,
// default sandbox.localdomain:0, or 127.0.0.1:0 when the Runtime API is on
// the loopback, as in a local emulator).
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	if err := run(ctx, os.Getenv, filepath.Base(os.Args[0])); err != nil {
		fmt.Fprintln(os.Stderr, "ariadne-extension:", err)
		os.Exit(1)
	}
}
