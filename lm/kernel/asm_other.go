//go:build !amd64 || purego

package kernel

const haveAsm = false

func dotAsm(q []int8, s []int16, x []int8) int64 { return dotGeneric(q, s, x) }

func quadsAsm(dst []int64, m *Matrix, x []int8, base, qr, i0, i1 int) {
	quadsGeneric(dst, m, x, base, qr, i0, i1)
}

func rowsAsm(dst []int64, m *Matrix, x []int8, j0, j1 int) { rowsGeneric(dst, m, x, j0, j1) }

func rows1Asm(dst []int64, m *Matrix, x []int8, j0, j1 int) { rowsGeneric(dst, m, x, j0, j1) }

func scaleOutAsm(dst []int32, acc, rs []int64, a uint64) (int, uint64) { return 0, 0 }

func peakDotAsm(q, x []int8) int64 { return 0 }

func memSumAsm(p []byte) uint64 { return 0 }
