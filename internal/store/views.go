package store

import (
	"context"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/ariadnehq/ariadne/internal/model"
)

// The reads of this file serve the UI's lists (an issue's occurrences over
// time, a function's recent logs). Each is its own interface, separate from
// Reader and IssueStore, so that an engine without it keeps compiling and
// the API answers 501 for what it lacks; storetest checks the engines that
// have them.

// IssueSeriesReader reads the occurrences of issues over time, from the
// per-minute counts CommitDetection keeps (an occurrence is counted in the
// minute of its Last).
type IssueSeriesReader interface {
	// IssueSeries returns, for each of ids (at most MaxLimit), the
	// occurrences counted in each bucket of q: counts[i] sums the minutes
	// m with q.Start + i·q.Step ≤ m < q.Start + (i+1)·q.Step and m < q.End.
	// Every id gets q.Buckets() counts, zeros when nothing was counted or
	// the issue is unknown. ErrInvalid when q is malformed (see Check).
	IssueSeries(ctx context.Context, ids []string, q SeriesRange) (map[string][]int64, error)
}

// SeriesRange cuts [Start, End) into buckets of Step ns.
type SeriesRange struct {
	Start, End int64
	Step       int64
}

// MaxSeriesBuckets bounds the buckets of one series.
const MaxSeriesBuckets = 1000

// Buckets is how many buckets r holds: the last one may be cut by End.
func (r SeriesRange) Buckets() int {
	if r.Step <= 0 || r.End <= r.Start {
		return 0
	}
	return int((r.End - r.Start + r.Step - 1) / r.Step)
}

// Check says whether r is one an engine answers: both bounds set, a step
// of whole minutes (counts are kept per minute), at most MaxSeriesBuckets.
func (r SeriesRange) Check() error {
	switch {
	case r.Start <= 0 || r.End <= r.Start:
		return fmt.Errorf("series range [%d, %d): want 0 < start < end: %w", r.Start, r.End, ErrInvalid)
	case r.Step <= 0 || r.Step%int64(time.Minute) != 0:
		return fmt.Errorf("series step %d ns: want whole minutes: %w", r.Step, ErrInvalid)
	case r.Buckets() > MaxSeriesBuckets:
		return fmt.Errorf("series of %d buckets: at most %d: %w", r.Buckets(), MaxSeriesBuckets, ErrInvalid)
	}
	return nil
}

// LogReader searches log records across traces and invocations.
type LogReader interface {
	// SearchLogs returns the log records matching q, newest first (ties in
	// an order the engine keeps stable between calls), at most q.Limit
	// (capped at MaxLimit), and a cursor for the next page ("" on the last
	// page).
	SearchLogs(ctx context.Context, q LogQuery) ([]model.LogRecord, string, error)
}

// LogQuery selects log records. Zero fields do not filter.
type LogQuery struct {
	// TimeRange bounds the record's time.
	TimeRange
	// Function is the record's function (faas.name or the Lambda ARN).
	Function string
	// Service is the record's service.name.
	Service string
	// MinSeverity keeps records whose severity number is at least this
	// (OpenTelemetry: 5 debug, 9 info, 13 warn, 17 error, 21 fatal); a
	// record without a severity number then never matches.
	MinSeverity uint8
	// Text is searched, case-insensitively, in the body (as stored: a
	// string body as is, any other as its JSON).
	Text string
	// RequestID keeps the records of one invocation (faas.invocation_id).
	RequestID string
	Limit     int
	// Cursor continues a previous search (the returned cursor).
	Cursor string
}

// LogCursor is where a page of logs ended: the time of its last record and
// how many records of that very time the pages so far returned. Engines
// share the encoding so that a cursor means the same to each.
type LogCursor struct {
	Time int64
	Skip int
}

// Encode is the opaque form of c handed to clients.
func (c LogCursor) Encode() string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(c.Time, 10) + ":" + strconv.Itoa(c.Skip)))
}

// DecodeLogCursor parses a cursor made by Encode; ErrInvalid otherwise.
func DecodeLogCursor(s string) (LogCursor, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err == nil {
		t, n, ok := strings.Cut(string(b), ":")
		if ok {
			var c LogCursor
			c.Time, err = strconv.ParseInt(t, 10, 64)
			if err == nil {
				c.Skip, err = strconv.Atoi(n)
				if err == nil && c.Skip >= 0 {
					return c, nil
				}
			}
		}
	}
	return LogCursor{}, fmt.Errorf("log cursor %q: not a cursor of this API: %w", s, ErrInvalid)
}

// NextLogCursor is the cursor after page, a page of at most limit records
// in the order SearchLogs returns them, that continued from prev (nil for
// the first page): "" when the page was not full.
func NextLogCursor(page []model.LogRecord, limit int, prev *LogCursor) string {
	if len(page) == 0 || len(page) < limit {
		return ""
	}
	last := page[len(page)-1].Time
	c := LogCursor{Time: last}
	for i := len(page) - 1; i >= 0 && page[i].Time == last; i-- {
		c.Skip++
	}
	if prev != nil && prev.Time == last && c.Skip == len(page) {
		// The whole page had the cursor's time: skip those seen before too.
		c.Skip += prev.Skip
	}
	return c.Encode()
}
