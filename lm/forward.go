package lm

import (
	"fmt"
	"math/bits"
	"sync"

	"github.com/tessera-net/tessera/lm/fixed"
	"github.com/tessera-net/tessera/lm/kernel"
)

// Sequence is one sequence's key/value cache: the keys and values of every position the
// model has seen, per layer, in Q16. A Sequence is used by one Forward call at a time.
type Sequence struct {
	n    int
	k, v [][]int32 // per layer: n × KVDim
}

// NewSequence starts an empty sequence for m.
func (m *Model) NewSequence() *Sequence {
	return &Sequence{k: make([][]int32, m.Config.Layers), v: make([][]int32, m.Config.Layers)}
}

// Len is the number of positions in the cache.
func (s *Sequence) Len() int { return s.n }

// Truncate drops every position from n on, so that a sequence can be rewound.
func (s *Sequence) Truncate(n int) {
	if n < 0 || n >= s.n {
		return
	}
	kv := 0
	if s.n > 0 {
		kv = len(s.k[0]) / s.n
	}
	for l := range s.k {
		s.k[l], s.v[l] = s.k[l][:n*kv], s.v[l][:n*kv]
	}
	s.n = n
}

// CacheBytes is the memory the cache holds.
func (s *Sequence) CacheBytes() int64 {
	var n int64
	for l := range s.k {
		n += 4 * int64(cap(s.k[l])+cap(s.v[l]))
	}
	return n
}

// kvGrowth is how many positions a cache grows by at once.
const kvGrowth = 256

// Item is one sequence's part of a Forward batch: the tokens to append to it, and
// whether the logits of every one of them are wanted (scoring) or only of the last
// (generation).
type Item struct {
	Seq    *Sequence
	Tokens []int32
	// Inputs, in place of Tokens, are the positions' input vectors themselves: one
	// Dim-long row of Q16 values per position, each in ±MaxInput, used where a token's
	// embedding row would be (a token's row gives the same bits as the token). Proof of
	// Compute feeds vectors drawn from the whole nonce, so that no position's input
	// repeats another nonce's. An item has Tokens or Inputs, not both.
	Inputs [][]int32
	All    bool
	// Hidden asks for the final hidden states instead of logits: the output norm's
	// result, Dim values in Q16, without the output projection (what Proof of Compute
	// compares).
	Hidden bool
	// Logits receives, after Forward, one Vocab-long row of Q16 logits per token when
	// All, else one row for the last token; States receives the hidden states likewise
	// when Hidden is set.
	Logits [][]int32
	States [][]int32
}

// Forward runs the model over a batch: every item's tokens are appended to its
// sequence and its logits computed. Rows are independent except through attention, and
// every row is computed exactly as it would be alone: the batch's composition never
// changes a bit. Two items must not share a Sequence.
func (m *Model) Forward(items []Item) error { return m.forward(items, nil) }

