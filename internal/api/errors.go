package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/ariadnehq/ariadne/internal/store"
)

// Error codes of the {"error":{"code":…}} body. They are part of the API:
// clients switch on them, so they only ever grow.
const (
	CodeInvalidArgument  = "invalid_argument"   // 400
	CodeNotFound         = "not_found"          // 404
	CodeMethodNotAllowed = "method_not_allowed" // 405
	CodeOverloaded       = "overloaded"         // 429, retry after Retry-After
	CodeCanceled         = "canceled"           // 499, the client went away
	CodeInternal         = "internal"           // 500
	CodeUnavailable      = "unavailable"        // 503, retry after Retry-After
	CodeTimeout          = "timeout"            // 503, the query ran out of time
)

// StatusClientClosedRequest is the (nginx) status logged when the client
// hung up before the answer; nobody receives it, but logs and metrics do.
const StatusClientClosedRequest = 499

// Error is an API error: what the client receives, already classified.
type Error struct {
	Status  int
	Code    string
	Message string
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// ErrorBody is the JSON of every error answer.
type ErrorBody struct {
	Error ErrorDetail `json:"error"`
}

// ErrorDetail is the inside of ErrorBody.
type ErrorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// invalid builds the 400 for a bad query parameter; the message names it.
func invalid(param, format string, args ...any) *Error {
	return &Error{Status: http.StatusBadRequest, Code: CodeInvalidArgument,
		Message: param + ": " + fmt.Sprintf(format, args...)}
}

// classify is the one mapping from errors to answers (STYLE.md: "one place
// maps API errors to HTTP status"). Store errors are matched with errors.Is
// so engines may wrap them freely. Messages of permanent client errors are
// passed through because they say what to fix; anything unclassified is a
// 500 whose message reveals nothing of the internals.
func classify(ctx context.Context, err error) *Error {
	var ae *Error
	switch {
	case errors.As(err, &ae):
		return ae
	case errors.Is(err, store.ErrNotFound):
		return &Error{Status: http.StatusNotFound, Code: CodeNotFound, Message: err.Error()}
	case errors.Is(err, store.ErrInvalid):
		return &Error{Status: http.StatusBadRequest, Code: CodeInvalidArgument, Message: err.Error()}
	case errors.Is(err, store.ErrOverloaded):
		return &Error{Status: http.StatusTooManyRequests, Code: CodeOverloaded, Message: "the store is overloaded; retry later"}
	case errors.Is(err, store.ErrUnavailable):
		return &Error{Status: http.StatusServiceUnavailable, Code: CodeUnavailable, Message: "the store is unavailable; retry later"}
	case ctx.Err() != nil && errors.Is(err, context.Canceled):
		return &Error{Status: StatusClientClosedRequest, Code: CodeCanceled, Message: "request canceled"}
	case errors.Is(err, context.DeadlineExceeded):
		return &Error{Status: http.StatusServiceUnavailable, Code: CodeTimeout, Message: "the query took too long; narrow the time range or the filters"}
	default:
		return &Error{Status: http.StatusInternalServerError, Code: CodeInternal, Message: "internal error"}
	}
}

// writeError classifies err and writes it. Internal errors are logged with
// their full text since the client never sees it.
func (a *API) writeError(w http.ResponseWriter, r *http.Request, err error) {
	e := classify(r.Context(), err)
	switch e.Status {
	case http.StatusInternalServerError:
		a.set.Logger.ErrorContext(r.Context(), "api request failed", "path", r.URL.Path, "err", err)
	case http.StatusTooManyRequests, http.StatusServiceUnavailable:
		secs := int((a.set.RetryAfter + 999_999_999) / 1_000_000_000)
		w.Header().Set("Retry-After", strconv.Itoa(secs))
		a.set.Logger.WarnContext(r.Context(), "api request refused", "path", r.URL.Path, "err", err)
	}
	a.writeJSON(w, r, e.Status, ErrorBody{Error: ErrorDetail{Code: e.Code, Message: e.Message}})
}

// writeJSON encodes v fully before writing anything, so that an encoding
// failure can still become a clean 500 instead of a truncated 200, and
// gzips it when it is large and the client accepts gzip.
func (a *API) writeJSON(w http.ResponseWriter, r *http.Request, status int, v any) {
	body, ok := v.(encodedJSON)
	if !ok {
		var err error
		if body, err = json.Marshal(v); err != nil {
			a.set.Logger.ErrorContext(r.Context(), "encode api response", "path", r.URL.Path, "err", err)
			status = http.StatusInternalServerError
			body = []byte(`{"error":{"code":"internal","message":"internal error"}}`)
		}
		body = append(body, '\n')
	}
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	if len(body) >= minGzip {
		// Large answers (a 20,000-span trace is 15 MiB) go compressed to
		// clients that take it.
		h.Add("Vary", "Accept-Encoding")
		if acceptsGzip(r) {
			body = gzipBody(body)
			h.Set("Content-Encoding", "gzip")
		}
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}
