package poc

import (
	"math/big"
	"testing"
)

// tailByHand is P[X ≥ k] summed term by term in big.Rat: an independent check.
func tailByHand(k, n int, p *big.Rat) *big.Rat {
	q := new(big.Rat).Sub(big.NewRat(1, 1), p)
	sum := new(big.Rat)
	for i := k; i <= n; i++ {
		c := new(big.Rat).SetInt(new(big.Int).Binomial(int64(n), int64(i)))
		pi := new(big.Rat).SetInt(big.NewInt(1))
		for j := 0; j < i; j++ {
			pi.Mul(pi, p)
		}
		for j := 0; j < n-i; j++ {
			pi.Mul(pi, q)
		}
		sum.Add(sum, c.Mul(c, pi))
	}
	return sum
}

func f(r *big.Rat) float64 { v, _ := r.Float64(); return v }

func TestTailExact(t *testing.T) {
	for _, tc := range []struct {
		p    Ratio
		n, k int
	}{{Ratio{1, 1000}, 20, 0}, {Ratio{1, 1000}, 30, 1}, {Ratio{1, 1000}, 200, 190}, {Ratio{1, 1000}, 200, 200},
		{Ratio{1, 3}, 17, 5}, {Ratio{999, 1000}, 50, 49}, {Ratio{1, 2}, 10, 11}, {Ratio{1, 1}, 5, 5}} {
		got := Test{P0: tc.p}.Tail(tc.k, tc.n)
		if want := tailByHand(tc.k, tc.n, tc.p.Rat()); tc.k <= tc.n && got.Cmp(want) != 0 {
			t.Errorf("Tail(%d, %d | %v) = %v, want %v", tc.k, tc.n, tc.p, got, want)
		}
	}
	if got := (Test{P0: Ratio{1, 2}}).Tail(11, 10); got.Sign() != 0 {
		t.Errorf("Tail beyond n = %v", got)
	}
}

// TestDefaultTest states the default test's numbers, which docs/poc.md quotes.
func TestDefaultTest(t *testing.T) {
	d := DefaultTest()
	if err := d.Validate(); err != nil {
		t.Fatal(err)
	}
	if k := d.Critical(DefaultSampleSize); k != 6 {
		t.Fatalf("critical value for 200 samples = %d, want 6", k)
	}
	fp := d.FalsePositive(DefaultSampleSize)
	if v := f(fp); v < 6.97e-8 || v > 6.99e-8 {
		t.Errorf("false-positive rate %g, want ≈ 6.98e-8", v)
	}
	// 5 failures are not enough: P[X ≥ 5] ≥ α.
	if d.Reject(5, 200) || !d.Reject(6, 200) || d.Reject(0, 0) || d.Reject(3, 200) {
		t.Error("wrong decisions around the critical value")
	}
	if v := f(d.Tail(5, 200)); v < 1e-6 {
		t.Errorf("P[X ≥ 5] = %g, should be at least alpha", v)
	}
	// Power against forgers: a fraction f of claims forged, each failing with
	// probability 15/16 (a random nonce is a hit with probability 1/16).
	for _, c := range []struct {
		f        Ratio
		lo, hi   float64
		critical int
	}{{Ratio{1, 100}, 0.011, 0.013, 6}, {Ratio{3, 100}, 0.48, 0.50, 6}, {Ratio{5, 100}, 0.90, 0.92, 6}, {Ratio{10, 100}, 0.9998, 1, 6}} {
		q := Ratio{c.f.Num * 15, c.f.Den * 16}
		pw := f(d.Power(200, q))
		t.Logf("forging %v of claims: one validator rejects with probability %.4f", c.f, pw)
		if pw < c.lo || pw > c.hi {
			t.Errorf("power at %v = %g, want %g..%g", c.f, pw, c.lo, c.hi)
		}
	}
	t.Logf("default test: reject at ≥ %d of 200; false-positive rate %g (= %v)", d.Critical(200), f(fp), fp.FloatString(12))
}

// TestGonkaV1Figures reproduces research/gonka.md §3.2: with p = 5e-4 and a fraud
// threshold of 1e-7, 200 samples are rejected at 5 mismatches (p ≈ 7.3e-8) and
// accepted at 4 (3.7e-6).
func TestGonkaV1Figures(t *testing.T) {
	g := Test{P0: Ratio{5, 10000}, Alpha: Ratio{1, 10000000}}
	if k := g.Critical(200); k != 5 {
		t.Fatalf("critical %d", k)
	}
	if v := f(g.Tail(4, 200)); v < 3.6e-6 || v > 3.8e-6 {
		t.Errorf("P[X ≥ 4] = %g", v)
	}
}

func TestCriticalEdges(t *testing.T) {
	d := DefaultTest()
	if d.Critical(0) != 1 || d.Critical(1) != 2 {
		t.Errorf("Critical(0) = %d, Critical(1) = %d", d.Critical(0), d.Critical(1))
	}
	// With one sample even a failure is not significant at 1e-6 (P[X≥1] = 1/1000):
	// nobody can be rejected.
	if d.Reject(1, 1) {
		t.Error("rejected on one sample")
	}
	for _, bad := range []Test{{}, {P0: Ratio{1, 1}, Alpha: Ratio{1, 2}}, {P0: Ratio{1, 2}, Alpha: Ratio{0, 2}}, {P0: Ratio{1, 0}, Alpha: Ratio{1, 2}}} {
		if bad.Validate() == nil {
			t.Errorf("%+v validated", bad)
		}
	}
}

func TestAccepted(t *testing.T) {
	const max = ^uint64(0)
	for _, c := range []struct {
		v    []Verdict
		want bool
	}{
		{nil, false},
		{[]Verdict{{0, true}}, false},
		{[]Verdict{{1, true}}, true},
		{[]Verdict{{2, true}, {1, false}}, false}, // exactly 2/3
		{[]Verdict{{2, true}, {1, false}, {1, true}}, true},
		{[]Verdict{{200, true}, {101, false}}, false},
		{[]Verdict{{201, true}, {100, false}}, true},
		{[]Verdict{{max, true}, {max, true}, {max, false}}, false},
		{[]Verdict{{max, true}, {max, true}, {max - 1, false}}, true},
	} {
		if got := Accepted(c.v); got != c.want {
			t.Errorf("Accepted(%v) = %v", c.v, got)
		}
	}
}
