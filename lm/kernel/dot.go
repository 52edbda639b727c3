package kernel

import (
	"fmt"
	"math"
	"os"
	"sync/atomic"
)

// useAsm says whether the assembly kernels run. It is true at init when the
// CPU has them (amd64 with AVX2, not built with the purego tag) unless the
// environment variable TESSERA_LM_NOASM is "1"; SetAssembly changes it.
var useAsm atomic.Bool

func init() {
	useAsm.Store(haveAsm && os.Getenv("TESSERA_LM_NOASM") != "1")
}

// SetAssembly turns the assembly kernels on or off and returns the previous
// setting. Turning them on has no effect where they are not available (not
// amd64, the purego build tag, or no AVX2). Results do not depend on it: it
// exists for tests and benchmarks. It may be called at any time; a kernel call
// already running finishes with the setting it started with for each row range.
func SetAssembly(on bool) (prev bool) {
	return useAsm.Swap(on && haveAsm)
}

// Assembly reports whether the assembly kernels are in use.
func Assembly() bool { return useAsm.Load() }

// Impl names the kernel implementation in use: "avx2" or "go".
func Impl() string {
	if useAsm.Load() {
		return "avx2"
	}
	return "go"
}

// Dot returns Σ_b s[b] · Σ_{k=32b}^{32b+31} q[k]·x[k], exactly.
//
// len(q) and len(x) must both be BlockSize*len(s); Dot panics otherwise
// (a programming error, like an index out of range). q values must be in
// [-127, 127] and s values in [0, 255] (as Matrix.Validate checks); x may be
// any int8. Within those ranges nothing overflows (see the package comment)
// and every implementation returns the same value.
func Dot(q []int8, s []int16, x []int8) int64 {
	nb := len(s)
	if len(q) != nb*BlockSize || len(x) != len(q) {
		panic(fmt.Sprintf("kernel: Dot: len(q)=%d len(x)=%d, want %d (32*len(s))", len(q), len(x), nb*BlockSize))
	}
	if nb == 0 {
		return 0
	}
	if useAsm.Load() {
		return dotAsm(q, s, x)
	}
	return dotGeneric(q, s, x)
}

// dotGeneric is the reference definition of Dot, in plain Go. Each block's
// inner sum is at most 32·128·127 = 520192 in magnitude (fits int32); times a
// scale of at most 255 it is below 2^27, and the int64 total cannot overflow
// for any slice length that fits in memory.
func dotGeneric(q []int8, s []int16, x []int8) int64 {
	var acc int64
	for b, sc := range s {
		qb := (*[BlockSize]int8)(q[b*BlockSize:])
		xb := (*[BlockSize]int8)(x[b*BlockSize:])
		var t int32
		for k := 0; k < BlockSize; k += 4 {
			t += int32(qb[k])*int32(xb[k]) + int32(qb[k+1])*int32(xb[k+1]) +
				int32(qb[k+2])*int32(xb[k+2]) + int32(qb[k+3])*int32(xb[k+3])
		}
		acc += int64(sc) * int64(t)
	}
	return acc
}

// MatVec sets dst[j] = Dot(row j of m, x) for every row j, on the calling
// goroutine. len(dst) must be m.Rows and len(x) m.Stride (x's padding entries
// are multiplied by the matrix's zero padding, so their values do not matter);
// MatVec panics otherwise or if m's slices are shorter than its shape. m must
// satisfy Validate's value ranges. It does not allocate. See Pool.MatVec for
// the parallel version; results are identical.
func MatVec(dst []int64, m *Matrix, x []int8) {
	checkShapes("MatVec", dst, m, x, 1)
	matMulRange(dst, m, x, 1, 0, m.Rows)
}

// MatMul is MatVec for a batch of n input vectors: xs holds n vectors of
// length m.Stride back to back, and dst (length n*m.Rows) receives
// dst[i*m.Rows+j] = Dot(row j of m, xs[i*m.Stride:(i+1)*m.Stride]).
// It works through the matrix in chunks of rows (about 128 KiB of weights,
// which stay in cache) and applies each chunk to all n inputs before moving
// on, so the weights are read from memory once per call, not n times; the
// x vectors (n*Stride bytes) are re-read from cache. It runs on the calling
// goroutine and does not allocate; see Pool.MatMul for the parallel version.
// Results equal n separate MatVec calls exactly.
func MatMul(dst []int64, m *Matrix, xs []int8, n int) {
	checkShapes("MatMul", dst, m, xs, n)
	matMulRange(dst, m, xs, n, 0, m.Rows)
}

