package main

import (
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"
)

// config is what the user sets through the function's environment.
type config struct {
	RuntimeAPI    string // AWS_LAMBDA_RUNTIME_API, set by Lambda
	Function      string // AWS_LAMBDA_FUNCTION_NAME
	Version       string // AWS_LAMBDA_FUNCTION_VERSION
	Region        string // AWS_REGION
	Endpoint      string
	Headers       map[string]string
	BufferEvents  int
	BufferBytes   int
	FlushInterval time.Duration
	Timeout       time.Duration
	Listen        string
}

func loadConfig(getenv func(string) string) (config, error) {
	c := config{
		RuntimeAPI:    getenv("AWS_LAMBDA_RUNTIME_API"),
		Function:      getenv("AWS_LAMBDA_FUNCTION_NAME"),
		Version:       getenv("AWS_LAMBDA_FUNCTION_VERSION"),
		Region:        getenv("AWS_REGION"),
		Endpoint:      strings.TrimRight(getenv("ARIADNE_ENDPOINT"), "/"),
		Headers:       map[string]string{},
		BufferEvents:  10_000,
		BufferBytes:   4 << 20,
		FlushInterval: time.Second,
		Timeout:       2 * time.Second,
		Listen:        getenv("ARIADNE_EXTENSION_LISTEN"),
	}
	if c.RuntimeAPI == "" {
		return c, fmt.Errorf("AWS_LAMBDA_RUNTIME_API: not set (not running inside Lambda?)")
	}
	if c.Endpoint != "" && !strings.HasPrefix(c.Endpoint, "http://") && !strings.HasPrefix(c.Endpoint, "https://") {
		return c, fmt.Errorf("ARIADNE_ENDPOINT: %q: want an http:// or https:// URL", c.Endpoint)
	}
	for kv := range strings.SplitSeq(getenv("ARIADNE_HEADERS"), ",") {
		if strings.TrimSpace(kv) == "" {
			continue
		}
		k, v, ok := strings.Cut(kv, "=")
		if !ok || strings.TrimSpace(k) == "" {
			return c, fmt.Errorf("ARIADNE_HEADERS: %q: want key=value pairs separated by commas", kv)
		}
		c.Headers[strings.TrimSpace(k)] = strings.TrimSpace(v)
	}
	for _, s := range []struct {
		name string
		dst  *int
	}{{"ARIADNE_EXTENSION_BUFFER_EVENTS", &c.BufferEvents}, {"ARIADNE_EXTENSION_BUFFER_BYTES", &c.BufferBytes}} {
		if v := getenv(s.name); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n <= 0 {
				return c, fmt.Errorf("%s: %q: want a positive integer", s.name, v)
			}
			*s.dst = n
		}
	}
	for _, s := range []struct {
		name string
		dst  *time.Duration
	}{{"ARIADNE_EXTENSION_FLUSH_INTERVAL", &c.FlushInterval}, {"ARIADNE_EXTENSION_TIMEOUT", &c.Timeout}} {
		if v := getenv(s.name); v != "" {
			d, err := time.ParseDuration(v)
			if err != nil || d <= 0 {
				return c, fmt.Errorf("%s: %q: want a positive duration like 500ms", s.name, v)
			}
			*s.dst = d
		}
	}
	if c.Listen == "" {
		// Lambda delivers telemetry to sandbox.localdomain; a local
		// emulator serves the Runtime API on the loopback and has no such
		// name (resolving it could stall start-up on a DNS timeout).
		c.Listen = "sandbox.localdomain:0"
		if host, _, err := net.SplitHostPort(c.RuntimeAPI); err == nil {
			if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
				c.Listen = "127.0.0.1:0"
			}
		}
	}
	return c, nil
}
