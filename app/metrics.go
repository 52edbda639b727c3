package app

import (
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tessera-net/tessera/internal/prom"
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

// NewMetrics creates the metrics and registers them with reg. A nil reg registers
// nothing (the metrics still count); a metric reg already holds is a
// *prom.CollisionError, and then nothing is registered.
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	m, s := newMetrics()
	if err := s.Register(reg); err != nil {
		return nil, fmt.Errorf("app: %w", err)
	}
	return m, nil
}

// newMetrics creates the metrics, unregistered, and the set that registers them.
func newMetrics() (*Metrics, *prom.Set) {
	s := prom.NewSet(nil)
	return &Metrics{
		checkTx: s.CounterVec("tessera_app_check_tx_total",
			"Transactions checked for the mempool, by result code.", "code"),
		deliverTx: s.CounterVec("tessera_app_deliver_tx_total",
			"Transactions executed in blocks, by result code.", "code"),
		blockSecs: s.Histogram("tessera_app_finalize_block_seconds",
			"Time to execute a block (FinalizeBlock).", prometheus.ExponentialBuckets(0.0005, 2, 14)),
		blockTxs: s.Histogram("tessera_app_block_txs",
			"Transactions per block.", prometheus.ExponentialBuckets(1, 2, 16)),
		height: s.Gauge("tessera_app_committed_height",
			"Height of the last committed block."),
	}, s
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
