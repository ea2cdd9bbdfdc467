package lambda

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ariadnehq/ariadne/internal/model"
	"github.com/ariadnehq/ariadne/internal/store"
)

// HTTP paths of the handlers (DESIGN.md §5).
const (
	PathTelemetry      = "/api/v1/lambda/telemetry"
	PathCloudWatchLogs = "/api/v1/lambda/cloudwatch-logs"
)

// Request headers the extension sets on telemetry deliveries.
const (
	HeaderFunction = "X-Ariadne-Function"
	HeaderVersion  = "X-Ariadne-Function-Version"
	HeaderDropped  = "X-Ariadne-Dropped" // events the extension dropped so far (its buffer was full)
)

// Writer stores batches (store.Writer).
type Writer interface {
	Write(ctx context.Context, b *model.Batch) error
}

// Settings configure the handlers; zero fields take defaults.
type Settings struct {
	Logger *slog.Logger
	Limits Limits
	// MaxBodyBytes bounds a request body as sent (compressed or not).
	// Default 8 MiB.
	MaxBodyBytes int64
	// RetryAfter is announced with 429 and 503 answers. Default 1s.
	RetryAfter time.Duration
	// Registerer receives the handlers' metrics; nil keeps them private.
	Registerer prometheus.Registerer
}

// Handler serves the two ingest endpoints.
type Handler struct {
	w   Writer
	set Settings
	m   *metrics
}

// NewHandler returns the handlers writing to w. It fails only when the
// metrics cannot be registered.
func NewHandler(w Writer, s Settings) (*Handler, error) {
	if s.Logger == nil {
		s.Logger = slog.New(slog.DiscardHandler)
	}
	d := DefaultLimits()
	if s.Limits.MaxEvents <= 0 {
		s.Limits.MaxEvents = d.MaxEvents
	}
	if s.Limits.MaxLogBytes <= 0 {
		s.Limits.MaxLogBytes = d.MaxLogBytes
	}
	if s.Limits.MaxDecodedBytes <= 0 {
		s.Limits.MaxDecodedBytes = d.MaxDecodedBytes
	}
	if s.MaxBodyBytes <= 0 {
		s.MaxBodyBytes = 8 << 20
	}
	if s.RetryAfter <= 0 {
		s.RetryAfter = time.Second
	}
	if s.Registerer == nil {
		s.Registerer = prometheus.NewRegistry()
	}
	m, err := newMetrics(s.Registerer)
	if err != nil {
		return nil, err
	}
	return &Handler{w: w, set: s, m: m}, nil
}

// Register mounts both endpoints on mux.
func (h *Handler) Register(mux *http.ServeMux) {
	mux.Handle(PathTelemetry, h.Telemetry())
	mux.Handle(PathCloudWatchLogs, h.CloudWatchLogs())
}

// Telemetry serves POST /api/v1/lambda/telemetry: a JSON array of Telemetry
// API events. The function is named by the X-Ariadne-Function header (the
// extension sets it) or a platform.initStart event in the batch.
func (h *Handler) Telemetry() http.Handler {
	return h.post("telemetry", func(r *http.Request, body []byte) (any, *model.Batch, int, error) {
		meta := Meta{Function: r.Header.Get(HeaderFunction), Version: r.Header.Get(HeaderVersion)}
		if d, err := strconv.ParseInt(r.Header.Get(HeaderDropped), 10, 64); err == nil && d > 0 {
			// The extension's buffer overflowed at some point; say so once
			// per delivery so an operator can size it.
			h.m.dropped.Inc()
			h.set.Logger.Warn("lambda extension dropped telemetry events", "function", meta.Function, "dropped_total", d)
		}
		b, st, err := ParseTelemetry(body, meta, h.set.Limits)
		return st, b, st.Events, err
	})
}

// CloudWatchLogs serves POST /api/v1/lambda/cloudwatch-logs: a CloudWatch
// Logs subscription delivery ({"awslogs":{"data":…}}, a Firehose HTTP
// endpoint delivery, or the decoded payload). ?function= overrides the name
// taken from the log group.
func (h *Handler) CloudWatchLogs() http.Handler {
	return h.post("cloudwatch-logs", func(r *http.Request, body []byte) (any, *model.Batch, int, error) {
		res, err := ParseCloudWatch(body, Meta{Function: r.URL.Query().Get("function")}, h.set.Limits)
		if err != nil {
			return nil, nil, 0, err
		}
		if res.FirehoseRequestID != "" || r.Header.Get("X-Amz-Firehose-Request-Id") != "" {
			id := res.FirehoseRequestID
			if id == "" {
				id = r.Header.Get("X-Amz-Firehose-Request-Id")
			}
			// Firehose wants its request id echoed.
			return map[string]any{"requestId": id, "timestamp": time.Now().UnixMilli()}, res.Batch, res.Stats.Events, nil
		}
		return res.Stats, res.Batch, res.Stats.Events, nil
	})
}

