package lambda

import (
	"errors"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the handlers' figures; labels are closed sets (endpoint,
// outcome, kind) so cardinality stays fixed.
type metrics struct {
	deliveries *prometheus.CounterVec // endpoint, outcome
	events     *prometheus.CounterVec // endpoint
	rows       *prometheus.CounterVec // endpoint, kind
	dropped    prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ariadne_lambda_deliveries_total",
			Help: "Telemetry API batches and CloudWatch Logs deliveries by outcome (ok, or the reason of refusal).",
		}, []string{"endpoint", "outcome"}),
		events: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ariadne_lambda_events_total",
			Help: "Telemetry API events and log events read from accepted deliveries.",
		}, []string{"endpoint"}),
		rows: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ariadne_lambda_rows_total",
			Help: "Invocation rows and log records committed from Lambda deliveries.",
		}, []string{"endpoint", "kind"}),
		dropped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "ariadne_lambda_extension_dropped_reports_total",
			Help: "Telemetry deliveries whose extension reported dropped events (its buffer overflowed or Ariadne was unreachable).",
		}),
	}
	for _, c := range []prometheus.Collector{m.deliveries, m.events, m.rows, m.dropped} {
		if err := reg.Register(c); err != nil {
			var are prometheus.AlreadyRegisteredError
			if errors.As(err, &are) {
				return nil, fmt.Errorf("register lambda ingest metrics: already registered (one handler per registry): %w", err)
			}
			return nil, fmt.Errorf("register lambda ingest metrics: %w", err)
		}
	}
	return m, nil
}
