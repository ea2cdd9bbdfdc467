package lambda

import (
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
)

// handler serves the Runtime API (2018-06-01), the Extensions API
// (2020-01-01) and the Telemetry API (2022-07-01) of one environment, all on
// the address in AWS_LAMBDA_RUNTIME_API as on Lambda.
func (e *env) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /2018-06-01/runtime/invocation/next", e.handleNext)
	mux.HandleFunc("POST /2018-06-01/runtime/invocation/{id}/response", e.handleResponse(false))
	mux.HandleFunc("POST /2018-06-01/runtime/invocation/{id}/error", e.handleResponse(true))
	mux.HandleFunc("POST /2018-06-01/runtime/init/error", e.handleInitError)
	mux.HandleFunc("POST /2020-01-01/extension/register", e.handleRegister)
	mux.HandleFunc("GET /2020-01-01/extension/event/next", e.handleExtensionNext)
	mux.HandleFunc("POST /2020-01-01/extension/init/error", e.handleExtensionError)
	mux.HandleFunc("POST /2020-01-01/extension/exit/error", e.handleExtensionError)
	mux.HandleFunc("PUT /2022-07-01/telemetry", e.handleSubscribe)
	mux.HandleFunc("PUT /2022-07-01/telemetry/", e.handleSubscribe)
	return mux
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func apiError(w http.ResponseWriter, status int, typ, msg string) {
	writeJSON(w, status, map[string]string{"errorType": typ, "errorMessage": msg})
}

func (e *env) handleNext(w http.ResponseWriter, r *http.Request) {
	e.readyOnce.Do(func() { close(e.ready) })
	select {
	case inv := <-e.next:
		h := w.Header()
		h.Set("Lambda-Runtime-Aws-Request-Id", inv.requestID)
		h.Set("Lambda-Runtime-Deadline-Ms", strconv.FormatInt(inv.deadline.UnixMilli(), 10))
		h.Set("Lambda-Runtime-Invoked-Function-Arn", inv.arn)
		h.Set("Lambda-Runtime-Trace-Id", inv.trace)
		if inv.clientContext != "" {
			h.Set("Lambda-Runtime-Client-Context", inv.clientContext)
		}
		h.Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(inv.payload)
	case <-r.Context().Done():
	case <-e.closed:
		apiError(w, http.StatusInternalServerError, "Runtime.Shutdown", "environment is shutting down")
	}
}

func (e *env) handleResponse(isError bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue("id")
		body, err := io.ReadAll(io.LimitReader(r.Body, maxSyncPayload+1))
		if err != nil {
			apiError(w, http.StatusBadRequest, "InvalidRequest", err.Error())
			return
		}
		e.mu.Lock()
		inv := e.current
		e.mu.Unlock()
		if inv == nil || inv.requestID != id {
			apiError(w, http.StatusBadRequest, "InvalidRequestID", "Invalid request ID")
			return
		}
		res := runtimeResult{body: body, isError: isError}
		if len(body) > maxSyncPayload {
			res = runtimeResult{isError: true, errorType: "Function.ResponseSizeTooLarge",
				body: errorDoc("Response payload size exceeded maximum allowed payload size (6291556 bytes).", "Function.ResponseSizeTooLarge")}
		}
		if isError {
			res.errorType = r.Header.Get("Lambda-Runtime-Function-Error-Type")
			var doc struct {
				ErrorType string `json:"errorType"`
			}
			if json.Unmarshal(body, &doc) == nil && doc.ErrorType != "" {
				res.errorType = doc.ErrorType
			}
		}
		select {
		case inv.done <- res:
		default:
			apiError(w, http.StatusForbidden, "InvalidStateTransition", "State transition from Ready to InvocationResponse failed")
			return
		}
		writeJSON(w, http.StatusAccepted, map[string]string{"status": "OK"})
	}
}

func (e *env) handleInitError(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	res := runtimeResult{body: body, isError: true, errorType: r.Header.Get("Lambda-Runtime-Function-Error-Type")}
	select {
	case e.initErr <- res:
	default:
	}
	writeJSON(w, http.StatusAccepted, map[string]string{"status": "OK"})
}

