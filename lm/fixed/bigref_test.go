package fixed

import (
	"math"
	"math/big"
	"testing"
)

// High-precision references built on math/big, used only by the tests. All
// use bigPrec bits, far more than any table needs.

const bigPrec = 320

func bf(v float64) *big.Float { return new(big.Float).SetPrec(bigPrec).SetFloat64(v) }

func bfInt(v *big.Int) *big.Float { return new(big.Float).SetPrec(bigPrec).SetInt(v) }

func bfU(v uint64) *big.Float { return new(big.Float).SetPrec(bigPrec).SetUint64(v) }

func bfI(v int64) *big.Float { return new(big.Float).SetPrec(bigPrec).SetInt64(v) }

func bfNew() *big.Float { return new(big.Float).SetPrec(bigPrec) }

var bigEps = new(big.Float).SetPrec(bigPrec).SetMantExp(bf(1), -bigPrec-8)

// bigAtanhInv returns atanh(s) by its series for |s| <= 1/2.
func bigAtanh(s *big.Float) *big.Float {
	s2 := bfNew().Mul(s, s)
	sum := bfNew()
	p := bfNew().Set(s)
	for k := int64(0); ; k++ {
		t := bfNew().Quo(p, bfI(2*k+1))
		if t.Sign() == 0 || new(big.Float).Abs(t).Cmp(bigEps) < 0 {
			break
		}
		sum.Add(sum, t)
		p.Mul(p, s2)
	}
	return sum
}

func bigAtanInv(n int64) *big.Float { // atan(1/n)
	x := bfNew().Quo(bf(1), bfI(n))
	x2 := bfNew().Mul(x, x)
	sum := bfNew()
	p := bfNew().Set(x)
	for k := int64(0); ; k++ {
		t := bfNew().Quo(p, bfI(2*k+1))
		if t.Sign() == 0 || t.Cmp(bigEps) < 0 {
			break
		}
		if k%2 == 0 {
			sum.Add(sum, t)
		} else {
			sum.Sub(sum, t)
		}
		p.Mul(p, x2)
	}
	return sum
}

var (
	bigLn2 = func() *big.Float { // 2 atanh(1/3)
		r := bigAtanh(bfNew().Quo(bf(1), bf(3)))
		return r.Mul(r, bf(2))
	}()
	bigPi = func() *big.Float { // Machin
		a := bigAtanInv(5)
		a.Mul(a, bf(16))
		b := bigAtanInv(239)
		b.Mul(b, bf(4))
		return a.Sub(a, b)
	}()
)

// bigLn returns ln(x) for x > 0.
func bigLn(x *big.Float) *big.Float {
	m := bfNew()
	e := x.MantExp(m) // x = m * 2^e, m in [0.5, 1)
	s := bfNew().Quo(bfNew().Sub(m, bf(1)), bfNew().Add(m, bf(1)))
	r := bigAtanh(s)
	r.Mul(r, bf(2))
	return r.Add(r, bfNew().Mul(bfI(int64(e)), bigLn2))
}

// bigExp returns e^x.
func bigExp(x *big.Float) *big.Float {
	xf, _ := x.Float64()
	k := math.Round(xf / math.Ln2)
	r := bfNew().Sub(x, bfNew().Mul(bf(k), bigLn2))
	sum := bf(1)
	t := bf(1)
	for n := int64(1); ; n++ {
		t.Mul(t, r)
		t.Quo(t, bfI(n))
		if t.Sign() == 0 || new(big.Float).Abs(t).Cmp(bigEps) < 0 {
			break
		}
		sum.Add(sum, t)
	}
	return sum.SetMantExp(sum, int(k))
}

// bigSinCos returns sin(x), cos(x) for |x| <= 8 by Taylor series.
func bigSinCos(x *big.Float) (*big.Float, *big.Float) {
	s, c := bfNew(), bf(1)
	t := bf(1)
	for n := int64(1); n < 400; n++ {
		t.Mul(t, x)
		t.Quo(t, bfI(n))
		switch n % 4 {
		case 1:
			s.Add(s, t)
		case 2:
			c.Sub(c, t)
		case 3:
			s.Sub(s, t)
		case 0:
			c.Add(c, t)
		}
	}
	return s, c
}

// bigRound returns floor(v*2^frac + 1/2) for v >= 0, as a big.Int.
func bigRound(v *big.Float, frac int) *big.Int {
	w := bfNew().SetMantExp(v, frac)
	w.Add(w, bf(0.5))
	i, _ := w.Int(nil) // truncation == floor for w >= 0
	return i
}

// bigRoundHalfAway returns v rounded half away from zero.
func bigRoundHalfAway(v *big.Float) *big.Int {
	if v.Sign() < 0 {
		i := bigRound(bfNew().Neg(v), 0)
		return i.Neg(i)
	}
	return bigRound(v, 0)
}

func TestBigReferences(t *testing.T) {
	ln2, _ := bigLn2.Float64()
	if ln2 != math.Ln2 {
		t.Fatalf("bigLn2 = %v", ln2)
	}
	pi, _ := bigPi.Float64()
	if pi != math.Pi {
		t.Fatalf("bigPi = %v", pi)
	}
	for _, x := range []float64{-20, -1, -0.3, 0, 0.5, 3} {
		e, _ := bigExp(bf(x)).Float64()
		if math.Abs(e-math.Exp(x)) > 1e-15*math.Exp(x) {
			t.Fatalf("bigExp(%v) = %v", x, e)
		}
	}
	for _, x := range []float64{1e-9, 0.3, 1, 2, 7, 1e15} {
		l, _ := bigLn(bf(x)).Float64()
		if math.Abs(l-math.Log(x)) > 1e-15*math.Max(1, math.Abs(l)) {
			t.Fatalf("bigLn(%v) = %v", x, l)
		}
	}
	for _, x := range []float64{0, 0.1, 1.5, 3, 6.2} {
		s, c := bigSinCos(bf(x))
		sf, _ := s.Float64()
		cf, _ := c.Float64()
		if math.Abs(sf-math.Sin(x)) > 1e-15 || math.Abs(cf-math.Cos(x)) > 1e-15 {
			t.Fatalf("bigSinCos(%v) = %v %v", x, sf, cf)
		}
	}
}
