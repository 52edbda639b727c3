package gateway

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

type metrics struct {
	requests    *prometheus.CounterVec   // model, mode, status
	duration    *prometheus.HistogramVec // mode
	attempts    *prometheus.CounterVec   // outcome
	failovers   prometheus.Counter
	tokens      *prometheus.CounterVec // kind
	miners      *prometheus.GaugeVec   // netuid
	refreshErrs prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tessera_gateway_requests_total",
			Help: "API requests answered, by model, mode (unary, stream, models) and HTTP status.",
		}, []string{"model", "mode", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "tessera_gateway_request_duration_seconds",
			Help:    "Time to answer a chat completion (to the last byte), by mode.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60},
		}, []string{"mode"}),
		attempts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tessera_gateway_miner_attempts_total",
			Help: "Requests sent to miners, by outcome (ok, error, timeout, refused).",
		}, []string{"outcome"}),
		failovers: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "tessera_gateway_failovers_total",
			Help: "Times a request moved on to the next miner after a failure.",
		}),
		tokens: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tessera_gateway_tokens_total",
			Help: "Tokens served, by kind (prompt, completion).",
		}, []string{"kind"}),
		miners: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "tessera_gateway_miners",
			Help: "Routable miners of each subnet, as of the last refresh.",
		}, []string{"netuid"}),
		refreshErrs: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "tessera_gateway_refresh_errors_total",
			Help: "Failed refreshes of a subnet's miners.",
		}),
	}
	if reg != nil {
		for _, c := range []prometheus.Collector{m.requests, m.duration, m.attempts, m.failovers, m.tokens, m.miners, m.refreshErrs} {
			if err := reg.Register(c); err != nil {
				return nil, fmt.Errorf("gateway: register metrics: %w", err)
			}
		}
	}
	return m, nil
}
