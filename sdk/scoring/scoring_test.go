package scoring

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tessera-net/tessera/internal/testutil"
)

const ms = time.Millisecond

var equalWeights = Weights{Quality: 1, Latency: 1, Throughput: 1, Uptime: 1}

func pair() []Observation {
	return []Observation{
		{ID: "A", Quality: 0.9, Latency: 100 * ms, Throughput: 50, Uptime: 1},
		{ID: "B", Quality: 0.6, Latency: 200 * ms, Throughput: 100, Uptime: 0.5},
	}
}

func TestScore(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		obs  []Observation
		want []Result
	}{
		{
			name: "equal weights, relative references",
			cfg:  Config{Weights: equalWeights},
			obs:  pair(),
			want: []Result{
				{ID: "A", Score: 0.85, Quality: 0.9, Latency: 1, Throughput: 0.5, Uptime: 1},
				{ID: "B", Score: 0.65, Quality: 0.6, Latency: 0.5, Throughput: 1, Uptime: 0.5},
			},
		},
		{
			name: "latency target",
			cfg:  Config{Weights: Weights{Latency: 1}, LatencyTarget: 150 * ms},
			obs:  pair(),
			want: []Result{
				{ID: "A", Score: 1, Quality: 0.9, Latency: 1, Throughput: 0.5, Uptime: 1},
				{ID: "B", Score: 0.75, Quality: 0.6, Latency: 0.75, Throughput: 1, Uptime: 0.5},
			},
		},
		{
			name: "throughput target",
			cfg:  Config{Weights: Weights{Throughput: 1}, ThroughputTarget: 200},
			obs:  pair(),
			want: []Result{
				{ID: "A", Score: 0.25, Quality: 0.9, Latency: 1, Throughput: 0.25, Uptime: 1},
				{ID: "B", Score: 0.5, Quality: 0.6, Latency: 0.5, Throughput: 0.5, Uptime: 0.5},
			},
		},
		{
			name: "throughput above target caps at 1",
			cfg:  Config{Weights: Weights{Throughput: 1}, ThroughputTarget: 60},
			obs:  pair(),
			want: []Result{
				{ID: "A", Score: 50.0 / 60, Quality: 0.9, Latency: 1, Throughput: 50.0 / 60, Uptime: 1},
				{ID: "B", Score: 1, Quality: 0.6, Latency: 0.5, Throughput: 1, Uptime: 0.5},
			},
		},
		{
			name: "min-max quality",
			cfg:  Config{Weights: Weights{Quality: 1}, Quality: MinMax},
			obs:  pair(),
			want: []Result{
				{ID: "A", Score: 1, Quality: 1, Latency: 1, Throughput: 0.5, Uptime: 1},
				{ID: "B", Score: 0, Quality: 0, Latency: 0.5, Throughput: 1, Uptime: 0.5},
			},
		},
		{
			name: "relative-to-best quality, unbounded scale",
			cfg:  Config{Weights: Weights{Quality: 3, Uptime: 1}, Quality: RelativeToBest},
			obs: []Observation{
				{ID: "A", Quality: 80, Latency: ms, Uptime: 1},
				{ID: "B", Quality: 20, Latency: ms, Uptime: 0},
			},
			want: []Result{
				{ID: "A", Score: 1, Quality: 1, Latency: 1, Uptime: 1},
				{ID: "B", Score: 0.1875, Quality: 0.25, Latency: 1},
			},
		},
		{
			name: "failed miner keeps only uptime and does not set references",
			cfg:  Config{Weights: equalWeights},
			obs: append(pair(), Observation{ID: "C", Quality: 1, Latency: ms, Throughput: 1e6, Uptime: 0.8,
				Failed: true}),
			want: []Result{
				{ID: "A", Score: 0.85, Quality: 0.9, Latency: 1, Throughput: 0.5, Uptime: 1},
				{ID: "B", Score: 0.65, Quality: 0.6, Latency: 0.5, Throughput: 1, Uptime: 0.5},
				{ID: "C", Score: 0.2, Uptime: 0.8},
			},
		},
		{
			name: "min-max with one miner",
			cfg:  Config{Weights: Weights{Quality: 1}, Quality: MinMax},
			obs:  []Observation{{ID: "solo", Quality: 0.3, Uptime: 1}},
			want: []Result{{ID: "solo", Score: 1, Quality: 1, Latency: 1, Uptime: 1}},
		},
		{
			name: "nobody has throughput",
			cfg:  Config{Weights: Weights{Throughput: 1, Uptime: 1}},
			obs:  []Observation{{ID: "a", Uptime: 1}, {ID: "b", Uptime: 0.5}},
			want: []Result{
				{ID: "a", Score: 0.5, Latency: 1, Uptime: 1},
				{ID: "b", Score: 0.25, Latency: 1, Uptime: 0.5},
			},
		},
		{
			name: "empty round",
			cfg:  Config{Weights: equalWeights},
			obs:  nil,
			want: []Result{},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := New(tc.cfg)
			if err != nil {
				t.Fatal(err)
			}
			got, err := s.Score(tc.obs)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("got %d results, want %d", len(got), len(tc.want))
			}
			for i, w := range tc.want {
				g := got[i]
				if g.ID != w.ID || !near(g.Score, w.Score) || !near(g.Quality, w.Quality) ||
					!near(g.Latency, w.Latency) || !near(g.Throughput, w.Throughput) || !near(g.Uptime, w.Uptime) {
					t.Errorf("result %d = %+v, want %+v", i, g, w)
				}
			}
		})
	}
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-12 }

