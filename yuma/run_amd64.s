//go:build amd64 && !purego

#include "textflag.h"

// The four cache lines from R + D to the second-level cache.
#define PREFETCH4(R, D) \
	PREFETCHT1 (R)(D*1)    \
	PREFETCHT1 64(R)(D*1)  \
	PREFETCHT1 128(R)(D*1) \
	PREFETCHT1 192(R)(D*1)

// Four rows of dwords A-D, each 128-bit lane transposed as a 4×4 block: A-D become
// columns 0-3 of the lane's four rows (unpacks by dwords, then by qwords), with Y8-Y11
// as scratch.
#define TRANSPOSE4(A, B, C, D) \
	VPUNPCKLDQ  B, A, Y8   \
	VPUNPCKHDQ  B, A, Y9   \
	VPUNPCKLDQ  D, C, Y10  \
	VPUNPCKHDQ  D, C, Y11  \
	VPUNPCKLQDQ Y10, Y8, A \
	VPUNPCKHQDQ Y10, Y8, B \
	VPUNPCKLQDQ Y11, Y9, C \
	VPUNPCKHQDQ Y11, Y9, D

// Two columns' 16-byte halves of Y (X its lower) stored at DI and DI+SI, DI then
// advanced past both.
#define STORE2COLS(X, Y) \
	VMOVDQU      X, (DI)        \
	ADDQ         SI, DI         \
	VEXTRACTI128 $1, Y, (DI)    \
	ADDQ         SI, DI

// The four 64-bit lanes of Y reduced into the low lane of X (Y's lower half) by OP
// (VPADDQ or VPOR), with T as scratch.
#define REDUCE4(OP, Y, X, T) \
	VEXTRACTI128 $1, Y, T \
	OP           T, X, X  \
	VPSHUFD      $0x4e, X, T \
	OP           T, X, X

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

	REDUCE4(VPADDQ, Y8, X8, X0)
	MOVQ X8, trust+64(FP)
	VPMOVMSKB    Y7, AX
	MOVQ         AX, zero+72(FP)
	VZEROUPPER
	RET

// dividendRunAVX2 is dividendRow on a row of cells on consecutive columns, four per
// step (see run.go): the quotient floor(v·2^32 / sum) as divisor.quo computes it (the
// reciprocal's high product, then one correction by the remainder, whose product q0·d is
// taken mod 2^64 from 32-bit halves), times the incentive, and the stored entry.
//
// Registers: Y0-Y7 scratch; Y11 = 0xffff; Y12 = OR of v | q&x; Y13 = the sum; Y14 = the
// dword index 0, 2, 4, 6 (the low halves of four lanes); Y15 = 1.

// func dividendRunAVX2(cells *uint64, n int, m, d, inc *uint64, dst *Entry) (sum, wide uint64)
TEXT ·dividendRunAVX2(SB), NOSPLIT, $0-64
	MOVQ cells+0(FP), SI
	MOVQ n+8(FP), CX
	MOVQ m+16(FP), R8
	MOVQ d+24(FP), R9
	MOVQ inc+32(FP), R10
	MOVQ dst+40(FP), R11

	VPBROADCASTQ runOne<>(SB), Y15
	VMOVDQU      runPack<>(SB), Y14
	VPBROADCASTQ runLow16<>(SB), Y11
	VPXOR        Y12, Y12, Y12
	VPXOR        Y13, Y13, Y13

