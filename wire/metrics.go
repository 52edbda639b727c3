package wire

import (
	"errors"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
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
	m := &axonMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "tessera", Subsystem: "axon", Name: "requests_total",
			Help: "Requests answered by the axon, by synapse and HTTP status.",
		}, []string{"synapse", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: "tessera", Subsystem: "axon", Name: "request_duration_seconds",
			Help: "Time from request to response, by synapse.", Buckets: latencyBuckets,
		}, []string{"synapse"}),
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "tessera", Subsystem: "axon", Name: "rejected_total",
			Help: "Requests refused before the handler ran, by reason.",
		}, []string{"reason"}),
		inflight: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: "tessera", Subsystem: "axon", Name: "handlers_running",
			Help: "Handlers running now.",
		}),
		queued: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: "tessera", Subsystem: "axon", Name: "queue_length",
			Help: "Requests waiting for a handler slot.",
		}),
	}
	return m, register(reg, m.requests, m.duration, m.rejected, m.inflight, m.queued)
}

type dendriteMetrics struct {
	requests *prometheus.CounterVec   // synapse, code
	duration *prometheus.HistogramVec // synapse
	inflight prometheus.Gauge
}

func newDendriteMetrics(reg prometheus.Registerer) (*dendriteMetrics, error) {
	m := &dendriteMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "tessera", Subsystem: "dendrite", Name: "requests_total",
			Help: "Calls made by the dendrite, by synapse and status (HTTP or Bittensor's client-side code).",
		}, []string{"synapse", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: "tessera", Subsystem: "dendrite", Name: "request_duration_seconds",
			Help: "Latency of calls, by synapse.", Buckets: latencyBuckets,
		}, []string{"synapse"}),
		inflight: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: "tessera", Subsystem: "dendrite", Name: "requests_in_flight",
			Help: "Calls in flight now.",
		}),
	}
	return m, register(reg, m.requests, m.duration, m.inflight)
}

// register registers cs on reg; a nil reg registers nothing (the metrics still count).
func register(reg prometheus.Registerer, cs ...prometheus.Collector) error {
	if reg == nil {
		return nil
	}
	for _, c := range cs {
		if err := reg.Register(c); err != nil {
			var are prometheus.AlreadyRegisteredError
			if errors.As(err, &are) {
				return fmt.Errorf("register metrics: %w (use one registry per axon or dendrite, or a prometheus.WrapRegistererWith prefix)", err)
			}
			return fmt.Errorf("register metrics: %w", err)
		}
	}
	return nil
}