func TestInvalidObservations(t *testing.T) {
	tests := []struct {
		name string
		mode QualityMode
		obs  Observation
		want string
	}{
		{"nan quality", Absolute, Observation{ID: "x", Quality: math.NaN()}, `miner "x" (observation 1): quality NaN`},
		{"quality above one", Absolute, Observation{ID: "x", Quality: 1.5}, "not in [0,1]"},
		{"negative relative quality", RelativeToBest, Observation{ID: "x", Quality: -1}, "negative"},
		{"negative latency", Absolute, Observation{ID: "x", Latency: -ms}, "latency -1ms is negative"},
		{"negative throughput", Absolute, Observation{ID: "x", Throughput: -3}, "throughput -3"},
		{"infinite throughput", Absolute, Observation{ID: "x", Throughput: math.Inf(1)}, "throughput +Inf"},
		{"uptime above one", Absolute, Observation{ID: "x", Uptime: 1.01}, "uptime 1.01"},
		{"failed miner uptime still checked", Absolute, Observation{ID: "x", Uptime: -1, Failed: true}, "uptime -1"},
		{"duplicate id", Absolute, Observation{ID: "ok"}, `miner "ok" appears more than once`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			reg := prometheus.NewRegistry()
			s, _ := New(Config{Weights: equalWeights, Quality: tc.mode, Registerer: reg})
			res, err := s.Score([]Observation{{ID: "ok", Quality: 0.5, Uptime: 1}, tc.obs})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Score err = %v, want %q", err, tc.want)
			}
			if res != nil {
				t.Fatal("partial results returned with an error")
			}
			if got := testutil.Gather(t, reg); got["tessera_sdk_scoring_invalid_rounds_total"] != 1 {
				t.Fatalf("invalid_rounds_total = %v", got["tessera_sdk_scoring_invalid_rounds_total"])
			}
		})
	}
	// A failed miner's other fields are not checked: it did not answer.
	s, _ := New(Config{Weights: equalWeights})
	if _, err := s.Score([]Observation{{ID: "f", Quality: math.NaN(), Latency: -1, Failed: true}}); err != nil {
		t.Fatalf("failed miner with junk fields: %v", err)
	}
}

