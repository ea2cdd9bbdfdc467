// Package shop is Ariadne's demo application: a small serverless shop of
// Go functions on the local cloud (demo/localcloud), traced by Ariadne's
// SDK and Lambda extension, with a traffic generator that can make it fail
// in the ways real serverless applications fail.
//
//	checkout-api ─┬► SQS payments ──► payment ──► card processor (HTTP)
//	              └► SNS orders ──► SQS inventory ─► inventory ─► S3 receipts ─► receipt ─► email (async)
//	SQS payments-dlq ─► ops-alerts
//
// The package owns the application's description (app.json), building its
// functions, the stand-in card processor and the traffic. It does not start
// Ariadne: the caller gives it the address to report to.
package shop

import (
	"bytes"
	"context"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ariadnehq/ariadne/demo/localcloud/app"
	"github.com/ariadnehq/ariadne/demo/localcloud/lambda"
)

//go:embed app.json
var appJSON []byte

// Module is the Go module the functions are built from.
const Module = "github.com/ariadnehq/ariadne"

// Settings choose how the shop runs.
type Settings struct {
	// Root is the source tree of the Ariadne module (see FindRoot).
	Root string
	// Ariadne is the host:port of Ariadne's HTTP listener, which takes
	// OTLP/HTTP from the SDK and platform telemetry from the extension.
	Ariadne string
	// Faults are injected on the schedule; nil or empty means clean traffic.
	Faults []Fault
	// Rate is clean orders per second (default 1).
	Rate float64
	// FirstFaults is when every scheduled fault is injected once (default
	// 20 s after start); afterwards one fault, in turn, every FaultEvery
	// (default 30 s). A negative FirstFaults disables the schedule (faults
	// then only on demand, Shop.Inject).
	FirstFaults, FaultEvery time.Duration
	// Progress receives one line per build or start step (may be nil).
	Progress func(string)
	Logger   *slog.Logger
	// Lambda tunes the local Lambda; zero values are the demo's defaults.
	Lambda lambda.Settings
}

// Shop is the running application.
type Shop struct {
	Cloud     *app.Cloud
	processor *processor
	traffic   atomic.Pointer[traffic] // set once the cloud runs; read by the control endpoint
	buildDir  string
	closeOnce sync.Once
	closeErr  error
}

// Description returns the application's description with function
// packages resolved against root.
func Description(root string) (app.Description, error) {
	d, err := app.ParseDescription(bytes.NewReader(appJSON))
	if err != nil {
		return app.Description{}, fmt.Errorf("read shop description: %w", err)
	}
	for i := range d.Functions {
		if p := d.Functions[i].Package; strings.HasPrefix(p, "./") {
			d.Functions[i].Package = filepath.Join(root, "demo", "shop", p)
		}
	}
	return d, nil
}

// FindRoot returns the directory of the Ariadne module's go.mod, looking
// from dir upwards: the shop builds its functions from source.
func FindRoot(dir string) (string, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("resolve %s: %w", dir, err)
	}
	for d := dir; ; d = filepath.Dir(d) {
		b, err := os.ReadFile(filepath.Join(d, "go.mod"))
		if err == nil && bytes.HasPrefix(bytes.TrimSpace(b), []byte("module "+Module+"\n")) {
			return d, nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("find the source of %s from %s: the shop demo builds its functions from source, run it inside a clone of the repository", Module, dir)
		}
	}
}

// Start builds the functions and Ariadne's extension, starts the card
// processor, the local cloud with the application, and the traffic. Close
// stops all of it.
func Start(ctx context.Context, set Settings) (*Shop, error) {
	if set.Logger == nil {
		set.Logger = slog.New(slog.DiscardHandler)
	}
	if set.Progress == nil {
		set.Progress = func(string) {}
	}
	if set.Rate <= 0 {
		set.Rate = 1
	}
	if set.FirstFaults == 0 {
		set.FirstFaults = 20 * time.Second
	}
	if set.FaultEvery <= 0 {
		set.FaultEvery = 30 * time.Second
	}
	desc, err := Description(set.Root)
	if err != nil {
		return nil, err
	}
	s := &Shop{}
	ok := false
	defer func() {
		if !ok {
			_ = s.Close()
		}
	}()
	if s.buildDir, err = os.MkdirTemp("", "ariadne-shop"); err != nil {
		return nil, fmt.Errorf("create build directory: %w", err)
	}
	ext, err := s.build(ctx, set, desc.Functions)
	if err != nil {
		return nil, err
	}
	set.Progress("starting the card processor")
	if s.processor, err = startProcessor(set.Logger, s.Inject); err != nil {
		return nil, err
	}
	set.Progress(fmt.Sprintf("starting the local cloud: %d functions, %d queues, %d topic, %d bucket",
		len(desc.Functions), len(desc.Queues), len(desc.Topics), len(desc.Buckets)))
	// The local cloud gives functions the Lambda endpoint only when its
	// address is known before the services start: receipt invokes email.
	lambdaAddr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	ls := set.Lambda
	if ls.RetryDelays == nil {
		ls.RetryDelays = []time.Duration{time.Second, 2 * time.Second}
	}
	s.Cloud, err = app.Start(ctx, desc, app.Settings{
		Logger: set.Logger,
		Logs: func(l lambda.LogLine) {
			set.Logger.Debug("function log", "function", l.Function, "line", l.Text)
		},
		Env: map[string]string{
			"ARIADNE_ENDPOINT":   "http://" + set.Ariadne,
			"CARD_PROCESSOR_URL": s.processor.url,
			// Two shared cores: an export may wait for a commit longer than
			// the production default of 500 ms.
			"ARIADNE_EXPORT_TIMEOUT":           "10s",
			"ARIADNE_EXTENSION_FLUSH_INTERVAL": "500ms",
			"ARIADNE_ENVIRONMENT":              "demo",
			"AWS_ENDPOINT_URL_LAMBDA":          "http://" + lambdaAddr,
		},
		Addrs:      app.Addrs{Lambda: lambdaAddr},
		Extensions: []string{ext},
		Lambda:     ls,
	})
	if err != nil {
		return nil, fmt.Errorf("start the shop on the local cloud: %w", err)
	}
	s.traffic.Store(startTraffic(s.Cloud.Lambda, set))
	ok = true
	return s, nil
}

