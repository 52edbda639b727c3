package scoring

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tessera-net/tessera/internal/prom"
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
	s := prom.NewSet(prometheus.Labels{"name": name})
	m := &metrics{
		rounds:  s.Counter("tessera_sdk_scoring_rounds_total", "Rounds scored."),
		miners:  s.Counter("tessera_sdk_scoring_miners_scored_total", "Miner scores computed."),
		invalid: s.Counter("tessera_sdk_scoring_invalid_rounds_total", "Rounds rejected for invalid observations."),
		score: s.Histogram("tessera_sdk_scoring_score",
			"Distribution of combined scores.", prometheus.LinearBuckets(0.1, 0.1, 10)),
	}
	meanVec := s.GaugeVec("tessera_sdk_scoring_criterion_mean",
		"Mean normalised value of each criterion in the last round.", "criterion")
	for i, c := range []string{"quality", "latency", "throughput", "uptime"} {
		m.means[i] = meanVec.WithLabelValues(c)
	}
	if err := s.Register(reg); err != nil {
		return nil, fmt.Errorf("scoring: %w", err)
	}
	return m, nil
}