// forward is Forward, with the logits written to *buf (grown as needed, and kept there
// for the next call) when buf is not nil: they are then valid only until buf is used
// again.
func (m *Model) forward(items []Item, buf *[]int32) error {
	c := &m.Config
	var rows []row
	seen := make(map[*Sequence]bool, len(items))
	for i := range items {
		it := &items[i]
		if it.Seq == nil || seen[it.Seq] {
			return fmt.Errorf("%w: batch item %d has no sequence or shares one with another item", ErrRequest, i)
		}
		seen[it.Seq] = true
		n := it.positions()
		switch {
		case len(it.Tokens) > 0 && len(it.Inputs) > 0:
			return fmt.Errorf("%w: batch item %d has both tokens and input vectors", ErrRequest, i)
		case n == 0:
			return fmt.Errorf("%w: batch item %d has no tokens", ErrRequest, i)
		case it.Seq.n+n > c.Context:
			return fmt.Errorf("%w: batch item %d needs %d positions, more than the model's context of %d", ErrRequest,
				i, it.Seq.n+n, c.Context)
		}
		for j, t := range it.Tokens {
			if t < 0 || int(t) >= c.Vocab {
				return fmt.Errorf("%w: batch item %d token %d is %d, outside the vocabulary of %d", ErrRequest, i, j, t, c.Vocab)
			}
		}
		for j, in := range it.Inputs {
			if err := checkInput(in, c.Dim); err != nil {
				return fmt.Errorf("%w: batch item %d input %d: %v", ErrRequest, i, j, err)
			}
		}
		for j := 0; j < n; j++ {
			r := row{item: i, seq: it.Seq, pos: it.Seq.n + j, logits: it.All || j == n-1}
			if len(it.Tokens) > 0 {
				r.tok = it.Tokens[j]
			} else {
				r.in = it.Inputs[j]
			}
			rows = append(rows, r)
		}
	}
	w := m.newWork(len(rows))
	for r := range rows {
		if rows[r].in != nil {
			copy(w.x[r], rows[r].in)
		} else {
			m.embedRow(w.x[r], rows[r].tok)
		}
	}
	for l := range m.layers {
		m.layerForward(w, rows, l)
	}
	for i := range items {
		items[i].Seq.n += items[i].positions()
		items[i].Logits, items[i].States = items[i].Logits[:0], items[i].States[:0]
	}
	// The final norm for the rows whose outputs are wanted; the output projection only
	// for the items that want logits.
	var out []int
	for r := range rows {
		if rows[r].logits {
			out = append(out, r)
		}
	}
	var proj []int
	xq := make([]int8, len(out)*m.out.M.Stride)
	var ascale []int64
	for _, r := range out {
		it := &items[rows[r].item]
		h := make([]int32, c.Dim)
		rmsNorm(h, w.x[r], m.norm, c.Eps)
		if it.Hidden {
			it.States = append(it.States, h)
			continue
		}
		i := len(proj)
		proj = append(proj, r)
		ascale = append(ascale, quantizeActs(xq[i*m.out.M.Stride:(i+1)*m.out.M.Stride], h))
	}
	if len(proj) > 0 {
		var dst []int32
		if buf != nil {
			dst = *buf
		}
		logits := m.linear(m.out, xq[:len(proj)*m.out.M.Stride], ascale, len(proj), dst)
		if buf != nil {
			*buf = logits[:cap(logits)]
		}
		for i, r := range proj {
			it := &items[rows[r].item]
			it.Logits = append(it.Logits, logits[i*c.Vocab:(i+1)*c.Vocab:(i+1)*c.Vocab])
		}
	}
	return nil
}

// row is one token of a batch.
type row struct {
	item   int
	seq    *Sequence
	pos    int
	tok    int32
	in     []int32 // the input vector, in place of tok's embedding
	logits bool
}

// MaxInput bounds an input vector's values (Item.Inputs): ±2^20, sixteen times 1.0 in
// Q16, beyond any embedding row's, so that the norms' sums of squares stay exact.
const MaxInput = 1 << 20

// positions is how many positions the item appends.
func (it *Item) positions() int { return len(it.Tokens) + len(it.Inputs) }

// checkInput checks one input vector: Dim values, each within ±MaxInput.
func checkInput(in []int32, dim int) error {
	if len(in) != dim {
		return fmt.Errorf("%d values, want the model's width %d", len(in), dim)
	}
	for k, v := range in {
		if v > MaxInput || v < -MaxInput {
			return fmt.Errorf("value %d is %d, outside ±%d", k, v, MaxInput)
		}
	}
	return nil
}

// work is one Forward call's activations.
type work struct {
	x        [][]int32 // residual stream, rows × Dim
	h        []int32
	xq       []int8 // quantised inputs, rows × stride
	ascale   []int64
	att      []int32 // attention output, rows × Dim
	ropeCos  []int32
	ropeSin  []int32
	hidden   []int32 // rows × FFN
	attQ     []int8
	attScale []int64
	ffnQ     []int8
	ffnScale []int64
}

