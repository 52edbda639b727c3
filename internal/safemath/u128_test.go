package safemath

import (
	"math"
	"math/big"
	"math/rand/v2"
	"testing"
)

var (
	two128  = new(big.Int).Lsh(big.NewInt(1), 128)
	mask128 = new(big.Int).Sub(two128, big.NewInt(1))
)

func wrap(z *big.Int) *big.Int { return z.And(z, mask128) }

func sat(z *big.Int) *big.Int {
	if z.Sign() < 0 {
		return z.SetInt64(0)
	}
	if z.Cmp(mask128) > 0 {
		return z.Set(mask128)
	}
	return z
}

func fromBig(z *big.Int) U128 {
	lo := new(big.Int).And(z, new(big.Int).SetUint64(math.MaxUint64)).Uint64()
	return U128{Hi: new(big.Int).Rsh(z, 64).Uint64(), Lo: lo}
}

// TestU128MatchesBig checks every operation of U128, with its stated overflow behaviour,
// against math/big on edge values and random ones.
func TestU128MatchesBig(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	words := []uint64{0, 1, 2, 1 << 32, 1<<63 - 1, 1 << 63, math.MaxUint64 - 1, math.MaxUint64}
	var vals []U128
	for _, h := range words {
		for _, l := range words {
			vals = append(vals, U128{Hi: h, Lo: l})
		}
	}
	word := func() uint64 { return r.Uint64() >> r.IntN(65) }
	for range 300 {
		vals = append(vals, U128{Hi: word(), Lo: word()})
	}
	small := append([]uint64{}, words...)
	for range 30 {
		small = append(small, word())
	}
	eq := func(op string, a, b any, got U128, want *big.Int) {
		t.Helper()
		if got.Big().Cmp(want) != 0 {
			t.Fatalf("%s(%v, %v) = %v, want %v", op, a, b, got.Big(), want)
		}
	}
	for _, a := range vals {
		A := a.Big()
		if fromBig(A) != a {
			t.Fatalf("Big round trip %v", a)
		}
		if a.IsZero() != (A.Sign() == 0) {
			t.Fatalf("IsZero(%v)", A)
		}
		for _, n := range []uint{0, 1, 31, 63, 64, 65, 100, 127, 128, 200} {
			eq("Shl", a, n, a.Shl(n), wrap(new(big.Int).Lsh(A, n)))
			eq("Shr", a, n, a.Shr(n), new(big.Int).Rsh(A, n))
		}
		for _, v := range small {
			V := new(big.Int).SetUint64(v)
			eq("Add64", a, v, a.Add64(v), wrap(new(big.Int).Add(A, V)))
			eq("Mul64", a, v, a.Mul64(v), wrap(new(big.Int).Mul(A, V)))
			if v == 0 {
				continue
			}
			eq("Div64", a, v, a.Div64(v), new(big.Int).Quo(A, V))
			for _, m := range small[:12] {
				p := new(big.Int).Mul(A, new(big.Int).SetUint64(m))
				eq("MulDiv64", a, [2]uint64{m, v}, a.MulDiv64(m, v), wrap(p.Quo(p, V)))
			}
		}
		for _, b := range vals {
			B := b.Big()
			sum := new(big.Int).Add(A, B)
			eq("Add", a, b, a.Add(b), wrap(new(big.Int).Set(sum)))
			eq("AddSat", a, b, a.AddSat(b), sat(new(big.Int).Set(sum)))
			s, c := a.AddCarry(b)
			eq("AddCarry", a, b, s, wrap(new(big.Int).Set(sum)))
			if c != (sum.Cmp(mask128) > 0) {
				t.Fatalf("AddCarry(%v, %v) carry = %v", A, B, c)
			}
			diff := new(big.Int).Sub(A, B)
			eq("Sub", a, b, a.Sub(b), wrap(new(big.Int).Add(diff, two128)))
			eq("SubSat", a, b, a.SubSat(b), sat(diff))
			if got, want := a.Cmp(b), A.Cmp(B); got != want || a.Less(b) != (want < 0) {
				t.Fatalf("Cmp(%v, %v) = %d, want %d", A, B, got, want)
			}
			hi, lo := a.MulFull(b)
			p := new(big.Int).Mul(A, B)
			eq("MulFull.lo", a, b, lo, wrap(new(big.Int).Set(p)))
			eq("MulFull.hi", a, b, hi, p.Rsh(p, 128))
		}
	}
}

func BenchmarkMulFull(b *testing.B) {
	x, y := U128{Hi: 0x0171547652b82fe1, Lo: 0x777d0ffda0d23a7d}, U128{Hi: 1 << 56, Lo: 12345}
	for range b.N {
		h, l := x.MulFull(y)
		x = U128{Hi: h.Lo, Lo: l.Hi | 1}
	}
	_ = x
}
