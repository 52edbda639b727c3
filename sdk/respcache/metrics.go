package respcache

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tessera-net/tessera/internal/prom"
)

type metrics struct {
	hits        prometheus.Counter
	misses      prometheus.Counter
	shared      prometheus.Counter
	evicted     prometheus.Counter
	expired     prometheus.Counter
	fetchErrors prometheus.Counter
	entries     prometheus.Gauge
	fetch       prometheus.Histogram
}

func newMetrics(name string, reg prometheus.Registerer) (*metrics, error) {
	s := prom.NewSet(prometheus.Labels{"name": name})
	m := &metrics{
		hits:   s.Counter("tessera_sdk_respcache_hits_total", "Gets answered from the cache."),
		misses: s.Counter("tessera_sdk_respcache_misses_total", "Gets that started a fetch."),
		shared: s.Counter("tessera_sdk_respcache_shared_total",
			"Gets that joined a fetch already running for the same key (singleflight)."),
	}
	evictions := s.CounterVec("tessera_sdk_respcache_evictions_total",
		"Entries removed, by reason: capacity (LRU) or expired (TTL).", "reason")
	m.evicted = evictions.WithLabelValues("capacity")
	m.expired = evictions.WithLabelValues("expired")
	m.fetchErrors = s.Counter("tessera_sdk_respcache_fetch_errors_total", "Fetches that failed (not cached).")
	m.entries = s.Gauge("tessera_sdk_respcache_entries", "Entries currently cached.")
	m.fetch = s.Histogram("tessera_sdk_respcache_fetch_duration_seconds",
		"Latency of fetches made on misses.", prometheus.ExponentialBuckets(0.0005, 2, 16))
	if err := s.Register(reg); err != nil {
		return nil, fmt.Errorf("respcache: %w", err)
	}
	return m, nil
}
