package textgen

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/tessera-net/tessera/client"
	"github.com/tessera-net/tessera/modules/subnets"
	"github.com/tessera-net/tessera/sdk/scoring"
	"github.com/tessera-net/tessera/wire"
)

// Target is a miner a validator queries: its uid and axon.
type Target struct {
	UID  uint16        // the miner's uid
	Axon wire.AxonInfo // its axon and hotkey
}

// Response is one miner's answer to a task, as the validator measured it.
type Response struct {
	UID        uint16 // the miner's uid
	Hotkey     string // the miner's hotkey
	Completion string // its answer
	Usage      Usage  // the token usage it reported
	// Latency is the round trip as the validator timed it.
	Latency time.Duration
	// Err is why the miner gave no answer (nil when it answered).
	Err error
}

// Quality judges one completion in [0,1]: Check against the answer for a checkable
// task, Similarity to the reference answer for a free one.
func Quality(t Task, reference, completion string) float64 {
	if t.Kind.Checkable() {
		return Check(t, completion)
	}
	return Similarity(reference, completion)
}

// Observations turns a round's responses into the scorer's input: quality from
// Quality, latency as measured, throughput in completion tokens a second, uptime from
// the given map (hotkey → fraction of recent rounds answered; absent means 1), and
// Failed for a miner that did not answer.
func Observations(t Task, reference string, rs []Response, uptime map[string]float64) []scoring.Observation {
	obs := make([]scoring.Observation, len(rs))
	for i, r := range rs {
		up, ok := uptime[r.Hotkey]
		if !ok {
			up = 1
		}
		o := scoring.Observation{ID: r.Hotkey, Uptime: up}
		if r.Err != nil {
			o.Failed = true
		} else {
			o.Quality = Quality(t, reference, r.Completion)
			o.Latency = r.Latency
			if s := r.Latency.Seconds(); s > 0 {
				o.Throughput = float64(r.Usage.CompletionTokens) / s
			}
		}
		obs[i] = o
	}
	return obs
}

// UpdateUptime moves each miner's uptime towards 1 if it answered and 0 if not, as an
// exponential moving average with factor alpha in (0,1]; a miner seen for the first
// time starts at its first outcome. It returns the updated map (m itself; nil makes a
// new one).
func UpdateUptime(m map[string]float64, rs []Response, alpha float64) map[string]float64 {
	if m == nil {
		m = make(map[string]float64, len(rs))
	}
	for _, r := range rs {
		x := 1.0
		if r.Err != nil {
			x = 0
		}
		if prev, ok := m[r.Hotkey]; ok {
			m[r.Hotkey] = prev + alpha*(x-prev)
		} else {
			m[r.Hotkey] = x
		}
	}
	return m
}

// WeightsU16 turns scores into chain weights: each score over the largest, scaled to
// 65535 (as Bittensor normalises weights before setting them). All-zero or empty
// scores give all-zero weights; negative or non-finite scores count as 0.
func WeightsU16(scores []float64) []uint16 {
	top := 0.0
	for _, s := range scores {
		if s > top && !math.IsInf(s, 1) {
			top = s
		}
	}
	out := make([]uint16, len(scores))
	if top <= 0 {
		return out
	}
	for i, s := range scores {
		if s > 0 && !math.IsInf(s, 1) {
			out[i] = uint16(math.Round(s / top * 65535))
		}
	}
	return out
}

// ValidatorConfig configures a Validator.
type ValidatorConfig struct {
	// Generator draws the tasks. Required.
	Generator *Generator
	// Reference answers free prompts; its answer is what miners' answers are compared
	// with. Only a reference that judges free text (JudgesFreeText: a language model,
	// not nil or the built-in test backend) is asked: without one the validator skips
	// the Free tasks its generator draws, and a generator of Free tasks only is
	// ErrNoReferenceModel.
	Reference Backend
	// Scorer combines the criteria (default: quality 0.6, latency 0.2, throughput 0.1,
	// uptime 0.1, latency target 2 s).
	Scorer *scoring.Scorer
	// Timeout bounds each query (default 12 s).
	Timeout time.Duration
	// UptimeAlpha is the moving-average factor of uptime (default 0.1).
	UptimeAlpha float64
	// Model is the model name sent in tasks ("" lets miners choose).
	Model string
	// MaxTokens bounds each answer (default 256).
	MaxTokens int
}

// Validator runs rounds: draw a task, send it to miners, score the answers. It keeps
// the miners' uptime between rounds and is safe for concurrent use (rounds are
// serialised).
type Validator struct {
	cfg    ValidatorConfig
	free   bool // free tasks are judged: the reference judges free text
	mu     sync.Mutex
	uptime map[string]float64
}

