//go:build amd64 && !purego

package yuma

import "golang.org/x/sys/cpu"

// haveRunAsm: the run kernels need AVX2 and BMI2 (x/sys/cpu also checks that the OS
// saves the YMM registers).
var haveRunAsm = cpu.X86.HasAVX2 && cpu.X86.HasBMI2

// emaRunAVX2 is emaRun's loop over n cells (a multiple of 4, at least 4) in assembly
// (run_amd64.s); cons, rank and sum point at the run's first column. zero is nonzero if
// some cell's EMA is 0.
//
//go:noescape
func emaRunAVX2(w, b *Entry, n int, cons, rank, sum, dst *uint64, k *emaKernel) (trust, zero uint64)

// dividendRunAVX2 is dividendRun's loop over n cells (a multiple of 4, at least 4) in
// assembly (run_amd64.s); m, d and inc point at the row's first column.
//
//go:noescape
func dividendRunAVX2(cells *uint64, n int, m, d, inc *uint64, dst *Entry) (sum, wide uint64)

// scoreRunAVX2 is scoreRun's loop over n voters (a multiple of 4, at least 4) in
// assembly (run_amd64.s).
//
//go:noescape
func scoreRunAVX2(col *scored, vals *uint16, n int, mh, ml, sh *uint64) (or uint64)

// ascendSumAVX2 is sumAscending's loop in assembly (run_amd64.s): the values' sum and
// the ascending test over whole blocks of eight entries that have a next entry.
//
//go:noescape
func ascendSumAVX2(row *Entry, n int) (sum, done, bad uint64)

// lockstepAVX2 is lockstepRun's loop over whole blocks of eight entries in assembly
// (run_amd64.s): the start of the first block that differs.
//
//go:noescape
func lockstepAVX2(a, b *Entry, n int) int

// keepBucketAVX2 is keepBucket's loop over n entries (a multiple of 4, at least 4) in
// assembly (run_amd64.s); it returns the number kept.
//
//go:noescape
func keepBucketAVX2(dst, src *scored, n int, shift, b uint64) int

// gatherAVX2 is gatherBlock on eight rows at once in assembly (run_amd64.s): src holds
// each row's first entry of the block, every row holding the block's n columns (n a
// multiple of 8, at least 8) from there; dst is the first row's cell of the block's first
// column, stride the bytes between columns.
//
//go:noescape
func gatherAVX2(dst *uint16, stride uintptr, src *[8]*Entry, n int)

// histBMI2 is columnQuantile's first histogram over n entries (a multiple of 4, at least
// 4) in assembly (run_amd64.s).
//
//go:noescape
func histBMI2(col *scored, stake *Fixed, n int, sh uint64, hist *[1 << radixBits]Fixed)
