// Package app wires Ariadne's server together and owns its lifecycle: it
// opens the store, starts the OTLP receivers and the API, runs background
// housekeeping, and shuts everything down in the order that keeps
// acknowledged data safe (stop accepting → commit → close).
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"google.golang.org/grpc"

	"github.com/ariadnehq/ariadne/internal/alert"
	"github.com/ariadnehq/ariadne/internal/api"
	"github.com/ariadnehq/ariadne/internal/api/ui"
	"github.com/ariadnehq/ariadne/internal/config"
	"github.com/ariadnehq/ariadne/internal/detect"
	lambdaingest "github.com/ariadnehq/ariadne/internal/ingest/lambda"
	"github.com/ariadnehq/ariadne/internal/ingest/otlp"
	"github.com/ariadnehq/ariadne/internal/invocation"
	"github.com/ariadnehq/ariadne/internal/store"
	"github.com/ariadnehq/ariadne/internal/store/clickhouse"
	"github.com/ariadnehq/ariadne/internal/store/duckdb"
)

// engine is what the server needs of a storage engine; both engines are.
type engine interface {
	store.Store
	store.StatsReporter
	detect.Store
	alert.Store
}

// Settings are what the caller injects rather than configures.
type Settings struct {
	Logger *slog.Logger
	// Ready, when set, is called once every listener is bound.
	Ready func(*App)
	// Now is the clock for retention; time.Now when nil.
	Now func() time.Time
}

// App is a running server.
type App struct {
	cfg     config.Config
	log     *slog.Logger
	now     func() time.Time
	store   engine
	reg     *prometheus.Registry
	metrics *metrics
	ready   chan struct{} // closed once serving; readyz answers 200 after
	closed  chan struct{} // closed when shutdown begins

	grpcSrv  *grpc.Server
	grpcLn   net.Listener
	otlpSrv  *http.Server
	otlpLn   net.Listener
	httpSrv  *http.Server
	httpLn   net.Listener
	wg       sync.WaitGroup
	stopOnce sync.Once
	stopErr  error
	serveErr chan error
}

// Run starts the server, serves until ctx is done, then shuts down
// gracefully. A nil error means every accepted batch was committed.
func Run(ctx context.Context, cfg config.Config, s Settings) error {
	a, err := Start(ctx, cfg, s)
	if err != nil {
		return err
	}
	if s.Ready != nil {
		s.Ready(a)
	}
	var serveErr error
	select {
	case <-ctx.Done():
	case serveErr = <-a.serveErr:
		a.log.Error("listener failed; shutting down", "err", serveErr)
	}
	sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	return errors.Join(serveErr, a.Shutdown(sctx))
}

