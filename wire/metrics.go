package wire

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/tessera-net/tessera/internal/prom"
)

// latencyBuckets cover loopback calls (tens of microseconds) to Bittensor's default 12 s
// timeout.
var latencyBuckets = []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 12, 30}

type axonMetrics struct {
	requests *prometheus.CounterVec   // synapse, code
	duration *prometheus.HistogramVec // synapse
	rejected *prometheus.CounterVec   // reason
	inflight prometheus.Gauge
	queued   prometheus.Gauge
}

func newAxonMetrics(reg prometheus.Registerer) (*axonMetrics, error) {
	s := prom.NewSet(nil)
	m := &axonMetrics{
		requests: s.CounterVec("tessera_axon_requests_total",
			"Requests answered by the axon, by synapse and HTTP status.", "synapse", "code"),
		duration: s.HistogramVec("tessera_axon_request_duration_seconds",
			"Time from request to response, by synapse.", latencyBuckets, "synapse"),
		rejected: s.CounterVec("tessera_axon_rejected_total",
			"Requests refused before the handler ran, by reason.", "reason"),
		inflight: s.Gauge("tessera_axon_handlers_running", "Handlers running now."),
		queued:   s.Gauge("tessera_axon_queue_length", "Requests waiting for a handler slot."),
	}
	return m, s.Register(reg)
}

type dendriteMetrics struct {
	requests *prometheus.CounterVec   // synapse, code
	duration *prometheus.HistogramVec // synapse
	inflight prometheus.Gauge
}

func newDendriteMetrics(reg prometheus.Registerer) (*dendriteMetrics, error) {
	s := prom.NewSet(nil)
	m := &dendriteMetrics{
		requests: s.CounterVec("tessera_dendrite_requests_total",
			"Calls made by the dendrite, by synapse and status (HTTP or Bittensor's client-side code).", "synapse", "code"),
		duration: s.HistogramVec("tessera_dendrite_request_duration_seconds",
			"Latency of calls, by synapse.", latencyBuckets, "synapse"),
		inflight: s.Gauge("tessera_dendrite_requests_in_flight", "Calls in flight now."),
	}
	return m, s.Register(reg)
}