func (e *env) handleRegister(w http.ResponseWriter, r *http.Request) {
	name := r.Header.Get("Lambda-Extension-Name")
	if name == "" {
		apiError(w, http.StatusBadRequest, "Extension.InvalidName", "Lambda-Extension-Name header is required")
		return
	}
	var req struct {
		Events []string `json:"events"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<16)).Decode(&req); err != nil {
		apiError(w, http.StatusBadRequest, "InvalidRequestFormat", err.Error())
		return
	}
	x := &extension{id: newRequestID(), name: name, events: map[string]bool{}, queue: make(chan []byte, 1)}
	for _, ev := range req.Events {
		if ev != "INVOKE" && ev != "SHUTDOWN" {
			apiError(w, http.StatusBadRequest, "Extension.InvalidEvent", "unknown event "+ev)
			return
		}
		x.events[ev] = true
	}
	e.mu.Lock()
	if !e.initPhase {
		e.mu.Unlock()
		apiError(w, http.StatusForbidden, "Extension.InvalidState", "registration is only allowed during init")
		return
	}
	e.exts[x.id] = x
	close(e.extChanged)
	e.extChanged = make(chan struct{})
	e.mu.Unlock()
	cfg := e.fn.cfg
	w.Header().Set("Lambda-Extension-Identifier", x.id)
	writeJSON(w, http.StatusOK, map[string]string{
		"functionName": cfg.Name, "functionVersion": "$LATEST", "handler": cfg.Handler,
		"accountId": e.svc.set.AccountID,
	})
}

func (e *env) extension(w http.ResponseWriter, r *http.Request) *extension {
	id := r.Header.Get("Lambda-Extension-Identifier")
	e.mu.Lock()
	x := e.exts[id]
	e.mu.Unlock()
	if x == nil {
		apiError(w, http.StatusForbidden, "Extension.UnknownExtensionIdentifier", "unknown Lambda-Extension-Identifier")
	}
	return x
}

func (e *env) handleExtensionNext(w http.ResponseWriter, r *http.Request) {
	x := e.extension(w, r)
	if x == nil {
		return
	}
	e.mu.Lock()
	first := !x.ready
	x.ready = true
	x.waiting = true
	close(e.extChanged)
	e.extChanged = make(chan struct{})
	e.mu.Unlock()
	if first {
		events := []string{}
		for _, ev := range []string{"INVOKE", "SHUTDOWN"} {
			if x.events[ev] {
				events = append(events, ev)
			}
		}
		e.tel.emit("platform.extension", map[string]any{"name": x.name, "state": "Ready", "events": events})
		e.platform("", "EXTENSION\tName: "+x.name+"\tState: Ready\tEvents: ["+strings.Join(events, ",")+"]")
	}
	select {
	case b := <-x.queue:
		w.Header().Set("Lambda-Extension-Event-Identifier", newRequestID())
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(b)
	case <-r.Context().Done():
		e.mu.Lock()
		x.waiting = false
		e.mu.Unlock()
	case <-e.closed:
		apiError(w, http.StatusInternalServerError, "Extension.Shutdown", "environment is shutting down")
	}
}

func (e *env) handleExtensionError(w http.ResponseWriter, r *http.Request) {
	x := e.extension(w, r)
	if x == nil {
		return
	}
	e.platform("", "EXTENSION\tName: "+x.name+"\tState: Error\tError Type: "+r.Header.Get("Lambda-Extension-Function-Error-Type"))
	writeJSON(w, http.StatusAccepted, map[string]string{"status": "OK"})
}

func (e *env) handleSubscribe(w http.ResponseWriter, r *http.Request) {
	x := e.extension(w, r)
	if x == nil {
		return
	}
	var req subscribeRequest
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<16)).Decode(&req); err != nil {
		apiError(w, http.StatusBadRequest, "ValidationError", err.Error())
		return
	}
	uri, err := req.validate()
	if err != nil {
		apiError(w, http.StatusBadRequest, "ValidationError", err.Error())
		return
	}
	e.tel.subscribe(x.name, req, uri)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte(`"OK"`))
}