type parseFunc func(r *http.Request, body []byte) (answer any, b *model.Batch, events int, err error)

func (h *Handler) post(endpoint string, parse parseFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", "POST")
			h.fail(w, http.StatusMethodNotAllowed, "method_not_allowed", fmt.Sprintf("method %s not allowed on %s; use POST", r.Method, r.URL.Path))
			h.m.deliveries.WithLabelValues(endpoint, "method_not_allowed").Inc()
			return
		}
		body, err := h.readBody(w, r)
		if err != nil {
			h.m.deliveries.WithLabelValues(endpoint, h.failErr(w, r, err)).Inc()
			return
		}
		answer, b, events, err := parse(r, body)
		if err != nil {
			h.m.deliveries.WithLabelValues(endpoint, h.failErr(w, r, err)).Inc()
			return
		}
		if b != nil && b.Len() > 0 {
			if err := h.w.Write(r.Context(), b); err != nil {
				h.m.deliveries.WithLabelValues(endpoint, h.failErr(w, r, storeError{err})).Inc()
				return
			}
			h.m.rows.WithLabelValues(endpoint, "invocations").Add(float64(len(b.Invocations)))
			h.m.rows.WithLabelValues(endpoint, "logs").Add(float64(len(b.Logs)))
		}
		h.m.events.WithLabelValues(endpoint).Add(float64(events))
		h.m.deliveries.WithLabelValues(endpoint, "ok").Inc()
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(answer)
	})
}

// readBody reads the body within MaxBodyBytes, undoing Content-Encoding
// gzip within MaxDecodedBytes.
func (h *Handler) readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.set.MaxBodyBytes))
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return nil, fmt.Errorf("body over %d bytes: %w", mbe.Limit, ErrTooLarge)
	}
	if err != nil {
		return nil, fmt.Errorf("read body: %w", err)
	}
	switch enc := strings.ToLower(r.Header.Get("Content-Encoding")); enc {
	case "", "identity":
		return body, nil
	case "gzip":
		budget := h.set.Limits.MaxDecodedBytes
		return gunzip(body, &budget)
	default:
		return nil, fmt.Errorf("content encoding %q: want gzip or none", enc)
	}
}

// failErr classifies err once: store overload and unavailability are
// retryable (429/503 with Retry-After), sizes 413, the rest the sender's
// fault (400). It returns the error code, for metrics.
func (h *Handler) failErr(w http.ResponseWriter, r *http.Request, err error) string {
	retry := strconv.Itoa(max(1, int(h.set.RetryAfter.Round(time.Second).Seconds())))
	var (
		status    int
		code, msg string
	)
	switch {
	case errors.Is(err, store.ErrOverloaded):
		w.Header().Set("Retry-After", retry)
		status, code, msg = http.StatusTooManyRequests, "overloaded", "the store is overloaded; retry later"
	case errors.Is(err, store.ErrUnavailable), errors.Is(err, context.DeadlineExceeded):
		w.Header().Set("Retry-After", retry)
		status, code, msg = http.StatusServiceUnavailable, "unavailable", "the store is unavailable; retry later"
	case r.Context().Err() != nil:
		// The client went away; nobody reads the answer.
		status, code, msg = 499, "canceled", "request canceled"
	case errors.Is(err, ErrTooLarge):
		status, code, msg = http.StatusRequestEntityTooLarge, "too_large", err.Error()
	case isStoreFailure(err) && !errors.Is(err, store.ErrInvalid):
		h.set.Logger.Error("write lambda delivery", "path", r.URL.Path, "err", err)
		status, code, msg = http.StatusInternalServerError, "internal", "internal error"
	default:
		status, code, msg = http.StatusBadRequest, "invalid_argument", err.Error()
	}
	h.fail(w, status, code, msg)
	return code
}

// storeError marks errors the store returned (anything not ours to blame
// on the sender).
type storeError struct{ err error }

func (e storeError) Error() string { return e.err.Error() }
func (e storeError) Unwrap() error { return e.err }

func isStoreFailure(err error) bool {
	var se storeError
	return errors.As(err, &se)
}

func (h *Handler) fail(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]string{"code": code, "message": msg}})
}
