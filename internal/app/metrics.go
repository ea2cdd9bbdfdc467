package app

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/ariadnehq/ariadne/internal/store"
)

// metrics are the server's own figures about its write path; the receivers
// register theirs (received, rejected by reason) themselves.
type metrics struct {
	reg           prometheus.Registerer
	commitSeconds prometheus.Histogram
	commitRows    prometheus.Counter
	commitFailed  prometheus.Counter
	duplicateRows prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		reg: reg,
		commitSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "ariadne_store_commit_duration_seconds",
			Help:    "Time from taking queued batches to their durable commit.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 14),
		}),
		commitRows: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "ariadne_store_committed_rows_total", Help: "Rows committed to the store.",
		}),
		commitFailed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "ariadne_store_commit_failures_total", Help: "Commits that failed; their writers got an error.",
		}),
		duplicateRows: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "ariadne_store_duplicate_spans_total", Help: "Re-sent spans not written again (idempotent writes).",
		}),
	}
	reg.MustRegister(m.commitSeconds, m.commitRows, m.commitFailed, m.duplicateRows)
	return m
}

// observeCommit is the store's OnCommit hook; it runs on the writer goroutine.
func (m *metrics) observeCommit(c store.CommitInfo) {
	if c.Err != nil {
		m.commitFailed.Inc()
		return
	}
	m.commitSeconds.Observe(c.Duration.Seconds())
	m.commitRows.Add(float64(c.Rows))
	m.duplicateRows.Add(float64(c.Dropped))
}

// statser is what the queue gauges need of the engine.
type statser interface{ WriteStats() store.WriteStats }

// watchStore exports the engine's queue depth and capacity as gauges read at scrape time.
func (m *metrics) watchStore(s statser) {
	m.reg.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "ariadne_store_queue_rows", Help: "Rows accepted and waiting for a commit.",
		}, func() float64 { return float64(s.WriteStats().QueuedRows) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "ariadne_store_queue_capacity_rows", Help: "Bound of the commit queue; over it ingest answers 429.",
		}, func() float64 { return float64(s.WriteStats().QueueCapacity) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "ariadne_store_overloaded_total", Help: "Writes refused because the commit queue was full.",
		}, func() float64 { return float64(s.WriteStats().Overloaded) }),
	)
}
