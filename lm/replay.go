package lm

import (
	"context"
	"fmt"
	"math/bits"
	"slices"

	"github.com/tessera-net/tessera/lm/fixed"
)

// ReplayResult is what Replay found.
type ReplayResult struct {
	// Steps are the recomputed steps up to and including the first that differs (all
	// of them when none does): each completion token with its log-probability and top
	// alternatives, as generation reports them.
	Steps []Step
	// Match is true when every token is the one the seeded sampler picks and every
	// reported step is identical to the recomputed one.
	Match bool
	// Position is the first completion position that differs (-1 when Match).
	Position int
	// Reason says how it differs ("" when Match).
	Reason string
}

// Replay checks a completion exactly, as a validator does: it runs prompt and
// completion through the model in one teacher-forced pass (Score's prefill, in chunks
// of prefillChunk) and, at each position j, draws from one Sampler(s) as generation
// did, once per position — it must pick completion[j] — and computes the step (log-probability and top
// alternatives) that generation would have reported. When reported is not nil, it must
// have one step per completion token, each identical to the recomputed one (token,
// log-probability, and the top list, ids and values). Since Forward computes every row
// exactly as it would be alone, a completion Generate made with (prompt, s, top)
// replays with Match true, on any machine; a single changed token fails at its
// position. Replay stops at the first difference.
//
// The error is for a replay that cannot run (ErrRequest for an empty prompt or
// completion, a top outside 0..MaxTopLogprobs, more positions than the context, a
// token outside the vocabulary; or ctx's error); a completion that differs is a
// result, not an error.
func (m *Model) Replay(ctx context.Context, prompt, completion []int32, s Sampling, top int, reported []Step) (ReplayResult, error) {
	switch {
	case len(prompt) == 0:
		return ReplayResult{}, fmt.Errorf("%w: the prompt has no tokens", ErrRequest)
	case len(completion) == 0:
		return ReplayResult{}, fmt.Errorf("%w: the completion has no tokens", ErrRequest)
	case top < 0 || top > MaxTopLogprobs:
		return ReplayResult{}, fmt.Errorf("%w: top logprobs %d is not in 0..%d", ErrRequest, top, MaxTopLogprobs)
	}
	all := make([]int32, 0, len(prompt)+len(completion)-1)
	all = append(append(all, prompt...), completion[:len(completion)-1]...)
	if len(all) > m.Config.Context {
		return ReplayResult{}, fmt.Errorf("%w: prompt and completion need %d positions, more than the model's context of %d",
			ErrRequest, len(all), m.Config.Context)
	}
	for i, t := range completion {
		if t < 0 || int(t) >= m.Config.Vocab {
			return ReplayResult{}, fmt.Errorf("%w: completion token %d is %d, outside the vocabulary of %d", ErrRequest, i, t, m.Config.Vocab)
		}
	}
	res := ReplayResult{Steps: make([]Step, 0, len(completion)), Match: true, Position: -1}
	sampler := NewSampler(s)
	var sc pickScratch
	seq := m.NewSequence()
	var ids []int
	// The prompt's positions before its last give no logits that are checked: feed
	// them without the output projection, then every position from the prompt's last.
	head := len(prompt) - 1
	for at := 0; at < head; at += prefillChunk {
		if err := ctx.Err(); err != nil {
			return ReplayResult{}, err
		}
		if err := m.Forward([]Item{{Seq: seq, Tokens: all[at:min(head, at+prefillChunk)]}}); err != nil {
			return ReplayResult{}, err
		}
	}
	for at := head; at < len(all); at += prefillChunk {
		if err := ctx.Err(); err != nil {
			return ReplayResult{}, err
		}
		items := []Item{{Seq: seq, Tokens: all[at:min(len(all), at+prefillChunk)], All: true}}
		if err := m.Forward(items); err != nil {
			return ReplayResult{}, err
		}
		for i, lg := range items[0].Logits {
			j := at + i + 1 - len(prompt) // these logits predict completion[j]
			tok := completion[j]
			var st Step
			st, ids = step(lg, tok, top, ids)
			res.Steps = append(res.Steps, st)
			if want := sampler.pick(lg, &sc); want != tok {
				res.Match, res.Position = false, j
				res.Reason = fmt.Sprintf("position %d: the seeded sampler picks token %d, the completion has %d", j, want, tok)
				return res, nil
			}
			if reported != nil && j < len(reported) {
				if why := diffStep(st, reported[j]); why != "" {
					res.Match, res.Position = false, j
					res.Reason = fmt.Sprintf("position %d: %s", j, why)
					return res, nil
				}
			}
		}
	}
	if reported != nil && len(reported) != len(completion) {
		// The common part matched: the first difference is where one of them ends.
		res.Match, res.Position = false, min(len(reported), len(completion))
		res.Reason = fmt.Sprintf("%d steps reported for %d completion tokens", len(reported), len(completion))
	}
	return res, nil
}

