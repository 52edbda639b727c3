//go:build amd64 && !purego

#include "textflag.h"

// emaRunAVX2 is emaLockstep on a run of consecutive columns, four cells per step in the
// 64-bit lanes of YMM registers (see run.go for the arithmetic and why each step is
// exact). VPMULUDQ multiplies the low 32 bits of each lane; a clipped weight or a bond
// proportion of exactly 1 (2^32) has bit 32 set, and its product's missing part is added
// as (bit 32) × the other factor, a second VPMULUDQ by 0 or 1.
//
// Registers: Y0-Y3 scratch; Y4 = 1; Y5 = 4; Y6 = the four cells' columns; Y7 = OR of the
// zero-EMA masks; Y8 = trust; Y9 = 0; Y10 = 1-α; Y11 = α; Y12 = the active stake;
// X13 = the normaliser's shift; Y14, Y15 = the low and high halves of its multiplier.

// func emaRunAVX2(w, b *Entry, n int, cons, rank, sum, dst *uint64, k *emaKernel) (trust, zero uint64)
TEXT ·emaRunAVX2(SB), NOSPLIT, $0-80
	MOVQ w+0(FP), SI
	MOVQ b+8(FP), DI
	MOVQ n+16(FP), CX
	MOVQ cons+24(FP), R8
	MOVQ rank+32(FP), R9
	MOVQ sum+40(FP), R10
	MOVQ dst+48(FP), R11
	MOVQ k+56(FP), AX

	VPBROADCASTQ 0(AX), Y15  // mh
	VPBROADCASTQ 8(AX), Y14  // ml
	MOVQ         16(AX), X13 // shift
	VPBROADCASTQ 24(AX), Y12 // scale
	VPBROADCASTQ 32(AX), Y11 // alpha
	VPBROADCASTQ 40(AX), Y10 // oneMinus
	VPBROADCASTQ 48(AX), Y6  // j0
	VPADDQ       runLanes<>(SB), Y6, Y6
	VPBROADCASTQ runOne<>(SB), Y4
	VPBROADCASTQ runFour<>(SB), Y5
	VPXOR        Y7, Y7, Y7
	VPXOR        Y8, Y8, Y8
	VPXOR        Y9, Y9, Y9

loop:
	// The weights: entry = uid | value<<16; normalised, floor(v·M / 2^32) >> shift.
	VPMOVZXDQ (SI), Y0
	VPSRLQ    $16, Y0, Y0
	VPMULUDQ  Y15, Y0, Y1
	VPMULUDQ  Y14, Y0, Y0
	VPSRLQ    $32, Y0, Y0
	VPADDQ    Y1, Y0, Y0
	VPSRLQ    X13, Y0, Y0

	// Clipped to the consensus: c = min(norm, cons) (both below 2^63).
	VMOVDQU   (R8), Y1
	VPCMPGTQ  Y1, Y0, Y2
	VPBLENDVB Y2, Y1, Y0, Y0
	VPADDQ    Y0, Y8, Y8

	// rank += scale·c >> 32.
	VPSRLQ   $32, Y0, Y2
	VPMULUDQ Y12, Y0, Y1
	VPSRLQ   $32, Y1, Y1
	VPMULUDQ Y12, Y2, Y3
	VPADDQ   Y3, Y1, Y1
	VPADDQ   (R9), Y1, Y1
	VMOVDQU  Y1, (R9)

	// α·c >> 32, kept in Y1.
	VPMULUDQ Y11, Y0, Y1
	VPSRLQ   $32, Y1, Y1
	VPMULUDQ Y11, Y2, Y3
	VPADDQ   Y3, Y1, Y1

	// The bonds: U16Proportion(b) = b·65537 + (b+1)>>16; (1-α)·that >> 32.
	VPMOVZXDQ (DI), Y0
	VPSRLQ    $16, Y0, Y0
	VPADDQ    Y4, Y0, Y2
	VPSRLQ    $16, Y2, Y2
	VPSLLQ    $16, Y0, Y3
	VPADDQ    Y3, Y0, Y0
	VPADDQ    Y2, Y0, Y0
	VPSRLQ    $32, Y0, Y2
	VPMULUDQ  Y10, Y0, Y0
	VPSRLQ    $32, Y0, Y0
	VPMULUDQ  Y10, Y2, Y2
	VPADDQ    Y2, Y0, Y0

	// The EMA, its column sums, the zero test and the packed cell e<<16 | column.
	VPADDQ   Y1, Y0, Y0
	VPADDQ   (R10), Y0, Y1
	VMOVDQU  Y1, (R10)
	VPCMPEQQ Y9, Y0, Y1
	VPOR     Y1, Y7, Y7
	VPSLLQ   $16, Y0, Y0
	VPOR     Y6, Y0, Y0
	VMOVDQU  Y0, (R11)
	VPADDQ   Y5, Y6, Y6

	ADDQ $16, SI
	ADDQ $16, DI
	ADDQ $32, R8
	ADDQ $32, R9
	ADDQ $32, R10
	ADDQ $32, R11
	SUBQ $4, CX
	JNZ  loop

	VEXTRACTI128 $1, Y8, X0
	VPADDQ       X0, X8, X8
	VPSHUFD      $0x4e, X8, X0
	VPADDQ       X0, X8, X8
	MOVQ         X8, trust+64(FP)
	VPMOVMSKB    Y7, AX
	MOVQ         AX, zero+72(FP)
	VZEROUPPER
	RET

DATA runLanes<>+0(SB)/8, $0
DATA runLanes<>+8(SB)/8, $1
DATA runLanes<>+16(SB)/8, $2
DATA runLanes<>+24(SB)/8, $3
GLOBL runLanes<>(SB), RODATA|NOPTR, $32

DATA runOne<>+0(SB)/8, $1
GLOBL runOne<>(SB), RODATA|NOPTR, $8

DATA runFour<>+0(SB)/8, $4
GLOBL runFour<>(SB), RODATA|NOPTR, $8
