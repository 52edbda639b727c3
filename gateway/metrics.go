package gateway

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tessera-net/tessera/internal/prom"
)

type metrics struct {
	requests    *prometheus.CounterVec   // model, mode, status
	duration    *prometheus.HistogramVec // mode
	attempts    *prometheus.CounterVec   // outcome
	failovers   prometheus.Counter
	tokens      *prometheus.CounterVec // kind
	miners      *prometheus.GaugeVec   // netuid
	refreshErrs prometheus.Counter
	apiAttempts *prometheus.CounterVec // outcome
	apiNodes    prometheus.Gauge
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	s := prom.NewSet(nil)
	m := &metrics{
		requests: s.CounterVec("tessera_gateway_requests_total",
			"API requests answered, by model, mode (unary, stream, models) and HTTP status.", "model", "mode", "status"),
		duration: s.HistogramVec("tessera_gateway_request_duration_seconds",
			"Time to answer a chat completion (to the last byte), by mode.",
			[]float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60}, "mode"),
		attempts: s.CounterVec("tessera_gateway_miner_attempts_total",
			"Requests sent to miners, by outcome (ok, error, timeout, refused).", "outcome"),
		failovers: s.Counter("tessera_gateway_failovers_total",
			"Times a request moved on to the next miner or API node after a failure."),
		tokens: s.CounterVec("tessera_gateway_tokens_total",
			"Tokens served, by kind (prompt, completion).", "kind"),
		miners: s.GaugeVec("tessera_gateway_miners",
			"Routable miners of each subnet, as of the last refresh.", "netuid"),
		refreshErrs: s.Counter("tessera_gateway_refresh_errors_total",
			"Failed refreshes of a subnet's miners."),
		apiAttempts: s.CounterVec("tessera_gateway_api_node_attempts_total",
			"Requests sent to the inference network's API nodes, by outcome (ok, error, timeout, refused).", "outcome"),
		apiNodes: s.Gauge("tessera_gateway_api_nodes",
			"The inference network's API nodes that answered their last refresh or request."),
	}
	if err := s.Register(reg); err != nil {
		return nil, fmt.Errorf("gateway: %w", err)
	}
	return m, nil
}
