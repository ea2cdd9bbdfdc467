package ariadne

import (
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
	"time"

	sdklog "go.opentelemetry.io/otel/sdk/log"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// Config is what a user sets, from ARIADNE_* variables or options. The zero
// value is not useful; start from DefaultConfig or ConfigFromEnv.
type Config struct {
	// Endpoint is the OTLP/HTTP base URL of the Ariadne server; traces go to
	// Endpoint+"/v1/traces", logs to Endpoint+"/v1/logs". ARIADNE_ENDPOINT.
	Endpoint string
	// Headers are sent with every export (for example an auth token).
	// ARIADNE_HEADERS as "k1=v1,k2=v2".
	Headers map[string]string
	// Service is service.name; defaults to the Lambda function name.
	// ARIADNE_SERVICE.
	Service string
	// Environment is deployment.environment.name. ARIADNE_ENVIRONMENT.
	Environment string
	// Version is service.version. ARIADNE_SERVICE_VERSION.
	Version string
	// MetadataOnly captures no payloads or bodies, only metadata and
	// strong IDs. ARIADNE_METADATA_ONLY.
	MetadataOnly bool
	// IgnoredKeys are extra key patterns to redact. ARIADNE_IGNORED_KEYS
	// (comma separated).
	IgnoredKeys []string
	// AllowedKeys switch redaction to allow-list mode. ARIADNE_ALLOWED_KEYS.
	AllowedKeys []string
	// SampleRate is the fraction of traces kept, 0..1. ARIADNE_SAMPLE_RATE.
	SampleRate float64
	// Disabled turns the SDK into a no-op. ARIADNE_DISABLE.
	Disabled bool
	// ExportTimeout bounds one export request. ARIADNE_EXPORT_TIMEOUT.
	ExportTimeout time.Duration
	// CoolDown is how long exports are skipped after one failed.
	// ARIADNE_COOLDOWN.
	CoolDown time.Duration
	// TimeoutMargin is how long before the Lambda deadline the invocation
	// is marked as timing out and flushed. ARIADNE_TIMEOUT_MARGIN.
	TimeoutMargin time.Duration
	// MaxValueBytes caps one captured payload. ARIADNE_MAX_VALUE_BYTES.
	MaxValueBytes int
	// MaxInvocationBytes caps all payloads captured in one invocation.
	// ARIADNE_MAX_INVOCATION_BYTES.
	MaxInvocationBytes int
	// MaxQueue bounds spans and log records held for export (each).
	// ARIADNE_MAX_QUEUE.
	MaxQueue int
	// MaxQueueBytes bounds the approximate memory of each queue.
	// ARIADNE_MAX_QUEUE_BYTES.
	MaxQueueBytes int
	// CaptureHTTPBodies records HTTP request and response bodies in the
	// net/http middleware. ARIADNE_CAPTURE_HTTP_BODIES.
	CaptureHTTPBodies bool
	// StepFunctionsInjection adds the Ariadne correlation field to Step
	// Functions execution input and to Lambda results that continue a
	// workflow. ARIADNE_SFN_INJECTION.
	StepFunctionsInjection bool
	// SetGlobal installs the tracer provider and W3C propagator as the OTel
	// globals, so plain otel.Tracer spans join the trace.
	SetGlobal bool
}

// DefaultConfig returns the settings used when nothing is configured.
func DefaultConfig() Config {
	return Config{
		Endpoint:               "http://127.0.0.1:4318",
		SampleRate:             1,
		ExportTimeout:          500 * time.Millisecond,
		CoolDown:               10 * time.Second,
		TimeoutMargin:          200 * time.Millisecond,
		MaxValueBytes:          16 << 10,
		MaxInvocationBytes:     128 << 10,
		MaxQueue:               2048,
		MaxQueueBytes:          8 << 20,
		StepFunctionsInjection: true,
		SetGlobal:              true,
	}
}

// ConfigFromEnv reads ARIADNE_* variables through getenv over the defaults.
// Malformed values are reported, and the default is kept for them, so a
// typo never stops the function.
func ConfigFromEnv(getenv func(string) string) (Config, error) {
	c := DefaultConfig()
	var errs []error
	str := func(k string, dst *string) {
		if v := strings.TrimSpace(getenv(k)); v != "" {
			*dst = v
		}
	}
	boolean := func(k string, dst *bool) {
		if v := strings.TrimSpace(getenv(k)); v != "" {
			b, err := strconv.ParseBool(v)
			if err != nil {
				errs = append(errs, fmt.Errorf("parse %s: %w", k, err))
				return
			}
			*dst = b
		}
	}
	dur := func(k string, dst *time.Duration) {
		if v := strings.TrimSpace(getenv(k)); v != "" {
			d, err := time.ParseDuration(v)
			if err != nil {
				// A bare number is milliseconds, as in most Lambda tools.
				ms, err2 := strconv.Atoi(v)
				if err2 != nil {
					errs = append(errs, fmt.Errorf("parse %s: %w", k, err))
					return
				}
				d = time.Duration(ms) * time.Millisecond
			}
			*dst = d
		}
	}
	integer := func(k string, dst *int) {
		if v := strings.TrimSpace(getenv(k)); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil {
				errs = append(errs, fmt.Errorf("parse %s: %w", k, err))
				return
			}
			*dst = n
		}
	}
	list := func(k string, dst *[]string) {
		for _, p := range strings.Split(getenv(k), ",") {
			if p = strings.TrimSpace(p); p != "" {
				*dst = append(*dst, p)
			}
		}
	}
	str("ARIADNE_ENDPOINT", &c.Endpoint)
	str("ARIADNE_SERVICE", &c.Service)
	str("ARIADNE_ENVIRONMENT", &c.Environment)
	str("ARIADNE_SERVICE_VERSION", &c.Version)
	boolean("ARIADNE_METADATA_ONLY", &c.MetadataOnly)
	list("ARIADNE_IGNORED_KEYS", &c.IgnoredKeys)
	list("ARIADNE_ALLOWED_KEYS", &c.AllowedKeys)
	if v := strings.TrimSpace(getenv("ARIADNE_SAMPLE_RATE")); v != "" {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			errs = append(errs, fmt.Errorf("parse ARIADNE_SAMPLE_RATE: %w", err))
		} else {
			c.SampleRate = f
		}
	}
	boolean("ARIADNE_DISABLE", &c.Disabled)
	dur("ARIADNE_EXPORT_TIMEOUT", &c.ExportTimeout)
	dur("ARIADNE_COOLDOWN", &c.CoolDown)
	dur("ARIADNE_TIMEOUT_MARGIN", &c.TimeoutMargin)
	integer("ARIADNE_MAX_VALUE_BYTES", &c.MaxValueBytes)
	integer("ARIADNE_MAX_INVOCATION_BYTES", &c.MaxInvocationBytes)
	integer("ARIADNE_MAX_QUEUE", &c.MaxQueue)
	integer("ARIADNE_MAX_QUEUE_BYTES", &c.MaxQueueBytes)
	boolean("ARIADNE_CAPTURE_HTTP_BODIES", &c.CaptureHTTPBodies)
	boolean("ARIADNE_SFN_INJECTION", &c.StepFunctionsInjection)
	if v := getenv("ARIADNE_HEADERS"); v != "" {
		c.Headers = map[string]string{}
		for _, kv := range strings.Split(v, ",") {
			k, val, ok := strings.Cut(kv, "=")
			if ok && strings.TrimSpace(k) != "" {
				c.Headers[strings.TrimSpace(k)] = strings.TrimSpace(val)
			}
		}
	}
	return c, errors.Join(errs...)
}

