package dtao

import (
	"math/big"
	"testing"

	"github.com/tessera-net/tessera/internal/safemath"
)

func bi(s string) *big.Int {
	z, ok := new(big.Int).SetString(s, 10)
	if !ok {
		panic(s)
	}
	return z
}

// TestPowRatioScaledV5 checks safe-bigmath's own asserted values (dtao.md §7 V5).
func TestPowRatioScaledV5(t *testing.T) {
	cases := []struct {
		bn, bd, en, ed string
		prec           uint
		scale, want    string
		fallback       bool
	}{
		{"2", "3", "1", "2", 0, "1000", "816", false},
		{"21000000000000000", "28000000000000000", "600000000000000000", "400000000000000000", 256, "1000000000000000000", "649519052838328985", false},
		{"21000000000000000", "21000000000000100", "500000000000000000", "500000000000000000", 256, "1000000000000000000", "999999999999995238", false},
		{"21000000000000000", "21000000000000100", "499999999999500000", "500000000000500000", 256, "1000000000000000000", "999999999999995238", true},
		{"21000000000000000", "21000000000000100", "500000000000250000", "499999999999750000", 256, "1000000000000000000", "999999999999995238", true},
		{"21000000000000000", "21000000000000001", "499999999500000000", "500000000500000000", 256, "1000000000000000000", "999999999999999952", true},
	}
	for i, c := range cases {
		n, d := reduceExp(bi(c.en), bi(c.ed))
		if exactExponent(n, d) == c.fallback {
			t.Errorf("case %d: exact path = %v", i, !c.fallback)
		}
		got, ok := PowRatioScaled(bi(c.bn), bi(c.bd), bi(c.en), bi(c.ed), c.prec, bi(c.scale))
		if !ok || got.String() != c.want {
			t.Errorf("case %d: got %v, want %s", i, got, c.want)
		}
	}
	// The fallback path on an exact-path input agrees with the exact path to within one unit.
	ex, _ := PowRatioScaled(bi("2"), bi("3"), bi("1"), bi("2"), 256, bi("1000000000000000000"))
	fb := PowFallback(bi("2"), bi("3"), bi("1"), bi("2"), 256, bi("1000000000000000000"))
	if d := new(big.Int).Sub(ex, fb); d.CmpAbs(big.NewInt(1)) > 0 {
		t.Errorf("exact %v vs fallback %v", ex, fb)
	}
	if got := PowExact(bi("21000000000000000"), bi("28000000000000000"), 3, 2, bi("1000000000000000000")); got.String() != "649519052838328985" {
		t.Errorf("PowExact = %v", got)
	}
}

// spreadInputs returns 300 deterministic values spread over [lo, lo+width), every third
// shifted right by up to maxShift bits (small magnitudes too).
func spreadInputs(seed uint64, lo, width *big.Int, maxShift int) []*big.Int {
	var xs []*big.Int
	x0 := new(big.Int).SetUint64(seed)
	mod := new(big.Int).Lsh(big.NewInt(1), 400)
	for i := 0; i < 300; i++ {
		x0.Mul(x0, big.NewInt(6364136223846793005))
		x0.Add(x0, big.NewInt(1442695040888963407))
		x0.Mod(x0, mod)
		x := new(big.Int).Mod(x0, width)
		x.Add(x, lo)
		if i%3 == 0 {
			x.Rsh(x, uint(i%maxShift))
		}
		xs = append(xs, x)
	}
	return xs
}

// checkFast fails the test where the fixed-width series refuses an input or differs
// from the big-integer one.
func checkFast(t *testing.T, xs []*big.Int, c *powCtx, fast func(*big.Int, *powCtx) (*big.Int, bool), slow func(*big.Int, *powCtx) *big.Int) {
	t.Helper()
	for _, x := range xs {
		f, ok := fast(x, c)
		if !ok {
			t.Fatalf("fast path refused %v", x)
		}
		if b := slow(x, c); f.Cmp(b) != 0 {
			t.Fatalf("x=%v: fast %v big %v", x, f, b)
		}
	}
}

// TestLn1pFastMatchesBig checks the fixed-width ln1p against the big-integer one over the
// inputs lnFixed produces (m − S with m in [0.75S, 1.5S)) and a few extremes.
func TestLn1pFastMatchesBig(t *testing.T) {
	c := getPowCtx(256)
	s := c.s
	quarter := new(big.Int).Rsh(s, 2)
	xs := []*big.Int{new(big.Int), big.NewInt(1), big.NewInt(-1), new(big.Int).Neg(quarter),
		new(big.Int).Sub(new(big.Int).Rsh(s, 1), big.NewInt(1)), new(big.Int).Neg(new(big.Int).Rsh(s, 1))}
	// [−S/4, S/2)
	xs = append(xs, spreadInputs(0x9e3779b97f4a7c15, new(big.Int).Neg(quarter), new(big.Int).Add(quarter, new(big.Int).Rsh(s, 1)), 200)...)
	checkFast(t, xs, c, ln1pFast, ln1pBig)
}

