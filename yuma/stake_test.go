package yuma

import (
	"math"
	"math/big"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/tessera-net/tessera/internal/safemath"
)

// The stake code, transcribed with math/big (arbitrary precision, no overflow to reason
// about), as the reference for the safemath.U128 version.

var bigI64F64Max = new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 127), big.NewInt(1))

func bigFromU64(v uint64) *big.Int {
	b := new(big.Int).SetUint64(v)
	b.Lsh(b, 64)
	if b.Cmp(bigI64F64Max) > 0 {
		b.Set(bigI64F64Max)
	}
	return b
}

func refTotalStake(alpha, tao []uint64, taoWeight uint64) []*big.Int {
	w := new(big.Int).SetUint64(taoWeightBits(taoWeight))
	w.Lsh(w, 32)
	out := make([]*big.Int, len(alpha))
	for i := range alpha {
		s := bigFromU64(alpha[i])
		if i < len(tao) && tao[i] != 0 && w.Sign() != 0 {
			p := bigFromU64(tao[i])
			p.Mul(p, w)
			p.Rsh(p, 64)
			if p.Cmp(bigI64F64Max) > 0 {
				p.Set(bigI64F64Max)
			}
			if s.Add(s, p); s.Cmp(bigI64F64Max) > 0 {
				s.Set(bigI64F64Max)
			}
		}
		out[i] = s
	}
	return out
}

func refNormalizedStake(total []*big.Int, threshold uint64, owner int) []Fixed {
	sum := new(big.Int)
	keep := make([]bool, len(total))
	for i, s := range total {
		integer := new(big.Int).Rsh(s, 64)
		if i != owner && integer.Cmp(new(big.Int).SetUint64(threshold)) < 0 {
			continue
		}
		keep[i] = true
		sum.Add(sum, s)
	}
	out := make([]Fixed, len(total))
	if sum.Sign() == 0 {
		return out
	}
	for i, s := range total {
		if !keep[i] {
			continue
		}
		q := new(big.Int).Lsh(s, 64)
		q.Quo(q, sum)
		q.Rsh(q, 32)
		out[i] = Fixed(q.Int64())
	}
	return out
}

func bigOf(v safemath.U128) *big.Int { return v.Big() }

// TestStakeMatchesBig compares the safemath.U128 stake code with the math/big transcription on
// random subnets: stakes of every magnitude up to saturation, tao weights, thresholds.
func TestStakeMatchesBig(t *testing.T) {
	rng := rand.New(rand.NewPCG(41, 42))
	magnitude := func() uint64 {
		switch rng.IntN(6) {
		case 0:
			return 0
		case 1:
			return math.MaxUint64 - rng.Uint64N(3) // saturates
		case 2:
			return 1<<63 - 1 - rng.Uint64N(2) // just below saturation
		}
		return rng.Uint64N(1 << uint(1+rng.IntN(63)))
	}
	for iter := range 3000 {
		n := 1 + rng.IntN(40)
		alpha, tao := make([]uint64, n), make([]uint64, n)
		for i := range n {
			alpha[i] = magnitude()
			if iter%3 != 0 {
				tao[i] = magnitude()
			}
		}
		if iter%5 == 0 {
			for i := range alpha {
				alpha[i] >>= 12 // sums within the I64F64 range
				tao[i] >>= 12
			}
		}
		taoWeight := []uint64{0, math.MaxUint64, rng.Uint64()}[iter%3]
		total := totalStake(alpha, tao, taoWeight)
		want := refTotalStake(alpha, tao, taoWeight)
		sum := new(big.Int)
		for i := range total {
			if bigOf(total[i]).Cmp(want[i]) != 0 {
				t.Fatalf("iteration %d: total[%d] = %v, want %v", iter, i, bigOf(total[i]), want[i])
			}
			sum.Add(sum, want[i])
		}
		s, ok := sumStake(total)
		if wantOK := sum.Cmp(bigI64F64Max) <= 0; ok != wantOK || (ok && bigOf(s).Cmp(sum) != 0) {
			t.Fatalf("iteration %d: sum %v ok=%v, want %v ok=%v", iter, bigOf(s), ok, sum, wantOK)
		}
		if !ok {
			continue
		}
		threshold := []uint64{0, rng.Uint64N(1 << 40), math.MaxUint64}[rng.IntN(3)]
		owner := rng.IntN(n+1) - 1
		if got, want := normalizedStake(total, threshold, owner), refNormalizedStake(want, threshold, owner); !slices.Equal(got, want) {
			t.Fatalf("iteration %d: normalised %v, want %v", iter, got, want)
		}
	}
}

// TestQuoShift32 checks floor(s·2^32/d) against math/big where the quotient estimate is
// hardest: divisors just above and below word boundaries, s close to d.
func TestQuoShift32(t *testing.T) {
	rng := rand.New(rand.NewPCG(43, 44))
	word := func() uint64 {
		switch rng.IntN(4) {
		case 0:
			return math.MaxUint64 - rng.Uint64N(4)
		case 1:
			return rng.Uint64N(4)
		case 2:
			return 1<<63 + rng.Uint64N(4) - 2
		}
		return rng.Uint64()
	}
	for range 200_000 {
		d := safemath.U128{Hi: word() >> uint(1+rng.IntN(64)), Lo: word()}
		if d == (safemath.U128{}) {
			continue
		}
		d = satI64F64(d)
		var s safemath.U128
		switch rng.IntN(3) {
		case 0:
			s = d
		case 1:
			s = safemath.U128{Hi: d.Hi, Lo: word()}
			if d.Less(s) {
				s = d
			}
		default:
			s = safemath.U128{Hi: rng.Uint64N(d.Hi + 1), Lo: rng.Uint64()}
			if d.Less(s) {
				s = d
			}
		}
		want := new(big.Int).Lsh(bigOf(s), 32)
		want.Quo(want, bigOf(d))
		if got := quoShift32(s, d); new(big.Int).SetUint64(got).Cmp(want) != 0 {
			t.Fatalf("quoShift32(%v, %v) = %d, want %v", bigOf(s), bigOf(d), got, want)
		}
	}
}
