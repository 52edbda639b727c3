package kernel

import "math"

// ScaleOut converts accumulators to Q16 outputs where every operand is small:
//
//	dst[j] = Sat32(sign(acc[j]) · Rshr(Rshr(|acc[j]|·rs[j], 32) · a, 32))
//
// (Rshr rounding half up, Sat32 saturating to int32), for j < len(rs), when a, every
// |acc[j]| and every rs[j] are below 2^32: then each product and its rounding term fit
// 64 bits. It reports whether they were; when not, dst is unspecified and the caller
// computes it another way. dst and acc must be at least len(rs) long.
func ScaleOut(dst []int32, acc, rs []int64, a uint64) bool {
	if a>>32 != 0 {
		return false
	}
	dst, acc = dst[:len(rs)], acc[:len(rs)]
	k, big := 0, uint64(0)
	if useAsm.Load() {
		k, big = scaleOutAsm(dst, acc, rs, a)
	}
	for j := k; j < len(rs); j++ {
		x := acc[j]
		sgn := x >> 63
		u := uint64((x ^ sgn) - sgn)
		r := uint64(rs[j])
		big |= u | r
		t := (u*r + 1<<31) >> 32
		v := (int64((t*a+1<<31)>>32) ^ sgn) - sgn
		dst[j] = int32(min(max(v, math.MinInt32), math.MaxInt32))
	}
	return big>>32 == 0
}
