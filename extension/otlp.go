package main

import "strconv"

// The OTLP/HTTP JSON shapes of a logs export, only the fields sent; a
// hand-written encoding keeps the extension free of the protobuf and pdata
// dependencies (start-up time and size).
type (
	otlpExport struct {
		ResourceLogs []otlpResourceLogs `json:"resourceLogs"`
	}
	otlpResourceLogs struct {
		Resource  otlpResource    `json:"resource"`
		ScopeLogs []otlpScopeLogs `json:"scopeLogs"`
	}
	otlpResource struct {
		Attributes []otlpKV `json:"attributes"`
	}
	otlpScopeLogs struct {
		Scope      otlpScope    `json:"scope"`
		LogRecords []otlpRecord `json:"logRecords"`
	}
	otlpScope struct {
		Name string `json:"name"`
	}
	otlpRecord struct {
		TimeUnixNano         string    `json:"timeUnixNano"`
		ObservedTimeUnixNano string    `json:"observedTimeUnixNano"`
		SeverityNumber       int       `json:"severityNumber,omitempty"`
		SeverityText         string    `json:"severityText,omitempty"`
		Body                 otlpValue `json:"body"`
		Attributes           []otlpKV  `json:"attributes"`
		TraceID              string    `json:"traceId,omitempty"`
	}
	otlpKV struct {
		Key   string    `json:"key"`
		Value otlpValue `json:"value"`
	}
	otlpValue struct {
		StringValue string `json:"stringValue"`
	}
)

func kv(k, v string) otlpKV { return otlpKV{Key: k, Value: otlpValue{StringValue: v}} }

// otlpLogs encodes log lines with the attributes of docs/attributes.md:
// faas.invocation_id, faas.name and ariadne.source = "lambda".
func (e *extension) otlpLogs(logs []logRecord) otlpExport {
	res := []otlpKV{kv("service.name", e.cfg.Function), kv("faas.name", e.cfg.Function),
		kv("cloud.provider", "aws"), kv("cloud.platform", "aws_lambda")}
	if e.cfg.Version != "" {
		res = append(res, kv("faas.version", e.cfg.Version))
	}
	if e.cfg.Region != "" {
		res = append(res, kv("cloud.region", e.cfg.Region))
	}
	recs := make([]otlpRecord, len(logs))
	for i, l := range logs {
		ts := strconv.FormatInt(l.Time, 10)
		attrs := []otlpKV{kv("ariadne.source", "lambda"), kv("ariadne.lambda.stream", l.Stream), kv("faas.name", e.cfg.Function)}
		if l.RequestID != "" {
			attrs = append(attrs, kv("faas.invocation_id", l.RequestID))
		}
		recs[i] = otlpRecord{TimeUnixNano: ts, ObservedTimeUnixNano: ts, SeverityText: l.Level,
			SeverityNumber: severityNumber(l.Level), Body: otlpValue{StringValue: l.Body}, Attributes: attrs, TraceID: l.TraceID}
	}
	return otlpExport{ResourceLogs: []otlpResourceLogs{{
		Resource:  otlpResource{Attributes: res},
		ScopeLogs: []otlpScopeLogs{{Scope: otlpScope{Name: "ariadne-extension"}, LogRecords: recs}},
	}}}
}

func severityNumber(level string) int {
	switch level {
	case "TRACE":
		return 1
	case "DEBUG":
		return 5
	case "INFO":
		return 9
	case "WARN", "WARNING":
		return 13
	case "ERROR":
		return 17
	case "FATAL", "CRITICAL":
		return 21
	}
	return 0
}