// Start opens the store and binds every listener. On error nothing is left running.
func Start(ctx context.Context, cfg config.Config, s Settings) (a *App, err error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("validate config: %w", err)
	}
	if s.Logger == nil {
		s.Logger = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	if s.Now == nil {
		s.Now = time.Now
	}
	a = &App{
		cfg: cfg, log: s.Logger, now: s.Now,
		reg:      prometheus.NewRegistry(),
		ready:    make(chan struct{}),
		closed:   make(chan struct{}),
		serveErr: make(chan error, 3),
	}
	a.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	a.metrics = newMetrics(a.reg)
	defer func() {
		if err != nil {
			a.Shutdown(context.Background())
		}
	}()

	if a.store, err = a.openStore(ctx); err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	a.metrics.watchStore(a.store)
	det := a.newDetector()

	limits := otlp.DefaultLimits()
	limits.MaxHTTPBodyBytes = cfg.MaxHTTPBody
	limits.MaxGRPCMessageBytes = cfg.MaxGRPCMessage
	recv, err := otlp.NewReceiver(a.store, otlp.Settings{
		Limits:     limits,
		Logger:     a.log.With("component", "otlp"),
		Registerer: a.reg,
	})
	if err != nil {
		return nil, fmt.Errorf("create OTLP receiver: %w", err)
	}

	if cfg.OTLPGRPCAddr != "" {
		if a.grpcLn, err = net.Listen("tcp", cfg.OTLPGRPCAddr); err != nil {
			return nil, fmt.Errorf("listen OTLP/gRPC: %w", err)
		}
		a.grpcSrv = grpc.NewServer(otlp.GRPCServerOptions(recv.Limits())...)
		recv.RegisterGRPC(a.grpcSrv)
		a.serve(func() error { return a.grpcSrv.Serve(a.grpcLn) })
	}
	if cfg.OTLPHTTPAddr != "" {
		if a.otlpLn, err = net.Listen("tcp", cfg.OTLPHTTPAddr); err != nil {
			return nil, fmt.Errorf("listen OTLP/HTTP: %w", err)
		}
		a.otlpSrv = recv.NewHTTPServer(cfg.OTLPHTTPAddr)
		a.serve(func() error { return a.otlpSrv.Serve(a.otlpLn) })
	}
	if cfg.HTTPAddr != "" {
		if a.httpLn, err = net.Listen("tcp", cfg.HTTPAddr); err != nil {
			return nil, fmt.Errorf("listen UI/API: %w", err)
		}
		mux := http.NewServeMux()
		mux.Handle("/api/", api.New(a.store, api.Settings{
			Logger:  a.log.With("component", "api"),
			Pricing: invocation.Pricing{PerGBSecond: cfg.PricePerGBSecond, PerRequest: cfg.PricePerMillionRequests / 1e6},
			Detect:  runDetect(det),
		}).Handler())
		// Lambda platform signals: the extension's Telemetry API batches and
		// CloudWatch Logs subscription deliveries.
		lh, err := lambdaingest.NewHandler(a.store, lambdaingest.Settings{Logger: a.log.With("component", "lambda"), Registerer: a.reg})
		if err != nil {
			return nil, fmt.Errorf("create Lambda ingest: %w", err)
		}
		lh.Register(mux)
		// The OTLP/HTTP paths are served on the UI port too, so that a single
		// port is enough behind a proxy.
		mux.Handle("POST /v1/", recv.HTTPHandler())
		mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte("ok\n")) })
		mux.HandleFunc("GET /readyz", a.readyz)
		mux.Handle("GET /metrics", promhttp.HandlerFor(a.reg, promhttp.HandlerOpts{}))
		mux.Handle("/", ui.Handler())
		a.httpSrv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
		a.serve(func() error { return a.httpSrv.Serve(a.httpLn) })
	}

	a.wg.Add(1)
	go a.retentionLoop()
	a.startDetection(det)
	close(a.ready)
	a.log.Info("serving", "http", a.HTTPAddr(), "otlp_grpc", a.OTLPGRPCAddr(), "otlp_http", a.OTLPHTTPAddr(), "store", cfg.Store, "data_dir", cfg.DataDir)
	return a, nil
}

// openStore opens the configured engine. ClickHouse's opens even while
// ClickHouse is unreachable (the store then answers ErrUnavailable, which
// ingest turns into 503 / UNAVAILABLE with Retry-After).
func (a *App) openStore(ctx context.Context) (engine, error) {
	cfg := a.cfg
	if cfg.Store == "clickhouse" {
		e, err := clickhouse.Open(ctx, clickhouse.Settings{
			DSN:           cfg.ClickHouseDSN,
			Cluster:       cfg.ClickHouseCluster,
			Replicated:    cfg.ClickHouseCluster != "",
			RetentionDays: int((cfg.Retention + 24*time.Hour - 1) / (24 * time.Hour)),
			QueueRows:     cfg.QueueRows,
			Logger:        a.log.With("component", "store"),
			OnCommit:      a.metrics.observeCommit,
		})
		if err != nil {
			return nil, err
		}
		return e, nil
	}
	if err := os.MkdirAll(cfg.DataDir, 0o755); err != nil {
		return nil, fmt.Errorf("create data directory: %w", err)
	}
	e, err := duckdb.Open(ctx, duckdb.Settings{
		Dir:         cfg.DataDir,
		MemoryLimit: cfg.MemoryLimit,
		Threads:     cfg.Threads,
		QueueSpans:  cfg.QueueRows,
		Logger:      a.log.With("component", "store"),
		OnCommit:    a.metrics.observeCommit,
	})
	if err != nil {
		return nil, err
	}
	return e, nil
}

