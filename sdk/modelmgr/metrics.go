package modelmgr

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
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
	labels := prometheus.Labels{"name": name}
	perModel := []string{"model", "version"}
	m := &metrics{
		loads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tessera_sdk_modelmgr_loads_total", ConstLabels: labels,
			Help: "Model loads, by result: ok, checksum_mismatch, error.",
		}, []string{"result"}),
		loadDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "tessera_sdk_modelmgr_load_duration_seconds", ConstLabels: labels,
			Help:    "Time to verify and load a model artifact.",
			Buckets: prometheus.ExponentialBuckets(0.001, 4, 10),
		}),
		hits: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "tessera_sdk_modelmgr_cache_hits_total", ConstLabels: labels,
			Help: "Acquires served by an already loaded model.",
		}),
		misses: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "tessera_sdk_modelmgr_cache_misses_total", ConstLabels: labels,
			Help: "Acquires that started a load.",
		}),
		evictions: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "tessera_sdk_modelmgr_evictions_total", ConstLabels: labels,
			Help: "Models dropped from the cache.",
		}),
		loadedModels: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "tessera_sdk_modelmgr_loaded_models", ConstLabels: labels,
			Help: "Models in the cache.",
		}),
		loadedBytes: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "tessera_sdk_modelmgr_loaded_bytes", ConstLabels: labels,
			Help: "Total size of the models in the cache.",
		}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "tessera_sdk_modelmgr_inference_latency_seconds", ConstLabels: labels,
			Help:    "Latency of successful model calls reported with Observe.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 16),
		}, perModel),
		ewma: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "tessera_sdk_modelmgr_latency_ewma_seconds", ConstLabels: labels,
			Help: "Moving average latency of successful model calls.",
		}, perModel),
		healthy: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "tessera_sdk_modelmgr_healthy", ConstLabels: labels,
			Help: "1 if the model version is healthy, 0 if not.",
		}, perModel),
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tessera_sdk_modelmgr_failures_total", ConstLabels: labels,
			Help: "Failed model calls and loads.",
		}, perModel),
	}
	if reg == nil {
		return m, nil
	}
	cs := []prometheus.Collector{m.loads, m.loadDuration, m.hits, m.misses, m.evictions,
		m.loadedModels, m.loadedBytes, m.latency, m.ewma, m.healthy, m.failures}
	for i, c := range cs {
		if err := reg.Register(c); err != nil {
			for _, done := range cs[:i] {
				reg.Unregister(done)
			}
			return nil, fmt.Errorf("modelmgr: register metrics for manager %q: %w", name, err)
		}
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