// diffStep says how a reported step differs from the recomputed one ("" when it does
// not).
func diffStep(want, got Step) string {
	switch {
	case got.ID != want.ID:
		return fmt.Sprintf("reported token %d, the completion has %d", got.ID, want.ID)
	case got.Logprob != want.Logprob:
		return fmt.Sprintf("token %d's log-probability is %d/65536, reported %d/65536", want.ID, want.Logprob, got.Logprob)
	case len(got.Top) != len(want.Top):
		return fmt.Sprintf("%d top log-probabilities, reported %d", len(want.Top), len(got.Top))
	}
	for k := range want.Top {
		if got.Top[k] != want.Top[k] {
			return fmt.Sprintf("top %d is token %d at %d/65536, reported token %d at %d/65536",
				k, want.Top[k].ID, want.Top[k].Logprob, got.Top[k].ID, got.Top[k].Logprob)
		}
	}
	return ""
}

// pick draws the next token exactly as s.Next does, consulting the generator once per
// sampled token as Next does, but without sorting the whole vocabulary when every token
// is a candidate (TopK 0 or at least the vocabulary): Next's probabilities depend on
// each logit and on the vocabulary's maximum and sum only, so the token whose running
// sum, in Next's order (logit descending, then id ascending), first reaches a target is
// found by a weighted selection in linear expected time. Top-k of fewer tokens goes to
// Next itself (its heap of k is already cheap).
func (s *Sampler) pick(logits []int32, sc *pickScratch) int32 {
	if s.p.Temperature == 0 || (s.p.TopK > 0 && s.p.TopK < len(logits)) {
		return s.Next(logits)
	}
	n := len(logits)
	s.z = slices.Grow(s.z[:0], n)[:n]
	for i, l := range logits {
		s.z[i] = fixed.Sat32(fixed.Rdiv(int64(l)<<16, s.p.Temperature))
	}
	s.probs = slices.Grow(s.probs[:0], n)[:n]
	fixed.Softmax(s.probs, s.z)
	var total uint64
	for _, p := range s.probs {
		total += uint64(p)
	}
	sc.reset(n)
	if s.p.TopP > 0 && s.p.TopP < 1<<30 {
		// The shortest prefix whose sum reaches TopP: its last token and its sum.
		if at, cum, ok := sc.first(logits, s.probs, uint64(s.p.TopP)); ok {
			total = cum
			sc.keepUpTo(logits, at)
		}
	}
	r, _ := bits.Mul64(s.rng.Uint64(), total)
	at, _, ok := sc.first(logits, s.probs, r+1)
	if !ok { // cannot happen: r < total, the sum of the kept probabilities
		return int32(sc.last(logits))
	}
	return int32(at)
}

// pickScratch is pick's working set: the candidate ids still in play and the sum of the
// probabilities of the tokens ranked before all of them.
type pickScratch struct {
	ids, tmp []int32
	before   uint64
}

func (sc *pickScratch) reset(n int) {
	sc.ids = slices.Grow(sc.ids[:0], n)[:n]
	for i := range sc.ids {
		sc.ids[i] = int32(i)
	}
	sc.before = 0
}

// ranksBefore reports whether token a comes before token b in Next's order.
func ranksBefore(logits []int32, a, b int32) bool {
	return logits[a] > logits[b] || (logits[a] == logits[b] && a < b)
}

// keepUpTo narrows the candidates to the tokens ranked at or before at (top-p).
func (sc *pickScratch) keepUpTo(logits []int32, at int) {
	keep := sc.ids[:0]
	for _, id := range sc.ids {
		if id == int32(at) || ranksBefore(logits, id, int32(at)) {
			keep = append(keep, id)
		}
	}
	sc.ids, sc.before = keep, 0
}

// last is the candidate ranked last.
func (sc *pickScratch) last(logits []int32) int {
	w := sc.ids[0]
	for _, id := range sc.ids[1:] {
		if ranksBefore(logits, w, id) {
			w = id
		}
	}
	return int(w)
}

// first finds, among the candidates in rank order, the first token at which the
// running sum of probabilities (from the first candidate, plus nothing before) reaches
// target: the token and the sum through it; ok is false when the whole sum stays below.
// The candidates are left as they were (ids in ascending order).
func (sc *pickScratch) first(logits []int32, probs []uint32, target uint64) (int, uint64, bool) {
	ids := append(sc.tmp[:0], sc.ids...)
	defer func() { sc.tmp = ids[:0] }()
	before := sc.before
	for len(ids) > 0 {
		// Partition around the pivot's logit, keeping ids ascending in each part.
		v := logits[ids[len(ids)/2]]
		var sumHi, sumEq uint64
		for _, id := range ids {
			switch l := logits[id]; {
			case l > v:
				sumHi += uint64(probs[id])
			case l == v:
				sumEq += uint64(probs[id])
			}
		}
		switch {
		case before+sumHi >= target:
			ids = filter(ids, func(id int32) bool { return logits[id] > v })
		case before+sumHi+sumEq >= target:
			// Equal logits rank by id ascending: walk them in order.
			cum := before + sumHi
			for _, id := range ids {
				if logits[id] == v {
					cum += uint64(probs[id])
					if cum >= target {
						return int(id), cum, true
					}
				}
			}
			return 0, 0, false // cannot happen: the sum reaches target within them
		default:
			before += sumHi + sumEq
			ids = filter(ids, func(id int32) bool { return logits[id] < v })
		}
	}
	return 0, before, false
}

// filter keeps, in place and in order, the ids that keep accepts.
func filter(ids []int32, keep func(int32) bool) []int32 {
	out := ids[:0]
	for _, id := range ids {
		if keep(id) {
			out = append(out, id)
		}
	}
	return out
}
