package scoring

import (
	"fmt"
	"math"
	"sort"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Weights are the subnet's relative weights of the four criteria. They must
// be finite and non-negative with a positive sum; only their ratios matter.
type Weights struct {
	Quality, Latency, Throughput, Uptime float64
}

func (w Weights) sum() float64 { return w.Quality + w.Latency + w.Throughput + w.Uptime }

func (w Weights) validate() error {
	for _, c := range []struct {
		name string
		v    float64
	}{{"Quality", w.Quality}, {"Latency", w.Latency}, {"Throughput", w.Throughput}, {"Uptime", w.Uptime}} {
		if math.IsNaN(c.v) || math.IsInf(c.v, 0) || c.v < 0 {
			return fmt.Errorf("scoring: weight %s must be a finite number ≥ 0, got %v", c.name, c.v)
		}
	}
	if !(w.sum() > 0) {
		return fmt.Errorf("scoring: weights must not all be zero")
	}
	return nil
}

// QualityMode says how raw quality values are normalised.
type QualityMode int

const (
	// Absolute uses quality as given; it must be in [0,1].
	Absolute QualityMode = iota
	// RelativeToBest divides by the round's best quality.
	RelativeToBest
	// MinMax maps the round's worst quality to 0 and best to 1.
	MinMax
)

// String returns the mode's name.
func (m QualityMode) String() string {
	switch m {
	case Absolute:
		return "absolute"
	case RelativeToBest:
		return "relative-to-best"
	case MinMax:
		return "min-max"
	default:
		return fmt.Sprintf("QualityMode(%d)", int(m))
	}
}

// Observation is what a validator measured of one miner in one round.
type Observation struct {
	// ID identifies the miner (hotkey or UID); unique within a round.
	ID string
	// Quality is the validator's judgement of the miner's output.
	Quality float64
	// Latency is the miner's response time.
	Latency time.Duration
	// Throughput is the miner's rate of work (items or tokens per second).
	Throughput float64
	// Uptime is the fraction in [0,1] of recent probes the miner answered.
	Uptime float64
	// Failed marks a miner that did not answer this round.
	Failed bool
}

// Result is one miner's score with its normalised criteria.
type Result struct {
	// ID is the miner's ID from its Observation.
	ID string
	// Score is the weighted combination, in [0,1].
	Score float64
	// Quality, Latency, Throughput and Uptime are the normalised criteria, in [0,1].
	Quality, Latency, Throughput, Uptime float64
}

// Config configures a Scorer.
type Config struct {
	// Weights are the subnet's criterion weights. Required.
	Weights Weights
	// Quality selects the quality normalisation. Default Absolute.
	Quality QualityMode
	// LatencyTarget, if positive, is the latency that scores 1; otherwise
	// the fastest responding miner sets the reference.
	LatencyTarget time.Duration
	// ThroughputTarget, if positive, is the throughput that scores 1;
	// otherwise the best responding miner sets the reference.
	ThroughputTarget float64
	// Name labels this scorer's metrics (const label "name"). Default "default".
	Name string
	// Registerer receives the scorer's metrics; nil means do not register.
	Registerer prometheus.Registerer
}

// Scorer scores rounds of observations. Create it with New; it is safe for
// concurrent use and holds no state between rounds.
type Scorer struct {
	cfg Config
	m   *metrics
}

// New validates cfg.
func New(cfg Config) (*Scorer, error) {
	if err := cfg.Weights.validate(); err != nil {
		return nil, err
	}
	if cfg.Quality < Absolute || cfg.Quality > MinMax {
		return nil, fmt.Errorf("scoring: unknown quality mode %d", int(cfg.Quality))
	}
	if cfg.LatencyTarget < 0 {
		return nil, fmt.Errorf("scoring: LatencyTarget must not be negative, got %v", cfg.LatencyTarget)
	}
	if math.IsNaN(cfg.ThroughputTarget) || math.IsInf(cfg.ThroughputTarget, 0) || cfg.ThroughputTarget < 0 {
		return nil, fmt.Errorf("scoring: ThroughputTarget must be a finite number ≥ 0, got %v", cfg.ThroughputTarget)
	}
	if cfg.Name == "" {
		cfg.Name = "default"
	}
	m, err := newMetrics(cfg.Name, cfg.Registerer)
	if err != nil {
		return nil, err
	}
	return &Scorer{cfg: cfg, m: m}, nil
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

func (s *Scorer) validate(obs []Observation) error {
	seen := make(map[string]struct{}, len(obs))
	for i, o := range obs {
		bad := func(field string, v any, want string) error {
			return fmt.Errorf("scoring: miner %q (observation %d): %s %v %s", o.ID, i, field, v, want)
		}
		if _, dup := seen[o.ID]; dup {
			return fmt.Errorf("scoring: miner %q appears more than once (observation %d)", o.ID, i)
		}
		seen[o.ID] = struct{}{}
		if !finite(o.Uptime) || o.Uptime < 0 || o.Uptime > 1 {
			return bad("uptime", o.Uptime, "is not in [0,1]")
		}
		if o.Failed {
			continue
		}
		switch {
		case !finite(o.Quality):
			return bad("quality", o.Quality, "is not a finite number")
		case s.cfg.Quality == Absolute && (o.Quality < 0 || o.Quality > 1):
			return bad("quality", o.Quality, "is not in [0,1] (Absolute quality mode)")
		case s.cfg.Quality == RelativeToBest && o.Quality < 0:
			return bad("quality", o.Quality, "is negative (RelativeToBest quality mode)")
		case o.Latency < 0:
			return bad("latency", o.Latency, "is negative")
		case !finite(o.Throughput) || o.Throughput < 0:
			return bad("throughput", o.Throughput, "is not a finite number ≥ 0")
		}
	}
	return nil
}

// Score normalises and combines one round of observations, returning one
// Result per observation in the same order. It fails, scoring nothing, if
// any observation is invalid.
func (s *Scorer) Score(obs []Observation) ([]Result, error) {
	if err := s.validate(obs); err != nil {
		s.m.invalid.Inc()
		return nil, err
	}

	// References over the responding miners.
	var (
		qMin, qMax               = math.Inf(1), math.Inf(-1)
		fastest    time.Duration = -1
		bestT      float64
	)
	for _, o := range obs {
		if o.Failed {
			continue
		}
		qMin, qMax = math.Min(qMin, o.Quality), math.Max(qMax, o.Quality)
		if o.Latency > 0 && (fastest < 0 || o.Latency < fastest) {
			fastest = o.Latency
		}
		bestT = math.Max(bestT, o.Throughput)
	}
	latRef := s.cfg.LatencyTarget
	if latRef == 0 {
		latRef = fastest // −1 when no responding miner had a positive latency
	}
	tRef := s.cfg.ThroughputTarget
	if tRef == 0 {
		tRef = bestT
	}

	w := s.cfg.Weights
	wsum := w.sum()
	out := make([]Result, len(obs))
	var sums [4]float64
	for i, o := range obs {
		r := Result{ID: o.ID, Uptime: o.Uptime}
		if !o.Failed {
			r.Quality = s.quality(o.Quality, qMin, qMax)
			r.Latency = latencyScore(o.Latency, latRef)
			if tRef > 0 {
				r.Throughput = math.Min(1, o.Throughput/tRef)
			}
		}
		score := (w.Quality*r.Quality + w.Latency*r.Latency + w.Throughput*r.Throughput + w.Uptime*r.Uptime) / wsum
		r.Score = math.Max(0, math.Min(1, score))
		out[i] = r
		sums[0] += r.Quality
		sums[1] += r.Latency
		sums[2] += r.Throughput
		sums[3] += r.Uptime
		s.m.score.Observe(r.Score)
	}
	s.m.rounds.Inc()
	s.m.miners.Add(float64(len(obs)))
	if n := float64(len(obs)); n > 0 {
		for i, g := range s.m.means {
			g.Set(sums[i] / n)
		}
	}
	return out, nil
}

func (s *Scorer) quality(q, qMin, qMax float64) float64 {
	switch s.cfg.Quality {
	case RelativeToBest:
		if qMax <= 0 {
			return 0
		}
		return q / qMax
	case MinMax:
		if qMax == qMin {
			return 1
		}
		return (q - qMin) / (qMax - qMin)
	default:
		return q
	}
}

// latencyScore is 1 at or under ref and ref/l above it. A non-positive ref
// (no target, and no responding miner with a positive latency) can only
// occur when l is 0, which scores 1.
func latencyScore(l, ref time.Duration) float64 {
	if l <= 0 || l <= ref {
		return 1
	}
	return float64(ref) / float64(l)
}

// Rank returns results sorted by score, highest first, ties broken by ID,
// so that equal rounds always rank equally.
func Rank(results []Result) []Result {
	out := append([]Result(nil), results...)
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Score != out[j].Score {
			return out[i].Score > out[j].Score
		}
		return out[i].ID < out[j].ID
	})
	return out
}