// TestExpFastMatchesBig checks the fixed-width exp against the big-integer one over
// exponents of either sign up to the widest it takes (|x| < 16·S), small ones, and the
// edges of its range; a wider exponent is refused.
func TestExpFastMatchesBig(t *testing.T) {
	c := getPowCtx(256)
	s := c.s
	widest := new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), expFastBits), big.NewInt(1))
	xs := []*big.Int{new(big.Int), big.NewInt(1), big.NewInt(-1), new(big.Int).Set(s), new(big.Int).Neg(s),
		widest, new(big.Int).Neg(widest), big.NewInt(1 << powGuardBits), big.NewInt(-(1 << powGuardBits))}
	// (−16S, 16S)
	xs = append(xs, spreadInputs(0x2545f4914f6cdd1d, new(big.Int).Neg(widest), new(big.Int).Lsh(big.NewInt(1), expFastBits+1), 280)...)
	checkFast(t, xs, c, expFast, expBig)
	if _, ok := expFast(new(big.Int).Lsh(big.NewInt(1), expFastBits), c); ok {
		t.Error("expFast took an exponent of 2^284")
	}
}

// TestFixedMatchesBig checks the word-level fixed-point product and quotient against
// math/big.
func TestFixedMatchesBig(t *testing.T) {
	vals := []safemath.U128{{}, {Hi: 0, Lo: 1}, {Hi: 0, Lo: 3}, {Hi: 1, Lo: 0}, {Hi: 0, Lo: 1 << 63}, {Hi: 12345, Lo: 678910}, {Hi: 1<<63 + 5, Lo: 99},
		{Hi: 0, Lo: 9_288_815_967_535_137}, maxU128, {Hi: 0, Lo: 0xffffffffffffffff}, {Hi: 7, Lo: 0xffffffffffffffff}}
	mask := new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 128), big.NewInt(1))
	for _, a := range vals {
		for _, b := range vals {
			for _, frac := range []uint{32, 64} {
				z := new(big.Int).Mul(a.Big(), b.Big())
				z.Rsh(z, frac)
				if z.Cmp(mask) > 0 {
					z.Set(mask)
				}
				if got := fixMul(a, b, frac); got.Big().Cmp(z) != 0 {
					t.Errorf("mul %v %v %d: %v want %v", a, b, frac, got.Big(), z)
				}
				if b == (safemath.U128{}) {
					continue
				}
				q := new(big.Int).Lsh(a.Big(), frac)
				q.Quo(q, b.Big())
				if q.Cmp(mask) > 0 {
					q.Set(mask)
				}
				if got := fixDiv(a, b, frac); got.Big().Cmp(q) != 0 {
					t.Errorf("div %v %v %d: %v want %v", a, b, frac, got.Big(), q)
				}
			}
		}
	}
}

func TestLnMemoIsInvisible(t *testing.T) {
	c := getPowCtx(256)
	for _, v := range []int64{1, 2, 3, 1e9, 21e15, 21e15 + 1, 1 << 62} {
		x := big.NewInt(v)
		a := lnFixed(x, c) // computed, stored
		b := lnFixed(x, c) // from the memo
		if a.Cmp(lnCompute(x, c)) != 0 || b.Cmp(a) != 0 {
			t.Fatalf("ln(%d): %v %v", v, a, b)
		}
		b.Add(b, big.NewInt(1)) // the caller may modify what it gets
		if lnFixed(x, c).Cmp(a) != 0 {
			t.Fatal("memo aliased")
		}
	}
}

// TestFallbackAgreesWithExact runs the fallback path, at both precisions the pool uses, on
// exponents the exact path also takes (1/2, 3/1, 1/4, 227/773): the two must agree to one
// unit of the 1e18 scale. The vectors pin the fallback at P = 256; this also covers P = 1024
// (the limit deltas), for which §7 has no fallback vector.
func TestFallbackAgreesWithExact(t *testing.T) {
	scale := bi("1000000000000000000")
	bases := [][2]string{
		{"1", "3"}, {"21000000000000000", "21000000000000100"}, {"100000", "100100"},
		{"18446744073709551616", "36893488147419103232"}, {"7000000000", "7000010000"},
		{"33433333", "34433333"}, {"1844674407370955161", "4796153459164483419"},
	}
	for _, e := range [][2]uint{{1, 2}, {3, 1}, {1, 4}, {227, 773}} {
		for _, b := range bases {
			bn, bd := bi(b[0]), bi(b[1])
			ex := PowExact(bn, bd, e[0], e[1], scale)
			for _, prec := range []uint{256, 1024} {
				fb := PowFallback(bn, bd, big.NewInt(int64(e[0])), big.NewInt(int64(e[1])), prec, scale)
				if d := new(big.Int).Sub(ex, fb); d.CmpAbs(big.NewInt(1)) > 0 {
					t.Errorf("(%s/%s)^(%d/%d) P=%d: exact %v fallback %v", b[0], b[1], e[0], e[1], prec, ex, fb)
				}
			}
		}
	}
}