divloop:
	VMOVDQU (SI), Y0
	VPSRLQ  $16, Y0, Y1 // v

	// q0 = floor(v·m / 2^32) = v·mh + floor(v·ml / 2^32).
	VMOVDQU  (R8), Y2
	VPSRLQ   $32, Y2, Y3
	VPMULUDQ Y3, Y1, Y3
	VPMULUDQ Y2, Y1, Y2
	VPSRLQ   $32, Y2, Y2
	VPADDQ   Y3, Y2, Y2

	// r = v·2^32 - q0·d (mod 2^64), q0·d = q0·dl + (q0·dh)<<32 since q0 < 2^32 (see
	// run.go); q = q0 + (r >= d).
	VMOVDQU  (R9), Y3
	VPMULUDQ Y3, Y2, Y4
	VPSRLQ   $32, Y3, Y5
	VPMULUDQ Y5, Y2, Y5
	VPSLLQ   $32, Y5, Y5
	VPADDQ   Y5, Y4, Y4
	VPSLLQ   $32, Y1, Y5
	VPSUBQ   Y4, Y5, Y5
	VPCMPGTQ Y5, Y3, Y4
	VPADDQ   Y15, Y2, Y2
	VPADDQ   Y4, Y2, Y2

	// sum += q·x >> 32 (x < 2^32, q ≤ 2^32); wide |= v | q&x.
	VMOVDQU  (R10), Y3
	VPAND    Y3, Y2, Y4
	VPOR     Y4, Y12, Y12
	VPOR     Y1, Y12, Y12
	VPSRLQ   $32, Y2, Y4
	VPMULUDQ Y3, Y2, Y5
	VPSRLQ   $32, Y5, Y5
	VPMULUDQ Y3, Y4, Y4
	VPADDQ   Y4, Y5, Y5
	VPADDQ   Y5, Y13, Y13

	// The stored entry: column | floor(v·65535 / 2^32)<<16, packed to 4 bytes a cell.
	VPSLLQ  $16, Y1, Y4
	VPSUBQ  Y1, Y4, Y4
	VPSRLQ  $32, Y4, Y4
	VPSLLQ  $16, Y4, Y4
	VPAND   Y11, Y0, Y5
	VPOR    Y5, Y4, Y4
	VPERMD  Y4, Y14, Y4
	VMOVDQU X4, (R11)

	ADDQ $32, SI
	ADDQ $32, R8
	ADDQ $32, R9
	ADDQ $32, R10
	ADDQ $16, R11
	SUBQ $4, CX
	JNZ  divloop

	REDUCE4(VPADDQ, Y13, X13, X0)
	MOVQ X13, sum+48(FP)
	REDUCE4(VPOR, Y12, X12, X0)
	MOVQ X12, wide+56(FP)
	VZEROUPPER
	RET

DATA runPack<>+0(SB)/4, $0
DATA runPack<>+4(SB)/4, $2
DATA runPack<>+8(SB)/4, $4
DATA runPack<>+12(SB)/4, $6
DATA runPack<>+16(SB)/4, $0
DATA runPack<>+20(SB)/4, $2
DATA runPack<>+24(SB)/4, $4
DATA runPack<>+28(SB)/4, $6
GLOBL runPack<>(SB), RODATA|NOPTR, $32

DATA runLow16<>+0(SB)/8, $0xffff
GLOBL runLow16<>(SB), RODATA|NOPTR, $8

// scoreRunAVX2 is scoreColumn on n voters (a multiple of 4, at least 4), four per step:
// each raw weight normalised by its voter's row as in emaRunAVX2, but with the
// multiplier's halves and the shift per lane (VPSRLVQ), packed with the voter's index.
//
// Registers: Y0-Y3 scratch; Y5 = 4; Y6 = the four voters' indexes; Y7 = OR of the scores.

// func scoreRunAVX2(col *scored, vals *uint16, n int, mh, ml, sh *uint64) (or uint64)
TEXT ·scoreRunAVX2(SB), NOSPLIT, $0-56
	MOVQ col+0(FP), DI
	MOVQ vals+8(FP), SI
	MOVQ n+16(FP), CX
	MOVQ mh+24(FP), R8
	MOVQ ml+32(FP), R9
	MOVQ sh+40(FP), R10

	VMOVDQU      runLanes<>(SB), Y6
	VPBROADCASTQ runFour<>(SB), Y5
	VPXOR        Y7, Y7, Y7

