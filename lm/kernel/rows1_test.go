package kernel

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// TestOneBlockRows checks matrices of one block per row (the eight-row kernel) against
// the reference, for row counts around the kernel's group of 8 and its tile, batches
// and pools.
func TestOneBlockRows(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	pools := []*Pool{nil, NewPool(1), NewPool(3)}
	for _, p := range pools {
		defer p.Close()
	}
	for _, rows := range []int{1, 7, 8, 9, 15, 16, 17, 1023, 1024, 1031, 4099, 32000} {
		for _, cols := range []int{1, 8, 31, 32} {
			for _, mode := range []int{modeRandom, modeMaxPos, modeMaxNeg, modeSigns, modeSparse} {
				m := randMatrix(rng, rows, cols, mode)
				for _, n := range []int{1, 3} {
					xs := make([]int8, n*m.Stride)
					fillX(rng, xs, mode)
					want := make([]int64, n*rows)
					for i := 0; i < n; i++ {
						for j := 0; j < rows; j++ {
							q, s := m.Row(j)
							want[i*rows+j] = refDot(q, s, xs[i*m.Stride:(i+1)*m.Stride])
						}
					}
					for _, on := range asmModes() {
						SetAssembly(on)
						for pi, p := range pools {
							got := make([]int64, n*rows)
							if p == nil {
								MatMul(got, m, xs, n)
							} else {
								p.MatMul(got, m, xs, n)
							}
							compare(t, fmt.Sprintf("%dx%d %s n=%d asm=%v pool=%d", rows, cols, modeNames[mode], n, on, pi), got, want)
						}
					}
				}
			}
		}
	}
	SetAssembly(haveAsm)
}
