package gateway

import (
	"context"
	"errors"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tessera-net/tessera/keys"
	"github.com/tessera-net/tessera/modules/subnets"
	"github.com/tessera-net/tessera/wire"
)

func mk(hotkey string, inc float64) Miner {
	return Miner{Axon: wire.AxonInfo{IP: "127.0.0.1", Port: 1, Hotkey: hotkey}, Incentive: inc}
}

func hotkeys(ms []Miner) string {
	var s []string
	for _, m := range ms {
		s = append(s, m.Axon.Hotkey)
	}
	return strings.Join(s, ",")
}

func TestRank(t *testing.T) {
	now := time.Unix(1000, 0)
	ms := []Miner{mk("a", 0.5), mk("b", 0.3), mk("c", 0.2), mk("d", 0)}
	ms2 := []Miner{mk("b", 0.3), mk("a", 0.5), mk("d", 0), mk("c", 0.2)}
	for _, tc := range []struct {
		name  string
		ms    []Miner
		stats map[string]Stats
		want  string
	}{
		{"by incentive, unmeasured", ms, nil, "a,b,c,d"},
		{"input order does not matter", ms2, nil, "a,b,c,d"},
		{"slow top miner drops", ms, map[string]Stats{
			"a": {Latency: 2 * time.Second, Samples: 5}, // 0.5 × 250/2250 = 0.056
			"b": {Latency: 50 * time.Millisecond, Samples: 5},
		}, "b,c,a,d"},
		{"cooling miners go last, soonest back first", ms, map[string]Stats{
			"a": {CooldownUntil: now.Add(5 * time.Second), Failures: 3},
			"b": {CooldownUntil: now.Add(time.Second), Failures: 1},
		}, "c,d,b,a"},
		{"expired cooldown counts as healthy", ms, map[string]Stats{
			"a": {CooldownUntil: now.Add(-time.Second), Failures: 1},
		}, "a,b,c,d"},
		{"no incentive anywhere: latency decides", []Miner{mk("x", 0), mk("y", 0), mk("z", 0)}, map[string]Stats{
			"x": {Latency: 300 * time.Millisecond, Samples: 1},
			"z": {Latency: 10 * time.Millisecond, Samples: 1},
		}, "z,y,x"},
		{"ties by hotkey", []Miner{mk("q", 0.1), mk("p", 0.1)}, nil, "p,q"},
		{"NaN incentive counts as the floor", []Miner{mk("n", math.NaN()), mk("m", 0.01)}, nil, "m,n"},
	} {
		if got := hotkeys(Rank(tc.ms, tc.stats, now, RouteConfig{})); got != tc.want {
			t.Errorf("%s: Rank = %s, want %s", tc.name, got, tc.want)
		}
	}
}

func TestPlan(t *testing.T) {
	ranked := []Miner{mk("a", 0), mk("b", 0), mk("c", 0), mk("d", 0), mk("e", 0)}
	for _, tc := range []struct {
		k, attempts int
		seq         uint64
		ranked      []Miner
		want        string
	}{
		{3, 3, 0, ranked, "a,b,c"},
		{3, 3, 1, ranked, "b,c,a"},
		{3, 3, 2, ranked, "c,a,b"},
		{3, 3, 3, ranked, "a,b,c"},
		{3, 5, 1, ranked, "b,c,a,d,e"},
		{2, 4, 1, ranked, "b,a,c,d"},
		{1, 2, 7, ranked, "a,b"},
		{10, 2, 4, ranked, "e,a"},
		{3, 3, 0, ranked[:1], "a"},
		{3, 3, 0, nil, ""},
		{0, 1, 5, ranked, "a"},
	} {
		if got := hotkeys(Plan(tc.ranked, tc.k, tc.seq, tc.attempts)); got != tc.want {
			t.Errorf("Plan(k=%d, seq=%d, attempts=%d) = %s, want %s", tc.k, tc.seq, tc.attempts, got, tc.want)
		}
	}
}

func TestStatsObserve(t *testing.T) {
	now := time.Unix(0, 0)
	cfg := RouteConfig{Alpha: 0.5, BaseCooldown: time.Second, MaxCooldown: 5 * time.Second}
	steps := []struct {
		lat      time.Duration
		ok       bool
		latency  time.Duration
		failures int
		cooldown time.Duration
	}{
		{100 * time.Millisecond, true, 100 * time.Millisecond, 0, 0},
		{300 * time.Millisecond, true, 200 * time.Millisecond, 0, 0},
		{0, false, 200 * time.Millisecond, 1, time.Second},
		{0, false, 200 * time.Millisecond, 2, 2 * time.Second},
		{0, false, 200 * time.Millisecond, 3, 4 * time.Second},
		{0, false, 200 * time.Millisecond, 4, 5 * time.Second},
		{0, true, 100 * time.Millisecond, 0, 0},
	}
	var s Stats
	for i, st := range steps {
		s = s.Observe(st.lat, st.ok, now, cfg)
		var cd time.Duration
		if !s.CooldownUntil.IsZero() {
			cd = s.CooldownUntil.Sub(now)
		}
		if s.Latency != st.latency || s.Failures != st.failures || cd != st.cooldown {
			t.Fatalf("step %d: %+v (cooldown %v), want latency %v failures %d cooldown %v", i, s, cd, st.latency, st.failures, st.cooldown)
		}
	}
}

