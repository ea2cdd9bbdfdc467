package api

import (
	"context"
	"net/http"
	"strconv"
	"strings"

	"github.com/ariadnehq/ariadne/internal/store"
)

// LogsResponse answers GET /api/v1/logs.
type LogsResponse struct {
	Logs       []Log  `json:"logs"`
	NextCursor string `json:"nextCursor"`
}

var logParams = []string{"function", "service", "requestId", "severity", "q", "start", "end", "limit", "cursor"}

// severityLevels are the names severity= takes, at the lowest number of
// each OpenTelemetry range.
var severityLevels = map[string]uint8{"trace": 1, "debug": 5, "info": 9, "warn": 13, "warning": 13, "error": 17, "fatal": 21}

// parseSeverity reads a minimum severity: a level name or a severity
// number from 1 to 24.
func parseSeverity(s string) (uint8, error) {
	if n, ok := severityLevels[strings.ToLower(s)]; ok {
		return n, nil
	}
	if n, err := strconv.Atoi(s); err == nil && n >= 1 && n <= 24 {
		return uint8(n), nil
	}
	return 0, invalid("severity", "%q: want trace, debug, info, warn, error, fatal or a severity number from 1 to 24", s)
}

// GET /api/v1/logs?function=&service=&requestId=&severity=&q=&start=&end=&limit=&cursor=
// lists log records newest first: a function's or a service's recent logs,
// at least a severity, with text in the body.
func (a *API) searchLogs(ctx context.Context, r *http.Request) (any, error) {
	lr, ok := a.r.(store.LogReader)
	if !ok {
		return nil, &Error{Status: http.StatusNotImplemented, Code: CodeInternal, Message: "this store cannot search logs"}
	}
	v := r.URL.Query()
	if err := checkParams(v, logParams, ""); err != nil {
		return nil, err
	}
	q := store.LogQuery{Function: v.Get("function"), Service: v.Get("service"), RequestID: v.Get("requestId"),
		Text: v.Get("q"), Cursor: v.Get("cursor")}
	if q.Cursor != "" {
		if _, err := store.DecodeLogCursor(q.Cursor); err != nil {
			return nil, invalid("cursor", "%q is not a cursor of this API: start again without it", q.Cursor)
		}
	}
	var err error
	if q.TimeRange, err = parseRange(v, a.set.Now(), a.set.DefaultLookback); err != nil {
		return nil, err
	}
	if s := v.Get("severity"); s != "" {
		if q.MinSeverity, err = parseSeverity(s); err != nil {
			return nil, err
		}
	}
	if q.Limit, err = parseLimit("limit", v.Get("limit"), a.set.DefaultLimit, store.MaxLimit); err != nil {
		return nil, err
	}
	logs, next, err := lr.SearchLogs(ctx, q)
	if err != nil {
		return nil, err
	}
	out := LogsResponse{Logs: make([]Log, len(logs)), NextCursor: next}
	for i := range logs {
		out.Logs[i] = toLog(&logs[i])
	}
	return out, nil
}