// Validate reports settings that cannot work, naming the field.
func (c *Config) Validate() error {
	var errs []error
	if !c.Disabled {
		u, err := url.Parse(c.Endpoint)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs = append(errs, fmt.Errorf("endpoint: %q is not an http(s) URL", c.Endpoint))
		}
	}
	if c.SampleRate < 0 || c.SampleRate > 1 {
		errs = append(errs, fmt.Errorf("sample_rate: %v is outside 0..1", c.SampleRate))
	}
	if c.ExportTimeout <= 0 {
		errs = append(errs, fmt.Errorf("export_timeout: must be positive"))
	}
	if c.CoolDown < 0 || c.TimeoutMargin < 0 {
		errs = append(errs, fmt.Errorf("cooldown, timeout_margin: must not be negative"))
	}
	if c.MaxQueue <= 0 {
		errs = append(errs, fmt.Errorf("max_queue: must be positive"))
	}
	return errors.Join(errs...)
}

// Option changes the configuration or the settings of New.
type Option func(*settings)

// settings are what New needs beyond Config: injected collaborators.
type settings struct {
	cfg          Config
	getenv       func(string) string
	spanExporter sdktrace.SpanExporter
	logExporter  sdklog.Exporter
	logger       *slog.Logger
	edits        []func(*Config)
}

// WithLogger reports the SDK's own trouble (failed exports, once per
// cool-down) to l. Without it the SDK is silent and only counts (Stats).
func WithLogger(l *slog.Logger) Option {
	return func(s *settings) { s.logger = l }
}

// WithConfig edits the configuration after the environment was read.
func WithConfig(f func(*Config)) Option {
	return func(s *settings) { s.edits = append(s.edits, f) }
}

// WithService sets service.name.
func WithService(name string) Option {
	return WithConfig(func(c *Config) { c.Service = name })
}

// WithEndpoint sets the OTLP/HTTP base URL.
func WithEndpoint(url string) Option {
	return WithConfig(func(c *Config) { c.Endpoint = url })
}

// WithMetadataOnly turns payload capture off.
func WithMetadataOnly() Option {
	return WithConfig(func(c *Config) { c.MetadataOnly = true })
}

// WithoutGlobal keeps the SDK from installing OTel globals.
func WithoutGlobal() Option {
	return WithConfig(func(c *Config) { c.SetGlobal = false })
}

// WithGetenv replaces os.Getenv, for tests and for configuration that does
// not live in the process environment.
func WithGetenv(f func(string) string) Option {
	return func(s *settings) { s.getenv = f }
}

// WithSpanExporter sends spans to e instead of OTLP/HTTP (still guarded by
// the export timeout and cool-down).
func WithSpanExporter(e sdktrace.SpanExporter) Option {
	return func(s *settings) { s.spanExporter = e }
}

// WithLogExporter sends log records to e instead of OTLP/HTTP.
func WithLogExporter(e sdklog.Exporter) Option {
	return func(s *settings) { s.logExporter = e }
}
