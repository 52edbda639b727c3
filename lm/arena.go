package lm

import (
	"fmt"
	"runtime"
	"unsafe"
)

// arena holds a model's weights in one region of memory outside the Go heap (an
// anonymous mapping where the platform has one, see arena_unix.go). Weights are a
// model's whole size and live as long as it does; on the heap they would set the
// garbage collector's goal at twice the model, so that a 1 GB model would run in 2 GB.
// Off the heap the collector's goal follows only the small working memory, and a model
// of N bytes runs in N plus its caches plus a few per cent.
//
// The region is released by a cleanup when the Model that owns it is unreachable; the
// slices carved from it must not outlive the Model.
type arena struct {
	mem []byte
	off int
}

func newArena(n int) (*arena, error) {
	mem, err := mapAnon(n)
	if err != nil {
		return nil, fmt.Errorf("lm: allocating %d bytes for the weights: %w", n, err)
	}
	return &arena{mem: mem}, nil
}

// take carves n bytes aligned to 64 (a cache line).
func (a *arena) take(n int) []byte {
	a.off = (a.off + 63) &^ 63
	if a.off+n > len(a.mem) {
		panic(fmt.Sprintf("lm: weight arena of %d bytes overrun (%d more at %d)", len(a.mem), n, a.off)) // a sizing bug
	}
	b := a.mem[a.off : a.off+n : a.off+n]
	a.off += n
	return b
}

func (a *arena) int8s(n int) []int8 {
	if n == 0 {
		return nil
	}
	return unsafe.Slice((*int8)(unsafe.Pointer(&a.take(n)[0])), n)
}

func (a *arena) int16s(n int) []int16 {
	if n == 0 {
		return nil
	}
	return unsafe.Slice((*int16)(unsafe.Pointer(&a.take(2 * n)[0])), n)
}

func (a *arena) int64s(n int) []int64 {
	if n == 0 {
		return nil
	}
	return unsafe.Slice((*int64)(unsafe.Pointer(&a.take(8 * n)[0])), n)
}

// release hands the region back when owner becomes unreachable.
func (a *arena) release(owner *Model) {
	runtime.AddCleanup(owner, func(mem []byte) { unmapAnon(mem) }, a.mem)
}

// arenaBytes is what a linear of rows × cols takes in an arena, with alignment.
func arenaBytes(rows, cols int) int {
	stride := (cols + 31) / 32 * 32
	return rows*stride + 2*rows*(stride/32) + 8*rows + 3*64
}
