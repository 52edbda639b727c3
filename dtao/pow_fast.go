package dtao

import (
	"math/big"
	"math/bits"
)

// Fixed-width evaluations of ln1p_fixed and exp_fixed for the precision the swaps use
// (P = 256, so the internal scale is S = 2^280): the same integer recurrences as ln1pBig
// and expBig on five-word magnitudes instead of big.Int, about three times as fast.
//
//   - ln1p: term ← floor(term·x / S), next ← floor(term/n), result ∓= next; stop when
//     term or next is 0 or |next| < 2^24. It takes |x| < 2^319.
//   - exp: term ← floor(floor(term·x / S) / n), result += term; stop when term is 0 or
//     |term| < 2^24. It takes |x| < 2^284 (|x/S| < 16): every term and the result are
//     then below S·e^16 < 2^304, so they fit the five words and the products the ten.
//
// A negative value's floor is one further from zero than its magnitude's wherever a
// division drops a non-zero part. TestLn1pFastMatchesBig and TestExpFastMatchesBig check
// them against the big-integer loops.

const expFastBits = 284 // the widest |x| expFast takes

type mag5 [5]uint64

func (a *mag5) isZero() bool { return a[0]|a[1]|a[2]|a[3]|a[4] == 0 }

// mulShift sets a = floor(a·b / 2^280) and reports whether the dropped part was non-zero.
// It multiplies only b's words from its lowest non-zero one to its highest: ln1pFast's x
// is a 64-bit reserve's mantissa, shifted, with at most two non-zero words.
func (a *mag5) mulShift(b *mag5) bool {
	var p [10]uint64
	nb, lb := 5, 0
	for nb > 0 && b[nb-1] == 0 {
		nb--
	}
	for lb < nb && b[lb] == 0 {
		lb++
	}
	for i := 0; i < 5; i++ {
		if a[i] == 0 {
			continue
		}
		var carry uint64
		for j := lb; j < nb; j++ {
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

// big returns z as a big.Int (a 64-bit host: its words are z's).
func (z *acc) big() *big.Int {
	neg := z[5]>>63 != 0
	v := *z
	if neg {
		var b uint64
		for i := 0; i < 6; i++ {
			v[i], b = bits.Sub64(0, v[i], b)
		}
	}
	words := make([]big.Word, len(v))
	for i, w := range v {
		words[i] = big.Word(w)
	}
	r := new(big.Int).SetBits(words)
	if neg {
		r.Neg(r)
	}
	return r
}

// fastMag returns |x| as five words, and false where it is wider than maxBits or the host
// is not 64-bit (the fast loops then do not run).
func fastMag(x *big.Int, c *powCtx, maxBits int) (mag5, bool) {
	var m mag5
	if bits.UintSize != 64 || c.p != 256 || x.BitLen() > maxBits {
		return m, false
	}
	for i, w := range x.Bits() {
		m[i] = uint64(w)
	}
	return m, true
}

// ln1pFast is ln1pFixed for P = 256; ok is false if x does not fit (then use ln1pFixed).
func ln1pFast(x *big.Int, c *powCtx) (*big.Int, bool) {
	xm, ok := fastMag(x, c, 5*64-1)
	if !ok {
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

// expFast is expFixed for P = 256; ok is false if x does not fit (then use expBig).
func expFast(x *big.Int, c *powCtx) (*big.Int, bool) {
	xm, ok := fastMag(x, c, expFastBits)
	if !ok {
		return nil, false
	}
	xneg := x.Sign() < 0
	var term, next mag5
	term[4] = 1 << (280 - 4*64) // S
	tneg := false
	var result acc
	result.add(&term, false)
	for n := 1; n <= c.maxIters; n++ {
		// term = floor(floor(term·x / S) / n), each floor of a negative value one
		// further from zero where it drops a non-zero part.
		rem := term.mulShift(&xm)
		tneg = tneg != xneg
		if tneg && rem {
			term.addOne()
		}
		r := divSmall(&next, &term, uint64(n))
		if tneg && r {
			next.addOne()
		}
		term = next
		if term.isZero() {
			break
		}
		result.add(&term, tneg)
		if term[1]|term[2]|term[3]|term[4] == 0 && term[0] < 1<<powGuardBits {
			break
		}
	}
	return result.big(), true
}
