package cli

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/ariadnehq/ariadne/demo/shop"
	"github.com/ariadnehq/ariadne/demo/traffic"
	"github.com/ariadnehq/ariadne/internal/app"
	"github.com/ariadnehq/ariadne/internal/config"
)

type demoCmd struct{}

func (demoCmd) Name() string { return "demo" }
func (demoCmd) Synopsis() string {
	return "run the server with a serverless shop on a local cloud, failing in realistic ways"
}

// demoFlags are the demo's own flags besides the server configuration.
type demoFlags struct {
	app      string
	faults   string
	rate     float64
	rateSet  bool
	backfill time.Duration
	duration time.Duration
}

func (demoCmd) Run(ctx context.Context, env Env, args []string) error {
	cfg := config.Default()
	cfg.DataDir = "./ariadne-data/demo"
	fs := newFlagSet(env, "demo")
	if err := bindConfig(fs, env, &cfg); err != nil {
		return &usageError{msg: err.Error()}
	}
	var f demoFlags
	fs.StringVar(&f.app, "app", "shop", "shop: Go functions on a local serverless cloud (built at start); synthetic: generated OTLP traffic, no build")
	fs.StringVar(&f.faults, "faults", "all", "shop faults injected on a schedule: all, none or a list of "+faultNames())
	fs.Float64Var(&f.rate, "rate", 5, "orders per second of sample traffic (shop default 1)")
	fs.DurationVar(&f.backfill, "backfill", 15*time.Minute, "synthetic: history of sample traffic generated at start")
	fs.DurationVar(&f.duration, "duration", 0, "stop after this long (0 = until Ctrl-C)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	fs.Visit(func(fl *flag.Flag) { f.rateSet = f.rateSet || fl.Name == "rate" })
	if f.rate <= 0 || f.rate > 1000 {
		return &usageError{msg: fmt.Sprintf("--rate must be in (0, 1000], got %g", f.rate)}
	}
	if f.app != "shop" && f.app != "synthetic" {
		return &usageError{msg: fmt.Sprintf("--app must be shop or synthetic, got %q", f.app)}
	}
	faults, err := shop.ParseFaults(f.faults)
	if err != nil {
		return &usageError{msg: "--faults: " + err.Error()}
	}
	if f.app == "shop" {
		shopDefaults(&cfg)
	}
	if err := cfg.Validate(); err != nil {
		return &usageError{msg: "invalid configuration:\n" + err.Error()}
	}
	if f.duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, f.duration)
		defer cancel()
	}
	if f.app == "synthetic" {
		return runSynthetic(ctx, env, cfg, f)
	}
	return runShop(ctx, env, cfg, f, faults)
}

// shopDefaults adapts settings still at their defaults to the shop: its own
// data directory, and detection soon after the fact so that a new user sees
// issues within a minute, cold starts judged per minute. (A value given equal to the default is treated
// as not given.)
func shopDefaults(cfg *config.Config) {
	def := config.Default()
	if cfg.DataDir == "./ariadne-data/demo" {
		cfg.DataDir = "./ariadne-data/shop"
	}
	if cfg.DetectInterval == def.DetectInterval {
		cfg.DetectInterval = 10 * time.Second
	}
	if cfg.DetectLag == def.DetectLag {
		cfg.DetectLag = 5 * time.Second
	}
	// The cold-start burst is a few seconds of a minute: judged over ten
	// minutes of traffic it would not show.
	if cfg.ColdStartPeriod == def.ColdStartPeriod {
		cfg.ColdStartPeriod = time.Minute
	}
}

// demoLogger logs warnings and errors only, so that the demo's own output
// (addresses, progress) stays readable, unless --log-level asks otherwise.
func demoLogger(env Env, cfg config.Config) *slog.Logger {
	level := slog.LevelWarn
	if cfg.LogLevel != config.Default().LogLevel {
		_ = level.UnmarshalText([]byte(cfg.LogLevel)) // Validate accepted it
	}
	return slog.New(slog.NewTextHandler(env.Stderr, &slog.HandlerOptions{Level: level}))
}

