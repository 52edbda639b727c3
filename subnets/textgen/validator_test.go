package textgen

import (
	"errors"
	"math"
	"testing"
	"time"
)

func TestObservations(t *testing.T) {
	task := Task{Kind: Arithmetic, Answer: "7"}
	rs := []Response{
		{Hotkey: "a", Completion: "7", Usage: Usage{CompletionTokens: 10}, Latency: 500 * time.Millisecond},
		{Hotkey: "b", Completion: "8", Latency: time.Second},
		{Hotkey: "c", Err: errors.New("timeout")},
	}
	obs := Observations(task, "7", rs, map[string]float64{"c": 0.25})
	want := []struct {
		q, tput, up float64
		failed      bool
	}{{1, 20, 1, false}, {0, 0, 1, false}, {0, 0, 0.25, true}}
	for i, w := range want {
		o := obs[i]
		if o.Quality != w.q || o.Throughput != w.tput || o.Uptime != w.up || o.Failed != w.failed || o.ID != rs[i].Hotkey {
			t.Errorf("obs[%d] = %+v, want %+v", i, o, w)
		}
	}
	free := Observations(Task{Kind: Free}, "a b", []Response{{Hotkey: "x", Completion: "a b"}}, nil)
	if free[0].Quality != 1 {
		t.Errorf("free quality = %v", free[0].Quality)
	}
}

func TestUpdateUptime(t *testing.T) {
	m := UpdateUptime(nil, []Response{{Hotkey: "a"}, {Hotkey: "b", Err: errors.New("x")}}, 0.5)
	if m["a"] != 1 || m["b"] != 0 {
		t.Fatalf("first round: %v", m)
	}
	m = UpdateUptime(m, []Response{{Hotkey: "a", Err: errors.New("x")}, {Hotkey: "b"}}, 0.5)
	if m["a"] != 0.5 || m["b"] != 0.5 {
		t.Fatalf("second round: %v", m)
	}
}

func TestWeightsU16(t *testing.T) {
	for _, tc := range []struct {
		in   []float64
		want []uint16
	}{
		{nil, []uint16{}},
		{[]float64{0, 0}, []uint16{0, 0}},
		{[]float64{1, 0.5, 0}, []uint16{65535, 32768, 0}},
		{[]float64{0.2, -1, math.NaN()}, []uint16{65535, 0, 0}},
	} {
		got := WeightsU16(tc.in)
		if len(got) != len(tc.want) {
			t.Fatalf("WeightsU16(%v) = %v", tc.in, got)
		}
		for i := range got {
			if got[i] != tc.want[i] {
				t.Errorf("WeightsU16(%v) = %v, want %v", tc.in, got, tc.want)
				break
			}
		}
	}
}
