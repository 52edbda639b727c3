package lm

import (
	"context"
	"fmt"
	"math"
	"math/bits"
	"slices"
	"sync"

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
// of prefillChunk before the prompt's last position and of replayChunk from it on) and, at each position j, draws from one Sampler(s) as generation
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
	var rs replayScratch
	seq := m.NewSequence()
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
	for at := head; at < len(all); at += replayChunk {
		if err := ctx.Err(); err != nil {
			return ReplayResult{}, err
		}
		items := []Item{{Seq: seq, Tokens: all[at:min(len(all), at+replayChunk)], All: true}}
		if err := m.forward(items, &rs.logits); err != nil {
			return ReplayResult{}, err
		}
		for i, lg := range items[0].Logits {
			j := at + i + 1 - len(prompt) // these logits predict completion[j]
			tok := completion[j]
			st, want := rs.position(lg, tok, top, sampler)
			res.Steps = append(res.Steps, st)
			if want != tok {
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

// ranksBefore reports whether token a comes before token b in Next's order (logit
// descending, then id ascending).
func ranksBefore(logits []int32, a, b int32) bool {
	return logits[a] > logits[b] || (logits[a] == logits[b] && a < b)
}

// rankBuckets is how many buckets rankFirst spreads the logits over.
const rankBuckets = 4096

// rankScratch is rankFirst's working set.
type rankScratch struct {
	sums []uint64
	ids  []int32
}

// rankFirst finds the first token, in Next's order, at which the running sum of the
// probabilities p reaches target: the token and the sum through it; ok is false when
// the whole sum stays below. m is the logits' maximum. It buckets the tokens by logit
// (bucket 0 holding the highest), sums each bucket, and sorts only the bucket where
// the sum reaches the target: two passes over the vocabulary, with no sort of it.
func (rs *rankScratch) rankFirst(logits []int32, m int32, p []uint32, target uint64) (int, uint64, bool) {
	lo := m
	for _, v := range logits {
		lo = min(lo, v)
	}
	span := uint64(int64(m) - int64(lo))
	shift := uint(0)
	for span>>shift >= rankBuckets {
		shift++
	}
	rs.sums = slices.Grow(rs.sums[:0], rankBuckets)[:rankBuckets]
	clear(rs.sums)
	for i, v := range logits {
		rs.sums[uint64(int64(m)-int64(v))>>shift] += uint64(p[i])
	}
	var cum uint64
	b := -1
	for k, sm := range rs.sums {
		if cum+sm >= target && sm > 0 {
			b = k
			break
		}
		cum += sm
	}
	if b < 0 {
		return 0, cum, false
	}
	rs.ids = rs.ids[:0]
	for i, v := range logits {
		if int(uint64(int64(m)-int64(v))>>shift) == b {
			rs.ids = append(rs.ids, int32(i))
		}
	}
	slices.SortFunc(rs.ids, func(x, y int32) int {
		switch {
		case ranksBefore(logits, x, y):
			return -1
		case ranksBefore(logits, y, x):
			return 1
		}
		return 0
	})
	for _, id := range rs.ids {
		cum += uint64(p[id])
		if cum >= target {
			return int(id), cum, true
		}
	}
	return 0, cum, false // cannot happen: the bucket's sum reaches target
}

// expTab[i] = fixed.Exp(−i) for every i where that is not 0 (Exp is non-decreasing, so
// it is 0 beyond): 1.4 million entries (5.6 MB), built once on the first replay (tens
// of milliseconds), so that a replay computes no exponential.
var (
	expTabOnce sync.Once
	expTab     []uint32
)

func expTable() []uint32 {
	expTabOnce.Do(func() {
		t := make([]uint32, 0, 1408210)
		for i := int64(0); i <= -math.MinInt32; i++ {
			e := fixed.Exp(int32(-i))
			if e == 0 {
				break
			}
			t = append(t, e)
		}
		expTab = t
	})
	return expTab
}

// expDiff is fixed.Exp(Sat32(v − m)) for v ≤ m.
func expDiff(tab []uint32, m, v int32) uint32 {
	if d := uint64(int64(m) - int64(v)); d < uint64(len(tab)) {
		return tab[d]
	}
	return 0
}

// divider divides by one S exactly as rdivU does (round half up), with a multiply by
// S's reciprocal and branch-free corrections instead of a hardware division; prob does
// the division of a probability with a single multiply and shift.
type divider struct {
	s, inv uint64
	// m and sh: floor(x / 2S) = floor(x·m / 2^64) >> sh for every x < 2^62.
	m  uint64
	sh uint
}

func newDivider(s uint64) divider {
	inv, _ := bits.Div64(1, 0, s) // floor(2^64 / s); s ≥ 2^30 > 1
	// Granlund and Montgomery's multiplier for d = 2S < 2^62 and dividends of N = 62
	// bits: with l = ⌈log2 d⌉ and k = N + l, m = ⌈2^k / d⌉ < 2^63 + 1, and m·d − 2^k < d
	// ≤ 2^l = 2^(k−N), which makes floor(x·m / 2^k) = floor(x / d) for every x < 2^N.
	// k − 64 = l − 2 ≥ 29 since d ≥ 2^31.
	d := 2 * s
	l := uint(bits.Len64(d - 1))
	q, _ := bits.Div64(1<<(l-2)-1, math.MaxUint64, d) // floor((2^k − 1) / d); 2^(l−2) − 1 < d
	return divider{s: s, inv: inv, m: q + 1, sh: l - 2}
}

// prob is div(e·2^30), round-half-up(e·2^30 / S), for e ≤ 2^30 (an exponential in
// Q30): that is floor((e·2^31 + S) / 2S), the dividend under 2^62.
func (d divider) prob(e uint32) uint64 {
	hi, _ := bits.Mul64(uint64(e)<<31+d.s, d.m)
	return hi >> d.sh
}

// div is round-half-up(a / s) for a < 2^62.
func (d divider) div(a uint64) uint64 {
	q, _ := bits.Mul64(a, d.inv) // a·inv/2^64 > a/s − 1: q is floor(a/s) or one less
	r := a - q*d.s
	r2, borrow := bits.Sub64(r, d.s, 0) // no borrow: r ≥ s, q one short
	keep := borrow - 1                  // all ones when r ≥ s
	q += 1 & keep
	r = r2&keep | r&^keep
	_, half := bits.Sub64(2*r, d.s, 0) // no borrow: 2r ≥ s, round up
	return q + 1 - half
}

// replayScratch is Replay's per-position work: the step generation reports and the
// sampler's draw, computed with one table-lookup exponential per logit and no sort of
// the vocabulary.
type replayScratch struct {
	logits []int32 // the forward pass's logits, reused from chunk to chunk
	tab    []uint32
	e, p   []uint32
	z      []int32
	ids    []int
	rank   rankScratch
}

// sums is the sum of the probabilities of the exponentials e (their divider dv) and
// the sum over the tokens ranked before tok (a higher logit, or the same and a lower
// id).
func sums(logits []int32, e []uint32, tok int32, dv divider) (total, before uint64) {
	lt := int64(logits[tok])
	e = e[:len(logits)]
	// Before tok, a token ranks before it with a logit at least tok's; from tok on,
	// with a higher one.
	for i, v := range logits[:tok] {
		q := dv.prob(e[i])
		total += q
		before += q &^ uint64((int64(v)-lt)>>63) // v ≥ lt: all ones
	}
	e = e[tok:]
	for i, v := range logits[tok:] {
		q := dv.prob(e[i])
		total += q
		before += q & uint64((lt-int64(v))>>63) // v > lt: all ones
	}
	return total, before
}

// fill sets rs.p to the probabilities of the exponentials e.
func (rs *replayScratch) fill(e []uint32, dv divider) {
	rs.p = slices.Grow(rs.p[:0], len(e))[:len(e)]
	p := rs.p
	for i, x := range e {
		p[i] = uint32(dv.prob(x))
	}
}

// position returns the step of token tok at these logits (what step computes) and the
// token the sampler draws there, drawing exactly as s.Next does (one Uint64 of its
// generator for a sampled token, none for greedy decoding).
func (rs *replayScratch) position(logits []int32, tok int32, top int, s *Sampler) (Step, int32) {
	n := len(logits)
	if rs.tab == nil {
		rs.tab = expTable()
	}
	var m int32
	if top > 0 {
		rs.ids = fixed.TopK(logits, top, rs.ids[:0])
		m = logits[rs.ids[0]] // the top's first is the maximum
	} else {
		m = logits[0]
		for _, v := range logits[1:] {
			m = max(m, v)
		}
	}
	tab := rs.tab
	nt := uint64(len(tab))
	rs.e = slices.Grow(rs.e[:0], n)[:n]
	e := rs.e[:len(logits)]
	var sum uint64
	for i, v := range logits {
		var x uint32
		if d := uint64(int64(m) - int64(v)); d < nt {
			x = tab[d]
		}
		e[i] = x
		sum += uint64(x)
	}
	lse := int64(m) + fixed.Log(sum, 30) // fixed.LogSumExp(logits)
	lp := func(id int) int32 { return fixed.Sat32(int64(logits[id]) - lse) }
	st := Step{TokenLogprob: TokenLogprob{ID: tok, Logprob: lp(int(tok))}}
	if top > 0 {
		st.Top = make([]TokenLogprob, len(rs.ids))
		for i, id := range rs.ids {
			st.Top[i] = TokenLogprob{ID: int32(id), Logprob: lp(id)}
		}
	}

	p := s.p
	if p.Temperature == 0 || (p.TopK > 0 && p.TopK < n) {
		return st, s.Next(logits) // greedy, or a top-k heap: already cheap
	}
	// Every token is a candidate: z_i = Sat32(Rdiv(l_i·2^16, T)) and Next's Softmax(z)
	// probabilities p_i = round(Exp(z_i − max z)·2^30 / Σ Exp), which depend on z_i,
	// max z and the sum only.
	zsum := sum // at temperature 1, z is the logits and e their exponentials
	if p.Temperature != 1<<16 {
		rs.z = slices.Grow(rs.z[:0], n)[:n]
		zm := int32(math.MinInt32)
		for i, v := range logits {
			x := fixed.Sat32(fixed.Rdiv(int64(v)<<16, p.Temperature))
			rs.z[i] = x
			zm = max(zm, x)
		}
		zsum = 0
		for i, x := range rs.z {
			var y uint32
			if d := uint64(int64(zm) - int64(x)); d < nt {
				y = tab[d]
			}
			e[i] = y
			zsum += uint64(y)
		}
	}
	dv := newDivider(zsum)
	total, before := sums(logits, e, tok, dv)
	topP := p.TopP > 0 && p.TopP < 1<<30
	if topP {
		rs.fill(e, dv)
	}
	last := -1 // the last kept token, when top-p keeps a prefix
	if topP {
		// The shortest prefix whose sum reaches TopP: the draw is over it.
		if at, cum, ok := rs.rank.rankFirst(logits, m, rs.p, uint64(p.TopP)); ok {
			total, last = cum, at
		}
	}
	r, _ := bits.Mul64(s.rng.Uint64(), total)
	// tok is drawn when the running sum before it is ≤ r and the sum through it > r (a
	// token past top-p's prefix has a running sum before it ≥ total > r).
	if before <= r && r < before+dv.prob(e[tok]) {
		return st, tok
	}
	// Another token is drawn: the first whose running sum exceeds r (within top-p's
	// prefix, whose sum is total > r).
	if !topP {
		rs.fill(e, dv)
	}
	if at, _, ok := rs.rank.rankFirst(logits, m, rs.p, r+1); ok {
		return st, int32(at)
	}
	if last < 0 { // cannot happen (r < total): Next's fallback, the last candidate
		last = 0
		for i := range logits {
			if ranksBefore(logits, int32(last), int32(i)) {
				last = i
			}
		}
	}
	return st, int32(last)
}

// replayChunk is how many positions of logits Replay asks of one Forward call: few
// enough that their logits (replayChunk × Vocab) are still in cache when checked.
const replayChunk = 16
