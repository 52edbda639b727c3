package gateway

import (
	"cmp"
	"math"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/tessera-net/tessera/wire"
)

// Miner is a miner the gateway can route to: its uid, axon and incentive on chain.
type Miner struct {
	UID  uint16        // the miner's uid on the subnet
	Axon wire.AxonInfo // where its axon listens, and its hotkey
	// Incentive is the miner's share of the subnet's incentive, in [0,1].
	Incentive float64
	// ValidatorScore is the validators' stake-weighted mean of the normalised weights
	// they set on the miner, in [0,1] (0: unknown). Validators set weights before the
	// first epoch pays any incentive, so it ranks a new subnet's miners by quality.
	ValidatorScore float64
}

// RouteConfig tunes ranking and failover. The zero value of each field means the
// default beside it.
type RouteConfig struct {
	// TopK is how many of the best miners share the traffic, in proportion to their
	// scores (default 3).
	TopK int
	// Attempts is how many miners one request may try (default 3).
	Attempts int
	// LatencyRef is the latency at which a miner's latency factor is 0.5: the factor
	// is ref/(ref+ewma) (default 250 ms). A miner never measured counts at ref.
	LatencyRef time.Duration
	// IncentiveFloor is the least incentive a miner counts with (default 0.001), so
	// that a subnet with no incentive yet still ranks by latency.
	IncentiveFloor float64
	// Alpha is the EWMA factor of latency (default 0.2).
	Alpha float64
	// BaseCooldown is how long a miner is ranked last after one failure; it doubles
	// with each failure in a row up to MaxCooldown (defaults 1 s and 30 s).
	BaseCooldown time.Duration
	MaxCooldown  time.Duration // see BaseCooldown
}

func (c *RouteConfig) defaults() {
	if c.TopK <= 0 {
		c.TopK = 3
	}
	if c.Attempts <= 0 {
		c.Attempts = 3
	}
	if c.LatencyRef <= 0 {
		c.LatencyRef = 250 * time.Millisecond
	}
	if c.IncentiveFloor <= 0 {
		c.IncentiveFloor = 0.001
	}
	if c.Alpha <= 0 || c.Alpha > 1 {
		c.Alpha = 0.2
	}
	if c.BaseCooldown <= 0 {
		c.BaseCooldown = time.Second
	}
	if c.MaxCooldown < c.BaseCooldown {
		c.MaxCooldown = max(30*time.Second, c.BaseCooldown)
	}
}

// Stats is what the gateway has observed of one miner.
type Stats struct {
	// Latency is the EWMA of the miner's time to answer (0 until measured).
	Latency time.Duration
	// Samples counts the successful answers measured.
	Samples int64
	// ErrorRate is the EWMA of the miner's failures (1 a failure, 0 a success; 0 until
	// observed), with the latency's factor.
	ErrorRate float64
	// Failures counts the failures in a row since the last success.
	Failures int
	// CooldownUntil is when the miner is ranked with the healthy ones again.
	CooldownUntil time.Time
}

// Observe returns s updated with one outcome at now: a success moves the latency EWMA
// and clears the failures; a failure extends the cooldown, doubling with each failure
// in a row. Both move the error-rate EWMA.
func (s Stats) Observe(latency time.Duration, ok bool, now time.Time, cfg RouteConfig) Stats {
	cfg.defaults()
	failed := 1.0
	if ok {
		failed = 0
	}
	s.ErrorRate += cfg.Alpha * (failed - s.ErrorRate)
	if ok {
		if s.Samples == 0 {
			s.Latency = latency
		} else {
			s.Latency += time.Duration(cfg.Alpha * float64(latency-s.Latency))
		}
		s.Samples++
		s.Failures = 0
		s.CooldownUntil = time.Time{}
		return s
	}
	s.Failures++
	d := cfg.BaseCooldown << min(s.Failures-1, 30)
	if d > cfg.MaxCooldown || d <= 0 {
		d = cfg.MaxCooldown
	}
	s.CooldownUntil = now.Add(d)
	return s
}