func (m *Model) newWork(n int) *work {
	c := &m.Config
	w := &work{x: make([][]int32, n), h: make([]int32, c.Dim),
		ascale: make([]int64, n), att: make([]int32, n*c.Dim), hidden: make([]int32, n*c.FFN),
		attScale: make([]int64, n), ffnScale: make([]int64, n),
		ropeCos: make([]int32, c.RopeDims/2), ropeSin: make([]int32, c.RopeDims/2)}
	for r := range w.x {
		w.x[r] = make([]int32, c.Dim)
	}
	l := &m.layers[0]
	w.xq = make([]int8, n*l.wq.M.Stride)
	w.attQ = make([]int8, n*l.wo.M.Stride)
	w.ffnQ = make([]int8, n*l.down.M.Stride)
	return w
}

// embedRow writes token t's embedding, in Q16: Rshr(Q·S·RS, 32) per element.
func (m *Model) embedRow(dst []int32, t int32) {
	q, s := m.embed.M.Row(int(t))
	rs := uint64(m.embed.RS[t])
	for k := range dst {
		p := int64(q[k]) * int64(s[k/kernel.BlockSize])
		dst[k] = fixed.Sat32(mulShrSigned(p, rs, 32))
	}
}

// accPool holds the kernel's accumulator buffers between linear calls.
var accPool sync.Pool // of *[]int64

// linearChunk bounds the accumulators linear holds at once (int64s, 256 KiB): a larger
// product is computed a chunk of the matrix's rows at a time, so that the accumulators
// are converted while they are still in cache.
const linearChunk = 32 << 10

// linear multiplies n quantised rows by l and returns the Q16 outputs, n × Rows, in
// dst when it has the capacity (a new slice otherwise).
func (m *Model) linear(l *Linear, xq []int8, ascale []int64, n int, dst []int32) []int32 {
	rows := l.M.Rows
	if cap(dst) < n*rows {
		dst = make([]int32, n*rows)
	}
	out := dst[:n*rows]
	if n == 0 || rows == 0 {
		return out
	}
	chunk := rows
	if n*rows > linearChunk {
		chunk = max(64, linearChunk/n/16*16)
	}
	ap, _ := accPool.Get().(*[]int64)
	if ap == nil {
		ap = new([]int64)
	}
	if cap(*ap) < n*chunk {
		*ap = make([]int64, n*chunk)
	}
	st, nb := l.M.Stride, l.M.Blocks()
	for r0 := 0; r0 < rows; r0 += chunk {
		r1 := min(rows, r0+chunk)
		c := r1 - r0
		sub := l.M
		if c < rows {
			sub = &kernel.Matrix{Rows: c, Cols: l.M.Cols, Stride: st, Q: l.M.Q[r0*st : r1*st], S: l.M.S[r0*nb : r1*nb]}
		}
		acc := (*ap)[:n*c]
		m.pool.MatMul(acc, sub, xq, n)
		for i := 0; i < n; i++ {
			linearOutRow(out[i*rows+r0:i*rows+r1], acc[i*c:(i+1)*c], l.RS[r0:r1], ascale[i])
		}
	}
	accPool.Put(ap)
	return out
}

