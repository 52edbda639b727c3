package dtao

import (
	"math/big"
	"sync"
)

// This file ports safe-bigmath's SafeInt::pow_ratio_scaled (sam0x17/safe-bigmath@013c4998,
// src/integer.rs l.243–380 and l.600–740) bit for bit: floor((bn/bd)^(en/ed) × scale).
// The exact path (both exponent parts ≤ 1024 after reducing by their gcd) takes the
// integer ed-th root of bn^en·scale^ed / bd^en; the fallback path evaluates
// exp((en/ed)·(ln bn − ln bd)) in fixed point with 24 guard bits and the crate's stopping
// rules. PowExact and PowFallback expose the two paths on their own (tests, benchmarks).

const (
	powMaxExactExponent = 1024
	powDefaultMaxIters  = 4096
	powGuardBits        = 24
)

// PowRatioScaled is pow_ratio_scaled(bn, bd, en, ed, precision, scale). ok is false where
// the crate returns None (a zero denominator or exponent denominator). Arguments are not
// modified.
func PowRatioScaled(bn, bd, en, ed *big.Int, precision uint, scale *big.Int) (*big.Int, bool) {
	if bd.Sign() == 0 || ed.Sign() == 0 {
		return nil, false
	}
	if bn.Sign() == 0 {
		return new(big.Int), true
	}
	if scale.Sign() < 0 || bn.Sign() < 0 || bd.Sign() < 0 {
		return nil, false
	}
	if en.Sign() == 0 {
		return new(big.Int).Set(scale), true
	}
	n, d := reduceExp(en, ed)
	if exactExponent(n, d) {
		return powExact(bn, bd, uint(n.Uint64()), uint(d.Uint64()), scale), true
	}
	return powFallback(bn, bd, n, d, precision, scale), true
}

// reduceExp divides en and ed by their gcd.
func reduceExp(en, ed *big.Int) (*big.Int, *big.Int) {
	g := new(big.Int).GCD(nil, nil, en, ed)
	if g.Cmp(big.NewInt(1)) > 0 {
		return new(big.Int).Quo(en, g), new(big.Int).Quo(ed, g)
	}
	return en, ed
}

func exactExponent(n, d *big.Int) bool {
	return n.BitLen() <= 32 && d.BitLen() <= 32 &&
		n.Uint64() <= powMaxExactExponent && d.Uint64() <= powMaxExactExponent
}

// PowExact is the exact path: floor((bn^num·scale^den / bd^num)^(1/den)) for num, den ≥ 1.
func PowExact(bn, bd *big.Int, num, den uint, scale *big.Int) *big.Int {
	return powExact(bn, bd, num, den, scale)
}

func powExact(bn, bd *big.Int, num, den uint, scale *big.Int) *big.Int {
	e := new(big.Int).SetUint64(uint64(num))
	tn := new(big.Int).Exp(bn, e, nil)
	tn.Mul(tn, new(big.Int).Exp(scale, new(big.Int).SetUint64(uint64(den)), nil))
	td := new(big.Int).Exp(bd, e, nil)
	// floor(root_q(tn/td)) = floor(root_q(floor(tn/td))) for integer roots, which is what
	// the crate's binary search returns.
	t := tn.Quo(tn, td)
	return floorRoot(t, den)
}

// floorRoot is the largest r with r^q ≤ t (q ≥ 1).
func floorRoot(t *big.Int, q uint) *big.Int {
	switch {
	case q == 1:
		return t
	case q == 2:
		return new(big.Int).Sqrt(t)
	}
	if t.Sign() == 0 {
		return t
	}
	qb := new(big.Int).SetUint64(uint64(q))
	low := new(big.Int)
	high := new(big.Int).Lsh(big.NewInt(1), uint(t.BitLen())/q+1)
	p := new(big.Int)
	mid := new(big.Int)
	one := big.NewInt(1)
	for low.Cmp(high) < 0 {
		mid.Add(low, high)
		mid.Add(mid, one)
		mid.Rsh(mid, 1)
		if p.Exp(mid, qb, nil).Cmp(t) <= 0 {
			low.Set(mid)
		} else {
			high.Sub(mid, one)
		}
	}
	return low
}

