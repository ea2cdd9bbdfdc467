package otlp

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	spb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
)

// OTLP/HTTP paths (OTLP specification defaults).
const (
	PathTraces = "/v1/traces"
	PathLogs   = "/v1/logs"
)

const protoHTTP = "http"

// HTTPHandler serves POST /v1/traces and POST /v1/logs. Other paths are 404;
// mount it at the root of the OTLP/HTTP listener.
func (r *Receiver) HTTPHandler() http.Handler { return httpHandler{r} }

// NewHTTPServer returns an http.Server for addr serving HTTPHandler with
// timeouts that keep slow or stalled clients from holding connections
// (slowloris): the caller runs ListenAndServe or Serve and Shutdown.
func (r *Receiver) NewHTTPServer(addr string) *http.Server {
	return &http.Server{
		Addr:              addr,
		Handler:           r.HTTPHandler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
	}
}

type httpHandler struct{ r *Receiver }

func (h httpHandler) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	start := time.Now()
	r := h.r
	var sig signal
	switch req.URL.Path {
	case PathTraces:
		sig = signalTraces
	case PathLogs:
		sig = signalLogs
	default:
		http.NotFound(w, req)
		return
	}
	if req.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		writeText(w, http.StatusMethodNotAllowed, "method "+req.Method+" not allowed: OTLP/HTTP takes POST")
		r.m.request(sig, protoHTTP, "method_not_allowed", start)
		return
	}
	enc, err := encodingOf(req.Header.Get("Content-Type"))
	if err != nil {
		writeText(w, http.StatusUnsupportedMediaType, err.Error())
		r.m.request(sig, protoHTTP, kindUnsupportedMedia.String(), start)
		r.logFailure(req.Context(), protoHTTP, sig, err)
		return
	}
	rej, err := h.serve(req.Context(), req, sig, enc)
	r.m.request(sig, protoHTTP, outcome(&rej, err), start)
	if err != nil {
		r.logFailure(req.Context(), protoHTTP, sig, err)
		h.writeError(w, enc, err)
		return
	}
	h.writeSuccess(w, sig, enc, &rej)
}

// serve reads, decodes and writes one request.
func (h httpHandler) serve(ctx context.Context, req *http.Request, sig signal, enc Encoding) (Rejections, error) {
	r := h.r
	release, err := r.acquire(ctx)
	if err != nil {
		return Rejections{}, err
	}
	defer release()
	r.m.inflight.Inc()
	defer r.m.inflight.Dec()

	limit := r.lim.MaxHTTPBodyBytes
	if req.ContentLength > limit {
		return Rejections{}, fmt.Errorf("read body: Content-Length %d over the limit of %d bytes: %w", req.ContentLength, limit, ErrTooLarge)
	}
	raw := r.pools.getBuffer()
	defer r.pools.putBuffer(raw)
	if err := readLimited(req.Body, limit, raw); err != nil {
		return Rejections{}, err
	}
	body := raw.Bytes()
	switch ce := strings.ToLower(strings.TrimSpace(req.Header.Get("Content-Encoding"))); ce {
	case "", "identity":
	default:
		dec := r.pools.getBuffer()
		defer r.pools.putBuffer(dec)
		if err := r.pools.decompress(ce, body, limit, dec); err != nil {
			return Rejections{}, err
		}
		body = dec.Bytes()
	}
	// Decoders copy what they keep out of body, so the pooled buffers may
	// be reused as soon as these functions return.
	if sig == signalLogs {
		return r.exportLogs(ctx, protoHTTP, body, enc)
	}
	return r.exportTraces(ctx, protoHTTP, body, enc)
}

