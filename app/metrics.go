package app

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tessera-net/tessera/tx"
)

// Metrics are the application's Prometheus metrics.
type Metrics struct {
	checkTx   *prometheus.CounterVec
	deliverTx *prometheus.CounterVec
	blockSecs prometheus.Histogram
	blockTxs  prometheus.Histogram
	height    prometheus.Gauge
}

// NewMetrics creates the metrics and registers them with reg (nil: not registered).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		checkTx: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "tessera", Subsystem: "app", Name: "check_tx_total",
			Help: "Transactions checked for the mempool, by result code.",
		}, []string{"code"}),
		deliverTx: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "tessera", Subsystem: "app", Name: "deliver_tx_total",
			Help: "Transactions executed in blocks, by result code.",
		}, []string{"code"}),
		blockSecs: prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: "tessera", Subsystem: "app", Name: "finalize_block_seconds",
			Help:    "Time to execute a block (FinalizeBlock).",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14),
		}),
		blockTxs: prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: "tessera", Subsystem: "app", Name: "block_txs",
			Help:    "Transactions per block.",
			Buckets: prometheus.ExponentialBuckets(1, 2, 16),
		}),
		height: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: "tessera", Subsystem: "app", Name: "committed_height",
			Help: "Height of the last committed block.",
		}),
	}
	if reg != nil {
		reg.MustRegister(m.checkTx, m.deliverTx, m.blockSecs, m.blockTxs, m.height)
	}
	return m
}

func (m *Metrics) checked(err error)   { m.checkTx.WithLabelValues(tx.CodeOf(err).String()).Inc() }
func (m *Metrics) delivered(err error) { m.deliverTx.WithLabelValues(tx.CodeOf(err).String()).Inc() }

func (m *Metrics) blockTimer() func(txs int) {
	start := time.Now()
	return func(txs int) {
		m.blockSecs.Observe(time.Since(start).Seconds())
		m.blockTxs.Observe(float64(txs))
	}
}