// build compiles every function package (once per package) and the
// extension, two at a time: the machine is shared and the linker is
// the slow part. Function specs are pointed at the binaries.
func (s *Shop) build(ctx context.Context, set Settings, fns []app.FunctionSpec) (string, error) {
	type job struct{ name, pkg, out string }
	var jobs []job
	seen := map[string]string{}
	for _, f := range fns {
		if _, ok := seen[f.Package]; ok {
			continue
		}
		out := filepath.Join(s.buildDir, f.Name, "bootstrap")
		seen[f.Package] = out
		jobs = append(jobs, job{f.Name, f.Package, out})
	}
	ext := filepath.Join(s.buildDir, "extensions", "ariadne-extension")
	jobs = append(jobs, job{"ariadne-extension", filepath.Join(set.Root, "extension"), ext})

	sem := make(chan struct{}, 2)
	var (
		mu   sync.Mutex
		done int
		errs []error
		wg   sync.WaitGroup
	)
	set.Progress(fmt.Sprintf("building %d functions and the Lambda extension (go build, 2 at a time)", len(jobs)-1))
	for _, j := range jobs {
		wg.Go(func() {
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				mu.Lock()
				errs = append(errs, fmt.Errorf("build %s: %w", j.name, ctx.Err()))
				mu.Unlock()
				return
			}
			defer func() { <-sem }()
			start := time.Now()
			cmd := exec.CommandContext(ctx, "go", "build", "-o", j.out, ".")
			cmd.Dir = j.pkg
			cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
			out, err := cmd.CombinedOutput()
			mu.Lock()
			defer mu.Unlock()
			done++
			if err != nil {
				errs = append(errs, fmt.Errorf("build %s: %w\n%s", j.name, err, out))
				return
			}
			set.Progress(fmt.Sprintf("  [%d/%d] built %s (%.1fs)", done, len(jobs), j.name, time.Since(start).Seconds()))
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return "", err
	}
	for i := range fns {
		fns[i].Binary, fns[i].Package = seen[fns[i].Package], ""
	}
	return ext, nil
}

// freeAddr returns a loopback address with a port free right now.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("find a free port: %w", err)
	}
	addr := ln.Addr().String()
	if err := ln.Close(); err != nil {
		return "", fmt.Errorf("find a free port: %w", err)
	}
	return addr, nil
}

// ControlURL is where faults are injected on demand:
// POST <ControlURL>/<fault>.
func (s *Shop) ControlURL() string { return s.processor.url + "/demo/faults" }

// Charges returns how many times the card processor charged an order.
func (s *Shop) Charges(orderID string) int { return s.processor.charges(orderID) }

// Inject injects one fault now and returns the ids of the orders it sent.
func (s *Shop) Inject(ctx context.Context, f Fault) ([]string, error) {
	t := s.traffic.Load()
	if t == nil {
		return nil, errors.New("inject fault: the shop is still starting")
	}
	return t.inject(ctx, f)
}

// Close stops the traffic, the application and the card processor. It is
// idempotent.
func (s *Shop) Close() error {
	s.closeOnce.Do(func() {
		var errs []error
		if t := s.traffic.Load(); t != nil {
			t.stop()
		}
		if s.Cloud != nil {
			errs = append(errs, s.Cloud.Close())
		}
		if s.processor != nil {
			errs = append(errs, s.processor.close())
		}
		if s.buildDir != "" {
			errs = append(errs, os.RemoveAll(s.buildDir))
		}
		s.closeErr = errors.Join(errs...)
	})
	return s.closeErr
}

var _ io.Closer = (*Shop)(nil)
