package lm

import (
	"errors"
	"fmt"
	"math"
	"math/bits"

	"github.com/tessera-net/tessera/lm/fixed"
	"github.com/tessera-net/tessera/lm/kernel"
)

// Linear is a weight matrix in the engine's format: int8 blocks of 32 with 8-bit block
// scales (kernel.Matrix) and one fixed-point scale per row. Row j's weight k is
//
//	w[j,k] = Q[j,k] · S[j,k/32] · RS[j] / 2^48
//
// so a row scale RS[j] is the row's largest |w| · 2^48 / (255·127), rounded.
type Linear struct {
	M  *kernel.Matrix
	RS []int64
}

// Rows and Cols are the matrix's logical shape (out × in).
func (l *Linear) Rows() int { return l.M.Rows }
func (l *Linear) Cols() int { return l.M.Cols }

// Bytes is the memory the matrix holds.
func (l *Linear) Bytes() int64 {
	return int64(len(l.M.Q)) + 2*int64(len(l.M.S)) + 8*int64(len(l.RS))
}

// errWeightRange is returned for a weight of magnitude 2^15 or more, which the row-scale
// format cannot hold.
var errWeightRange = errors.New("weight magnitude of 32768 or more")

// rowQuantizer turns rows of exact float32 values into Linear rows. Its scratch is
// reused from row to row; it is not safe for concurrent use.
type rowQuantizer struct {
	w, m []int64
	e    []int
}

// clampQ limits a quantised value to [−127, 127].
func clampQ(v int64) int8 { return int8(min(max(v, -127), 127)) }

// quantRowTop is where a row's largest magnitude lands after scaling by 2^P: in
// [2^38, 2^39], so that amax·2^24 fits an int64.
const quantRowTop = 39

// f32Parts splits a finite float32 into m·2^e exactly (m signed, |m| < 2^24). It reports
// false for NaN and infinities.
func f32Parts(f float32) (m int64, e int, ok bool) {
	b := math.Float32bits(f)
	exp := int(b>>23) & 0xff
	frac := int64(b & 0x7fffff)
	switch exp {
	case 0xff:
		return 0, 0, false
	case 0:
		m, e = frac, -149
	default:
		m, e = frac|1<<23, exp-150
	}
	if b>>31 != 0 {
		m = -m
	}
	return m, e, true
}

// shiftRound is round-half-away(m · 2^s) for |m| < 2^24; shifts past 63 bits go to 0.
func shiftRound(m int64, s int) int64 {
	switch {
	case s >= 0:
		return m << uint(s) // callers keep the result under 2^39
	case s < -62:
		return 0
	default:
		return fixed.Rshr(m, uint(-s))
	}
}

// quantize writes row j of l from vals (len l.Cols()). The rule, exactly:
//
//  1. Every value is m·2^e exactly (f32Parts). Let top be the largest e + bitlen(|m|) over
//     the non-zero values, and P = 39 − top. w_k = round-half-away(v_k · 2^P) — exact
//     integer shifts; the row's largest |w_k| lies in [2^38, 2^39].
//  2. amax = max |w_k|; for each block b of 32, bmax_b = max |w_k| over the block and
//     S_b = ceil(255 · bmax_b / amax) (0 for an all-zero block).
//  3. With the block's multiplier M_b = Rdiv(32385 · 2^48, amax · S_b) (32385 = 255·127),
//     Q_k = clamp(Rshr(w_k · M_b, 48), −127, 127): one division per block, not per weight.
//  4. RS = Rdiv(amax · 2^24, 32385), then shifted by 24 − P: left when P < 24, else Rshr
//     by P − 24. A row with a weight of magnitude 2^15 or more (top > 15) is refused, so
//     RS < 2^49.
//
// A row of zeros gets RS = 0 and zero blocks.
func (rq *rowQuantizer) quantize(l *Linear, j int, vals []float32) error {
	m := l.M
	if len(vals) != m.Cols {
		return fmt.Errorf("row %d has %d values, want %d", j, len(vals), m.Cols)
	}
	top := math.MinInt
	if cap(rq.m) < len(vals) {
		rq.m, rq.e, rq.w = make([]int64, len(vals)), make([]int, len(vals)), make([]int64, len(vals))
	}
	ms, es := rq.m[:len(vals)], rq.e[:len(vals)]
	for k, v := range vals {
		mm, e, ok := f32Parts(v)
		if !ok {
			return fmt.Errorf("row %d column %d is %v", j, k, v)
		}
		ms[k], es[k] = mm, e
		if mm != 0 {
			if t := e + bits.Len64(uint64(abs64(mm))); t > top {
				top = t
			}
		}
	}
	q, s := m.Row(j)
	clear(q)
	clear(s)
	if top == math.MinInt {
		l.RS[j] = 0
		return nil
	}
	if top > 15 {
		return fmt.Errorf("row %d: %w", j, errWeightRange)
	}
	p := quantRowTop - top
	w := rq.w[:len(vals)]
	var amax int64
	for k := range w {
		w[k] = shiftRound(ms[k], es[k]+p)
		amax = max(amax, abs64(w[k]))
	}
	for b := 0; b*kernel.BlockSize < len(w); b++ {
		blk := w[b*kernel.BlockSize : min(len(w), (b+1)*kernel.BlockSize)]
		var bmax int64
		for _, x := range blk {
			bmax = max(bmax, abs64(x))
		}
		if bmax == 0 {
			continue
		}
		sb := (255*bmax + amax - 1) / amax
		s[b] = int16(sb)
		mb := fixed.Rdiv(32385<<48, amax*sb)
		for i, x := range blk {
			q[b*kernel.BlockSize+i] = clampQ(fixed.Rshr(x*mb, 48))
		}
	}
	rs := fixed.Rdiv(amax<<24, 32385)
	if p < 24 { // top > 15 was refused above, so rs < 2^49
		rs <<= uint(24 - p)
	} else {
		rs = fixed.Rshr(rs, uint(p-24))
	}
	l.RS[j] = rs
	return nil
}

