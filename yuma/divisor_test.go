package yuma

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestDivisorQuo checks the reciprocal division against the hardware division, on random
// and boundary operands.
func TestDivisorQuo(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	ds := []uint64{1, 2, 3, 65535, 1 << 32, 1<<32 - 1, 1<<32 + 1, math.MaxUint64, math.MaxUint64 - 1, 1 << 63}
	xs := []uint64{0, 1, math.MaxUint64, math.MaxUint64 - 1, 1 << 63, 1<<48 - 1}
	for range 2000 {
		ds = append(ds, r.Uint64()>>r.IntN(64)|1, r.Uint64()>>r.IntN(64)+1)
	}
	for _, d := range ds {
		v := newDivisor(d)
		check := func(x uint64) {
			if got, want := v.quo(x), x/d; got != want {
				t.Fatalf("%d / %d: got %d, want %d", x, d, got, want)
			}
		}
		for _, x := range xs {
			check(x)
			check(x / d * d)
			if x/d*d > 0 {
				check(x/d*d - 1)
			}
		}
		for range 200 {
			check(r.Uint64() >> r.IntN(64))
		}
	}
}
