package prom

import "github.com/prometheus/client_golang/prometheus"

// Set builds a component's collectors, all with the same constant labels, and
// remembers them so that they are registered together. Names are full metric names
// (namespace_subsystem_name); nil buckets are prometheus.DefBuckets. A Set is not safe
// for concurrent use; build the metrics, then Register once.
type Set struct {
	labels prometheus.Labels
	cs     []prometheus.Collector
}

// NewSet returns an empty set whose collectors carry labels as constant labels (nil:
// none).
func NewSet(labels prometheus.Labels) *Set { return &Set{labels: labels} }

// Register registers the set's collectors on reg, in the order they were built, as
// Register does: nil reg registers nothing, a collision is a *CollisionError, all or
// none.
func (s *Set) Register(reg prometheus.Registerer) error { return Register(reg, s.cs...) }

// add remembers c and returns it.
func add[C prometheus.Collector](s *Set, c C) C {
	s.cs = append(s.cs, c)
	return c
}

// Counter builds a counter.
func (s *Set) Counter(name, help string) prometheus.Counter {
	return add(s, prometheus.NewCounter(prometheus.CounterOpts{Name: name, Help: help, ConstLabels: s.labels}))
}

// CounterVec builds a counter with the variable labels.
func (s *Set) CounterVec(name, help string, labels ...string) *prometheus.CounterVec {
	return add(s, prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help, ConstLabels: s.labels}, labels))
}

// Gauge builds a gauge.
func (s *Set) Gauge(name, help string) prometheus.Gauge {
	return add(s, prometheus.NewGauge(prometheus.GaugeOpts{Name: name, Help: help, ConstLabels: s.labels}))
}

// GaugeVec builds a gauge with the variable labels.
func (s *Set) GaugeVec(name, help string, labels ...string) *prometheus.GaugeVec {
	return add(s, prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: name, Help: help, ConstLabels: s.labels}, labels))
}

// Histogram builds a histogram with the buckets' upper bounds.
func (s *Set) Histogram(name, help string, buckets []float64) prometheus.Histogram {
	return add(s, prometheus.NewHistogram(prometheus.HistogramOpts{Name: name, Help: help, ConstLabels: s.labels, Buckets: buckets}))
}

// HistogramVec builds a histogram with the buckets' upper bounds and the variable
// labels.
func (s *Set) HistogramVec(name, help string, buckets []float64, labels ...string) *prometheus.HistogramVec {
	return add(s, prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: name, Help: help, ConstLabels: s.labels, Buckets: buckets}, labels))
}