func (m *Model) layerForward(w *work, rows []row, li int) {
	c := &m.Config
	L := &m.layers[li]
	n := len(rows)
	st := L.wq.M.Stride
	for r := range rows {
		rmsNorm(w.h, w.x[r], L.attnNorm, c.Eps)
		w.ascale[r] = quantizeActs(w.xq[r*st:(r+1)*st], w.h)
	}
	q := m.linear(L.wq, w.xq, w.ascale, n, nil)
	k := m.linear(L.wk, w.xq, w.ascale, n, nil)
	v := m.linear(L.wv, w.xq, w.ascale, n, nil)
	dim, kvd := c.Dim, c.KVDim()
	for r := range rows {
		m.ropeRow(w, q[r*dim:(r+1)*dim], k[r*kvd:(r+1)*kvd], rows[r].pos)
		s := rows[r].seq
		s.k[li] = appendKV(s.k[li], k[r*kvd:(r+1)*kvd], kvd)
		s.v[li] = appendKV(s.v[li], v[r*kvd:(r+1)*kvd], kvd)
	}
	// After the keys and values, only the rows whose outputs are used go on: every row
	// in the layers before the last, and in the last only the rows whose logits or
	// states are wanted (the others' keys and values are all that later positions read).
	idx := make([]int, 0, n)
	for r := range rows {
		if li < len(m.layers)-1 || rows[r].logits {
			idx = append(idx, r)
		}
	}
	ni := len(idx)
	m.attention(w, rows, idx, li, q)
	ao := L.wo.M.Stride
	for i, r := range idx {
		w.attScale[i] = quantizeActs(w.attQ[i*ao:(i+1)*ao], w.att[r*dim:(r+1)*dim])
	}
	o := m.linear(L.wo, w.attQ[:ni*ao], w.attScale, ni, nil)
	for i, r := range idx {
		addSat(w.x[r], o[i*dim:(i+1)*dim])
		rmsNorm(w.h, w.x[r], L.ffnNorm, c.Eps)
		w.ascale[i] = quantizeActs(w.xq[i*st:(i+1)*st], w.h)
	}
	g := m.linear(L.gate, w.xq[:ni*st], w.ascale, ni, nil)
	u := m.linear(L.up, w.xq[:ni*st], w.ascale, ni, nil)
	for i := range g {
		w.hidden[i] = fixed.Sat32(fixed.Rshr(int64(fixed.SiLU(g[i]))*int64(u[i]), 16))
	}
	fs := L.down.M.Stride
	for i := range idx {
		w.ffnScale[i] = quantizeActs(w.ffnQ[i*fs:(i+1)*fs], w.hidden[i*c.FFN:(i+1)*c.FFN])
	}
	d := m.linear(L.down, w.ffnQ[:ni*fs], w.ffnScale, ni, nil)
	for i, r := range idx {
		addSat(w.x[r], d[i*dim:(i+1)*dim])
	}
}

// appendKV appends one position to a cache, growing it kvGrowth positions at a time.
func appendKV(c, row []int32, kvd int) []int32 {
	if len(c)+kvd > cap(c) {
		nc := make([]int32, len(c), cap(c)+kvGrowth*kvd)
		copy(nc, c)
		c = nc
	}
	return append(c, row...)
}

// qkLimit bounds queries and keys after rotation (±256.0), so that a head's score
// Σ q·k (at most 2^9 terms of 2^48) fits an int64.
const qkLimit = 1 << 24

// ropeRow rotates each head's first RopeDims dimensions of q and k in pairs (2i, 2i+1)
// by pos·θ_i, θ_i = base^(−2i/RopeDims):
//
//	x' = Rshr(x0·cos − x1·sin, 30),  y' = Rshr(x0·sin + x1·cos, 30)
//
// with cos, sin from fixed.RopeCosSin (Q30), then clamps both to ±qkLimit.
func (m *Model) ropeRow(w *work, q, k []int32, pos int) {
	c := &m.Config
	for i := range w.ropeCos {
		w.ropeCos[i], w.ropeSin[i] = fixed.RopeCosSin(m.ropeFreq[i], pos)
	}
	hd := c.HeadDim()
	rot := func(x []int32) {
		for h := 0; h+hd <= len(x); h += hd {
			for i := range w.ropeCos {
				a, b := int64(x[h+2*i]), int64(x[h+2*i+1])
				cs, sn := int64(w.ropeCos[i]), int64(w.ropeSin[i])
				x[h+2*i] = fixed.Sat32(fixed.Rshr(a*cs-b*sn, 30))
				x[h+2*i+1] = fixed.Sat32(fixed.Rshr(a*sn+b*cs, 30))
			}
		}
		for i, v := range x {
			x[i] = min(max(v, -qkLimit), qkLimit)
		}
	}
	rot(q)
	rot(k)
}

