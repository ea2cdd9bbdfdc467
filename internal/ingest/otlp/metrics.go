package otlp

import (
	"errors"
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the receiver's own figures. Label values are small closed
// sets (signal, protocol, reason, outcome) so cardinality stays fixed.
type metrics struct {
	received *prometheus.CounterVec   // signal, protocol
	accepted *prometheus.CounterVec   // signal
	rejected *prometheus.CounterVec   // signal, reason
	requests *prometheus.CounterVec   // signal, protocol, outcome
	latency  *prometheus.HistogramVec // signal, protocol
	inflight prometheus.Gauge
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		received: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ariadne_ingest_received_items_total",
			Help: "Spans and log records decoded from OTLP requests, before limits and storage.",
		}, []string{"signal", "protocol"}),
		accepted: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ariadne_ingest_accepted_items_total",
			Help: "Spans and log records committed to the store and acknowledged.",
		}, []string{"signal"}),
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ariadne_ingest_rejected_items_total",
			Help: "Spans and log records refused, by reason: per-item limits (partial success) or the store refusing the request.",
		}, []string{"signal", "reason"}),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ariadne_ingest_requests_total",
			Help: "OTLP export requests by outcome (ok, partial, or the reason of refusal).",
		}, []string{"signal", "protocol", "outcome"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "ariadne_ingest_request_duration_seconds",
			Help:    "Time from receiving an OTLP request to answering it, including the store commit.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"signal", "protocol"}),
		inflight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "ariadne_ingest_inflight_requests",
			Help: "OTLP requests being decoded or written now.",
		}),
	}
	for _, c := range []prometheus.Collector{m.received, m.accepted, m.rejected, m.requests, m.latency, m.inflight} {
		if err := reg.Register(c); err != nil {
			var are prometheus.AlreadyRegisteredError
			if errors.As(err, &are) {
				return nil, fmt.Errorf("register ingest metrics: already registered (one receiver per registry): %w", err)
			}
			return nil, fmt.Errorf("register ingest metrics: %w", err)
		}
	}
	return m, nil
}

func (m *metrics) itemsReceived(sig signal, proto string, n int) {
	if n > 0 {
		m.received.WithLabelValues(sig.String(), proto).Add(float64(n))
	}
}

func (m *metrics) itemsAccepted(sig signal, n int) {
	m.accepted.WithLabelValues(sig.String()).Add(float64(n))
}

func (m *metrics) rejectedItems(sig signal, rej *Rejections) {
	if rej.Total == 0 {
		return
	}
	for i, n := range rej.ByReason {
		if n > 0 {
			m.rejected.WithLabelValues(sig.String(), Reason(i).String()).Add(float64(n))
		}
	}
}

func (m *metrics) itemsRefused(sig signal, kind errKind, n int) {
	m.rejected.WithLabelValues(sig.String(), kind.String()).Add(float64(n))
}

// request records one finished request: its outcome and latency.
func (m *metrics) request(sig signal, proto string, outcome string, start time.Time) {
	m.requests.WithLabelValues(sig.String(), proto, outcome).Inc()
	m.latency.WithLabelValues(sig.String(), proto).Observe(time.Since(start).Seconds())
}

// outcome names a request's result for the requests counter.
func outcome(rej *Rejections, err error) string {
	switch {
	case err != nil:
		return errKindOf(err).String()
	case rej != nil && rej.Total > 0:
		return "partial"
	}
	return "ok"
}