scoreloop:
	VPMOVZXWQ (SI), Y0
	VPMULUDQ  (R8), Y0, Y1
	VPMULUDQ  (R9), Y0, Y2
	VPSRLQ    $32, Y2, Y2
	VPADDQ    Y1, Y2, Y2
	VPSRLVQ   (R10), Y2, Y2
	VPOR      Y2, Y7, Y7
	VPSLLQ    $16, Y2, Y2
	VPOR      Y6, Y2, Y2
	VMOVDQU   Y2, (DI)
	VPADDQ    Y5, Y6, Y6

	ADDQ $8, SI
	ADDQ $32, R8
	ADDQ $32, R9
	ADDQ $32, R10
	ADDQ $32, DI
	SUBQ $4, CX
	JNZ  scoreloop

	REDUCE4(VPOR, Y7, X7, X0)
	MOVQ X7, or+48(FP)
	VZEROUPPER
	RET

// ascendSumAVX2 is sumAscending's loop over the blocks of eight entries at i = 0, 8, …
// while i+9 ≤ n: the sum of entries i..i+7's values (in eight 32-bit lanes) and the test
// that each of their uids is below the next entry's. It returns the sum and the number
// of entries done (8 × blocks); bad is nonzero if some test failed.

// func ascendSumAVX2(row *Entry, n int) (sum, done, bad uint64)
TEXT ·ascendSumAVX2(SB), NOSPLIT, $0-40
	MOVQ row+0(FP), SI
	MOVQ n+8(FP), CX
	XORQ DX, DX
	VPBROADCASTD runLow16<>(SB), Y5
	VPXOR        Y6, Y6, Y6 // the sums
	VPXOR        Y7, Y7, Y7 // OR of the failed tests
	LEAQ         9(DX), AX
	CMPQ         AX, CX
	JGT          ascdone

ascloop:
	VMOVDQU  (SI)(DX*4), Y0  // entries i..i+7
	VMOVDQU  4(SI)(DX*4), Y1 // entries i+1..i+8
	VPSRLD   $16, Y0, Y2
	VPADDD   Y2, Y6, Y6
	VPAND    Y5, Y0, Y0
	VPAND    Y5, Y1, Y1
	VPCMPGTD Y0, Y1, Y2      // uid[k+1] > uid[k]
	VPANDN   Y5, Y2, Y2      // lanes where it is not
	VPOR     Y2, Y7, Y7
	ADDQ     $8, DX
	LEAQ     9(DX), AX
	CMPQ     AX, CX
	JLE      ascloop

ascdone:
	// The eight 32-bit sums, widened to 64 bits and added.
	VPMOVZXDQ    X6, Y0
	VEXTRACTI128 $1, Y6, X1
	VPMOVZXDQ    X1, Y1
	VPADDQ       Y1, Y0, Y0
	REDUCE4(VPADDQ, Y0, X0, X1)
	MOVQ X0, sum+16(FP)
	MOVQ         DX, done+24(FP)
	VPTEST       Y7, Y7
	SETNE        AX
	MOVBQZX      AX, AX
	MOVQ         AX, bad+32(FP)
	VZEROUPPER
	RET

// lockstepAVX2 returns the start of the first block of eight entries (i = 0, 8, … with
// i+8 ≤ n) in which some uid of a differs from b's at the same place, or the number of
// entries in whole blocks if none does.

// func lockstepAVX2(a, b *Entry, n int) int
TEXT ·lockstepAVX2(SB), NOSPLIT, $0-32
	MOVQ a+0(FP), SI
	MOVQ b+8(FP), DI
	MOVQ n+16(FP), CX
	XORQ DX, DX
	VPBROADCASTD runLow16<>(SB), Y5
	LEAQ         8(DX), AX
	CMPQ         AX, CX
	JGT          lsdone

