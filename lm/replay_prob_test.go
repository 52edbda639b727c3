package lm

import (
	"math/rand/v2"
	"testing"
)

// TestDividerProb checks the single-multiply division of a probability against the
// definition, round-half-up(e·2^30 / S), over the whole range of S a vocabulary gives
// and at the edges of e.
func TestDividerProb(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	check := func(s uint64, e uint32) {
		t.Helper()
		a := uint64(e) << 30
		q, r := a/s, a%s
		if r >= s-r {
			q++
		}
		if got := newDivider(s).prob(e); got != q {
			t.Fatalf("prob(%d) over %d: %d, want %d", e, s, got, q)
		}
	}
	ss := []uint64{1 << 30, 1<<30 + 1, 1<<31 - 1, 1 << 31, 1<<31 + 1, 3 << 30, 32000 << 30, 1<<45 - 1, 1 << 45, 1<<50 + 12345}
	for range 2000 {
		ss = append(ss, uint64(1<<30)+rng.Uint64N(1<<(1+rng.IntN(46))))
	}
	for _, s := range ss {
		for _, e := range []uint32{0, 1, 2, 1<<30 - 1, 1 << 30} {
			check(s, e)
		}
		for range 200 {
			e := uint32(rng.Uint64N(1<<30 + 1))
			if rng.IntN(3) == 0 { // near a half: e·2^30 ≈ (k + 1/2)·S
				k := rng.Uint64N(1 << 30 * (1 << 30) / s)
				e = uint32(min(((2*k+1)*s/2)>>30+uint64(rng.IntN(3)), 1<<30))
			}
			check(s, e)
		}
	}
}

// TestLinearOutRow checks the loop form of linearOut against it, at random and at the
// edges of its ranges (saturation included).
func TestLinearOutRow(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	edges := []int64{0, 1, -1, 1<<31 - 1, -1 << 31, 1<<45 - 1, -(1<<45 - 1), 1 << 62, -1 << 62, 1<<63 - 1, -1 << 63}
	pick := func(bits int, signed bool) int64 {
		if rng.IntN(8) == 0 {
			v := edges[rng.IntN(len(edges))]
			if !signed && v < 0 {
				v = -(v + 1)
			}
			return v
		}
		v := int64(rng.Uint64N(1 << (1 + rng.IntN(bits))))
		if signed && rng.IntN(2) == 0 {
			v = -v
		}
		return v
	}
	const n = 1000
	acc, rs, dst := make([]int64, n), make([]int64, n), make([]int32, n)
	for trial := range 600 {
		b := 63
		if trial%2 == 0 {
			b = 32 // the small path's range
		}
		a := pick(b, false)
		for j := range acc {
			acc[j], rs[j] = pick(b, true), pick(b, false)
		}
		linearOutRow(dst, acc, rs, a)
		for j := range acc {
			if want := linearOut(acc[j], rs[j], a); dst[j] != want {
				t.Fatalf("linearOut(%d, %d, %d) = %d, the loop gives %d", acc[j], rs[j], a, want, dst[j])
			}
		}
	}
}
