package dtao

import "math/big"

// The limit deltas (limitDelta) ask pow_ratio_scaled for 1024 bits of precision, and their
// exponent w/1e18 almost never reduces to the exact path, so each one ran the fallback's
// series at P = 1024: ~200 µs, most of a limit stake. But the answer is an integer,
// floor(v·scale) with v = (bn/bd)^(en/ed), of at most a few dozen bits, and P = 1024 only
// decides which side of an integer v·scale falls. So powCertified evaluates the same
// series at P = 256 first. Its error there is below 2^-(256+24−k) of v, k a few bits for
// the terms of the series and the size of the logarithms: in units of the answer (at most
// 2^96 here) below 2^-140. Where the fractional part of the P = 256 value is at least
// 2^-64 away from an integer, the P = 256 floor and the P = 1024 floor (whose own error is
// smaller still) are both floor(v·scale), the same integer; only inside that 2^-63-wide
// window — about once in 10^19 random inputs — does it compute at the full precision.
// TestPowCertifiedMatchesFull checks it against PowRatioScaled over random pools, limits
// and weights, and on forced fallbacks.

const (
	certPrecision  = 256 // the precision of the first evaluation (ln1pFast's)
	certMarginBits = 64  // how far from an integer the first evaluation must land
)

// powCertified is PowRatioScaled(bn, bd, en, ed, precision, scale), computed at
// certPrecision where that decides the same integer.
func powCertified(bn, bd, en, ed *big.Int, precision uint, scale *big.Int) (*big.Int, bool) {
	if precision <= certPrecision || bd.Sign() <= 0 || ed.Sign() == 0 || bn.Sign() <= 0 || en.Sign() == 0 || scale.Sign() < 0 {
		return PowRatioScaled(bn, bd, en, ed, precision, scale)
	}
	n, d := reduceExp(en, ed)
	if exactExponent(n, d) {
		return PowRatioScaled(bn, bd, en, ed, precision, scale)
	}
	if r, ok := powDecided(bn, bd, n, d, scale, certMarginBits); ok {
		return r, true
	}
	return PowRatioScaled(bn, bd, en, ed, precision, scale)
}

// powDecided is powFallback at certPrecision, keeping the fraction that powFallback's
// final shift drops: ok is false where that fraction is within 2^-marginBits of an
// integer (then only the full precision decides).
func powDecided(bn, bd, num, den, scale *big.Int, marginBits uint) (*big.Int, bool) {
	p := max(certPrecision, 32, uint(scale.BitLen())+8)
	c := getPowCtx(p)
	lnb := lnFixed(bn, c)
	lnb.Sub(lnb, lnFixed(bd, c))
	lnb.Mul(lnb, num)
	floorDiv(lnb, den)
	e := expFixed(lnb, c)
	e = roundToPrecision(e, c)
	e.Mul(e, scale)
	if e.Sign() < 0 {
		return nil, false
	}
	// frac = e mod 2^p; decided when 2^(p−m) ≤ frac ≤ 2^p − 2^(p−m).
	frac := new(big.Int).SetBit(new(big.Int), int(p), 1)
	frac.Sub(frac, bigOne)
	frac.And(frac, e)
	margin := new(big.Int).Lsh(bigOne, p-min(marginBits, p))
	if frac.Cmp(margin) < 0 {
		return nil, false
	}
	frac.Add(frac, margin)
	if frac.BitLen() > int(p) {
		return nil, false
	}
	return e.Rsh(e, p), true
}
