package dtao

import "math/big"

// The limit deltas (limitDelta) ask pow_ratio_scaled for 1024 bits of precision, and their
// exponent w/1e18 almost never reduces to the exact path, so each one ran the fallback's
// series at P = 1024: ~200 µs, most of a limit stake. But the answer is an integer,
// floor(v·scale) with v = (bn/bd)^(en/ed), of at most ~94 bits there, and P = 1024 only
// decides which side of an integer v·scale falls. So powCertified evaluates the same
// series at P = 256 first (ln1pFast's width). Where its error bound (powDecided) is below
// 2^-65 in units of the answer and its fractional part is at least 2^-64 away from an
// integer, the P = 256 floor and the P = 1024 floor (whose own error is smaller still)
// are both floor(v·scale), the same integer; only inside that window — about once in
// 10^19 random inputs — or where the bound fails does it compute at the full precision.
// TestPowCertifiedMatchesFull checks it against PowRatioScaled over random limits and
// weights; TestPowCertifiedUndecidedFallsBack the fall back.

const (
	certPrecision  = 256 // the precision of the limit deltas' first evaluation (ln1pFast's)
	certMarginBits = 64  // how far from an integer the first evaluation must land
	// certSlackBits bounds the rounding the two series and the logarithm's normalisation
	// add up (each term floors once; at most 2^8 terms; the ln 2 multiple).
	certSlackBits = 16
)

// powCertified is PowRatioScaled(bn, bd, en, ed, precision, scale), computed first at
// precision first (< precision) where that decides the same integer.
func powCertified(bn, bd, en, ed *big.Int, precision uint, scale *big.Int, first, marginBits uint) (*big.Int, bool) {
	if precision <= first || bd.Sign() <= 0 || ed.Sign() == 0 || bn.Sign() <= 0 || en.Sign() == 0 || scale.Sign() < 0 {
		return PowRatioScaled(bn, bd, en, ed, precision, scale)
	}
	n, d := reduceExp(en, ed)
	if exactExponent(n, d) {
		return PowRatioScaled(bn, bd, en, ed, precision, scale)
	}
	if r, ok := powDecided(bn, bd, n, d, scale, first, marginBits); ok {
		return r, true
	}
	return PowRatioScaled(bn, bd, en, ed, precision, scale)
}

// powDecided is powFallback at precision prec, keeping the fraction that powFallback's
// final shift drops: ok is false where that fraction is within 2^-marginBits of an
// integer, or where the evaluation's error bound is not below 2^-(marginBits+1) (then only
// the full precision decides).
//
// The error bound, in units of the answer: the series stop below 2^-prec of 1 and floor
// at most 2^8 times (certSlackBits); exp(x) for x < 0 sums terms up to e^|x| < 4^(|x|+1)
// before they cancel, so it loses at most 2(|x|+1) bits; an error in x (scaled by the
// exponent's ratio, under 2^ratioBits) is a relative error of the answer. So the error is
// below 2^(scaleBits + loss + slack − prec) + answer·2^(ratioBits + slack − prec).
func powDecided(bn, bd, num, den, scale *big.Int, prec, marginBits uint) (*big.Int, bool) {
	p := max(prec, 32, uint(scale.BitLen())+8)
	c := getPowCtx(p)
	lnb := lnFixed(bn, c)
	lnb.Sub(lnb, lnFixed(bd, c))
	lnb.Mul(lnb, num)
	floorDiv(lnb, den)
	xInt := new(big.Int).Abs(lnb)
	xInt.Rsh(xInt, p+powGuardBits)
	if !xInt.IsUint64() || xInt.Uint64() > 1<<16 {
		return nil, false
	}
	loss := 2 * (uint(xInt.Uint64()) + 1)
	ratioBits := uint(new(big.Int).Quo(num, den).BitLen()) + 1
	if uint(scale.BitLen())+loss+certSlackBits+marginBits+1 > p {
		return nil, false
	}
	e := expFixed(lnb, c)
	e = roundToPrecision(e, c)
	e.Mul(e, scale)
	if e.Sign() < 0 {
		return nil, false
	}
	if answerBits := uint(max(e.BitLen()-int(p), 0)); answerBits+ratioBits+certSlackBits+marginBits+1 > p {
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
