package scoring

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

type metrics struct {
	rounds  prometheus.Counter
	miners  prometheus.Counter
	invalid prometheus.Counter
	score   prometheus.Histogram
	// means are the last round's mean normalised criteria: quality,
	// latency, throughput, uptime.
	means [4]prometheus.Gauge
}

func newMetrics(name string, reg prometheus.Registerer) (*metrics, error) {
	labels := prometheus.Labels{"name": name}
	meanVec := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "tessera_sdk_scoring_criterion_mean", ConstLabels: labels,
		Help: "Mean normalised value of each criterion in the last round.",
	}, []string{"criterion"})
	m := &metrics{
		rounds: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "tessera_sdk_scoring_rounds_total", ConstLabels: labels,
			Help: "Rounds scored.",
		}),
		miners: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "tessera_sdk_scoring_miners_scored_total", ConstLabels: labels,
			Help: "Miner scores computed.",
		}),
		invalid: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "tessera_sdk_scoring_invalid_rounds_total", ConstLabels: labels,
			Help: "Rounds rejected for invalid observations.",
		}),
		score: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "tessera_sdk_scoring_score", ConstLabels: labels,
			Help:    "Distribution of combined scores.",
			Buckets: prometheus.LinearBuckets(0.1, 0.1, 10),
		}),
	}
	for i, c := range []string{"quality", "latency", "throughput", "uptime"} {
		m.means[i] = meanVec.WithLabelValues(c)
	}
	if reg == nil {
		return m, nil
	}
	cs := []prometheus.Collector{m.rounds, m.miners, m.invalid, m.score, meanVec}
	for i, c := range cs {
		if err := reg.Register(c); err != nil {
			for _, done := range cs[:i] {
				reg.Unregister(done)
			}
			return nil, fmt.Errorf("scoring: register metrics for scorer %q: %w", name, err)
		}
	}
	return m, nil
}
