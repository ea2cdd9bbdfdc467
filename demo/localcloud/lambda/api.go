package lambda

import (
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"sort"
)

// apiHandler serves the part of the Lambda REST API that clients use to
// invoke functions: Invoke (RequestResponse, Event, DryRun), GetFunction and
// ListFunctions (names and ARNs only).
func (s *Service) apiHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /2015-03-31/functions/{name}/invocations", s.handleInvoke)
	mux.HandleFunc("GET /2015-03-31/functions/{name}", s.handleGetFunction)
	mux.HandleFunc("GET /2015-03-31/functions/", s.handleListFunctions)
	mux.HandleFunc("GET /2015-03-31/functions", s.handleListFunctions)
	return mux
}

// restError writes an error the way Lambda's REST-JSON protocol does.
func restError(w http.ResponseWriter, status int, code, msg string, extra map[string]string) {
	w.Header().Set("x-amzn-ErrorType", code)
	body := map[string]string{"Type": "User", "message": msg}
	for k, v := range extra {
		body[k] = v
	}
	writeJSON(w, status, body)
}

func (s *Service) writeInvokeError(w http.ResponseWriter, err error) {
	switch {
	case errors.Is(err, ErrNotFound):
		restError(w, http.StatusNotFound, "ResourceNotFoundException", "Function not found: "+err.Error(), nil)
	case errors.Is(err, errAccountLimit):
		restError(w, http.StatusTooManyRequests, "TooManyRequestsException", "Rate Exceeded.",
			map[string]string{"Reason": "ConcurrentInvocationLimitExceeded"})
	case errors.Is(err, ErrThrottled):
		restError(w, http.StatusTooManyRequests, "TooManyRequestsException", "Rate Exceeded.",
			map[string]string{"Reason": "ReservedFunctionConcurrentInvocationLimitExceeded"})
	case errors.Is(err, ErrTooLarge):
		restError(w, http.StatusRequestEntityTooLarge, "RequestTooLargeException", "Request must be smaller than the payload limit for the invocation type.", nil)
	default:
		restError(w, http.StatusServiceUnavailable, "ServiceException", err.Error(), nil)
	}
}

func (s *Service) handleInvoke(w http.ResponseWriter, r *http.Request) {
	payload, err := io.ReadAll(io.LimitReader(r.Body, maxSyncPayload+1))
	if err != nil {
		restError(w, http.StatusBadRequest, "InvalidRequestContentException", err.Error(), nil)
		return
	}
	in := InvokeInput{
		Function:      r.PathValue("name"),
		Payload:       payload,
		TraceHeader:   r.Header.Get("X-Amzn-Trace-Id"),
		ClientContext: r.Header.Get("X-Amz-Client-Context"),
	}
	switch r.Header.Get("X-Amz-Invocation-Type") {
	case "Event":
		id, err := s.InvokeAsync(r.Context(), in)
		if err != nil {
			s.writeInvokeError(w, err)
			return
		}
		w.Header().Set("x-amzn-RequestId", id)
		w.WriteHeader(http.StatusAccepted)
	case "DryRun":
		if _, err := s.lookup(in.Function); err != nil {
			s.writeInvokeError(w, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	default:
		res, err := s.Invoke(r.Context(), in)
		if err != nil {
			s.writeInvokeError(w, err)
			return
		}
		h := w.Header()
		h.Set("x-amzn-RequestId", res.RequestID)
		h.Set("X-Amz-Executed-Version", "$LATEST")
		h.Set("Content-Type", "application/json")
		if res.FunctionError != "" {
			h.Set("X-Amz-Function-Error", res.FunctionError)
		}
		if r.Header.Get("X-Amz-Log-Type") == "Tail" {
			h.Set("X-Amz-Log-Result", base64.StdEncoding.EncodeToString([]byte(res.LogTail)))
		}
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(res.Payload)
	}
}

func (s *Service) functionDoc(fn *function) map[string]any {
	c := fn.cfg
	return map[string]any{
		"FunctionName": c.Name, "FunctionArn": fn.arn, "Runtime": "provided.al2023",
		"Handler": c.Handler, "MemorySize": c.MemoryMB, "Timeout": int(c.Timeout.Seconds()),
		"Version": "$LATEST", "State": "Active", "PackageType": "Zip",
	}
}

func (s *Service) handleGetFunction(w http.ResponseWriter, r *http.Request) {
	fn, err := s.lookup(r.PathValue("name"))
	if err != nil {
		s.writeInvokeError(w, err)
		return
	}
	doc := map[string]any{"Configuration": s.functionDoc(fn)}
	if rc := fn.cfg.ReservedConcurrency; rc != nil {
		doc["Concurrency"] = map[string]int{"ReservedConcurrentExecutions": *rc}
	}
	writeJSON(w, http.StatusOK, doc)
}

func (s *Service) handleListFunctions(w http.ResponseWriter, r *http.Request) {
	names := s.Functions()
	sort.Strings(names)
	list := make([]map[string]any, 0, len(names))
	for _, n := range names {
		if fn, err := s.lookup(n); err == nil {
			list = append(list, s.functionDoc(fn))
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"Functions": list})
}
