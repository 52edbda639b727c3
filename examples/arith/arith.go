// Package arith is the tutorial subnet (docs/subnet-tutorial.md): validators send
// arithmetic problems, miners answer them, and an answer scores by being right and
// being quick. Miners can be told to answer wrongly or slowly, to watch incentive
// follow quality on a devnet. The binary is in cmd/arith.
package arith

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/tessera-net/tessera/sdk/scoring"
	"github.com/tessera-net/tessera/sdk/subnet"
	"github.com/tessera-net/tessera/wire"
)

// Problem is the subnet's synapse: the validator fills A, Op and B, the miner Result.
type Problem struct {
	wire.Base
	A  int64  `json:"a" wire:"required"`  // left operand, -1000 to 1000
	B  int64  `json:"b" wire:"required"`  // right operand, -1000 to 1000
	Op string `json:"op" wire:"required"` // "+", "-" or "*"
	// Result is the miner's answer (null until answered).
	Result *int64 `json:"result"`
}

// RequiredHashFields makes the signature cover the problem, so nobody on the way can
// change it.
func (Problem) RequiredHashFields() []string { return []string{"a", "b", "op"} }

// Solve returns the right answer to a problem.
func Solve(a, b int64, op string) (int64, error) {
	switch op {
	case "+":
		return a + b, nil
	case "-":
		return a - b, nil
	case "*":
		return a * b, nil
	}
	return 0, fmt.Errorf("unknown operator %q: want +, - or *", op)
}

// Mode is how a miner behaves.
type Mode string

// The miner modes.
const (
	Good  Mode = "good"  // answers right away, correctly
	Wrong Mode = "wrong" // answers right away, off by one
	Slow  Mode = "slow"  // answers correctly after a delay
)

// ParseMode checks a mode name.
func ParseMode(s string) (Mode, error) {
	switch m := Mode(s); m {
	case Good, Wrong, Slow:
		return m, nil
	}
	return "", fmt.Errorf("miner mode %q: want good, wrong or slow", s)
}

// Handler answers problems as mode says; a slow miner waits delay first (and gives up
// when the validator's timeout, enforced by the axon, ends the call). Each problem is
// logged at debug level on log (nil: not logged) before it is worked on.
func Handler(mode Mode, delay time.Duration, log *slog.Logger) wire.Handler {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return wire.Handle(func(ctx context.Context, c *wire.Call, p *Problem) error {
		log.Debug("problem received", "caller", c.Hotkey, "a", p.A, "op", p.Op, "b", p.B)
		r, err := Solve(p.A, p.B, p.Op)
		if err != nil {
			return wire.Errorf(400, "%v", err)
		}
		switch mode {
		case Wrong:
			r++
		case Slow:
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(delay):
			}
		}
		p.Result = &r
		return nil
	})
}

var ops = []string{"+", "-", "*"}

// Query makes a round's problem.
func Query(_ context.Context, r subnet.Round) (*Problem, error) {
	return &Problem{A: r.Rand.Int64N(2001) - 1000, B: r.Rand.Int64N(2001) - 1000, Op: ops[r.Rand.IntN(len(ops))]}, nil
}

// Scorer scores answers: 0 for a wrong or missing one; otherwise 70% for being right
// and 30% for speed (full marks up to LatencyTarget, then falling as target/latency).
type Scorer struct {
	s *scoring.Scorer
}

// LatencyTarget is the latency that still earns full marks for speed.
const LatencyTarget = 100 * time.Millisecond

// NewScorer makes a Scorer.
func NewScorer() (*Scorer, error) {
	s, err := scoring.New(scoring.Config{Weights: scoring.Weights{Quality: 0.7, Latency: 0.3}, LatencyTarget: LatencyTarget, Name: "arith"})
	if err != nil {
		return nil, err
	}
	return &Scorer{s: s}, nil
}

// Score judges a round.
func (s *Scorer) Score(_ context.Context, q *Problem, rs []subnet.Response[*Problem]) ([]float64, error) {
	want, err := Solve(q.A, q.B, q.Op)
	if err != nil {
		return nil, err
	}
	obs := make([]scoring.Observation, len(rs))
	for i, r := range rs {
		obs[i] = scoring.Observation{ID: fmt.Sprint(r.UID), Latency: r.Latency, Failed: !r.OK(), Uptime: 0}
		if r.OK() && r.Synapse.Result != nil && *r.Synapse.Result == want {
			obs[i].Quality = 1
		}
	}
	res, err := s.s.Score(obs)
	if err != nil {
		return nil, err
	}
	out := make([]float64, len(rs))
	for i, r := range res {
		if obs[i].Quality == 1 {
			out[i] = r.Score
		}
	}
	return out, nil
}

// VersionKey is the version the validators send with their weights.
const VersionKey = 1

// Subnet is the subnet's definition for the SDK's runtimes; a miner's handler is set
// from its mode and logs to log.
func Subnet(mode Mode, delay time.Duration, log *slog.Logger) (*subnet.Definition[*Problem], error) {
	sc, err := NewScorer()
	if err != nil {
		return nil, err
	}
	return &subnet.Definition[*Problem]{
		Name: "arith", Handler: Handler(mode, delay, log), Query: Query, Score: sc.Score, VersionKey: VersionKey,
	}, nil
}
