package safemath

import (
	"math"
	"math/big"
	"math/rand/v2"
	"testing"
)

func TestMulDivMatchesBigInt(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	max64 := new(big.Int).SetUint64(math.MaxUint64)
	edges := []uint64{0, 1, 2, 65535, 1 << 32, math.MaxUint64 - 1, math.MaxUint64}
	check := func(a, b, c uint64) {
		want := new(big.Int).Mul(new(big.Int).SetUint64(a), new(big.Int).SetUint64(b))
		if c == 0 {
			want.Set(max64)
		} else if want.Div(want, new(big.Int).SetUint64(c)); want.Cmp(max64) > 0 {
			want.Set(max64)
		}
		if got := MulDiv(a, b, c); got != want.Uint64() {
			t.Fatalf("MulDiv(%d, %d, %d) = %d, want %s", a, b, c, got, want)
		}
	}
	for _, a := range edges {
		for _, b := range edges {
			for _, c := range edges {
				check(a, b, c)
			}
		}
	}
	for range 100_000 {
		check(r.Uint64()>>r.IntN(64), r.Uint64()>>r.IntN(64), r.Uint64()>>r.IntN(64))
	}
}
