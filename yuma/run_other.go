//go:build !amd64 || purego

package yuma

// haveRunAsm: there is no run kernel in assembly on this platform (or with the purego
// build tag); emaLockstep does the runs.
const haveRunAsm = false

func emaRunAVX2(w, b *Entry, n int, cons, rank, sum, dst *uint64, k *emaKernel) (trust, zero uint64) {
	panic("yuma: no run kernel on this platform")
}

func dividendRunAVX2(cells *uint64, n int, m, d, inc *uint64, dst *Entry) (sum, wide uint64) {
	panic("yuma: no run kernel on this platform")
}

func scoreRunAVX2(col *scored, vals *uint16, n int, mh, ml, sh *uint64) (or uint64) {
	panic("yuma: no run kernel on this platform")
}

func ascendSumAVX2(row *Entry, n int) (sum, done, bad uint64) {
	panic("yuma: no run kernel on this platform")
}

func lockstepAVX2(a, b *Entry, n int) int { panic("yuma: no run kernel on this platform") }

func keepBucketAVX2(dst, src *scored, n int, shift, b uint64) int {
	panic("yuma: no run kernel on this platform")
}

func gatherAVX2(dst *uint16, stride uintptr, src *[8]*Entry, n int) {
	panic("yuma: no run kernel on this platform")
}

func histBMI2(col *scored, stake *Fixed, n int, sh uint64, hist *[1 << radixBits]Fixed) {
	panic("yuma: no run kernel on this platform")
}
