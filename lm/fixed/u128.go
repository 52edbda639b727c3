package fixed

import "math/bits"

// This file holds the internal 128-bit unsigned fixed-point arithmetic used
// only to build tables at package initialisation and by RopeFreqs. All of it
// is integer code; every operation truncates (rounds toward zero) unless a
// comment says otherwise.
//
// The working format is "Q120": a u128 value v stands for v / 2^120, so it
// can hold values in [0, 256) with a resolution of 2^-120 (about 7.5e-37).

// u128 is an unsigned 128-bit integer hi*2^64 + lo.
type u128 struct{ hi, lo uint64 }

// q120Frac is the number of fractional bits of the Q120 format.
const q120Frac = 120

// q120One is 1.0 in Q120.
var q120One = u128{hi: 1 << (q120Frac - 64)}

// Correctly rounded constants in Q120 (checked against math/big in
// tables_test.go):
//
//	ln 2     = 0x00b17217f7d1cf79_abc9e3b39803f2f7 / 2^120
//	pi       = 0x03243f6a8885a308_d313198a2e037073 / 2^120
//	log2(e)  = 0x0171547652b82fe1_777d0ffda0d23a7d / 2^120
var (
	q120Ln2   = u128{hi: 0x00b17217f7d1cf79, lo: 0xabc9e3b39803f2f7}
	q120Pi    = u128{hi: 0x03243f6a8885a308, lo: 0xd313198a2e037073}
	q120Log2E = u128{hi: 0x0171547652b82fe1, lo: 0x777d0ffda0d23a7d}
)

func (a u128) isZero() bool { return a.hi == 0 && a.lo == 0 }

func (a u128) add(b u128) u128 {
	lo, c := bits.Add64(a.lo, b.lo, 0)
	hi, _ := bits.Add64(a.hi, b.hi, c)
	return u128{hi, lo}
}

// sub returns a-b; the caller guarantees a >= b.
func (a u128) sub(b u128) u128 {
	lo, c := bits.Sub64(a.lo, b.lo, 0)
	hi, _ := bits.Sub64(a.hi, b.hi, c)
	return u128{hi, lo}
}

// shr returns a >> n for n in [0, 128).
func (a u128) shr(n uint) u128 {
	switch {
	case n == 0:
		return a
	case n < 64:
		return u128{a.hi >> n, a.lo>>n | a.hi<<(64-n)}
	default:
		return u128{0, a.hi >> (n - 64)}
	}
}

// shl returns a << n for n in [0, 128), discarding bits above 2^128 (callers
// guarantee there are none).
func (a u128) shl(n uint) u128 {
	switch {
	case n == 0:
		return a
	case n < 64:
		return u128{a.hi<<n | a.lo>>(64-n), a.lo << n}
	default:
		return u128{a.lo << (n - 64), 0}
	}
}

// mul returns floor(a*b / 2^120), i.e. the Q120 product of two Q120 values.
// The caller guarantees the result is below 2^128 (a value below 256).
func (a u128) mul(b u128) u128 {
	// 256-bit product w3:w2:w1:(low word, not needed).
	p1, _ := bits.Mul64(a.lo, b.lo)
	q1, q0 := bits.Mul64(a.lo, b.hi)
	r1, r0 := bits.Mul64(a.hi, b.lo)
	s1, s0 := bits.Mul64(a.hi, b.hi)
	w1, c1 := bits.Add64(p1, q0, 0)
	w2, c2 := bits.Add64(q1, s0, c1)
	w3 := s1 + c2
	w1, c1 = bits.Add64(w1, r0, 0)
	w2, c2 = bits.Add64(w2, r1, c1)
	w3 += c2
	// Bits [120, 248) of the product.
	return u128{hi: w3<<8 | w2>>56, lo: w2<<8 | w1>>56}
}

