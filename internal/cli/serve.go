package cli

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"runtime/debug"
	"runtime/pprof"
	"strconv"
	"strings"
	"time"

	"github.com/ariadnehq/ariadne/internal/app"
	"github.com/ariadnehq/ariadne/internal/config"
)

type serveCmd struct{}

func (serveCmd) Name() string     { return "serve" }
func (serveCmd) Synopsis() string { return "run the server: OTLP ingest, storage, API and UI" }

func (serveCmd) Run(ctx context.Context, env Env, args []string) error {
	cfg := config.Default()
	fs := newFlagSet(env, "serve")
	if err := bindConfig(fs, env, &cfg); err != nil {
		return &usageError{msg: err.Error()}
	}
	// A CPU profile of the whole run, for benchmarks (bench/replay -cpuprofile).
	cpuProfile := fs.String("cpuprofile", env.Getenv("ARIADNE_CPUPROFILE"),
		"write a CPU profile of the whole run to this file (env ARIADNE_CPUPROFILE)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return &usageError{msg: fmt.Sprintf("unexpected argument %q", fs.Arg(0))}
	}
	if err := cfg.Validate(); err != nil {
		return &usageError{msg: "invalid configuration:\n" + err.Error()}
	}
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.LogLevel)) // Validate accepted it
	logger := slog.New(slog.NewTextHandler(env.Stderr, &slog.HandlerOptions{Level: level}))
	if env.Getenv("GOGC") == "" {
		// The Go heap is small next to the engine's memory (2 GB by
		// default), and at GOGC=100 collection took about 11% of the
		// CPU of ingest; 400 costs some 30 MB more at peak.
		debug.SetGCPercent(400)
	}
	if *cpuProfile != "" {
		stop, err := startCPUProfile(*cpuProfile)
		if err != nil {
			return err
		}
		defer stop()
	}
	return app.Run(ctx, cfg, app.Settings{Logger: logger, Ready: func(a *app.App) {
		data := cfg.DataDir
		if cfg.Store == "clickhouse" {
			data = "ClickHouse " + redactDSN(cfg.ClickHouseDSN)
		}
		fmt.Fprintf(env.Stdout, "ariadne %s serving\n  UI and API  http://%s\n  OTLP/gRPC   %s\n  OTLP/HTTP   http://%s\n  data        %s\n",
			Version, a.HTTPAddr(), a.OTLPGRPCAddr(), a.OTLPHTTPAddr(), data)
	}})
}