// attention computes the heads of the rows in idx over their sequences' caches up to
// their positions:
//
//	score_t = Sat32(Rshr(Rshr(Σ_d q_d·k_{t,d}, 16) · isd, 16))     isd = 1/√headDim, Q16
//	p = fixed.Softmax(score_0..pos)                                 Q30
//	out_d = Sat32(Rshr(Σ_t p_t · v_{t,d}, 30))
//
// Heads are split across the model's threads; each writes only its own output.
func (m *Model) attention(w *work, rows []row, idx []int, li int, q []int32) {
	c := &m.Config
	dim, kvd, hd := c.Dim, c.KVDim(), c.HeadDim()
	group := c.Heads / c.KVHeads
	jobs := len(idx) * c.Heads
	threads := min(m.pool.Threads(), jobs)
	var wg sync.WaitGroup
	for t := 0; t < threads; t++ {
		wg.Add(1)
		go func(t int) {
			defer wg.Done()
			var scores []int32
			var probs []uint32
			acc := make([]int64, hd)
			for j := t; j < jobs; j += threads {
				r, h := idx[j/c.Heads], j%c.Heads
				s, pos := rows[r].seq, rows[r].pos
				qh := q[r*dim+h*hd : r*dim+(h+1)*hd]
				kvo := (h / group) * hd
				n := pos + 1
				if cap(scores) < n {
					scores, probs = make([]int32, n), make([]uint32, n)
				}
				scores, probs = scores[:n], probs[:n]
				for t := 0; t < n; t++ {
					kt := s.k[li][t*kvd+kvo : t*kvd+kvo+hd]
					kt = kt[:len(qh)]
					var dot int64
					for d, qv := range qh {
						dot += int64(qv) * int64(kt[d])
					}
					scores[t] = fixed.Sat32(fixed.Rshr(fixed.Rshr(dot, 16)*m.isd, 16))
				}
				probs = fixed.Softmax(probs, scores)
				clear(acc)
				for t, p := range probs {
					vt := s.v[li][t*kvd+kvo : t*kvd+kvo+hd]
					for d, v := range vt {
						acc[d] += int64(p) * int64(v)
					}
				}
				out := w.att[r*dim+h*hd : r*dim+(h+1)*hd]
				for d, a := range acc {
					out[d] = fixed.Sat32(fixed.Rshr(a, 30))
				}
			}
		}(t)
	}
	wg.Wait()
}

// rmsNorm writes y_k = Sat32(Rshr(Rshr128(x_k · inv, 32) · g_k, 16)) where
// inv = fixed.InvSqrt(Σ x_k² / n + eps) in Q32 (the mean of squares is in Q32, its
// quotient floored; the sum taken in 128 bits).
func rmsNorm(y, x, g []int32, eps int64) {
	var hi, lo uint64
	for _, v := range x {
		sq := uint64(int64(v) * int64(v))
		var c uint64
		lo, c = bits.Add64(lo, sq, 0)
		hi += c
	}
	mean, _ := bits.Div64(hi, lo, uint64(len(x)))
	inv := fixed.InvSqrt(mean + uint64(eps))
	for k, v := range x {
		n := mulShrSigned(int64(v), inv, 32)
		y[k] = fixed.Sat32(fixed.Rshr(n*int64(g[k]), 16)) // |n| ≤ √Dim·2^16: no overflow
	}
}

// mulShrSigned is sign(a)·round-half-up(|a|·b / 2^n), 128-bit, saturated.
func mulShrSigned(a int64, b uint64, n uint) int64 {
	v := int64(mulShr(uint64(abs64(a)), b, n))
	if a < 0 {
		return -v
	}
	return v
}

func addSat(x, y []int32) {
	for i := range x {
		x[i] = fixed.Sat32(int64(x[i]) + int64(y[i]))
	}
}
