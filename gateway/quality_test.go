package gateway

import (
	"net/http"
	"testing"
	"time"

	"github.com/tessera-net/tessera/modules/subnets"
	"github.com/tessera-net/tessera/subnets/textgen"
)

func TestWeightsAndPlanWeighted(t *testing.T) {
	now := time.Unix(1000, 0)
	ranked := []Miner{mk("a", 0), mk("b", 0), mk("c", 0), mk("d", 0)}
	stats := map[string]Stats{
		"a": {Latency: 0, Samples: 4},                                         // factor 1
		"b": {Latency: 250 * time.Millisecond, Samples: 4, ErrorRate: 0.5},    // 0.5 × 0.5
		"c": {CooldownUntil: now.Add(time.Second), Failures: 1, ErrorRate: 1}, // cooling: 0
		"d": {Latency: 0, Samples: 1},
	}
	ws := Weights(ranked, 3, stats, now, RouteConfig{})
	floor := 0.001
	if len(ws) != 3 || ws[0] != floor || ws[1] != floor*0.25 || ws[2] != 0 {
		t.Fatalf("Weights = %v", ws)
	}
	for _, tc := range []struct {
		weights  []float64
		seq      uint64
		attempts int
		want     string
	}{
		// seq×φ mod 1 for seq 0…5: 0, 0.618, 0.236, 0.854, 0.472, 0.090.
		{[]float64{3, 1}, 0, 4, "a,b,c,d"}, // 0 of 4: a's share [0, 3)
		{[]float64{3, 1}, 1, 4, "a,b,c,d"}, // 2.47
		{[]float64{3, 1}, 3, 4, "b,a,c,d"}, // 3.42: b's share [3, 4), wrapping to a
		{[]float64{0, 1}, 1, 2, "b,a"},     // a cooling: b is first
		{[]float64{0, 1}, 5, 2, "b,a"},
		{[]float64{0, 0}, 1, 3, "b,a,c"},    // nothing positive: Plan's rotation
		{[]float64{1, 1, 1}, 3, 1, "c"},     // 2.56 of 3
		{[]float64{1, 1, 1}, 4, 3, "b,c,a"}, // 1.42 of 3
		{nil, 3, 2, "a,b"},                  // no weights: Plan with k 1
	} {
		if got := hotkeys(PlanWeighted(ranked, tc.weights, tc.seq, tc.attempts)); got != tc.want {
			t.Errorf("PlanWeighted(%v, seq %d, attempts %d) = %s, want %s", tc.weights, tc.seq, tc.attempts, got, tc.want)
		}
	}
}

// simulate routes n requests with Rank, Weights and PlanWeighted over miners whose
// outcomes fail decides, recording each attempt in stats as the gateway does, one
// request every step; it returns how many requests each miner answered after the
// first warmup.
func simulate(miners []Miner, latency map[string]time.Duration, fail func(hotkey string, seq int) bool, n, warmup int) map[string]int {
	cfg := RouteConfig{}
	stats := map[string]Stats{}
	answered := map[string]int{}
	now := time.Unix(0, 0)
	for seq := range n {
		now = now.Add(50 * time.Millisecond)
		ranked := Rank(miners, stats, now, cfg)
		for _, m := range PlanWeighted(ranked, Weights(ranked, 3, stats, now, cfg), uint64(seq), 3) {
			hk := m.Axon.Hotkey
			ok := !fail(hk, seq)
			stats[hk] = stats[hk].Observe(latency[hk], ok, now, cfg)
			if ok {
				if seq >= warmup {
					answered[hk]++
				}
				break
			}
		}
	}
	return answered
}

// With no incentive yet, the gateway's own record decides: after a warm-up the miner
// that is quick and never fails answers most requests, not a third of them.
func TestQualityRoutingWithoutIncentive(t *testing.T) {
	miners := []Miner{mk("flaky", 0), mk("good", 0), mk("slow", 0)}
	latency := map[string]time.Duration{"flaky": 5 * time.Millisecond, "good": 20 * time.Millisecond, "slow": 600 * time.Millisecond}
	fail := func(hk string, seq int) bool { return hk == "flaky" && seq%2 == 0 }
	got := simulate(miners, latency, fail, 1000, 100)
	if total := got["good"] + got["slow"] + got["flaky"]; got["good"]*10 < total*6 {
		t.Fatalf("after warm-up the good miner answered %d of %d (%v); want most", got["good"], total, got)
	}
	// Validators' weights set before the first epoch rank a miner that answers wrong
	// (quick and error-free, so invisible to the gateway's record) below a right one.
	miners = []Miner{{Axon: mk("wrong", 0).Axon, ValidatorScore: 0.15}, {Axon: mk("right", 0).Axon, ValidatorScore: 0.85}}
	latency = map[string]time.Duration{"wrong": 5 * time.Millisecond, "right": 5 * time.Millisecond}
	got = simulate(miners, latency, func(string, int) bool { return false }, 1000, 100)
	if got["right"]*10 < (got["right"]+got["wrong"])*7 {
		t.Fatalf("validators' scores 0.85 against 0.15: answered %v; want the right miner most", got)
	}
}

func TestMinersCarryValidatorScores(t *testing.T) {
	mg := &subnets.Metagraph{UIDs: []uint16{0, 1}, Hotkeys: []string{"v", "m"}, ValidatorPermit: []bool{true, false},
		Dividends: []uint16{65535, 0}, Axons: []subnets.AxonView{{IP: "10.0.0.1", Port: 1}, {IP: "10.0.0.2", Port: 2}}}
	if ms := MinersFromMetagraph(mg, []uint16{0, 65535}); len(ms) != 1 || ms[0].UID != 1 || ms[0].ValidatorScore != 1 {
		t.Fatalf("MinersFromMetagraph: %+v", ms)
	}
	if ms := MinersFromMetagraph(mg, nil); len(ms) != 1 || ms[0].ValidatorScore != 0 {
		t.Fatalf("MinersFromMetagraph without scores: %+v", ms)
	}
}

// Through the gateway, with real miners on loopback and no incentive: after a warm-up
// the quick miner that never fails answers most requests, ahead of a slow one and one
// failing half its requests.
func TestGatewayRoutesByQualityBeforeIncentive(t *testing.T) {
	good := startMiner(t, "//Good", 0, builtin(t, textgen.BuiltinConfig{Seed: 1}))
	slow := startMiner(t, "//Slow", 0, builtin(t, textgen.BuiltinConfig{Seed: 2, Latency: 100 * time.Millisecond}))
	flaky := startMiner(t, "//Flaky", 0, builtin(t, textgen.BuiltinConfig{Seed: 3, FailRate: 0.5}))
	gw := startGateway(t, []*testMiner{good, slow, flaky}, func(c *Config) {
		c.Route.LatencyRef = 20 * time.Millisecond // the test's scale: a 100 ms miner is slow
	})
	byHotkey := map[string]string{good.Axon.Hotkey: "good", slow.Axon.Hotkey: "slow", flaky.Axon.Hotkey: "flaky"}
	answered := map[string]int{}
	const warmup, n = 20, 80
	for i := range n {
		resp, data := post(t, gw.URL, gw.Secret, chatBody(sortPrompt, ""))
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("request %d: %d %s", i, resp.StatusCode, data)
		}
		if i >= warmup {
			answered[byHotkey[resp.Header.Get("X-Tessera-Miner")]]++
		}
	}
	if answered["good"]*10 < (n-warmup)*6 {
		t.Fatalf("after %d requests of warm-up the good miner answered %d of %d (%v); want most", warmup, answered["good"], n-warmup, answered)
	}
}