lsloop:
	VMOVDQU (SI)(DX*4), Y0
	VPXOR   (DI)(DX*4), Y0, Y0
	VPTEST  Y5, Y0
	JNZ     lsdone
	ADDQ    $8, DX
	LEAQ    8(DX), AX
	CMPQ    AX, CX
	JLE     lsloop

lsdone:
	MOVQ DX, ret+24(FP)
	VZEROUPPER
	RET

// keepBucketAVX2 is keepBucket's loop over n entries (a multiple of 4, at least 4), four
// per step: the entries whose bits from shift up equal b are packed to the front of the
// four (VPERMD by a table indexed by the comparison's mask) and stored at the write
// position, which advances by their count. Each store writes four entries, of which only
// the kept ones count; the write position never passes the read position, so the
// stores stay within the n entries of dst.

// func keepBucketAVX2(dst, src *scored, n int, shift, b uint64) int
TEXT ·keepBucketAVX2(SB), NOSPLIT, $0-48
	MOVQ         dst+0(FP), DI
	MOVQ         src+8(FP), SI
	MOVQ         n+16(FP), CX
	MOVQ         shift+24(FP), X3
	VPBROADCASTQ b+32(FP), Y4
	LEAQ         keepLUT<>(SB), R8
	XORQ         DX, DX

kbloop:
	VMOVDQU   (SI), Y0
	VPSRLQ    X3, Y0, Y1
	VPCMPEQQ  Y4, Y1, Y1
	VMOVMSKPD Y1, AX
	MOVQ      AX, BX
	SHLQ      $5, BX
	VMOVDQU   (R8)(BX*1), Y2
	VPERMD    Y0, Y2, Y0
	VMOVDQU   Y0, (DI)(DX*8)
	POPCNTL   AX, AX
	ADDQ      AX, DX
	ADDQ      $32, SI
	SUBQ      $4, CX
	JNZ       kbloop

	MOVQ DX, ret+40(FP)
	VZEROUPPER
	RET

