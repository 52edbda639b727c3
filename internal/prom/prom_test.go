package prom_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/tessera-net/tessera/internal/prom"
)

func build(name string) (*prom.Set, prometheus.Counter, *prometheus.GaugeVec) {
	s := prom.NewSet(prometheus.Labels{"name": name})
	c := s.Counter("test_calls_total", "Calls.")
	g := s.GaugeVec("test_depth", "Depth.", "queue")
	s.Histogram("test_seconds", "Latency.", []float64{1, 2})
	return s, c, g
}

// value reads a counter or gauge.
func value(t *testing.T, c prometheus.Metric) float64 {
	t.Helper()
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		t.Fatal(err)
	}
	if m.Counter != nil {
		return m.Counter.GetValue()
	}
	return m.Gauge.GetValue()
}

// gather returns the registry's series as "name{labels} value" lines.
func gather(t *testing.T, reg prometheus.Gatherer) []string {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			var ls []string
			for _, l := range m.GetLabel() {
				ls = append(ls, l.GetName()+"="+l.GetValue())
			}
			line := mf.GetName() + "{" + strings.Join(ls, ",") + "}"
			switch {
			case m.Counter != nil:
				line += fmt.Sprint(" ", m.Counter.GetValue())
			case m.Gauge != nil:
				line += fmt.Sprint(" ", m.Gauge.GetValue())
			case m.Histogram != nil:
				line += fmt.Sprint(" buckets ", len(m.Histogram.GetBucket()))
			}
			out = append(out, line)
		}
	}
	return out
}

// With no Registerer nothing is registered, and the metrics still count.
func TestRegisterNil(t *testing.T) {
	s, c, _ := build("a")
	if err := s.Register(nil); err != nil {
		t.Fatal(err)
	}
	if err := prom.Register(nil, c); err != nil {
		t.Fatal(err)
	}
	c.Inc()
	if got := value(t, c); got != 1 {
		t.Fatalf("counter = %v, want 1", got)
	}
}

// Registered metrics are gathered with their constant labels and buckets.
func TestRegister(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	s, c, g := build("a")
	if err := s.Register(reg); err != nil {
		t.Fatal(err)
	}
	c.Add(2)
	g.WithLabelValues("q").Set(3)
	want := []string{"test_calls_total{name=a} 2", "test_depth{name=a,queue=q} 3", "test_seconds{name=a} buckets 2"}
	if got := gather(t, reg); !slices.Equal(got, want) {
		t.Fatalf("gathered %q, want %q", got, want)
	}
}

// A second set with the same names and labels is a *CollisionError naming the metric
// and the ways out; nothing of it stays registered, and another name registers.
func TestRegisterCollision(t *testing.T) {
	reg := prometheus.NewRegistry()
	first, _, _ := build("a")
	if err := first.Register(reg); err != nil {
		t.Fatal(err)
	}
	// The collision is on the second collector: the first must be unregistered again.
	s := prom.NewSet(prometheus.Labels{"name": "a"})
	fresh := s.Counter("test_other_total", "Other.")
	s.GaugeVec("test_depth", "Depth.", "queue")
	err := s.Register(reg)
	var ce *prom.CollisionError
	if !errors.As(err, &ce) {
		t.Fatalf("err = %v, want a *prom.CollisionError", err)
	}
	var are prometheus.AlreadyRegisteredError
	if !errors.As(err, &are) || are.ExistingCollector == nil {
		t.Fatalf("err = %v does not unwrap to the registry's AlreadyRegisteredError", err)
	}
	for _, want := range []string{`"test_depth"`, `name="a"`, "own registry", "prometheus.WrapRegistererWith"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	if err := reg.Register(fresh); err != nil {
		t.Fatalf("the collector registered before the collision was left registered: %v", err)
	}
	other, _, _ := build("b")
	if err := other.Register(reg); err != nil {
		t.Fatalf("another name: %v", err)
	}
}

// A refusal other than a collision is reported with the metric, not as a collision.
func TestRegisterInconsistent(t *testing.T) {
	reg := prometheus.NewRegistry()
	if err := prom.Register(reg, prometheus.NewCounter(prometheus.CounterOpts{Name: "test_x_total", Help: "One help."})); err != nil {
		t.Fatal(err)
	}
	err := prom.Register(reg, prometheus.NewCounter(prometheus.CounterOpts{Name: "test_x_total", Help: "Another help.", ConstLabels: prometheus.Labels{"k": "v"}}))
	var ce *prom.CollisionError
	if err == nil || errors.As(err, &ce) || !strings.Contains(err.Error(), `"test_x_total"`) {
		t.Fatalf("err = %v, want a non-collision error naming test_x_total", err)
	}
}