// PowFallback is the fallback path of pow_ratio_scaled with the default iteration cap, for
// any exponent (also one the exact path would take).
func PowFallback(bn, bd, num, den *big.Int, precision uint, scale *big.Int) *big.Int {
	return powFallback(bn, bd, num, den, precision, scale)
}

// powCtx holds the constants of one internal precision.
type powCtx struct {
	p        uint     // requested precision P
	s        *big.Int // internal scale 2^(P+24)
	g        *big.Int // guard factor 2^24
	maxIters int
	ln2      *big.Int
}

var powCtxs sync.Map // uint -> *powCtx

func getPowCtx(p uint) *powCtx {
	if c, ok := powCtxs.Load(p); ok {
		return c.(*powCtx)
	}
	ip := p + powGuardBits
	c := &powCtx{
		p:        p,
		s:        new(big.Int).Lsh(big.NewInt(1), ip),
		g:        new(big.Int).Lsh(big.NewInt(1), powGuardBits),
		maxIters: min(powDefaultMaxIters, int(ip)+128),
	}
	half := new(big.Int).Rsh(c.s, 1)
	c.ln2 = ln1pFixed(half.Neg(half), c)
	c.ln2.Neg(c.ln2)
	c2, _ := powCtxs.LoadOrStore(p, c)
	return c2.(*powCtx)
}

func powFallback(bn, bd, num, den *big.Int, precision uint, scale *big.Int) *big.Int {
	p := max(precision, 32, uint(scale.BitLen())+8)
	c := getPowCtx(p)
	lnb := lnFixed(bn, c)
	lnb.Sub(lnb, lnFixed(bd, c))
	lnb.Mul(lnb, num)
	floorDiv(lnb, den)
	e := expFixed(lnb, c)
	e = roundToPrecision(e, c)
	e.Mul(e, scale)
	return e.Rsh(e, p) // floor division by 2^P (arithmetic shift floors)
}

// floorDiv sets z = floor(z/d) for d > 0 (big.Int.Div is Euclidean, which floors for d > 0).
func floorDiv(z, d *big.Int) {
	m := new(big.Int)
	z.DivMod(z, d, m)
}

// roundToPrecision is round_to_precision: truncating division by the guard factor 2^24,
// then one away from zero where twice the remainder reaches it — that is
// sign(v)·((|v| + 2^23) >> 24).
func roundToPrecision(v *big.Int, c *powCtx) *big.Int {
	return roundInto(new(big.Int), v)
}

var halfGuard = big.NewInt(1 << (powGuardBits - 1))

func roundInto(z, v *big.Int) *big.Int {
	neg := v.Sign() < 0
	z.Abs(v)
	z.Add(z, halfGuard)
	z.Rsh(z, powGuardBits)
	if neg {
		z.Neg(z)
	}
	return z
}

// floorDivSmall sets z = floor(x/n) for n > 0, using r as scratch.
func floorDivSmall(z, x, n, r *big.Int) {
	z.QuoRem(x, n, r)
	if r.Sign() < 0 {
		z.Sub(z, bigOne)
	}
}

var bigOne = big.NewInt(1)

// The crate's series loops stop when the step is below the guard factor g or when
// round(result/g) repeats. The second test is implied by the first: the step is an integer
// added to result, and a step of at least g always changes round(result/g), because
// rounding half away from zero satisfies f(y+1) ≥ f(y)+1 (and f(y−1) ≤ f(y)−1). So the
// loops below test only the step, with the same iterations and the same result.

// ln1pFixed is ln1p_fixed(x, S, g, maxIters).
func ln1pFixed(x *big.Int, c *powCtx) *big.Int {
	if r, ok := ln1pFast(x, c); ok {
		return r
	}
	return ln1pBig(x, c)
}