func TestConfigValidation(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"zero weights", Config{}, "must not all be zero"},
		{"negative weight", Config{Weights: Weights{Quality: 1, Latency: -1}}, "weight Latency"},
		{"nan weight", Config{Weights: Weights{Uptime: math.NaN()}}, "weight Uptime"},
		{"bad mode", Config{Weights: equalWeights, Quality: 9}, "quality mode"},
		{"negative latency target", Config{Weights: equalWeights, LatencyTarget: -1}, "LatencyTarget"},
		{"nan throughput target", Config{Weights: equalWeights, ThroughputTarget: math.NaN()}, "ThroughputTarget"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := New(tc.cfg); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("New err = %v, want %q", err, tc.want)
			}
		})
	}
}

func randomRound(r *rand.Rand, n int) []Observation {
	obs := make([]Observation, n)
	for i := range obs {
		obs[i] = Observation{
			ID:         string(rune('a'+i%26)) + string(rune('0'+i/26)),
			Quality:    r.Float64(),
			Latency:    time.Duration(r.IntN(2000)) * ms,
			Throughput: r.Float64() * 1000,
			Uptime:     r.Float64(),
			Failed:     r.IntN(10) == 0,
		}
	}
	return obs
}

func TestDeterministicAndBounded(t *testing.T) {
	r := rand.New(rand.NewPCG(42, 1))
	modes := []QualityMode{Absolute, RelativeToBest, MinMax}
	for round := range 50 {
		cfg := Config{
			Weights: Weights{Quality: r.Float64(), Latency: r.Float64(), Throughput: r.Float64(), Uptime: r.Float64() + 0.01},
			Quality: modes[round%3],
		}
		if round%2 == 0 {
			cfg.LatencyTarget = 300 * ms
			cfg.ThroughputTarget = 500
		}
		s, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		obs := randomRound(r, 1+r.IntN(200))
		a, err := s.Score(obs)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := s.Score(obs)
		// Reverse the round: every miner's score must be the same.
		rev := make([]Observation, len(obs))
		for i := range obs {
			rev[len(obs)-1-i] = obs[i]
		}
		c, _ := s.Score(rev)
		for i := range a {
			if a[i] != b[i] {
				t.Fatalf("round %d: not deterministic: %+v vs %+v", round, a[i], b[i])
			}
			if a[i] != c[len(c)-1-i] {
				t.Fatalf("round %d: order-dependent: %+v vs %+v", round, a[i], c[len(c)-1-i])
			}
			for _, v := range []float64{a[i].Score, a[i].Quality, a[i].Latency, a[i].Throughput, a[i].Uptime} {
				if !(v >= 0 && v <= 1) {
					t.Fatalf("round %d: value %v out of [0,1] in %+v", round, v, a[i])
				}
			}
		}
	}
}

func TestRank(t *testing.T) {
	in := []Result{{ID: "c", Score: 0.5}, {ID: "a", Score: 0.9}, {ID: "b", Score: 0.5}, {ID: "d", Score: 0}}
	got := Rank(in)
	want := []string{"a", "b", "c", "d"}
	for i, w := range want {
		if got[i].ID != w {
			t.Fatalf("Rank = %v, want order %v", got, want)
		}
	}
	if in[0].ID != "c" {
		t.Fatal("Rank modified its input")
	}
}

func TestMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	s, err := New(Config{Weights: equalWeights, Name: "text", Registerer: reg})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Score(pair()); err != nil {
		t.Fatal(err)
	}
	got := testutil.Gather(t, reg)
	for name, want := range map[string]float64{
		"tessera_sdk_scoring_rounds_total":        1,
		"tessera_sdk_scoring_miners_scored_total": 2,
		"tessera_sdk_scoring_score":               2,
		// Means: quality .75, latency .75, throughput .75, uptime .75.
		"tessera_sdk_scoring_criterion_mean": 3,
	} {
		if !near(got[name], want) {
			t.Errorf("%s = %v, want %v", name, got[name], want)
		}
	}
}