// redactDSN hides a DSN's password.
func redactDSN(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil || u.User == nil {
		return dsn
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	return u.String()
}

// startCPUProfile profiles until the returned stop is called.
func startCPUProfile(path string) (stop func(), err error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("create CPU profile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("start CPU profile: %w", err)
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}

// setting binds one Config field to a flag and an ARIADNE_* variable. The
// environment gives the default; a flag on the command line overrides it.
type setting struct {
	name  string
	usage string
	ptr   any
}

func configSettings(c *config.Config) []setting {
	return []setting{
		{"store", "storage engine: duckdb (embedded, one node) or clickhouse (stateless nodes over ClickHouse)", &c.Store},
		{"clickhouse-dsn", "ClickHouse to store in with --store=clickhouse: clickhouse://user:pass@host:9000/db or http://host:8123/db", &c.ClickHouseDSN},
		{"clickhouse-cluster", "ClickHouse cluster (remote_servers) to deploy the schema on: replicated, Distributed tables (empty: one server)", &c.ClickHouseCluster},
		{"data-dir", "directory of the embedded database", &c.DataDir},
		{"otlp-grpc-addr", "OTLP/gRPC listen address (empty disables)", &c.OTLPGRPCAddr},
		{"otlp-http-addr", "OTLP/HTTP listen address (empty disables)", &c.OTLPHTTPAddr},
		{"http-addr", "UI and API listen address", &c.HTTPAddr},
		{"retention", "how long data is kept", &c.Retention},
		{"retention-interval", "how often old data is removed", &c.RetentionInterval},
		{"max-http-body", "largest OTLP/HTTP body in bytes, also after decompression", &c.MaxHTTPBody},
		{"max-grpc-message", "largest OTLP/gRPC message in bytes", &c.MaxGRPCMessage},
		{"queue-rows", "rows accepted but not yet committed before ingest answers 429 (a larger request is taken when the queue is empty)", &c.QueueRows},
		{"memory-limit", "memory limit of the embedded engine (e.g. 2GB)", &c.MemoryLimit},
		{"threads", "threads of the embedded engine (0 = one less than the cores, at least 1)", &c.Threads},
		{"price-per-gb-second", "Lambda price per GB-second of billed duration, USD", &c.PricePerGBSecond},
		{"price-per-million-requests", "Lambda price per million requests, USD", &c.PricePerMillionRequests},
		{"detect-interval", "how often the issue detectors run (0 disables them on this node)", &c.DetectInterval},
		{"detect-lag", "how far behind now detection windows end, for late telemetry", &c.DetectLag},
		{"cold-start-period", "length of the periods in which the cold-start detector compares cold starts with the p95", &c.ColdStartPeriod},
		{"resolve-after", "resolve issues not seen for this long, sending resolved alerts (0: only by hand)", &c.ResolveAfter},
		{"alert-interval", "how often alert rules are evaluated and notifications sent (0 disables)", &c.AlertInterval},
		{"smtp-addr", "SMTP server (host:port) for e-mail alerts", &c.SMTPAddr},
		{"smtp-from", "sender address of e-mail alerts", &c.SMTPFrom},
		{"smtp-username", "SMTP user for PLAIN auth (empty: none)", &c.SMTPUsername},
		{"smtp-password", "SMTP password (prefer the environment variable)", &c.SMTPPassword},
		{"shutdown-timeout", "how long graceful shutdown may take", &c.ShutdownTimeout},
		{"log-level", "debug, info, warn or error", &c.LogLevel},
	}
}

// envName maps a flag name to its variable: data-dir → ARIADNE_DATA_DIR.
func envName(flagName string) string {
	return "ARIADNE_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

func bindConfig(fs *flag.FlagSet, env Env, c *config.Config) error {
	for _, s := range configSettings(c) {
		v := env.Getenv(envName(s.name))
		usage := fmt.Sprintf("%s (env %s)", s.usage, envName(s.name))
		switch p := s.ptr.(type) {
		case *string:
			if v != "" {
				*p = v
			}
			fs.StringVar(p, s.name, *p, usage)
		case *int:
			if v != "" {
				n, err := strconv.Atoi(v)
				if err != nil {
					return fmt.Errorf("%s: want an integer, got %q", envName(s.name), v)
				}
				*p = n
			}
			fs.IntVar(p, s.name, *p, usage)
		case *int64:
			if v != "" {
				n, err := strconv.ParseInt(v, 10, 64)
				if err != nil {
					return fmt.Errorf("%s: want an integer, got %q", envName(s.name), v)
				}
				*p = n
			}
			fs.Int64Var(p, s.name, *p, usage)
		case *float64:
			if v != "" {
				f, err := strconv.ParseFloat(v, 64)
				if err != nil {
					return fmt.Errorf("%s: want a number, got %q", envName(s.name), v)
				}
				*p = f
			}
			fs.Float64Var(p, s.name, *p, usage)
		case *time.Duration:
			if v != "" {
				d, err := time.ParseDuration(v)
				if err != nil {
					return fmt.Errorf("%s: want a duration like 168h, got %q", envName(s.name), v)
				}
				*p = d
			}
			fs.DurationVar(p, s.name, *p, usage)
		default:
			return fmt.Errorf("setting %s: unsupported type %T", s.name, s.ptr)
		}
	}
	return nil
}
