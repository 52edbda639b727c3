package lm

import (
	"context"
	"errors"
	"fmt"

	"github.com/tessera-net/tessera/lm/fixed"
)

// TokenLogprob is a token and its log-probability under the model (Q16, temperature 1,
// before any top-k or top-p filtering: the distribution a validator recomputes).
type TokenLogprob struct {
	ID      int32
	Logprob int32
}

// Step is one position of a completion: the token there and the TopLogprobs most likely
// tokens (by logit descending, then id ascending).
type Step struct {
	TokenLogprob
	Top []TokenLogprob
}

// Request is one completion to generate.
type Request struct {
	Prompt      []int32
	MaxTokens   int // at least 1; the context bounds it too
	Sampling    Sampling
	TopLogprobs int  // 0..MaxTopLogprobs
	IgnoreEOS   bool // keep going past the end-of-sequence token
}

// Finish reasons, as OpenAI's API names them.
const (
	FinishStop   = "stop"   // the end-of-sequence token, or the caller's emit asked to stop
	FinishLength = "length" // MaxTokens or the context ran out
)

// ErrStopped is what an emit function returns to end a completion early (a stop string
// matched); Generate then reports FinishStop and no error.
var ErrStopped = errors.New("lm: stopped by the caller")

// ErrRequest is wrapped by every error about a request the model cannot take: an empty
// prompt, one longer than the context, a parameter out of range, a token outside the
// vocabulary.
var ErrRequest = errors.New("lm: bad request")

// prefillChunk bounds how many of one sequence's tokens go through a Forward call, so
// a long prompt's activations stay small.
const prefillChunk = 64

// step scores one position: the chosen token's log-probability and the top alternatives,
// with lse = fixed.LogSumExp(logits) and logprob_i = Sat32(l_i − lse).
func step(logits []int32, tok int32, top int, ids []int) (Step, []int) {
	lse := fixed.LogSumExp(logits)
	lp := func(id int) int32 { return fixed.Sat32(int64(logits[id]) - lse) }
	s := Step{TokenLogprob: TokenLogprob{ID: tok, Logprob: lp(int(tok))}}
	if top > 0 {
		ids = fixed.TopK(logits, top, ids[:0])
		s.Top = make([]TokenLogprob, len(ids))
		for i, id := range ids {
			s.Top[i] = TokenLogprob{ID: int32(id), Logprob: lp(id)}
		}
	}
	return s, ids
}

func (m *Model) checkRequest(r *Request) error {
	if len(r.Prompt) == 0 {
		return fmt.Errorf("%w: the prompt has no tokens", ErrRequest)
	}
	if len(r.Prompt) >= m.Config.Context {
		return fmt.Errorf("%w: the prompt's %d tokens fill the model's context of %d", ErrRequest, len(r.Prompt), m.Config.Context)
	}
	if r.MaxTokens < 1 {
		return fmt.Errorf("%w: max tokens %d is less than 1", ErrRequest, r.MaxTokens)
	}
	if r.TopLogprobs < 0 || r.TopLogprobs > MaxTopLogprobs {
		return fmt.Errorf("%w: top logprobs %d is not in 0..%d", ErrRequest, r.TopLogprobs, MaxTopLogprobs)
	}
	return nil
}

// Generate runs one completion on its own (Engine batches concurrent ones), calling
// emit with every step as it is made. It returns the steps and the finish reason.
func (m *Model) Generate(ctx context.Context, r Request, emit func(Step) error) ([]Step, string, error) {
	if err := m.checkRequest(&r); err != nil {
		return nil, "", err
	}
	g := newGen(m, r)
	for {
		if err := ctx.Err(); err != nil {
			return g.steps, "", err
		}
		items := []Item{g.item()}
		if err := m.Forward(items); err != nil {
			return g.steps, "", err
		}
		s, done := g.advance(items[0].Logits[0])
		if s != nil && emit != nil {
			if err := emit(*s); err != nil {
				if errors.Is(err, ErrStopped) {
					return g.steps, FinishStop, nil
				}
				return g.steps, "", err
			}
		}
		if done != "" {
			return g.steps, done, nil
		}
	}
}

// gen is one completion's progress: the prompt still to feed, then one token per step.
type gen struct {
	m       *Model
	r       Request
	seq     *Sequence
	sampler *Sampler
	feed    []int32 // tokens for the next Forward
	rest    []int32 // prompt tokens after feed
	steps   []Step
	ids     []int
}

func newGen(m *Model, r Request) *gen {
	g := &gen{m: m, r: r, seq: m.NewSequence(), sampler: NewSampler(r.Sampling)}
	g.rest = r.Prompt
	g.next()
	return g
}

// next moves up to prefillChunk prompt tokens into feed.
func (g *gen) next() {
	n := min(len(g.rest), prefillChunk)
	g.feed, g.rest = g.rest[:n], g.rest[n:]
}

func (g *gen) item() Item { return Item{Seq: g.seq, Tokens: g.feed} }

// advance takes the logits of the last fed token. While the prompt is being read it
// returns no step; after, it picks a token and reports the step and, when the
// completion is over, its finish reason.
func (g *gen) advance(logits []int32) (*Step, string) {
	if len(g.rest) > 0 {
		g.next()
		return nil, ""
	}
	tok := g.sampler.Next(logits)
	var s Step
	s, g.ids = step(logits, tok, g.r.TopLogprobs, g.ids)
	g.steps = append(g.steps, s)
	g.feed = []int32{tok}
	switch {
	case !g.r.IgnoreEOS && g.m.isEOS(tok):
		return &g.steps[len(g.steps)-1], FinishStop
	case len(g.steps) >= g.r.MaxTokens || g.seq.Len()+1 >= g.m.Config.Context:
		return &g.steps[len(g.steps)-1], FinishLength
	}
	return &g.steps[len(g.steps)-1], ""
}

func (m *Model) isEOS(t int32) bool {
	return m.Tokenizer != nil && m.Tokenizer.IsEOG(t)
}

// Score computes what a validator checks: for each token of completion, its
// log-probability after prompt and the completion before it, and the top alternatives.
// A completion Generate made scores to exactly the steps it reported.
func (m *Model) Score(ctx context.Context, prompt, completion []int32, top int) ([]Step, error) {
	if len(prompt) == 0 {
		return nil, fmt.Errorf("%w: the prompt has no tokens", ErrRequest)
	}
	if len(completion) == 0 {
		return nil, fmt.Errorf("%w: the completion has no tokens", ErrRequest)
	}
	if top < 0 || top > MaxTopLogprobs {
		return nil, fmt.Errorf("%w: top logprobs %d is not in 0..%d", ErrRequest, top, MaxTopLogprobs)
	}
	all := append(append([]int32(nil), prompt...), completion[:len(completion)-1]...)
	if len(all) > m.Config.Context {
		return nil, fmt.Errorf("%w: prompt and completion need %d positions, more than the model's context of %d", ErrRequest,
			len(all), m.Config.Context)
	}
	seq := m.NewSequence()
	steps := make([]Step, 0, len(completion))
	var ids []int
	for at := 0; at < len(all); at += prefillChunk {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		chunk := all[at:min(len(all), at+prefillChunk)]
		items := []Item{{Seq: seq, Tokens: chunk, All: true}}
		if err := m.Forward(items); err != nil {
			return nil, err
		}
		for i, lg := range items[0].Logits {
			pos := at + i // these logits predict position pos+1
			if j := pos + 1 - len(prompt); j >= 0 {
				var s Step
				s, ids = step(lg, completion[j], top, ids)
				steps = append(steps, s)
			}
		}
	}
	return steps, nil
}