// NewValidator checks the configuration and makes a validator.
func NewValidator(cfg ValidatorConfig) (*Validator, error) {
	if cfg.Generator == nil {
		return nil, errors.New("textgen: validator needs a task generator")
	}
	free := JudgesFreeText(cfg.Reference)
	if !free && !slices.ContainsFunc(cfg.Generator.Kinds(), Kind.Checkable) {
		return nil, ErrNoReferenceModel
	}
	if cfg.Scorer == nil {
		s, err := scoring.New(scoring.Config{
			Weights:       scoring.Weights{Quality: 0.6, Latency: 0.2, Throughput: 0.1, Uptime: 0.1},
			LatencyTarget: 2 * time.Second, Name: "textgen",
		})
		if err != nil {
			return nil, err
		}
		cfg.Scorer = s
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 12 * time.Second
	}
	if cfg.UptimeAlpha <= 0 || cfg.UptimeAlpha > 1 {
		cfg.UptimeAlpha = 0.1
	}
	if cfg.MaxTokens <= 0 {
		cfg.MaxTokens = 256
	}
	return &Validator{cfg: cfg, free: free, uptime: map[string]float64{}}, nil
}

// RoundResult is what one round found.
type RoundResult struct {
	Task      Task             // the round's task
	Reference string           // the reference answer (free tasks) or the right answer
	Responses []Response       // one per target, in order
	Scores    []scoring.Result // one per response, in the same order
}

// Round draws a task (a checkable one when the reference does not judge free text),
// sends it to every target at once through d, and scores the answers.
func (v *Validator) Round(ctx context.Context, d *wire.Dendrite, targets []Target) (*RoundResult, error) {
	t := v.next()
	return v.Evaluate(ctx, t, v.Query(ctx, d, t, targets))
}

// next draws the generator's next task that the validator can judge. NewValidator made
// sure the generator draws such tasks.
func (v *Validator) next() Task {
	v.mu.Lock()
	defer v.mu.Unlock()
	for {
		if t := v.cfg.Generator.Next(); v.free || t.Kind.Checkable() {
			return t
		}
	}
}

// Query sends task t to every target at once and collects their responses.
func (v *Validator) Query(ctx context.Context, d *wire.Dendrite, t Task, targets []Target) []Response {
	syn := NewChatCompletion(Request{Model: v.cfg.Model, MaxTokens: v.cfg.MaxTokens,
		Messages: []Message{{Role: "user", Content: t.Prompt}}}, v.cfg.Timeout.Seconds())
	axons := make([]wire.AxonInfo, len(targets))
	for i, tg := range targets {
		axons[i] = tg.Axon
	}
	results := d.Fanout(ctx, axons, syn)
	out := make([]Response, len(results))
	for i, r := range results {
		resp := Response{UID: targets[i].UID, Hotkey: targets[i].Axon.Hotkey, Latency: r.Latency, Err: r.Err}
		if r.Err == nil {
			if c, ok := r.Synapse.(*ChatCompletion); ok {
				resp.Completion, resp.Usage = c.Completion, c.Usage
			} else {
				resp.Err = &wire.StatusError{Code: http.StatusUnprocessableEntity, Message: "answer is not a ChatCompletion"}
			}
		}
		out[i] = resp
	}
	return out
}

// Evaluate scores responses to task t: it asks the reference backend for a free task,
// updates uptime, and scores with the scorer. A free task without a reference that
// judges free text is ErrNoReferenceModel: it is not scored against canned filler.
func (v *Validator) Evaluate(ctx context.Context, t Task, rs []Response) (*RoundResult, error) {
	ref := t.Answer
	if !t.Kind.Checkable() {
		if !v.free {
			return nil, ErrNoReferenceModel
		}
		res, err := v.cfg.Reference.Generate(ctx, Request{Model: v.cfg.Model, MaxTokens: v.cfg.MaxTokens,
			Messages: []Message{{Role: "user", Content: t.Prompt}}}, nil)
		if err != nil {
			return nil, fmt.Errorf("textgen: reference answer: %w", err)
		}
		ref = res.Text
	}
	v.mu.Lock()
	v.uptime = UpdateUptime(v.uptime, rs, v.cfg.UptimeAlpha)
	obs := Observations(t, ref, rs, v.uptime)
	v.mu.Unlock()
	scores, err := v.cfg.Scorer.Score(obs)
	if err != nil {
		return nil, err
	}
	return &RoundResult{Task: t, Reference: ref, Responses: rs, Scores: scores}, nil
}

// SetWeights sets the validator's weights on subnet netuid from scores (one per uid),
// through s, and waits for the transaction to be committed.
func SetWeights(ctx context.Context, s *client.Signer, netuid uint16, uids []uint16, scores []float64) (*client.TxView, error) {
	if len(uids) != len(scores) {
		return nil, fmt.Errorf("textgen: %d uids but %d scores", len(uids), len(scores))
	}
	msg, err := subnets.NewSetWeights(netuid, uids, WeightsU16(scores), 0)
	if err != nil {
		return nil, err
	}
	return s.Send(ctx, msg)
}
