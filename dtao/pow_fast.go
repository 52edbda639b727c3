package dtao

import (
	"math/big"
	"math/bits"
)

// A fixed-width evaluation of ln1p_fixed for the precision the swaps use (P = 256, so the
// internal scale is 2^280 and |x| < 2^280): the same integer recurrence as ln1pFixed —
// term ← floor(term·x / 2^280), next ← floor(term/n), result ∓= next, stop when term or next
// is 0 or |next| < 2^24 — on five-word magnitudes instead of big.Int, about three times as
// fast. TestLn1pFastMatchesBig checks it against ln1pFixed.

type mag5 [5]uint64

func (a *mag5) isZero() bool { return a[0]|a[1]|a[2]|a[3]|a[4] == 0 }

// mulShift sets a = floor(a·b / 2^280) and reports whether the dropped part was non-zero.
func (a *mag5) mulShift(b *mag5) bool {
	var p [10]uint64
	nb := 5
	for nb > 0 && b[nb-1] == 0 {
		nb--
	}
	for i := 0; i < 5; i++ {
		if a[i] == 0 {
			continue
		}
		var carry uint64
		for j := 0; j < nb; j++ {
			hi, lo := bits.Mul64(a[i], b[j])
			var c uint64
			lo, c = bits.Add64(lo, p[i+j], 0)
			hi += c
			lo, c = bits.Add64(lo, carry, 0)
			hi += c
			p[i+j] = lo
			carry = hi
		}
		p[i+nb] = carry
	}
	// drop 4 words and 24 bits
	rem := p[0]|p[1]|p[2]|p[3] != 0 || p[4]<<(64-24) != 0
	for i := 0; i < 5; i++ {
		v := p[4+i] >> 24
		if 5+i < 10 {
			v |= p[5+i] << (64 - 24)
		}
		a[i] = v
	}
	return rem
}

// divSmall sets q = floor(a/n) and reports whether the remainder is non-zero.
func divSmall(q, a *mag5, n uint64) bool {
	var r uint64
	i := 4
	for ; i > 0 && a[i] == 0; i-- {
		q[i] = 0
	}
	for ; i >= 0; i-- {
		if r == 0 && a[i] < n {
			q[i], r = 0, a[i]
			continue
		}
		q[i], r = bits.Div64(r, a[i], n)
	}
	return r != 0
}

func (a *mag5) addOne() {
	for i := 0; i < 5; i++ {
		a[i]++
		if a[i] != 0 {
			return
		}
	}
}

// acc is a 384-bit two's-complement accumulator.
type acc [6]uint64

func (z *acc) add(m *mag5, neg bool) {
	var w [6]uint64
	copy(w[:5], m[:])
	if neg {
		// z -= m
		var b uint64
		for i := 0; i < 6; i++ {
			z[i], b = bits.Sub64(z[i], w[i], b)
		}
		return
	}
	var c uint64
	for i := 0; i < 6; i++ {
		z[i], c = bits.Add64(z[i], w[i], c)
	}
}

func (z *acc) big() *big.Int {
	neg := z[5]>>63 != 0
	v := *z
	if neg {
		var b uint64
		for i := 0; i < 6; i++ {
			v[i], b = bits.Sub64(0, v[i], b)
		}
	}
	r := new(big.Int)
	for i := 5; i >= 0; i-- {
		r.Lsh(r, 64)
		r.Or(r, new(big.Int).SetUint64(v[i]))
	}
	if neg {
		r.Neg(r)
	}
	return r
}

// ln1pFast is ln1pFixed for P = 256; ok is false if x does not fit (then use ln1pFixed).
func ln1pFast(x *big.Int, c *powCtx) (*big.Int, bool) {
	if c.p != 256 || x.BitLen() > 5*64-1 {
		return nil, false
	}
	var xm mag5
	ax := new(big.Int).Abs(x)
	for i, w := range ax.Bits() {
		xm[i] = uint64(w)
	}
	if bits.UintSize != 64 {
		return nil, false
	}
	xneg := x.Sign() < 0
	term, tneg := xm, xneg
	var result acc
	result.add(&xm, false)
	if xneg {
		result = acc{}
		result.add(&xm, true)
	}
	var next mag5
	for n := 2; n <= c.maxIters; n++ {
		// term = floor(term·x / S): magnitude product, sign of the product; a negative
		// value with a dropped remainder floors one further from zero.
		rem := term.mulShift(&xm)
		tneg = tneg != xneg
		if tneg && rem {
			term.addOne()
		}
		if term.isZero() {
			break
		}
		// next = floor(term / n)
		r := divSmall(&next, &term, uint64(n))
		if tneg && r {
			next.addOne()
		}
		if next.isZero() {
			break
		}
		// even n: result -= next; odd n: result += next (next carries term's sign)
		sub := n%2 == 0
		result.add(&next, sub != tneg)
		if next[1]|next[2]|next[3]|next[4] == 0 && next[0] < 1<<powGuardBits {
			break
		}
	}
	return result.big(), true
}