DATA keepLUT<>+0(SB)/4, $0
DATA keepLUT<>+4(SB)/4, $0
DATA keepLUT<>+8(SB)/4, $0
DATA keepLUT<>+12(SB)/4, $0
DATA keepLUT<>+16(SB)/4, $0
DATA keepLUT<>+20(SB)/4, $0
DATA keepLUT<>+24(SB)/4, $0
DATA keepLUT<>+28(SB)/4, $0
DATA keepLUT<>+32(SB)/4, $0
DATA keepLUT<>+36(SB)/4, $1
DATA keepLUT<>+40(SB)/4, $0
DATA keepLUT<>+44(SB)/4, $0
DATA keepLUT<>+48(SB)/4, $0
DATA keepLUT<>+52(SB)/4, $0
DATA keepLUT<>+56(SB)/4, $0
DATA keepLUT<>+60(SB)/4, $0
DATA keepLUT<>+64(SB)/4, $2
DATA keepLUT<>+68(SB)/4, $3
DATA keepLUT<>+72(SB)/4, $0
DATA keepLUT<>+76(SB)/4, $0
DATA keepLUT<>+80(SB)/4, $0
DATA keepLUT<>+84(SB)/4, $0
DATA keepLUT<>+88(SB)/4, $0
DATA keepLUT<>+92(SB)/4, $0
DATA keepLUT<>+96(SB)/4, $0
DATA keepLUT<>+100(SB)/4, $1
DATA keepLUT<>+104(SB)/4, $2
DATA keepLUT<>+108(SB)/4, $3
DATA keepLUT<>+112(SB)/4, $0
DATA keepLUT<>+116(SB)/4, $0
DATA keepLUT<>+120(SB)/4, $0
DATA keepLUT<>+124(SB)/4, $0
DATA keepLUT<>+128(SB)/4, $4
DATA keepLUT<>+132(SB)/4, $5
DATA keepLUT<>+136(SB)/4, $0
DATA keepLUT<>+140(SB)/4, $0
DATA keepLUT<>+144(SB)/4, $0
DATA keepLUT<>+148(SB)/4, $0
DATA keepLUT<>+152(SB)/4, $0
DATA keepLUT<>+156(SB)/4, $0
DATA keepLUT<>+160(SB)/4, $0
DATA keepLUT<>+164(SB)/4, $1
DATA keepLUT<>+168(SB)/4, $4
DATA keepLUT<>+172(SB)/4, $5
DATA keepLUT<>+176(SB)/4, $0
DATA keepLUT<>+180(SB)/4, $0
DATA keepLUT<>+184(SB)/4, $0
DATA keepLUT<>+188(SB)/4, $0
DATA keepLUT<>+192(SB)/4, $2
DATA keepLUT<>+196(SB)/4, $3
DATA keepLUT<>+200(SB)/4, $4
DATA keepLUT<>+204(SB)/4, $5
DATA keepLUT<>+208(SB)/4, $0
DATA keepLUT<>+212(SB)/4, $0
DATA keepLUT<>+216(SB)/4, $0
DATA keepLUT<>+220(SB)/4, $0
DATA keepLUT<>+224(SB)/4, $0
DATA keepLUT<>+228(SB)/4, $1
DATA keepLUT<>+232(SB)/4, $2
DATA keepLUT<>+236(SB)/4, $3
DATA keepLUT<>+240(SB)/4, $4
DATA keepLUT<>+244(SB)/4, $5
DATA keepLUT<>+248(SB)/4, $0
DATA keepLUT<>+252(SB)/4, $0
DATA keepLUT<>+256(SB)/4, $6
DATA keepLUT<>+260(SB)/4, $7
DATA keepLUT<>+264(SB)/4, $0
DATA keepLUT<>+268(SB)/4, $0
DATA keepLUT<>+272(SB)/4, $0
DATA keepLUT<>+276(SB)/4, $0
DATA keepLUT<>+280(SB)/4, $0
DATA keepLUT<>+284(SB)/4, $0
DATA keepLUT<>+288(SB)/4, $0
DATA keepLUT<>+292(SB)/4, $1
DATA keepLUT<>+296(SB)/4, $6
DATA keepLUT<>+300(SB)/4, $7
DATA keepLUT<>+304(SB)/4, $0
DATA keepLUT<>+308(SB)/4, $0
DATA keepLUT<>+312(SB)/4, $0
DATA keepLUT<>+316(SB)/4, $0
DATA keepLUT<>+320(SB)/4, $2
DATA keepLUT<>+324(SB)/4, $3
DATA keepLUT<>+328(SB)/4, $6
DATA keepLUT<>+332(SB)/4, $7
DATA keepLUT<>+336(SB)/4, $0
DATA keepLUT<>+340(SB)/4, $0
DATA keepLUT<>+344(SB)/4, $0
DATA keepLUT<>+348(SB)/4, $0
DATA keepLUT<>+352(SB)/4, $0
DATA keepLUT<>+356(SB)/4, $1
DATA keepLUT<>+360(SB)/4, $2
DATA keepLUT<>+364(SB)/4, $3
DATA keepLUT<>+368(SB)/4, $6
DATA keepLUT<>+372(SB)/4, $7
DATA keepLUT<>+376(SB)/4, $0
DATA keepLUT<>+380(SB)/4, $0
DATA keepLUT<>+384(SB)/4, $4
DATA keepLUT<>+388(SB)/4, $5
DATA keepLUT<>+392(SB)/4, $6
DATA keepLUT<>+396(SB)/4, $7
DATA keepLUT<>+400(SB)/4, $0
DATA keepLUT<>+404(SB)/4, $0
DATA keepLUT<>+408(SB)/4, $0
DATA keepLUT<>+412(SB)/4, $0
DATA keepLUT<>+416(SB)/4, $0
DATA keepLUT<>+420(SB)/4, $1
DATA keepLUT<>+424(SB)/4, $4
DATA keepLUT<>+428(SB)/4, $5
DATA keepLUT<>+432(SB)/4, $6
DATA keepLUT<>+436(SB)/4, $7
DATA keepLUT<>+440(SB)/4, $0
DATA keepLUT<>+444(SB)/4, $0
DATA keepLUT<>+448(SB)/4, $2
DATA keepLUT<>+452(SB)/4, $3
DATA keepLUT<>+456(SB)/4, $4
DATA keepLUT<>+460(SB)/4, $5
DATA keepLUT<>+464(SB)/4, $6
DATA keepLUT<>+468(SB)/4, $7
DATA keepLUT<>+472(SB)/4, $0
DATA keepLUT<>+476(SB)/4, $0
DATA keepLUT<>+480(SB)/4, $0
DATA keepLUT<>+484(SB)/4, $1
DATA keepLUT<>+488(SB)/4, $2
DATA keepLUT<>+492(SB)/4, $3
DATA keepLUT<>+496(SB)/4, $4
DATA keepLUT<>+500(SB)/4, $5
DATA keepLUT<>+504(SB)/4, $6
DATA keepLUT<>+508(SB)/4, $7
GLOBL keepLUT<>(SB), RODATA|NOPTR, $512

