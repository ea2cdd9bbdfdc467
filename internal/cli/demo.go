package cli

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/ariadnehq/ariadne/demo/traffic"
	"github.com/ariadnehq/ariadne/internal/app"
	"github.com/ariadnehq/ariadne/internal/config"
)

type demoCmd struct{}

func (demoCmd) Name() string { return "demo" }
func (demoCmd) Synopsis() string {
	return "run the server with sample traffic from a small serverless shop"
}

func (demoCmd) Run(ctx context.Context, env Env, args []string) error {
	cfg := config.Default()
	cfg.DataDir = "./ariadne-data/demo"
	fs := newFlagSet(env, "demo")
	if err := bindConfig(fs, env, &cfg); err != nil {
		return &usageError{msg: err.Error()}
	}
	rate := fs.Float64("rate", 5, "orders per second of sample traffic")
	backfill := fs.Duration("backfill", 15*time.Minute, "history of sample traffic generated at start")
	duration := fs.Duration("duration", 0, "stop after this long (0 = until Ctrl-C)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *rate <= 0 || *rate > 1000 {
		return &usageError{msg: fmt.Sprintf("--rate must be in (0, 1000], got %g", *rate)}
	}
	if err := cfg.Validate(); err != nil {
		return &usageError{msg: "invalid configuration:\n" + err.Error()}
	}
	if *duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, *duration)
		defer cancel()
	}
	logger := slog.New(slog.NewTextHandler(env.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	step := func(n int, msg string) { fmt.Fprintf(env.Stdout, "[%d/3] %s\n", n, msg) }

	step(1, "starting the server (embedded storage in "+cfg.DataDir+")")
	a, err := app.Start(ctx, cfg, app.Settings{Logger: logger})
	if err != nil {
		return err
	}
	defer func() {
		fmt.Fprintln(env.Stdout, "stopping: committing what was accepted…")
		sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
		defer cancel()
		a.Shutdown(sctx)
	}()

	step(2, "connecting the sample shop's functions over OTLP/gRPC "+a.OTLPGRPCAddr())
	gen, err := traffic.New(ctx, traffic.Settings{Endpoint: a.OTLPGRPCAddr(), Seed: uint64(time.Now().UnixNano())})
	if err != nil {
		return err
	}
	defer gen.Shutdown(context.Background())

	now := time.Now()
	interval := time.Duration(float64(time.Second) / *rate)
	n := int(*backfill / interval)
	step(3, fmt.Sprintf("loading %d orders of history (%s)", n, *backfill))
	for i := 0; i < n; i++ {
		gen.Order(ctx, now.Add(-*backfill+time.Duration(i)*interval))
		if i%200 == 199 {
			if err := gen.Flush(ctx); err != nil {
				return fmt.Errorf("send history: %w", err)
			}
			fmt.Fprintf(env.Stdout, "\r      %d/%d orders", i+1, n)
		}
	}
	if err := gen.Flush(ctx); err != nil {
		return fmt.Errorf("send history: %w", err)
	}
	fmt.Fprintf(env.Stdout, "\r      %d/%d orders\n\n", n, n)
	fmt.Fprintf(env.Stdout, "Ariadne is running with live sample traffic (%g orders/s).\n\n", *rate)
	fmt.Fprintf(env.Stdout, "  API        http://%s/api/v1/traces?limit=10\n", a.HTTPAddr())
	fmt.Fprintf(env.Stdout, "  UI         http://%s\n", a.HTTPAddr())
	fmt.Fprintf(env.Stdout, "  OTLP       %s (gRPC), http://%s (HTTP)\n\n", a.OTLPGRPCAddr(), a.OTLPHTTPAddr())
	fmt.Fprintf(env.Stdout, "Try:  ./bin/ariadne search --service payment --error\n      ./bin/ariadne trace <trace id>\n      ./bin/ariadne tail\n\nCtrl-C stops.\n")

	tick := time.NewTicker(interval)
	defer tick.Stop()
	flush := time.NewTicker(time.Second)
	defer flush.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil // Ctrl-C or --duration: both a normal end
		case t := <-tick.C:
			gen.Order(ctx, t)
		case <-flush.C:
			if err := gen.Flush(ctx); err != nil && ctx.Err() == nil {
				logger.Warn("send sample traffic", "err", err)
			}
		}
	}
}
