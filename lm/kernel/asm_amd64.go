//go:build amd64 && !purego

package kernel

import "golang.org/x/sys/cpu"

// haveAsm: the AVX2 kernels need AVX2 (x/sys/cpu also checks that the OS
// saves the YMM registers).
var haveAsm = cpu.X86.HasAVX2

// dot1AVX2 returns the block dot product of nb blocks at q, s, x (nb >= 1).
//
//go:noescape
func dot1AVX2(q *int8, s *int16, x *int8, nb int) int64

// dot4AVX2 computes dst[r], r = 0..3, for the 4 rows at q + r*qstride with
// scales at s + r*(qstride/32) (int16 elements), all against x, over nb >= 1
// blocks. qstride is a multiple of Stride, so of 32.
//
//go:noescape
func dot4AVX2(q *int8, qstride int, s *int16, x *int8, nb int, dst *int64)

// dot8x1AVX2 computes dst[r] for 8*groups consecutive one-block rows at q (32 bytes
// each) with scales at s (one each), all against x; groups >= 1.
//
//go:noescape
func dot8x1AVX2(q *int8, s *int16, x *int8, groups int, dst *int64)

// scaleOutAVX2 is ScaleOut's loop over n entries (a multiple of 4, at least 4); it
// returns the OR of every |acc[j]| and rs[j].
//
//go:noescape
func scaleOutAVX2(dst *int32, acc *int64, rs *int64, a uint64, n int) uint64

// peakDotAVX2 is the benchmark's minimal unscaled int8 dot loop over nb
// blocks (nb a multiple of 4, at most 4096: the int32 lanes are not flushed).
//
//go:noescape
func peakDotAVX2(q, x *int8, nb int) int64

// memSumAVX2 sums n bytes at p (n a multiple of 128) as 64-bit words.
//
//go:noescape
func memSumAVX2(p *byte, n int) uint64

func dotAsm(q []int8, s []int16, x []int8) int64 {
	return dot1AVX2(&q[0], &s[0], &x[0], len(s))
}

// quadsAsm sets dst[base+k*qr+i] for k in 0..3 and i in [i0, i1) (see
// matMulRange); Stride > 0 and the shapes are checked.
func quadsAsm(dst []int64, m *Matrix, x []int8, base, qr, i0, i1 int) {
	nb := m.Stride / BlockSize
	xp := &x[0]
	var t [4]int64
	for i := base + i0; i < base+i1; i++ {
		_ = dst[i+3*qr]
		dot4AVX2(&m.Q[i*m.Stride], qr*m.Stride, &m.S[i*nb], xp, nb, &t[0])
		dst[i], dst[i+qr], dst[i+2*qr], dst[i+3*qr] = t[0], t[1], t[2], t[3]
	}
}

// rowsAsm sets dst[j] for j in [j0, j1); Stride > 0 and the shapes are checked.
func rowsAsm(dst []int64, m *Matrix, x []int8, j0, j1 int) {
	nb := m.Stride / BlockSize
	for j := j0; j < j1; j++ {
		dst[j] = dot1AVX2(&m.Q[j*m.Stride], &m.S[j*nb], &x[0], nb)
	}
}

// rows1Asm is rowsAsm for a matrix of one block per row (Stride 32), eight rows at a
// time; the shapes are checked.
func rows1Asm(dst []int64, m *Matrix, x []int8, j0, j1 int) {
	if g := (j1 - j0) / 8; g > 0 {
		_ = dst[j0+8*g-1]
		_ = m.Q[(j0+8*g)*BlockSize-1]
		_ = m.S[j0+8*g-1]
		dot8x1AVX2(&m.Q[j0*BlockSize], &m.S[j0], &x[0], g, &dst[j0])
		j0 += 8 * g
	}
	rowsAsm(dst, m, x, j0, j1)
}

func scaleOutAsm(dst []int32, acc, rs []int64, a uint64) (int, uint64) {
	n := len(rs) &^ 3
	if n == 0 {
		return 0, 0
	}
	_, _ = dst[n-1], acc[n-1]
	return n, scaleOutAVX2(&dst[0], &acc[0], &rs[0], a, n)
}

func peakDotAsm(q, x []int8) int64 {
	return peakDotAVX2(&q[0], &x[0], len(q)/BlockSize)
}

func memSumAsm(p []byte) uint64 {
	return memSumAVX2(&p[0], len(p))
}
