package config

import (
	"strings"
	"testing"
	"time"
)

func TestDefaultIsValid(t *testing.T) {
	if err := Default().Validate(); err != nil {
		t.Fatalf("default config invalid: %v", err)
	}
}

func TestValidateNamesEachBadSetting(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*Config)
		want   string
	}{
		{"empty data dir", func(c *Config) { c.DataDir = "" }, "data-dir:"},
		{"bad grpc addr", func(c *Config) { c.OTLPGRPCAddr = "4317" }, "otlp-grpc-addr:"},
		{"short retention", func(c *Config) { c.Retention = time.Minute }, "retention:"},
		{"tiny body limit", func(c *Config) { c.MaxHTTPBody = 10 }, "max-http-body:"},
		{"tiny queue", func(c *Config) { c.QueueRows = 1 }, "queue-rows:"},
		{"negative price", func(c *Config) { c.PricePerGBSecond = -1 }, "price-per-gb-second:"},
		{"bad log level", func(c *Config) { c.LogLevel = "loud" }, "log-level:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Default()
			tt.mutate(&c)
			err := c.Validate()
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Validate() = %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

func TestValidateReportsAllProblems(t *testing.T) {
	c := Default()
	c.DataDir = ""
	c.LogLevel = "x"
	err := c.Validate()
	if err == nil || !strings.Contains(err.Error(), "data-dir") || !strings.Contains(err.Error(), "log-level") {
		t.Fatalf("Validate() = %v, want both problems", err)
	}
}

func TestEmptyAddressDisablesListener(t *testing.T) {
	c := Default()
	c.OTLPGRPCAddr = ""
	if err := c.Validate(); err != nil {
		t.Fatalf("empty address should be allowed: %v", err)
	}
}
