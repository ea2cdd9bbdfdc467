package shop

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Card tokens the processor treats specially (the faults of the payment
// side live in the card processor, as they do in real life).
const (
	cardSlowRisk = "tok_risk_slow" // the risk service stalls once per order
	cardBusy     = "tok_busy"      // the first charge attempt gets 503
	cardLagging  = "tok_lagging"   // the first charge succeeds but answers late
)

// maxTracked bounds the processor's per-order memory.
const maxTracked = 10000

// processor is the stand-in for an external card processor (an HTTP API
// the shop does not own) and the demo's control endpoint.
type processor struct {
	url    string
	srv    *http.Server
	stop   chan struct{}
	done   chan struct{}
	log    *slog.Logger
	inject func(context.Context, Fault) ([]string, error)

	mu       sync.Mutex
	attempts map[string]int // "path order" → requests seen
	charged  map[string]int // order → charges made
	rng      *rand.Rand
}

func startProcessor(log *slog.Logger, inject func(context.Context, Fault) ([]string, error)) (*processor, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("listen for the card processor: %w", err)
	}
	p := &processor{url: "http://" + ln.Addr().String(), stop: make(chan struct{}), done: make(chan struct{}), log: log,
		inject: inject, attempts: map[string]int{}, charged: map[string]int{}, rng: rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 7))}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/risk", p.risk)
	mux.HandleFunc("POST /v1/charges", p.charge)
	mux.HandleFunc("GET /v1/charges", p.ledger)
	mux.HandleFunc("POST /demo/faults/{fault}", p.control)
	p.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		defer close(p.done)
		if err := p.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Warn("card processor stopped", "err", err)
		}
	}()
	return p, nil
}

func (p *processor) close() error {
	close(p.stop) // wakes handlers that are sleeping on purpose
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := p.srv.Shutdown(ctx)
	<-p.done
	if err != nil {
		return fmt.Errorf("stop card processor: %w", err)
	}
	return nil
}

// attempt counts a request for (what, order) and returns its number.
func (p *processor) attempt(what, order string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.attempts) >= maxTracked {
		clear(p.attempts)
	}
	p.attempts[what+" "+order]++
	return p.attempts[what+" "+order]
}

func (p *processor) jitter(min, max time.Duration) time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	return min + time.Duration(p.rng.Int64N(int64(max-min)))
}

// sleep waits d unless the client left or the processor stops.
func (p *processor) sleep(r *http.Request, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-r.Context().Done():
		return false
	case <-p.stop:
		return false
	}
}

func (p *processor) risk(w http.ResponseWriter, r *http.Request) {
	card, order := r.URL.Query().Get("card"), r.URL.Query().Get("order")
	d := p.jitter(15*time.Millisecond, 60*time.Millisecond)
	if card == cardSlowRisk && p.attempt("risk", order) == 1 {
		d = 8 * time.Second // a stalled fraud model
	}
	if !p.sleep(r, d) {
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"order": order, "score": 12})
}

func (p *processor) charge(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Order  string  `json:"order"`
		Card   string  `json:"card"`
		Amount float64 `json:"amount"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<16)).Decode(&req); err != nil || req.Order == "" {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "a charge needs an order"})
		return
	}
	n := p.attempt("charge", req.Order)
	if req.Card == cardBusy && n == 1 {
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"error": "processor busy, retry later"})
		return
	}
	p.mu.Lock()
	if len(p.charged) >= maxTracked {
		clear(p.charged)
	}
	p.charged[req.Order]++
	charges := p.charged[req.Order]
	p.mu.Unlock()
	d := p.jitter(30*time.Millisecond, 120*time.Millisecond)
	if req.Card == cardLagging && n == 1 {
		d = 2500 * time.Millisecond // charged, but the answer comes too late
	}
	p.sleep(r, d)
	writeJSON(w, http.StatusOK, map[string]any{"order": req.Order, "chargeId": fmt.Sprintf("ch_%s_%d", req.Order, charges), "amount": req.Amount})
}

func (p *processor) charges(order string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.charged[order]
}

func (p *processor) ledger(w http.ResponseWriter, r *http.Request) {
	order := r.URL.Query().Get("order")
	writeJSON(w, http.StatusOK, map[string]any{"order": order, "charges": p.charges(order)})
}

// control injects a fault on demand: POST /demo/faults/{fault}.
func (p *processor) control(w http.ResponseWriter, r *http.Request) {
	f, err := ParseFault(r.PathValue("fault"))
	if err != nil {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": err.Error()})
		return
	}
	ids, err := p.inject(r.Context(), f)
	if err != nil {
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"error": err.Error()})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"fault": f, "orders": ids, "note": strings.TrimSpace(f.Describe())})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("content-type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
