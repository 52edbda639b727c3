package modelmgr

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tessera-net/tessera/internal/prom"
)

type metrics struct {
	loads        *prometheus.CounterVec
	loadDuration prometheus.Histogram
	hits         prometheus.Counter
	misses       prometheus.Counter
	evictions    prometheus.Counter
	loadedModels prometheus.Gauge
	loadedBytes  prometheus.Gauge
	latency      *prometheus.HistogramVec
	ewma         *prometheus.GaugeVec
	healthy      *prometheus.GaugeVec
	failures     *prometheus.CounterVec
}

// modelSeries are one model version's children of the per-model vectors,
// resolved once at Register so Observe does no label lookups.
type modelSeries struct {
	latency  prometheus.Observer
	ewma     prometheus.Gauge
	healthy  prometheus.Gauge
	failures prometheus.Counter
}

func newMetrics(name string, reg prometheus.Registerer) (*metrics, error) {
	s := prom.NewSet(prometheus.Labels{"name": name})
	perModel := []string{"model", "version"}
	m := &metrics{
		loads: s.CounterVec("tessera_sdk_modelmgr_loads_total",
			"Model loads, by result: ok, checksum_mismatch, error.", "result"),
		loadDuration: s.Histogram("tessera_sdk_modelmgr_load_duration_seconds",
			"Time to verify and load a model artifact.", prometheus.ExponentialBuckets(0.001, 4, 10)),
		hits: s.Counter("tessera_sdk_modelmgr_cache_hits_total",
			"Acquires served by an already loaded model."),
		misses: s.Counter("tessera_sdk_modelmgr_cache_misses_total",
			"Acquires that started a load."),
		evictions: s.Counter("tessera_sdk_modelmgr_evictions_total",
			"Models dropped from the cache."),
		loadedModels: s.Gauge("tessera_sdk_modelmgr_loaded_models",
			"Models in the cache."),
		loadedBytes: s.Gauge("tessera_sdk_modelmgr_loaded_bytes",
			"Total size of the models in the cache."),
		latency: s.HistogramVec("tessera_sdk_modelmgr_inference_latency_seconds",
			"Latency of successful model calls reported with Observe.", prometheus.ExponentialBuckets(0.001, 2, 16), perModel...),
		ewma: s.GaugeVec("tessera_sdk_modelmgr_latency_ewma_seconds",
			"Moving average latency of successful model calls.", perModel...),
		healthy: s.GaugeVec("tessera_sdk_modelmgr_healthy",
			"1 if the model version is healthy, 0 if not.", perModel...),
		failures: s.CounterVec("tessera_sdk_modelmgr_failures_total",
			"Failed model calls and loads.", perModel...),
	}
	if err := s.Register(reg); err != nil {
		return nil, fmt.Errorf("modelmgr: %w", err)
	}
	return m, nil
}

func (m *metrics) series(id, version string) modelSeries {
	s := modelSeries{
		latency:  m.latency.WithLabelValues(id, version),
		ewma:     m.ewma.WithLabelValues(id, version),
		healthy:  m.healthy.WithLabelValues(id, version),
		failures: m.failures.WithLabelValues(id, version),
	}
	s.healthy.Set(1)
	return s
}

func (m *metrics) deleteSeries(id, version string) {
	m.latency.DeleteLabelValues(id, version)
	m.ewma.DeleteLabelValues(id, version)
	m.healthy.DeleteLabelValues(id, version)
	m.failures.DeleteLabelValues(id, version)
}
