package respcache

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
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
	labels := prometheus.Labels{"name": name}
	evictions := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "tessera_sdk_respcache_evictions_total", ConstLabels: labels,
		Help: "Entries removed, by reason: capacity (LRU) or expired (TTL).",
	}, []string{"reason"})
	m := &metrics{
		hits: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "tessera_sdk_respcache_hits_total", ConstLabels: labels,
			Help: "Gets answered from the cache.",
		}),
		misses: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "tessera_sdk_respcache_misses_total", ConstLabels: labels,
			Help: "Gets that started a fetch.",
		}),
		shared: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "tessera_sdk_respcache_shared_total", ConstLabels: labels,
			Help: "Gets that joined a fetch already running for the same key (singleflight).",
		}),
		evicted: evictions.WithLabelValues("capacity"),
		expired: evictions.WithLabelValues("expired"),
		fetchErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "tessera_sdk_respcache_fetch_errors_total", ConstLabels: labels,
			Help: "Fetches that failed (not cached).",
		}),
		entries: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "tessera_sdk_respcache_entries", ConstLabels: labels,
			Help: "Entries currently cached.",
		}),
		fetch: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "tessera_sdk_respcache_fetch_duration_seconds", ConstLabels: labels,
			Help:    "Latency of fetches made on misses.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16),
		}),
	}
	if reg == nil {
		return m, nil
	}
	cs := []prometheus.Collector{m.hits, m.misses, m.shared, evictions, m.fetchErrors, m.entries, m.fetch}
	for i, c := range cs {
		if err := reg.Register(c); err != nil {
			for _, done := range cs[:i] {
				reg.Unregister(done)
			}
			return nil, fmt.Errorf("respcache: register metrics for cache %q: %w", name, err)
		}
	}
	return m, nil
}