func (a *App) serve(fn func() error) {
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		if err := fn(); err != nil && !errors.Is(err, http.ErrServerClosed) && !errors.Is(err, grpc.ErrServerStopped) {
			a.serveErr <- err
		}
	}()
}

func (a *App) readyz(w http.ResponseWriter, _ *http.Request) {
	select {
	case <-a.closed:
		http.Error(w, "shutting down", http.StatusServiceUnavailable)
		return
	case <-a.ready:
	}
	w.Write([]byte("ready\n"))
}

// Shutdown stops accepting, waits for in-flight requests (each waits for its
// commit), commits what the store still holds and closes it. Idempotent.
func (a *App) Shutdown(ctx context.Context) error {
	a.stopOnce.Do(func() {
		close(a.closed)
		var errs []error
		if a.grpcSrv != nil {
			done := make(chan struct{})
			go func() { a.grpcSrv.GracefulStop(); close(done) }()
			select {
			case <-done:
			case <-ctx.Done():
				a.grpcSrv.Stop()
				<-done
			}
		} else if a.grpcLn != nil {
			a.grpcLn.Close()
		}
		for _, s := range []*http.Server{a.otlpSrv, a.httpSrv} {
			if s != nil {
				if err := s.Shutdown(ctx); err != nil {
					errs = append(errs, fmt.Errorf("shut down HTTP server: %w", err))
				}
			}
		}
		for _, ln := range []net.Listener{a.otlpLn, a.httpLn} {
			if ln != nil {
				ln.Close() // listeners bound before Serve started
			}
		}
		a.wg.Wait()
		if a.store != nil {
			if err := a.store.Close(); err != nil {
				errs = append(errs, fmt.Errorf("close store: %w", err))
			}
		}
		a.stopErr = errors.Join(errs...)
		a.log.Info("stopped", "err", a.stopErr)
	})
	return a.stopErr
}

// Store exposes the engine for in-process tools (the demo, tests).
func (a *App) Store() store.Store { return a.store }

// HTTPAddr is the bound UI/API address, "" when disabled.
func (a *App) HTTPAddr() string { return addr(a.httpLn) }

// OTLPGRPCAddr is the bound OTLP/gRPC address, "" when disabled.
func (a *App) OTLPGRPCAddr() string { return addr(a.grpcLn) }

// OTLPHTTPAddr is the bound OTLP/HTTP address, "" when disabled.
func (a *App) OTLPHTTPAddr() string { return addr(a.otlpLn) }

func addr(ln net.Listener) string {
	if ln == nil {
		return ""
	}
	return ln.Addr().String()
}

// retentionLoop deletes data older than the retention period, at start and
// then every RetentionInterval, until shutdown.
func (a *App) retentionLoop() {
	defer a.wg.Done()
	t := time.NewTicker(a.cfg.RetentionInterval)
	defer t.Stop()
	for {
		ctx, cancel := context.WithTimeout(context.Background(), a.cfg.RetentionInterval)
		cutoff := a.now().Add(-a.cfg.Retention).UnixNano()
		n, err := a.store.DeleteBefore(ctx, cutoff)
		cancel()
		switch {
		case err != nil:
			a.log.Warn("retention sweep failed", "err", err)
		case n > 0:
			a.log.Info("retention sweep", "deleted_rows", n, "before", time.Unix(0, cutoff).UTC())
		}
		select {
		case <-a.closed:
			return
		case <-t.C:
		}
	}
}
