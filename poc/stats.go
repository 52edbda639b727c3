package poc

import (
	"fmt"
	"math/big"
)

// Ratio is an exact fraction Num/Den of integers (Den > 0).
type Ratio struct {
	Num, Den uint64
}

// Rat is the ratio as a big.Rat.
func (r Ratio) Rat() *big.Rat {
	return new(big.Rat).SetFrac(new(big.Int).SetUint64(r.Num), new(big.Int).SetUint64(r.Den))
}

func (r Ratio) String() string { return fmt.Sprintf("%d/%d", r.Num, r.Den) }

// Test is the statistical test a validator applies to its re-run sample of a
// participant: with k of the n sampled nonces failing, it rejects when
//
//	P[X ≥ k] < Alpha,  X ~ Binomial(n, P0)
//
// computed exactly in rationals. A sampled nonce fails when the participant does not
// serve its proof, the proof does not verify against the MLNode's commitment, or its
// re-computed distance is not under the threshold.
//
// P0 is the failure rate the test forgives an honest participant. The computation is
// exact integer arithmetic, so an honest participant's re-run nonces never fail; P0
// covers what is left: a proof lost or not served in time, a corrupted store. A forged
// claim (a nonce that was never computed) fails with probability 1 − threshold/2^64,
// a duplicated or out-of-order leaf fails its proof: those are what the test detects.
type Test struct {
	P0    Ratio
	Alpha Ratio
}

// DefaultTest forgives one failure in a thousand (P0 = 1/1000) and rejects at a
// significance of one in a million (Alpha = 1/1000000). With the default sample of 200
// it rejects at 6 or more failures; the false-positive rate for an honest participant
// failing at the full P0 is P[X ≥ 6] ≈ 6.98·10^−8 (exactly FalsePositive(200)), and 0
// for one that serves every proof.
func DefaultTest() Test {
	return Test{P0: Ratio{1, 1000}, Alpha: Ratio{1, 1000000}}
}

// Validate checks that P0 and Alpha are probabilities strictly between 0 and 1.
func (t Test) Validate() error {
	for _, f := range []struct {
		name string
		r    Ratio
	}{{"p0", t.P0}, {"alpha", t.Alpha}} {
		if f.r.Den == 0 || f.r.Num == 0 || f.r.Num >= f.r.Den {
			return fmt.Errorf("poc: the test's %s is %d/%d, want a fraction strictly between 0 and 1", f.name, f.r.Num, f.r.Den)
		}
	}
	return nil
}

// tails returns T[k] = Σ_{i≥k} C(n,i)·a^i·(b−a)^(n−i) for k = 0..n+1, where P0 = a/b:
// P[X ≥ k] = T[k] / b^n.
func (t Test) tails(n int) ([]*big.Int, *big.Int) {
	a := new(big.Int).SetUint64(t.P0.Num)
	b := new(big.Int).SetUint64(t.P0.Den)
	c := new(big.Int).Sub(b, a)
	// term_i = C(n,i)·a^i·c^(n−i), from tables of the powers (c may be 0: Power's q = 1).
	apow := make([]*big.Int, n+1)
	cpow := make([]*big.Int, n+1)
	apow[0], cpow[0] = big.NewInt(1), big.NewInt(1)
	for i := 1; i <= n; i++ {
		apow[i] = new(big.Int).Mul(apow[i-1], a)
		cpow[i] = new(big.Int).Mul(cpow[i-1], c)
	}
	T := make([]*big.Int, n+2)
	T[n+1] = new(big.Int)
	binom := big.NewInt(1) // C(n, i), from i = n down
	for i := n; i >= 0; i-- {
		term := new(big.Int).Mul(binom, apow[i])
		term.Mul(term, cpow[n-i])
		T[i] = new(big.Int).Add(T[i+1], term)
		// C(n, i−1) = C(n, i)·i / (n−i+1)
		binom.Mul(binom, big.NewInt(int64(i)))
		binom.Quo(binom, big.NewInt(int64(n-i+1)))
	}
	return T, new(big.Int).Exp(b, big.NewInt(int64(n)), nil)
}

// Tail is P[X ≥ k] for X ~ Binomial(n, P0), exactly.
func (t Test) Tail(k, n int) *big.Rat {
	if k <= 0 {
		return big.NewRat(1, 1)
	}
	if k > n {
		return new(big.Rat)
	}
	T, bn := t.tails(n)
	return new(big.Rat).SetFrac(T[k], bn)
}

// Critical is the smallest number of failures out of n that the test rejects: the
// least k with P[X ≥ k] < Alpha (n+1 when even n failures are not enough).
func (t Test) Critical(n int) int {
	if n <= 0 {
		return 1
	}
	T, bn := t.tails(n)
	// T[k]/b^n < num/den  ⇔  T[k]·den < num·b^n
	rhs := new(big.Int).Mul(new(big.Int).SetUint64(t.Alpha.Num), bn)
	den := new(big.Int).SetUint64(t.Alpha.Den)
	lhs := new(big.Int)
	for k := 0; k <= n; k++ {
		if lhs.Mul(T[k], den).Cmp(rhs) < 0 {
			return k
		}
	}
	return n + 1
}

// Reject is a validator's decision on a participant: failures of the n sampled
// nonces failed. A participant with nothing committed (n = 0) is not rejected.
func (t Test) Reject(failures, n int) bool {
	return n > 0 && failures >= t.Critical(n)
}

// FalsePositive is the probability that an honest participant failing at exactly the
// forgiven rate P0 is rejected by one validator sampling n nonces:
// P[X ≥ Critical(n)].
func (t Test) FalsePositive(n int) *big.Rat { return t.Tail(t.Critical(n), n) }

// Power is the probability that one validator sampling n nonces rejects a
// participant whose sampled nonces each fail with probability q:
// P[Y ≥ Critical(n)], Y ~ Binomial(n, q).
func (t Test) Power(n int, q Ratio) *big.Rat {
	return Test{P0: q, Alpha: t.Alpha}.Tail(t.Critical(n), n)
}

// Verdict is one validator's decision on a participant, with the validator's weight
// (its stake in the epoch group).
type Verdict struct {
	Weight uint64
	Accept bool
}

// Accepted reports whether a participant's PoC counts: the verdicts accepting it hold
// more than 2/3 of the weight of all verdicts (3·accepting > 2·total, exactly).
// Pass one verdict per validator of the epoch group, with Accept false for a validator
// that sent none, so that silence counts against.
func Accepted(verdicts []Verdict) bool {
	acc, tot := new(big.Int), new(big.Int)
	w := new(big.Int)
	for _, v := range verdicts {
		w.SetUint64(v.Weight)
		tot.Add(tot, w)
		if v.Accept {
			acc.Add(acc, w)
		}
	}
	return acc.Mul(acc, big.NewInt(3)).Cmp(tot.Mul(tot, big.NewInt(2))) > 0
}
