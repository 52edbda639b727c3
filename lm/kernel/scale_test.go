package kernel

import (
	"math"
	"math/rand/v2"
	"testing"
)

// refScaleOut is ScaleOut's definition in 128-bit arithmetic.
func refScaleOut(acc, rs int64, a uint64) int32 {
	u := new(big128).mul(uint64(abs(acc)), uint64(rs))
	t := u.roundShr32()
	v := new(big128).mul(t, a).roundShr32()
	s := int64(v)
	if acc < 0 {
		s = -s
	}
	return int32(min(max(s, math.MinInt32), math.MaxInt32))
}

type big128 struct{ hi, lo uint64 }

func (b *big128) mul(x, y uint64) *big128 {
	b.hi, b.lo = mul64(x, y)
	return b
}

func (b *big128) roundShr32() uint64 {
	lo := b.lo + 1<<31
	hi := b.hi
	if lo < b.lo {
		hi++
	}
	return hi<<32 | lo>>32
}

func abs(v int64) int64 {
	if v < 0 {
		return -v
	}
	return v
}

func TestScaleOut(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	pick := func(bits int) uint64 {
		switch rng.IntN(10) {
		case 0:
			return 0
		case 1:
			return 1<<bits - 1
		case 2:
			return 1 << bits // just too large for bits 32
		}
		return rng.Uint64N(1 << (1 + rng.IntN(bits)))
	}
	for _, on := range asmModes() {
		SetAssembly(on)
		for trial := range 3000 {
			n := rng.IntN(70)
			acc, rs, dst := make([]int64, n), make([]int64, n), make([]int32, n)
			small := true
			for j := range acc {
				u, r := pick(32), pick(32)
				if trial%3 == 0 { // mostly small, some not
					u, r = pick(31), pick(31)
				}
				small = small && u < 1<<32 && r < 1<<32
				acc[j], rs[j] = int64(u), int64(r)
				if rng.IntN(2) == 0 {
					acc[j] = -acc[j]
				}
			}
			a := pick(32)
			small = small && a < 1<<32
			if got := ScaleOut(dst, acc, rs, a); got != small {
				t.Fatalf("asm=%v trial %d: ScaleOut reports %v, want %v", on, trial, got, small)
			}
			if !small {
				continue
			}
			for j := range acc {
				if want := refScaleOut(acc[j], rs[j], a); dst[j] != want {
					t.Fatalf("asm=%v: ScaleOut(%d, %d, %d) = %d, want %d", on, acc[j], rs[j], a, dst[j], want)
				}
			}
		}
	}
	SetAssembly(haveAsm)
}

func mul64(x, y uint64) (uint64, uint64) {
	const mask = 1<<32 - 1
	x0, x1, y0, y1 := x&mask, x>>32, y&mask, y>>32
	w0 := x0 * y0
	t := x1*y0 + w0>>32
	w1, w2 := t&mask, t>>32
	w1 += x0 * y1
	return x1*y1 + w2 + w1>>32, x * y
}