func abs64(v int64) int64 {
	if v < 0 {
		return -v
	}
	return v
}

// newLinear makes an all-zero rows × cols matrix, in a when it is not nil.
func newLinear(a *arena, rows, cols int) *Linear {
	if a == nil {
		return &Linear{M: kernel.NewMatrix(rows, cols), RS: make([]int64, rows)}
	}
	stride := kernel.StrideFor(cols)
	return &Linear{
		M: &kernel.Matrix{Rows: rows, Cols: cols, Stride: stride,
			Q: a.int8s(rows * stride), S: a.int16s(rows * (stride / kernel.BlockSize))},
		RS: a.int64s(rows),
	}
}

// quantizeActs quantises one activation row (Q16) to int8: amax = max |x_k|,
// m = Rdiv(127·2^48, amax) and xq_k = clamp(Rshr(x_k·m, 48), −127, 127) (|x_k·m| <
// 2^56: no overflow). It writes xq (len ≥ len(x), the padding
// left zero) and returns the row's dequantisation scale a = Rdiv(amax·2^16, 127), which
// is amax/127 in Q16 of Q16 units (0 for a zero row, whose xq is all zero).
func quantizeActs(xq []int8, x []int32) int64 {
	var amax int64
	for _, v := range x {
		amax = max(amax, abs64(int64(v)))
	}
	if amax == 0 {
		clear(xq)
		return 0
	}
	m := fixed.Rdiv(127<<48, amax)
	for k, v := range x {
		xq[k] = clampQ(fixed.Rshr(int64(v)*m, 48))
	}
	clear(xq[len(x):])
	return fixed.Rdiv(amax<<16, 127)
}

// linearOut turns the kernel's exact accumulator into the Q16 output of one row, given
// the row's scale RS and the input's dequantisation scale a (quantizeActs):
//
//	y = sign(acc) · Rshr( Rshr(|acc| · RS, 32) · a, 32 )   saturated to int32
//
// with both products taken in 128 bits (|acc| < 2^45, RS < 2^49, a < 2^41): two
// multiplications and shifts, no division, and no branch on acc's sign (a zero acc,
// RS or a gives 0 through the products themselves).
func linearOut(acc, rs, a int64) int32 {
	sgn := acc >> 63 // all ones when acc < 0
	t := mulShr(uint64((acc^sgn)-sgn), uint64(rs), 32)
	v := int64(mulShr(t, uint64(a), 32))
	return fixed.Sat32((v ^ sgn) - sgn)
}

// linearOutRow sets dst[j] = linearOut(acc[j], rs[j], a) for every j < len(rs): the
// same arithmetic written out in one loop (linearOut is too large to inline), with
// mulShr's saturations as conditional moves.
func linearOutRow(dst []int32, acc, rs []int64, a int64) {
	if kernel.ScaleOut(dst, acc, rs, uint64(a)) { // the operands below 2^32
		return
	}
	dst, acc = dst[:len(rs)], acc[:len(rs)]
	ua := uint64(a)
	for j, r := range rs {
		x := acc[j]
		sgn := x >> 63
		hi, lo := bits.Mul64(uint64((x^sgn)-sgn), uint64(r))
		lo, c := bits.Add64(lo, 1<<31, 0)
		hi += c
		t := hi<<32 | lo>>32
		if hi>>31 != 0 {
			t = math.MaxInt64
		}
		hi, lo = bits.Mul64(t, ua)
		lo, c = bits.Add64(lo, 1<<31, 0)
		hi += c
		v := hi<<32 | lo>>32
		if hi>>31 != 0 {
			v = math.MaxInt64
		}
		dst[j] = fixed.Sat32((int64(v) ^ sgn) - sgn)
	}
}

// mulShr is round-half-up(a·b / 2^n) in 128 bits, saturated to MaxInt64 (0 < n < 64).
func mulShr(a, b uint64, n uint) uint64 {
	hi, lo := bits.Mul64(a, b)
	lo, c := bits.Add64(lo, 1<<(n-1), 0)
	hi += c
	if hi>>(n-1) != 0 { // result ≥ 2^63
		return math.MaxInt64
	}
	return hi<<(64-n) | lo>>n
}