// ln1pBig is ln1pFixed on big integers, for any precision.
func ln1pBig(x *big.Int, c *powCtx) *big.Int {
	term := new(big.Int).Set(x)
	result := new(big.Int).Set(x)
	next := new(big.Int)
	nb := new(big.Int)
	r := new(big.Int)
	t := new(big.Int)
	ip := c.p + powGuardBits
	for n := 2; n <= c.maxIters; n++ {
		t.Mul(term, x) // not in place: an aliased product allocates
		term, t = t, term
		term.Rsh(term, ip)
		if term.Sign() == 0 {
			break
		}
		nb.SetInt64(int64(n))
		floorDivSmall(next, term, nb, r)
		if next.Sign() == 0 {
			break
		}
		if n%2 == 0 {
			result.Sub(result, next)
		} else {
			result.Add(result, next)
		}
		if next.CmpAbs(c.g) < 0 {
			break
		}
	}
	return result
}

// expFixed is exp_fixed(x, S, g, maxIters).
func expFixed(x *big.Int, c *powCtx) *big.Int {
	if r, ok := expFast(x, c); ok {
		return r
	}
	return expBig(x, c)
}

// expBig is expFixed on big integers, for any precision and exponent.
func expBig(x *big.Int, c *powCtx) *big.Int {
	term := new(big.Int).Set(c.s)
	result := new(big.Int).Set(c.s)
	nb := new(big.Int)
	r := new(big.Int)
	t := new(big.Int)
	ip := c.p + powGuardBits
	for n := 1; n <= c.maxIters; n++ {
		// floor(term·x / (S·n)) = floor(floor(term·x / S) / n) for n > 0.
		t.Mul(term, x)
		t.Rsh(t, ip)
		nb.SetInt64(int64(n))
		floorDivSmall(term, t, nb, r)
		if term.Sign() == 0 {
			break
		}
		result.Add(result, term)
		if term.CmpAbs(c.g) < 0 {
			break
		}
	}
	return result
}

// lnMemo remembers the last few logarithms of 64-bit values. A swap takes ln of a reserve
// and of the reserve after the swap, and the next swap on the pool (the fee sale of an
// unstake, a stake after a chain buy) starts from that one, so one of its two logarithms
// is a hit. The memo holds pure function values: it cannot change a result.
var lnMemo struct {
	sync.Mutex
	next int
	e    [4]struct {
		p   uint
		v   uint64
		ln  *big.Int
		set bool
	}
}

// lnFixed is ln_biguint(v) for v > 0, memoised for 64-bit v.
func lnFixed(v *big.Int, c *powCtx) *big.Int {
	if !v.IsUint64() {
		return lnCompute(v, c)
	}
	u := v.Uint64()
	lnMemo.Lock()
	for _, e := range lnMemo.e {
		if e.set && e.p == c.p && e.v == u {
			r := new(big.Int).Set(e.ln)
			lnMemo.Unlock()
			return r
		}
	}
	lnMemo.Unlock()
	r := lnCompute(v, c)
	lnMemo.Lock()
	e := &lnMemo.e[lnMemo.next]
	e.p, e.v, e.ln, e.set = c.p, u, new(big.Int).Set(r), true
	lnMemo.next = (lnMemo.next + 1) % len(lnMemo.e)
	lnMemo.Unlock()
	return r
}

func lnCompute(v *big.Int, c *powCtx) *big.Int {
	if v.Sign() == 0 {
		return new(big.Int)
	}
	ip := c.p + powGuardBits
	shift := uint(v.BitLen() - 1)
	m := new(big.Int).Lsh(v, ip)
	m.Rsh(m, shift)
	sph := new(big.Int).Rsh(c.s, 1)
	sph.Add(sph, c.s)
	if m.Cmp(sph) >= 0 {
		m.Rsh(m, 1)
		shift++
	}
	m.Sub(m, c.s)
	r := ln1pFixed(m, c)
	return r.Add(r, new(big.Int).Mul(c.ln2, new(big.Int).SetUint64(uint64(shift))))
}