DATA runLanes<>+0(SB)/8, $0
DATA runLanes<>+8(SB)/8, $1
DATA runLanes<>+16(SB)/8, $2
DATA runLanes<>+24(SB)/8, $3
GLOBL runLanes<>(SB), RODATA|NOPTR, $32

DATA runOne<>+0(SB)/8, $1
GLOBL runOne<>(SB), RODATA|NOPTR, $8

DATA runFour<>+0(SB)/8, $4
GLOBL runFour<>(SB), RODATA|NOPTR, $8

// gatherAVX2 is gatherBlock for eight voter rows at once, each holding exactly the
// block's columns from its entry on: n/8 groups of eight columns, each an 8×8 transpose.
// Eight loads take eight entries of each row (a value is the high half of a dword),
// VPSRLD moves the values down, unpacks by dwords and qwords and VPERM2I128 leave
// column c of the eight rows in one register, and VPACKUSDW with VPERMQ packs two columns
// into the halves of one (a value is below 2^16, so nothing saturates). Each column's
// eight values are one 16-byte store at its row of dst, stride bytes after the previous
// column's.

// func gatherAVX2(dst *uint16, stride uintptr, src *[8]*Entry, n int)
TEXT ·gatherAVX2(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ stride+8(FP), SI
	MOVQ src+16(FP), DX
	MOVQ n+24(FP), CX
	MOVQ 0(DX), R8
	MOVQ 8(DX), R9
	MOVQ 16(DX), R10
	MOVQ 24(DX), R11
	MOVQ 32(DX), R12
	MOVQ 40(DX), R13
	MOVQ 48(DX), AX
	MOVQ 56(DX), BX

	// Each row's next block, four lines past this one's n entries (4 bytes each), to the
	// second-level cache: the rows are read a block at a time, too many at once for the
	// hardware's stream prefetch, and this block's columns are scored before the next
	// gather (see gatherEight).
	LEAQ (CX*4), DX
	PREFETCH4(R8, DX)
	PREFETCH4(R9, DX)
	PREFETCH4(R10, DX)
	PREFETCH4(R11, DX)
	PREFETCH4(R12, DX)
	PREFETCH4(R13, DX)
	PREFETCH4(AX, DX)
	PREFETCH4(BX, DX)
	XORQ DX, DX

galoop:
	VMOVDQU (R8)(DX*1), Y0
	VMOVDQU (R9)(DX*1), Y1
	VMOVDQU (R10)(DX*1), Y2
	VMOVDQU (R11)(DX*1), Y3
	VMOVDQU (R12)(DX*1), Y4
	VMOVDQU (R13)(DX*1), Y5
	VMOVDQU (AX)(DX*1), Y6
	VMOVDQU (BX)(DX*1), Y7
	VPSRLD  $16, Y0, Y0
	VPSRLD  $16, Y1, Y1
	VPSRLD  $16, Y2, Y2
	VPSRLD  $16, Y3, Y3
	VPSRLD  $16, Y4, Y4
	VPSRLD  $16, Y5, Y5
	VPSRLD  $16, Y6, Y6
	VPSRLD  $16, Y7, Y7

	// rows 0-3: Y0-Y3 = columns (0|4), (1|5), (2|6), (3|7) of rows 0-3 in each lane
	TRANSPOSE4(Y0, Y1, Y2, Y3)

	// rows 4-7 likewise into Y4-Y7
	TRANSPOSE4(Y4, Y5, Y6, Y7)

	// column c of the eight rows: Y8-Y11 = columns 0-3, Y12-Y15 = columns 4-7
	VPERM2I128 $0x20, Y4, Y0, Y8
	VPERM2I128 $0x20, Y5, Y1, Y9
	VPERM2I128 $0x20, Y6, Y2, Y10
	VPERM2I128 $0x20, Y7, Y3, Y11
	VPERM2I128 $0x31, Y4, Y0, Y12
	VPERM2I128 $0x31, Y5, Y1, Y13
	VPERM2I128 $0x31, Y6, Y2, Y14
	VPERM2I128 $0x31, Y7, Y3, Y15

	// two columns' u16 values per register, in order
	VPACKUSDW Y9, Y8, Y0
	VPACKUSDW Y11, Y10, Y1
	VPACKUSDW Y13, Y12, Y2
	VPACKUSDW Y15, Y14, Y3
	VPERMQ    $0xd8, Y0, Y0
	VPERMQ    $0xd8, Y1, Y1
	VPERMQ    $0xd8, Y2, Y2
	VPERMQ    $0xd8, Y3, Y3

	STORE2COLS(X0, Y0)
	STORE2COLS(X1, Y1)
	STORE2COLS(X2, Y2)
	STORE2COLS(X3, Y3)

	ADDQ $32, DX
	SUBQ $8, CX
	JNZ  galoop

	VZEROUPPER
	RET

// histBMI2 is columnQuantile's first histogram over n entries (a multiple of 4, at least
// 4), four per step: for each entry, hist[(entry >> sh) & 63] += its voter's stake. It
// is the Go loop in five instructions an entry (SHRX takes its count from any register;
// the Go loop's shift must go through CL); the sums are the same plain additions in the
// same order.

// func histBMI2(col *scored, stake *Fixed, n int, sh uint64, hist *[64]Fixed)
TEXT ·histBMI2(SB), NOSPLIT, $0-40
	MOVQ col+0(FP), SI
	MOVQ stake+8(FP), DI
	MOVQ n+16(FP), CX
	MOVQ sh+24(FP), DX
	MOVQ hist+32(FP), BX

hiloop:
	MOVQ  0(SI), R8
	MOVQ  8(SI), R9
	MOVQ  16(SI), R10
	MOVQ  24(SI), R11
	SHRXQ DX, R8, R8
	SHRXQ DX, R9, R9
	SHRXQ DX, R10, R10
	SHRXQ DX, R11, R11
	ANDL  $63, R8
	ANDL  $63, R9
	ANDL  $63, R10
	ANDL  $63, R11
	MOVQ  0(DI), R12
	ADDQ  R12, (BX)(R8*8)
	MOVQ  8(DI), R12
	ADDQ  R12, (BX)(R9*8)
	MOVQ  16(DI), R12
	ADDQ  R12, (BX)(R10*8)
	MOVQ  24(DI), R12
	ADDQ  R12, (BX)(R11*8)
	ADDQ  $32, SI
	ADDQ  $32, DI
	SUBQ  $4, CX
	JNZ   hiloop
	RET
