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

// TestRowNorm checks the row normaliser against the division floor(v·2^32 / W) for every
// u16 v on boundary sums and for random sums and values.
func TestRowNorm(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	ws := []uint64{1, 2, 3, 65535, 65536, 1<<31 - 1, 1 << 30, MaxN * 65535, 3840 * 32768}
	for range 64 {
		ws = append(ws, 1+r.Uint64N(MaxN*65535))
	}
	for _, w := range ws {
		n := newRowNorm(w)
		for v := range 1 << 16 {
			if got, want := n.norm(uint16(v)), uint64(v)<<32/w; got != want {
				t.Fatalf("%d / %d: got %d, want %d", v, w, got, want)
			}
		}
	}
	for range 200000 {
		w := 1 + r.Uint64N(MaxN*65535>>r.IntN(31))
		v := uint16(r.Uint32())
		if got, want := newRowNorm(w).norm(v), uint64(v)<<32/w; got != want {
			t.Fatalf("%d / %d: got %d, want %d", v, w, got, want)
		}
	}
}