func TestRouterReranksAfterFailure(t *testing.T) {
	r := newRouter(RouteConfig{TopK: 1, Attempts: 2}, time.Hour)
	r.setMiners(1, []Miner{mk("a", 0.9), mk("b", 0.1)})
	now := time.Unix(100, 0)
	if got := hotkeys(r.plan(1, now)); got != "a,b" {
		t.Fatalf("plan %s", got)
	}
	r.observe("a", 0, false, now)
	if got := hotkeys(r.plan(1, now)); got != "b,a" {
		t.Fatalf("after a failure: plan %s", got)
	}
	if got := hotkeys(r.plan(2, now)); got != "" {
		t.Fatalf("unknown subnet: plan %s", got)
	}
}

func TestBucket(t *testing.T) {
	t0 := time.Unix(0, 0)
	b := newBucket(2, 3, t0) // 2 a second, burst 3
	var got []bool
	for range 4 {
		ok, _ := b.take(t0)
		got = append(got, ok)
	}
	if !slices.Equal(got, []bool{true, true, true, false}) {
		t.Fatalf("burst: %v", got)
	}
	if ok, wait := b.take(t0); ok || wait != 500*time.Millisecond {
		t.Fatalf("empty bucket: %v %v", ok, wait)
	}
	if ok, _ := b.take(t0.Add(500 * time.Millisecond)); !ok {
		t.Fatal("refill after 0.5 s")
	}
	if ok, _ := b.take(t0.Add(10 * time.Second)); !ok {
		t.Fatal("refill after 10 s")
	}
	free := newBucket(0, 0, t0)
	for range 100 {
		if ok, _ := free.take(t0); !ok {
			t.Fatal("unlimited bucket refused")
		}
	}
}

func TestMinersFromMetagraph(t *testing.T) {
	mg := &subnets.Metagraph{
		UIDs:            []uint16{0, 1, 2, 3},
		Hotkeys:         []string{"v", "m1", "m2", "m3"},
		ValidatorPermit: []bool{true, false, false, true},
		Dividends:       []uint16{65535, 0, 0, 0},
		Incentive:       []uint16{0, 65535, 0, 32768},
		Axons: []subnets.AxonView{
			{IP: "10.0.0.1", Port: 8091}, {IP: "10.0.0.2", Port: 8092}, {IP: "", Port: 0}, {IP: "10.0.0.4", Port: 8094},
		},
	}
	got := MinersFromMetagraph(mg, nil)
	if len(got) != 2 || got[0].Axon.Hotkey != "m1" || got[0].Incentive != 1 || got[1].UID != 3 || got[1].Axon.Port != 8094 {
		t.Fatalf("%+v", got)
	}
}

// flakySource fails when told to, or hangs until its context ends.
type flakySource struct {
	miners []Miner
	fail   bool
	hang   bool
}

func (f *flakySource) Miners(ctx context.Context, _ uint16) ([]Miner, error) {
	if f.hang {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	if f.fail {
		return nil, errors.New("node unreachable")
	}
	return f.miners, nil
}

func TestRefreshKeepsMinersOnError(t *testing.T) {
	src := &flakySource{miners: []Miner{mk("a", 1), mk("b", 1)}}
	pair, _ := keys.FromURI("//Gateway")
	d, _ := wire.NewDendrite(pair, wire.DendriteConfig{})
	defer d.Close()
	g, err := New(Config{Models: []Model{{ID: "m", Netuid: 1}, {ID: "m2", Netuid: 1}}, Source: src, Dendrite: d, RefreshInterval: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := g.Refresh(ctx); err != nil || g.router.count(1) != 2 {
		t.Fatalf("%v, %d miners", err, g.router.count(1))
	}
	src.fail = true
	if err := g.Refresh(ctx); err == nil || g.router.count(1) != 2 {
		t.Fatalf("failed refresh: %v, %d miners", err, g.router.count(1))
	}
	src.fail, src.hang = false, true
	start := time.Now()
	hctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	if err := g.Refresh(hctx); !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 2*time.Second || g.router.count(1) != 2 {
		t.Fatalf("hanging source: %v after %v", err, time.Since(start))
	}
	for _, cfg := range []Config{
		{Source: src, Dendrite: d},
		{Models: []Model{{ID: "m"}}, Dendrite: d},
		{Models: []Model{{ID: "m"}}, Source: src},
		{Models: []Model{{ID: ""}}, Source: src, Dendrite: d},
		{Models: []Model{{ID: "m"}, {ID: "m"}}, Source: src, Dendrite: d},
	} {
		if _, err := New(cfg); err == nil {
			t.Errorf("New(%+v) accepted", cfg)
		}
	}
}