// minQuality is the least a miner's error factor may be, so that a miner that failed
// often still gets a trickle of first attempts and can show it recovered.
const minQuality = 0.05

// score is a miner's routing score: its merit — incentive, or the validators' score
// where higher (before the first epoch incentive is zero), at least the floor — times
// the latency factor ref/(ref+ewma) times the error factor 1-error rate (at least
// minQuality).
func score(m Miner, s Stats, cfg RouteConfig) float64 {
	merit := max(m.Incentive, m.ValidatorScore)
	if !(merit >= cfg.IncentiveFloor) { // also catches NaN
		merit = cfg.IncentiveFloor
	}
	lat := s.Latency
	if s.Samples == 0 {
		lat = cfg.LatencyRef
	}
	ref := float64(cfg.LatencyRef)
	quality := 1 - s.ErrorRate
	if !(quality >= minQuality) {
		quality = minQuality
	}
	return merit * ref / (ref + float64(lat)) * quality
}

// Rank orders miners best first: healthy miners by score (merit × latency factor ×
// error factor), then miners cooling down after failures, soonest back first; ties go by
// hotkey, so a ranking is deterministic. stats maps hotkeys to observations (absent:
// never observed).
func Rank(miners []Miner, stats map[string]Stats, now time.Time, cfg RouteConfig) []Miner {
	cfg.defaults()
	type ranked struct {
		m       Miner
		cooling bool
		until   time.Time
		score   float64
	}
	rs := make([]ranked, len(miners))
	// Sort indices, not the records: a swap moves 4 bytes instead of about 100, which
	// makes ranking a few hundred miners several times faster. Ties end at the hotkey,
	// so the unstable sort is deterministic.
	idx := make([]int32, len(miners))
	for i, m := range miners {
		s := stats[m.Axon.Hotkey]
		rs[i] = ranked{m: m, cooling: now.Before(s.CooldownUntil), until: s.CooldownUntil, score: score(m, s, cfg)}
		idx[i] = int32(i)
	}
	slices.SortFunc(idx, func(i, j int32) int {
		a, b := &rs[i], &rs[j]
		switch {
		case a.cooling != b.cooling:
			if a.cooling {
				return 1
			}
			return -1
		case a.cooling && !a.until.Equal(b.until):
			return a.until.Compare(b.until)
		case !a.cooling && a.score != b.score:
			if a.score > b.score {
				return -1
			}
			return 1
		}
		if c := strings.Compare(a.m.Axon.Hotkey, b.m.Axon.Hotkey); c != 0 {
			return c
		}
		return cmp.Compare(i, j)
	})
	out := make([]Miner, len(rs))
	for k, i := range idx {
		out[k] = rs[i].m
	}
	return out
}

// Plan is the order in which one request tries miners when the top k share traffic
// evenly: the top k of ranked take turns being first (request seq starts at the
// (seq mod k)-th of them and wraps around), then the rest in rank order; at most
// attempts miners.
func Plan(ranked []Miner, k int, seq uint64, attempts int) []Miner {
	k = min(max(k, 1), len(ranked))
	if k == 0 {
		return []Miner{}
	}
	return planFrom(ranked, k, int(seq%uint64(k)), attempts)
}

// Weights returns the share of first attempts each of the top k of ranked earns: its
// score (merit × latency factor × error factor), 0 while it cools down after a failure.
// stats and cfg are Rank's.
func Weights(ranked []Miner, k int, stats map[string]Stats, now time.Time, cfg RouteConfig) []float64 {
	cfg.defaults()
	k = min(max(k, 1), len(ranked))
	ws := make([]float64, k)
	for i, m := range ranked[:k] {
		if s := stats[m.Axon.Hotkey]; !now.Before(s.CooldownUntil) {
			ws[i] = score(m, s, cfg)
		}
	}
	return ws
}

// golden is the fractional part of the golden ratio: seq×golden mod 1 spreads
// consecutive requests evenly over [0, 1).
const golden = 0.6180339887498949