func checkShapes(op string, dst []int64, m *Matrix, xs []int8, n int) {
	if m == nil {
		panic("kernel: " + op + ": nil matrix")
	}
	nb := m.Stride / BlockSize
	if m.Rows < 0 || m.Stride < 0 || m.Stride%BlockSize != 0 || (m.Stride > 0 && m.Rows > math.MaxInt/m.Stride) ||
		len(m.Q) < m.Rows*m.Stride || len(m.S) < m.Rows*nb {
		panic(fmt.Sprintf("kernel: %s: inconsistent matrix %dx%d stride %d len(Q)=%d len(S)=%d",
			op, m.Rows, m.Cols, m.Stride, len(m.Q), len(m.S)))
	}
	if n < 0 || (n > 0 && (m.Stride > math.MaxInt/n || m.Rows > math.MaxInt/n)) ||
		len(xs) != n*m.Stride || len(dst) != n*m.Rows {
		panic(fmt.Sprintf("kernel: %s: n=%d len(x)=%d len(dst)=%d, want %d and %d",
			op, n, len(xs), len(dst), n*m.Stride, n*m.Rows))
	}
}

// tileBytes is the weight bytes of a chunk of rows that MatMul applies to
// every input in the batch before moving on; it stays in L2.
const tileBytes = 128 << 10

// tileRows1 is the tile of a one-block matrix (1024 rows of 32 bytes).
const tileRows1 = 1024

// matMulRange computes rows [r0, r1) for all n inputs. Shapes are checked.
//
// Traversal order (it does not affect any result): the range is cut into four
// equal quarters of qr rows plus up to 3 leftover rows. The 4-row kernel
// computes rows r0+i, r0+qr+i, r0+2qr+i, r0+3qr+i together (sharing each x
// load), for i = 0, 1, ..., so the weights are read as four long sequential
// streams, which the hardware prefetchers follow at full memory bandwidth (4
// adjacent rows would be 4 streams each ending after one row). For n > 1 the
// quarters are walked in chunks of tile/4 rows and each chunk is applied to
// all n inputs while it is in cache.
func matMulRange(dst []int64, m *Matrix, xs []int8, n, r0, r1 int) {
	if m.Stride == 0 {
		for i := 0; i < n; i++ {
			clear(dst[i*m.Rows+r0 : i*m.Rows+r1])
		}
		return
	}
	asm := useAsm.Load()
	if asm && m.Stride == BlockSize {
		// One block per row: eight rows at a time against each input, in tiles of
		// tileRows1 rows (32 KiB of weights) applied to all n inputs.
		for t0 := r0; t0 < r1; t0 += tileRows1 {
			t1 := min(r1, t0+tileRows1)
			for i := 0; i < n; i++ {
				rows1Asm(dst[i*m.Rows:(i+1)*m.Rows], m, xs[i*m.Stride:(i+1)*m.Stride], t0, t1)
			}
		}
		return
	}
	qr := (r1 - r0) / 4
	chunk := qr
	if n > 1 {
		chunk = max(1, tileBytes/4/m.Stride)
	}
	for i0 := 0; i0 < qr; i0 += chunk {
		i1 := min(i0+chunk, qr)
		for i := 0; i < n; i++ {
			d, x := dst[i*m.Rows:(i+1)*m.Rows], xs[i*m.Stride:(i+1)*m.Stride]
			if asm {
				quadsAsm(d, m, x, r0, qr, i0, i1)
			} else {
				quadsGeneric(d, m, x, r0, qr, i0, i1)
			}
		}
	}
	for i := 0; i < n; i++ {
		d, x := dst[i*m.Rows:(i+1)*m.Rows], xs[i*m.Stride:(i+1)*m.Stride]
		if asm {
			rowsAsm(d, m, x, r0+4*qr, r1)
		} else {
			rowsGeneric(d, m, x, r0+4*qr, r1)
		}
	}
}

// quadsGeneric sets dst[base+k*qr+i] for k in 0..3 and i in [i0, i1).
func quadsGeneric(dst []int64, m *Matrix, x []int8, base, qr, i0, i1 int) {
	for i := i0; i < i1; i++ {
		for k := 0; k < 4; k++ {
			rowsGeneric(dst, m, x, base+k*qr+i, base+k*qr+i+1)
		}
	}
}

// rowsGeneric sets dst[j] for j in [j0, j1).
func rowsGeneric(dst []int64, m *Matrix, x []int8, j0, j1 int) {
	nb := m.Stride / BlockSize
	for j := j0; j < j1; j++ {
		dst[j] = dotGeneric(m.Q[j*m.Stride:(j+1)*m.Stride], m.S[j*nb:(j+1)*nb], x)
	}
}
