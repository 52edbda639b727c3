package kernel

import (
	"errors"
	"fmt"
	"math"
)

// BlockSize is the number of consecutive columns that share one scale.
const BlockSize = 32

// MaxQ bounds the weight values: every Q value is in [-MaxQ, MaxQ] (never -128).
const MaxQ = 127

// MaxScale bounds the block scales: every S value is in [0, MaxScale].
const MaxScale = 255

// Errors returned by Validate, wrapped with a message naming the offending field,
// row and column; test them with errors.Is.
var (
	// ErrShape: Rows, Cols, Stride or the lengths of Q and S are inconsistent.
	ErrShape = errors.New("kernel: bad matrix shape")
	// ErrRange: a Q value is -128 or a scale is outside [0, 255].
	ErrRange = errors.New("kernel: matrix value out of range")
	// ErrPadding: a Q value in a padding column (index >= Cols) is not zero.
	ErrPadding = errors.New("kernel: nonzero matrix padding")
)

// Matrix is a block-quantised int8 weight matrix of Rows x Cols.
//
// Row j occupies Q[j*Stride : (j+1)*Stride]; Stride is Cols rounded up to a
// multiple of BlockSize and the padding columns Cols..Stride-1 hold zeros.
// Block b of row j (columns b*32 .. b*32+31) has the scale S[j*(Stride/32)+b].
// Q values are in [-127, 127] and S values in [0, 255]; Validate checks all of it.
// The value represented by column k of row j is S[j,k/32]·Q[j,k] (in the
// engine's own units; the kernel only ever computes the exact integer sums).
type Matrix struct {
	Rows, Cols, Stride int
	Q                  []int8
	S                  []int16
}

// StrideFor returns cols rounded up to a multiple of BlockSize (0 for cols <= 0).
func StrideFor(cols int) int {
	if cols <= 0 {
		return 0
	}
	return (cols + BlockSize - 1) / BlockSize * BlockSize
}

// NewMatrix returns a zero rows x cols matrix (all Q and S zero) with
// Stride = StrideFor(cols).
//
// It panics if rows or cols is negative or rows*Stride overflows an int: it is
// meant for dimensions the caller has already bounded. Callers holding
// untrusted dimensions check them first (allocation is rows*Stride*(1+1/16) bytes).
func NewMatrix(rows, cols int) *Matrix {
	if rows < 0 || cols < 0 || cols > math.MaxInt-BlockSize {
		panic(fmt.Sprintf("kernel: NewMatrix(%d, %d): negative or too large", rows, cols))
	}
	stride := StrideFor(cols)
	if stride != 0 && rows > math.MaxInt/stride {
		panic(fmt.Sprintf("kernel: NewMatrix(%d, %d): size overflows", rows, cols))
	}
	return &Matrix{
		Rows:   rows,
		Cols:   cols,
		Stride: stride,
		Q:      make([]int8, rows*stride),
		S:      make([]int16, rows*(stride/BlockSize)),
	}
}

// Blocks returns the number of blocks per row, Stride/BlockSize.
func (m *Matrix) Blocks() int { return m.Stride / BlockSize }

// Row returns row j's weights (length Stride) and block scales (length
// Stride/32), aliasing m.Q and m.S (capacity limited to the row). It panics if
// j is not in [0, Rows) or the slices are shorter than the shape says.
func (m *Matrix) Row(j int) ([]int8, []int16) {
	if j < 0 || j >= m.Rows {
		panic(fmt.Sprintf("kernel: Row(%d) of a %d-row matrix", j, m.Rows))
	}
	nb := m.Stride / BlockSize
	return m.Q[j*m.Stride : (j+1)*m.Stride : (j+1)*m.Stride], m.S[j*nb : (j+1)*nb : (j+1)*nb]
}

// Validate checks the shape (Rows, Cols >= 0, Stride == StrideFor(Cols),
// len(Q) == Rows*Stride, len(S) == Rows*Stride/32, no overflow), that every Q
// value is in [-127, 127], every padding Q value is 0 and every scale is in
// [0, 255]. The kernels' exactness relies on these ranges; a matrix from
// untrusted data must pass Validate before it is used. The error wraps
// ErrShape, ErrRange or ErrPadding and names the first offending entry.
func (m *Matrix) Validate() error {
	if m == nil {
		return fmt.Errorf("%w: nil matrix", ErrShape)
	}
	if m.Rows < 0 || m.Cols < 0 {
		return fmt.Errorf("%w: negative dimensions %dx%d", ErrShape, m.Rows, m.Cols)
	}
	if m.Cols > math.MaxInt-BlockSize || m.Stride != StrideFor(m.Cols) {
		return fmt.Errorf("%w: stride %d for %d columns, want %d", ErrShape, m.Stride, m.Cols, StrideFor(m.Cols))
	}
	if m.Stride != 0 && m.Rows > math.MaxInt/m.Stride {
		return fmt.Errorf("%w: %dx%d overflows", ErrShape, m.Rows, m.Stride)
	}
	nb := m.Stride / BlockSize
	if len(m.Q) != m.Rows*m.Stride {
		return fmt.Errorf("%w: len(Q) = %d, want %d", ErrShape, len(m.Q), m.Rows*m.Stride)
	}
	if len(m.S) != m.Rows*nb {
		return fmt.Errorf("%w: len(S) = %d, want %d", ErrShape, len(m.S), m.Rows*nb)
	}
	for j := 0; j < m.Rows; j++ {
		row := m.Q[j*m.Stride : (j+1)*m.Stride]
		for k, v := range row {
			if v == math.MinInt8 {
				return fmt.Errorf("%w: Q[row %d, col %d] = -128", ErrRange, j, k)
			}
			if k >= m.Cols && v != 0 {
				return fmt.Errorf("%w: Q[row %d, col %d] = %d in padding (cols %d)", ErrPadding, j, k, v, m.Cols)
			}
		}
	}
	for i, s := range m.S {
		if s < 0 || s > MaxScale {
			return fmt.Errorf("%w: S[row %d, block %d] = %d not in [0, 255]", ErrRange, i/nb, i%nb, s)
		}
	}
	return nil
}
