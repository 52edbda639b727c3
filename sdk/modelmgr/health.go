package modelmgr

import (
	"time"
)

// Health is a model version's observed latency and health.
type Health struct {
	// Healthy is false after UnhealthyAfter consecutive failures, until
	// the next success.
	Healthy bool
	// ConsecutiveFailures counts failures since the last success.
	ConsecutiveFailures int
	// Successes and Failures count every observation (failed loads included
	// in Failures).
	Successes, Failures uint64
	// LatencyEWMA is the moving average latency of successful calls; zero
	// before the first.
	LatencyEWMA time.Duration
	// LastError is the text of the most recent failure.
	LastError string
	// LastSuccess and LastFailure are when they were observed.
	LastSuccess, LastFailure time.Time
}

// Observe records one use of a model version: its latency and its error, if
// any. Successes feed the latency EWMA and histogram and make the model
// healthy; failures count toward UnhealthyAfter. Observing an unregistered
// model is a no-op.
func (mg *Manager[M]) Observe(id, version string, latency time.Duration, err error) {
	mg.mu.Lock()
	defer mg.mu.Unlock()
	md, ok := mg.models[key{id, version}]
	if !ok {
		return
	}
	if err != nil {
		mg.failLocked(md, err)
		return
	}
	h := &md.health
	if h.Successes == 0 || h.LatencyEWMA == 0 {
		h.LatencyEWMA = latency
	} else {
		a := mg.cfg.LatencyAlpha
		h.LatencyEWMA = time.Duration(a*float64(latency) + (1-a)*float64(h.LatencyEWMA))
	}
	h.Successes++
	h.ConsecutiveFailures = 0
	h.Healthy = true
	h.LastSuccess = time.Now()
	md.series.latency.Observe(latency.Seconds())
	md.series.ewma.Set(h.LatencyEWMA.Seconds())
	md.series.healthy.Set(1)
}

func (mg *Manager[M]) failLocked(md *model, err error) {
	h := &md.health
	h.Failures++
	h.ConsecutiveFailures++
	h.LastError = err.Error()
	h.LastFailure = time.Now()
	if h.ConsecutiveFailures >= mg.cfg.UnhealthyAfter {
		h.Healthy = false
		md.series.healthy.Set(0)
	}
	md.series.failures.Inc()
}

// Health returns a model version's health.
func (mg *Manager[M]) Health(id, version string) (Health, error) {
	mg.mu.Lock()
	defer mg.mu.Unlock()
	md, ok := mg.models[key{id, version}]
	if !ok {
		return Health{}, notRegistered(id, version)
	}
	return md.health, nil
}

// Healthy reports whether a registered model version is healthy.
func (mg *Manager[M]) Healthy(id, version string) bool {
	h, err := mg.Health(id, version)
	return err == nil && h.Healthy
}