func faultNames() string {
	var s []string
	for _, f := range shop.Faults() {
		s = append(s, string(f))
	}
	return strings.Join(s, ",")
}

// runShop builds and runs the shop on the local cloud against an in-process
// server until ctx ends.
func runShop(ctx context.Context, env Env, cfg config.Config, f demoFlags, faults []shop.Fault) error {
	logger := demoLogger(env, cfg)
	step := func(n int, msg string) { fmt.Fprintf(env.Stdout, "[%d/3] %s\n", n, msg) }
	cwd, err := os.Getwd()
	if err != nil {
		return fmt.Errorf("find working directory: %w", err)
	}
	root, err := shop.FindRoot(cwd)
	if err != nil {
		return fmt.Errorf("%w (or run ariadne demo --app=synthetic, which needs no source)", err)
	}
	if _, err := exec.LookPath("go"); err != nil {
		return fmt.Errorf("the shop demo builds its functions with the Go toolchain, which is not in PATH (or run ariadne demo --app=synthetic): %w", err)
	}

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

	step(2, "building and starting the shop on a local serverless cloud")
	rate := 1.0
	if f.rateSet {
		rate = f.rate
	}
	s, err := shop.Start(ctx, shop.Settings{
		Root: root, Ariadne: a.HTTPAddr(), Faults: faults, Rate: rate, Logger: logger,
		Progress: func(line string) { fmt.Fprintf(env.Stdout, "      %s\n", line) },
	})
	if err != nil {
		return err
	}
	defer func() {
		fmt.Fprintln(env.Stdout, "stopping the shop…")
		if err := s.Close(); err != nil {
			logger.Warn("stop the shop", "err", err)
		}
	}()

	step(3, fmt.Sprintf("sending orders (%g/s) to checkout-api", rate))
	fmt.Fprintf(env.Stdout, "\nAriadne is watching a serverless shop:\n"+
		"  checkout-api ─┬► SQS payments ─► payment ─► card processor\n"+
		"                └► SNS orders ─► SQS inventory ─► inventory ─► S3 receipts ─► receipt ─► email\n\n")
	fmt.Fprintf(env.Stdout, "  UI         http://%s\n", a.HTTPAddr())
	fmt.Fprintf(env.Stdout, "  Issues     http://%s/issues   (detection every %s)\n", a.HTTPAddr(), cfg.DetectInterval)
	fmt.Fprintf(env.Stdout, "  API        http://%s/api/v1/issues\n\n", a.HTTPAddr())
	if len(faults) == 0 {
		fmt.Fprintf(env.Stdout, "Clean traffic only (--faults=none).\n")
	} else {
		fmt.Fprintf(env.Stdout, "Faults, all at once after 20 s, then one every 30 s:\n")
		for _, fl := range faults {
			fmt.Fprintf(env.Stdout, "  %-10s %s\n", fl, fl.Describe())
		}
	}
	fmt.Fprintf(env.Stdout, "\nInject one now:  curl -X POST %s/<fault>\n\nCtrl-C stops.\n", s.ControlURL())
	<-ctx.Done() // Ctrl-C or --duration: both a normal end
	return nil
}

// runSynthetic is the original demo: generated OTLP traffic of a shop, with
// history, and no build step (the web UI's end-to-end tests depend on it).
func runSynthetic(ctx context.Context, env Env, cfg config.Config, f demoFlags) error {
	logger := demoLogger(env, cfg)
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
	interval := time.Duration(float64(time.Second) / f.rate)
	n := int(f.backfill / interval)
	step(3, fmt.Sprintf("loading %d orders of history (%s)", n, f.backfill))
	for i := 0; i < n; i++ {
		gen.Order(ctx, now.Add(-f.backfill+time.Duration(i)*interval))
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
	fmt.Fprintf(env.Stdout, "Ariadne is running with live sample traffic (%g orders/s).\n\n", f.rate)
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