// PlanWeighted is Plan with the top k sharing traffic in proportion to weights (one for
// each of the top k, from Weights): request seq starts at the miner whose share holds
// seq×golden mod 1, so over many requests each gets its share, and wraps around the top
// k from it; then the rest in rank order; at most attempts miners. When no weight is
// positive it is Plan.
func PlanWeighted(ranked []Miner, weights []float64, seq uint64, attempts int) []Miner {
	k := min(len(weights), len(ranked))
	var total float64
	for _, w := range weights[:k] {
		if w > 0 {
			total += w
		}
	}
	if !(total > 0) || math.IsInf(total, 0) {
		return Plan(ranked, k, seq, attempts)
	}
	_, u := math.Modf(float64(seq) * golden)
	u *= total
	first := 0
	for i, w := range weights[:k] {
		if w <= 0 {
			continue
		}
		first = i
		if u < w {
			break
		}
		u -= w
	}
	return planFrom(ranked, k, first, attempts)
}

// planFrom is the top k of ranked starting at first and wrapping around, then the rest
// in rank order; at most attempts miners.
func planFrom(ranked []Miner, k, first, attempts int) []Miner {
	n := min(attempts, len(ranked))
	out := make([]Miner, 0, max(n, 0))
	for i := 0; i < k && len(out) < n; i++ {
		out = append(out, ranked[(first+i)%k])
	}
	for i := k; i < len(ranked) && len(out) < n; i++ {
		out = append(out, ranked[i])
	}
	return out
}

// router keeps the miners of each subnet, what was observed of them, and a cached
// ranking with the top k's shares of traffic, recomputed when the miners change, after a failure, and at most every
// rerank interval otherwise. It is safe for concurrent use.
type router struct {
	cfg    RouteConfig
	rerank time.Duration
	mu     sync.Mutex
	miners map[uint16][]Miner
	ranked map[uint16][]Miner
	shares map[uint16][]float64
	when   map[uint16]time.Time
	stats  map[string]Stats
	seq    uint64
}

func newRouter(cfg RouteConfig, rerank time.Duration) *router {
	cfg.defaults()
	return &router{cfg: cfg, rerank: rerank, miners: map[uint16][]Miner{}, ranked: map[uint16][]Miner{},
		shares: map[uint16][]float64{}, when: map[uint16]time.Time{}, stats: map[string]Stats{}}
}

// setMiners replaces a subnet's miners.
func (r *router) setMiners(netuid uint16, ms []Miner) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.miners[netuid] = slices.Clone(ms)
	delete(r.when, netuid)
}

// count returns how many miners a subnet has.
func (r *router) count(netuid uint16) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.miners[netuid])
}

// plan returns the miners one request on netuid tries, in order.
func (r *router) plan(netuid uint16, now time.Time) []Miner {
	r.mu.Lock()
	defer r.mu.Unlock()
	ranked, shares := r.ranked[netuid], r.shares[netuid]
	if w, ok := r.when[netuid]; !ok || now.Sub(w) >= r.rerank || now.Before(w) {
		ranked = Rank(r.miners[netuid], r.stats, now, r.cfg)
		shares = Weights(ranked, r.cfg.TopK, r.stats, now, r.cfg)
		r.ranked[netuid], r.shares[netuid], r.when[netuid] = ranked, shares, now
	}
	r.seq++
	return PlanWeighted(ranked, shares, r.seq, r.cfg.Attempts)
}

// observe records one outcome of a miner; a failure forces a re-rank.
func (r *router) observe(hotkey string, latency time.Duration, ok bool, now time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.stats[hotkey] = r.stats[hotkey].Observe(latency, ok, now, r.cfg)
	if !ok {
		clear(r.when)
	}
}

// rankedMiners returns a subnet's miners best first, as Rank orders them now; it does
// not count as a request.
func (r *router) rankedMiners(netuid uint16, now time.Time) []Miner {
	r.mu.Lock()
	defer r.mu.Unlock()
	return Rank(r.miners[netuid], r.stats, now, r.cfg)
}

// cooling reports whether a miner is cooling down after failures at now.
func (r *router) cooling(hotkey string, now time.Time) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return now.Before(r.stats[hotkey].CooldownUntil)
}
