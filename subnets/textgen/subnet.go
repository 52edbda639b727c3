package textgen

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tessera-net/tessera/sdk/scoring"
	"github.com/tessera-net/tessera/sdk/subnet"
	"github.com/tessera-net/tessera/wire"
)

// SubnetConfig configures the subnet's definition for the SDK's runtimes.
type SubnetConfig struct {
	// Backend answers on a miner (nil on a validator-only process: its handler then
	// refuses every request with 503).
	Backend Backend
	// Reference is a validator's own model, whose answers to free prompts are the
	// reference miners' answers are compared with. Without one that judges free text
	// (nil or the built-in test backend: JudgesFreeText) validators draw checkable
	// tasks only (DrawKinds).
	Reference Backend
	// Kinds are the task kinds validators draw (default: all, less Free without a
	// reference model; Free without one is ErrNoReferenceModel).
	Kinds []Kind
	// Logger, when set, receives what NewSubnet notes for a validator at start: once,
	// whether free prompts are on (a reference model) or off (none). A miner's process
	// leaves it nil.
	Logger *slog.Logger
	// Model is the model name sent in tasks ("" lets miners choose).
	Model string
	// MaxTokens bounds each answer (default 256).
	MaxTokens int
	// Weights weigh quality, latency, throughput and uptime (default 0.6, 0.2, 0.1,
	// 0.1); LatencyTarget is the latency that earns full marks (default 2 s).
	Weights       scoring.Weights
	LatencyTarget time.Duration // see Weights
	// Miner configures the miner's handler.
	Miner MinerConfig
	// Registerer receives the validator scorer's tessera_sdk_scoring_* metrics
	// (name="textgen"); none when nil. The miner's metrics go to Miner.Registerer.
	Registerer prometheus.Registerer
}

// VersionKey is the version validators send with their weights.
const VersionKey = 1

// Rewards turns a round's scores into rewards: a miner whose answer is worth nothing
// (quality 0: wrong, or no answer) earns nothing, however fast; the others earn their
// multi-criteria score.
func Rewards(results []scoring.Result) []float64 {
	out := make([]float64, len(results))
	for i, r := range results {
		if r.Quality > 0 {
			out[i] = r.Score
		}
	}
	return out
}

// NewSubnet makes the text-generation subnet's Definition for the SDK's miner and
// validator runtimes (sdk/miner, sdk/validator): the miner handler answers
// ChatCompletion with cfg.Backend; a validator's Query draws a task of DrawKinds from
// the round's random source, and Score judges the answers (checkable tasks by Check,
// free prompts, asked only with a reference model, by Similarity to its answer) and
// combines quality, latency, throughput and uptime with the SDK's scorer, a wrong
// answer earning nothing.
//
// The miner also answers ChatCompletionStream (the Definition's Routes), which the
// gateway uses for streamed requests; validators' rounds use ChatCompletion.
func NewSubnet(cfg SubnetConfig) (*subnet.Definition[*ChatCompletion], error) {
	corpus := DefaultCorpus()
	if _, err := NewGenerator(GeneratorConfig{Kinds: cfg.Kinds, Corpus: corpus}); err != nil {
		return nil, err
	}
	kinds, freeOff, err := DrawKinds(cfg.Kinds, cfg.Reference)
	if err != nil {
		return nil, err
	}
	cfg.Kinds = kinds
	noteReference(cfg.Logger, freeOff, kinds)
	if cfg.Weights == (scoring.Weights{}) {
		cfg.Weights = scoring.Weights{Quality: 0.6, Latency: 0.2, Throughput: 0.1, Uptime: 0.1}
	}
	if cfg.LatencyTarget <= 0 {
		cfg.LatencyTarget = 2 * time.Second
	}
	if cfg.MaxTokens <= 0 {
		cfg.MaxTokens = 256
	}
	sc, err := scoring.New(scoring.Config{Weights: cfg.Weights, LatencyTarget: cfg.LatencyTarget, Name: "textgen", Registerer: cfg.Registerer})
	if err != nil {
		return nil, err
	}
	// The validator's generator is replaced each round by one seeded from the round's
	// random source; this one only satisfies NewValidator.
	gen, _ := NewGenerator(GeneratorConfig{Kinds: cfg.Kinds, Corpus: corpus})
	v, err := NewValidator(ValidatorConfig{Generator: gen, Reference: cfg.Reference, Scorer: sc, Model: cfg.Model, MaxTokens: cfg.MaxTokens})
	if err != nil {
		return nil, err
	}
	var backend Backend = unavailable{}
	if cfg.Backend != nil {
		backend = cfg.Backend
	}
	m, err := NewMiner(backend, cfg.Miner)
	if err != nil {
		return nil, err
	}
	query := func(_ context.Context, r subnet.Round) (*ChatCompletion, error) {
		g, err := NewGenerator(GeneratorConfig{Seed: r.Rand.Uint64(), Kinds: cfg.Kinds, Corpus: corpus})
		if err != nil {
			return nil, err
		}
		t := g.Next()
		return NewChatCompletion(Request{Model: cfg.Model, MaxTokens: cfg.MaxTokens,
			Messages: []Message{{Role: "user", Content: t.Prompt}}}, 0), nil
	}
	score := func(ctx context.Context, q *ChatCompletion, rs []subnet.Response[*ChatCompletion]) ([]float64, error) {
		req := q.Request()
		t, ok := ParseTask(req.LastUser(), corpus)
		if !ok {
			return nil, fmt.Errorf("textgen: the round's task does not parse: %q", req.LastUser())
		}
		resps := make([]Response, len(rs))
		for i, r := range rs {
			resps[i] = Response{UID: r.UID, Hotkey: r.Hotkey, Latency: r.Latency, Err: r.Err}
			if r.Err == nil && r.Synapse != nil {
				resps[i].Completion, resps[i].Usage = r.Synapse.Completion, r.Synapse.Usage
			} else if r.Err == nil {
				resps[i].Err = errors.New("no answer")
			}
		}
		res, err := v.Evaluate(ctx, t, resps)
		if err != nil {
			return nil, err
		}
		return Rewards(res.Scores), nil
	}
	return &subnet.Definition[*ChatCompletion]{
		Name: "textgen", Handler: wire.Handle(m.Handle), Routes: []wire.Handler{wire.HandleStream(m.HandleStream)},
		Query: query, Score: score, VersionKey: VersionKey,
	}, nil
}

// unavailable is the backend of a process that does not mine.
type unavailable struct{}

// Generate fails: there is no backend.
func (unavailable) Generate(context.Context, Request, func(string) error) (Result, error) {
	return Result{}, errNotMining
}

var errNotMining = errors.New("textgen: this process has no backend; it does not mine")