// mul64 returns a*b as a 192-bit number w2:w1:w0.
func (a u128) mul64(b uint64) (w2, w1, w0 uint64) {
	h1, l1 := bits.Mul64(a.lo, b)
	h2, l2 := bits.Mul64(a.hi, b)
	w0 = l1
	w1, c := bits.Add64(h1, l2, 0)
	w2 = h2 + c
	return
}

// div192 returns floor((w2:w1:w0) / d) for d > 0; the caller guarantees the
// quotient is below 2^128.
func div192(w2, w1, w0, d uint64) u128 {
	_, r := bits.Div64(0, w2, d)
	qhi, r := bits.Div64(r, w1, d)
	qlo, _ := bits.Div64(r, w0, d)
	return u128{qhi, qlo}
}

// mulDiv returns floor(a*m/d) for d > 0; the caller guarantees the result is
// below 2^128.
func (a u128) mulDiv(m, d uint64) u128 {
	w2, w1, w0 := a.mul64(m)
	return div192(w2, w1, w0, d)
}

// div64 returns floor(a/d) for d > 0.
func (a u128) div64(d uint64) u128 {
	qhi, r := bits.Div64(0, a.hi, d)
	qlo, _ := bits.Div64(r, a.lo, d)
	return u128{qhi, qlo}
}

// roundShr returns floor((a + 2^(n-1)) / 2^n) as a uint64, i.e. a/2^n rounded
// half up, for n in [1, 127]; the caller guarantees the result fits in 64 bits.
func (a u128) roundShr(n uint) uint64 {
	h := u128{lo: 1}.shl(n - 1)
	return a.add(h).shr(n).lo
}

// q120ExpNeg returns e^(-w) in Q120 for w in Q120 with 0 <= w <= 1, by the
// Taylor series: term_0 = 1, term_k = floor(term_(k-1) * w / 2^120) / k
// (each step truncated), summed until a term is zero; even terms are added,
// odd terms subtracted. The error is below 2^-112.
func q120ExpNeg(w u128) u128 {
	pos, neg := q120One, u128{}
	term := q120One
	for k := uint64(1); ; k++ {
		term = term.mul(w).div64(k)
		if term.isZero() {
			break
		}
		if k&1 == 1 {
			neg = neg.add(term)
		} else {
			pos = pos.add(term)
		}
	}
	return pos.sub(neg)
}

// q120LnRatio returns ln(a/b) in Q120 for 0 < b <= a < 2b, a+b < 2^64, using
// ln(a/b) = 2*atanh(s), s = (a-b)/(a+b) in [0, 1/3):
// s = floor((a-b)*2^120 / (a+b)); p_0 = s, p_k = floor(p_(k-1)*s^2/2^120)
// with s^2 = floor(s*s/2^120); result = 2 * sum_k floor(p_k/(2k+1)), summed
// until p_k is zero. The error is below 2^-112.
func q120LnRatio(a, b uint64) u128 {
	n := a - b
	s := div192(n>>8, n<<56, 0, a+b)
	s2 := s.mul(s)
	sum := u128{}
	p := s
	for k := uint64(0); !p.isZero(); k++ {
		sum = sum.add(p.div64(2*k + 1))
		p = p.mul(s2)
	}
	return sum.add(sum)
}

// q120Sin returns sin(x) in Q120 for x in Q120 with 0 <= x <= 2, by the Taylor
// series term_0 = x, term_k = floor(floor(term_(k-1)*x^2/2^120) /
// ((2k)(2k+1))) with x^2 = floor(x*x/2^120), summed until a term is zero with
// alternating signs. The error is below 2^-112.
func q120Sin(x u128) u128 {
	x2 := x.mul(x)
	pos, neg := x, u128{}
	term := x
	for k := uint64(1); ; k++ {
		term = term.mul(x2).div64((2 * k) * (2*k + 1))
		if term.isZero() {
			break
		}
		if k&1 == 1 {
			neg = neg.add(term)
		} else {
			pos = pos.add(term)
		}
	}
	return pos.sub(neg)
}
