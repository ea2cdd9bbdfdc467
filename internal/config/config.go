// Package config holds what a user sets for `ariadne serve`: the Config
// struct, its defaults and its validation. It does no I/O; flags and
// environment variables are bound in internal/cli.
package config

import (
	"errors"
	"fmt"
	"net"
	"time"
)

// Config is the server's configuration. Every field has a flag and an
// ARIADNE_* environment variable (see Fields).
type Config struct {
	// Store is the storage engine: "duckdb", embedded in DataDir (one
	// node), or "clickhouse", in ClickHouse (any number of stateless nodes).
	Store string
	// ClickHouseDSN reaches ClickHouse when Store is "clickhouse":
	// clickhouse://user:pass@host:9000/db (native) or http://host:8123/db.
	ClickHouseDSN string
	// ClickHouseCluster, when set, deploys the ClickHouse schema on that
	// cluster: Replicated tables on every shard, Distributed tables over
	// them, DDL ON CLUSTER.
	ClickHouseCluster string

	// DataDir holds the embedded database.
	DataDir string
	// OTLPGRPCAddr, OTLPHTTPAddr and HTTPAddr are listen addresses; an empty
	// address disables that listener.
	OTLPGRPCAddr string
	OTLPHTTPAddr string
	HTTPAddr     string

	// Retention is how long data is kept; RetentionInterval how often the
	// background sweep runs.
	Retention         time.Duration
	RetentionInterval time.Duration

	// MaxHTTPBody caps an OTLP/HTTP body, before and after decompression.
	MaxHTTPBody int64
	// MaxGRPCMessage caps an OTLP/gRPC message.
	MaxGRPCMessage int
	// QueueRows bounds rows accepted but not yet committed; beyond it ingest
	// answers 429 / RESOURCE_EXHAUSTED. A request larger than the bound is
	// taken when nothing else is queued (MaxHTTPBody and MaxGRPCMessage
	// bound its size), so that its client's retries get in.
	QueueRows int

	// MemoryLimit and Threads bound the embedded engine ("" / 0 = its defaults).
	MemoryLimit string
	Threads     int

	// PricePerGBSecond and PricePerMillionRequests price Lambda invocations
	// (cost per invocation, per function, per transaction). Defaults are
	// Lambda's published x86 on-demand prices.
	PricePerGBSecond        float64
	PricePerMillionRequests float64

	// DetectInterval is how often the detectors run (0 disables them on
	// this node); DetectLag keeps their windows behind now so that late
	// telemetry (platform reports) is stored before its window is read.
	DetectInterval time.Duration
	DetectLag      time.Duration
	// ColdStartPeriod is the length of the periods the cold-start detector
	// judges one at a time (its p95 and cold-start share are per period).
	ColdStartPeriod time.Duration
	// ResolveAfter resolves issues not seen for that long (0: only people
	// resolve issues).
	ResolveAfter time.Duration
	// AlertInterval is how often alert rules are evaluated and due
	// notifications delivered (0 disables alerting on this node).
	AlertInterval time.Duration
	// SMTPAddr (host:port), SMTPFrom, SMTPUsername and SMTPPassword
	// configure e-mail alerts; an empty address leaves them undeliverable.
	SMTPAddr     string
	SMTPFrom     string
	SMTPUsername string
	SMTPPassword string

	// ShutdownTimeout bounds graceful shutdown.
	ShutdownTimeout time.Duration
	// LogLevel is debug, info, warn or error.
	LogLevel string
}

// Default returns the configuration of DESIGN.md §6.
func Default() Config {
	return Config{
		Store:                   "duckdb",
		DataDir:                 "./ariadne-data",
		OTLPGRPCAddr:            "127.0.0.1:4317",
		OTLPHTTPAddr:            "127.0.0.1:4318",
		HTTPAddr:                "127.0.0.1:7070",
		Retention:               7 * 24 * time.Hour,
		RetentionInterval:       10 * time.Minute,
		MaxHTTPBody:             20 << 20,
		MaxGRPCMessage:          4 << 20,
		QueueRows:               500_000,
		MemoryLimit:             "2GB",
		Threads:                 0, // the engine's default: one less than the cores
		PricePerGBSecond:        0.0000166667,
		PricePerMillionRequests: 0.20,
		DetectInterval:          30 * time.Second,
		DetectLag:               30 * time.Second,
		ColdStartPeriod:         10 * time.Minute,
		AlertInterval:           10 * time.Second,
		ShutdownTimeout:         30 * time.Second,
		LogLevel:                "info",
	}
}

// Validate reports every problem, each prefixed with the setting's name.
func (c Config) Validate() error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", field, fmt.Sprintf(format, args...)))
	}
	switch c.Store {
	case "duckdb":
		if c.DataDir == "" {
			bad("data-dir", "must not be empty")
		}
	case "clickhouse":
		if c.ClickHouseDSN == "" {
			bad("clickhouse-dsn", "must be set with --store=clickhouse")
		}
	default:
		bad("store", "want duckdb or clickhouse, got %q", c.Store)
	}
	for _, a := range []struct{ name, addr string }{
		{"otlp-grpc-addr", c.OTLPGRPCAddr},
		{"otlp-http-addr", c.OTLPHTTPAddr},
		{"http-addr", c.HTTPAddr},
	} {
		if a.addr == "" {
			continue
		}
		if _, _, err := net.SplitHostPort(a.addr); err != nil {
			bad(a.name, "want host:port, got %q", a.addr)
		}
	}
	if c.Retention < time.Hour {
		bad("retention", "must be at least 1h, got %s", c.Retention)
	}
	if c.RetentionInterval < time.Second {
		bad("retention-interval", "must be at least 1s, got %s", c.RetentionInterval)
	}
	if c.MaxHTTPBody < 1024 {
		bad("max-http-body", "must be at least 1024 bytes, got %d", c.MaxHTTPBody)
	}
	if c.MaxGRPCMessage < 1024 {
		bad("max-grpc-message", "must be at least 1024 bytes, got %d", c.MaxGRPCMessage)
	}
	if c.QueueRows < 1000 {
		bad("queue-rows", "must be at least 1000, got %d", c.QueueRows)
	}
	if c.Threads < 0 {
		bad("threads", "must not be negative, got %d", c.Threads)
	}
	if c.PricePerGBSecond < 0 {
		bad("price-per-gb-second", "must not be negative, got %g", c.PricePerGBSecond)
	}
	if c.PricePerMillionRequests < 0 {
		bad("price-per-million-requests", "must not be negative, got %g", c.PricePerMillionRequests)
	}
	if c.DetectInterval < 0 || c.DetectLag < 0 || c.AlertInterval < 0 || c.ResolveAfter < 0 {
		bad("detect-interval, detect-lag, alert-interval, resolve-after", "must not be negative")
	}
	if c.ColdStartPeriod < time.Second {
		bad("cold-start-period", "must be at least 1s, got %s", c.ColdStartPeriod)
	}
	if c.SMTPAddr != "" {
		if _, _, err := net.SplitHostPort(c.SMTPAddr); err != nil {
			bad("smtp-addr", "want host:port, got %q", c.SMTPAddr)
		}
	}
	if c.ShutdownTimeout <= 0 {
		bad("shutdown-timeout", "must be positive, got %s", c.ShutdownTimeout)
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		bad("log-level", "want debug, info, warn or error, got %q", c.LogLevel)
	}
	return errors.Join(errs...)
}