// encodingOf maps a Content-Type to the body encoding.
func encodingOf(contentType string) (Encoding, error) {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil && contentType != "" {
		return 0, fmt.Errorf("parse content type %q: %v: %w", truncate(contentType), err, errUnsupportedMedia)
	}
	switch mt {
	case ContentTypeProto:
		return EncodingProto, nil
	case ContentTypeJSON:
		return EncodingJSON, nil
	}
	return 0, fmt.Errorf("content type %q (want %s or %s): %w", truncate(contentType), ContentTypeProto, ContentTypeJSON, errUnsupportedMedia)
}

func (h httpHandler) writeSuccess(w http.ResponseWriter, sig signal, enc Encoding, rej *Rejections) {
	body, err := responseBody(sig, enc, rej)
	if err != nil {
		// The data is committed; the client must still hear success or it
		// would resend. An empty 200 is a valid OTLP success.
		h.r.log.Warn("marshal OTLP response", slog.Any("error", err))
		body = nil
	}
	w.Header().Set("Content-Type", enc.contentType())
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}

// responseBody encodes the Export response of a successful request: empty
// on full success, partial_success when items were refused (OTLP spec).
func responseBody(sig signal, enc Encoding, rej *Rejections) ([]byte, error) {
	if sig == signalLogs {
		resp := plogotlp.NewExportResponse()
		if rej.Total > 0 {
			resp.PartialSuccess().SetRejectedLogRecords(rej.Total)
			resp.PartialSuccess().SetErrorMessage(rej.Message(sig.items()))
		}
		return marshalResponse(resp, enc)
	}
	resp := ptraceotlp.NewExportResponse()
	if rej.Total > 0 {
		resp.PartialSuccess().SetRejectedSpans(rej.Total)
		resp.PartialSuccess().SetErrorMessage(rej.Message(sig.items()))
	}
	return marshalResponse(resp, enc)
}

type marshaler interface {
	MarshalProto() ([]byte, error)
	MarshalJSON() ([]byte, error)
}

func marshalResponse(m marshaler, enc Encoding) ([]byte, error) {
	if enc == EncodingJSON {
		return m.MarshalJSON()
	}
	return m.MarshalProto()
}

// writeError answers a failed request with the status the OTLP
// specification prescribes and a google.rpc.Status body in the request's
// encoding.
func (h httpHandler) writeError(w http.ResponseWriter, enc Encoding, err error) {
	kind := errKindOf(err)
	status, code := httpStatusOf(kind)
	if kind == kindOverloaded || kind == kindUnavailable || kind == kindCanceled {
		w.Header().Set("Retry-After", retryAfterSeconds(h.r.lim.RetryAfter))
	}
	if kind == kindTooLarge {
		// The rest of the body is not read; do not keep the connection.
		w.Header().Set("Connection", "close")
	}
	st := &spb.Status{Code: int32(code), Message: err.Error()}
	var body []byte
	var merr error
	if enc == EncodingJSON {
		body, merr = protojson.Marshal(st)
	} else {
		body, merr = proto.Marshal(st)
	}
	if merr != nil {
		writeText(w, status, err.Error())
		return
	}
	w.Header().Set("Content-Type", enc.contentType())
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = bytes.NewReader(body).WriteTo(w)
}

// httpStatusOf is the one HTTP mapping of the error classes.
func httpStatusOf(k errKind) (int, codes.Code) {
	switch k {
	case kindMalformed:
		return http.StatusBadRequest, codes.InvalidArgument
	case kindTooLarge:
		return http.StatusRequestEntityTooLarge, codes.ResourceExhausted
	case kindUnsupportedMedia:
		return http.StatusUnsupportedMediaType, codes.InvalidArgument
	case kindOverloaded:
		return http.StatusTooManyRequests, codes.ResourceExhausted
	}
	return http.StatusServiceUnavailable, codes.Unavailable
}

func retryAfterSeconds(d time.Duration) string {
	s := int64((d + time.Second - 1) / time.Second)
	if s < 1 {
		s = 1
	}
	return strconv.FormatInt(s, 10)
}

func writeText(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(msg + "\n"))
}
