//go:build amd64 && !purego

#include "textflag.h"

// The AVX2 kernels. One 32-byte YMM register holds exactly one block.
//
// Per block, with x the input bytes and q the weight bytes (q in [-127,127]):
//   |x|            VPABSB  : unsigned bytes in [0, 128]
//   q' = q*sign(x) VPSIGNB : signed bytes in [-127, 127] (q is never -128)
//   VPMADDUBSW(|x|, q')    : 16 int16 lanes, each |x0|q'0 + |x1|q'1 = x0q0 + x1q1,
//                            magnitude <= 2*128*127 = 32512 < 32767: never saturates
//   VPMADDWD(., scale)     : 8 int32 lanes, each s*(4 products),
//                            magnitude <= 255*4*128*127 = 16581120 < 2^24
//   VPADDD into an int32 accumulator, flushed (sign-extended into int64 lanes)
//   every 64 blocks: 64*16581120 = 1061191680 < 2^31 - 1.
// The int64 lanes are summed horizontally at the end. Every step is exact, so
// the result equals dotGeneric's bit for bit.

// func dot1AVX2(q *int8, s *int16, x *int8, nb int) int64
TEXT ·dot1AVX2(SB), NOSPLIT, $0-40
	MOVQ q+0(FP), SI
	MOVQ s+8(FP), DI
	MOVQ x+16(FP), DX
	MOVQ nb+24(FP), CX
	VPXOR Y8, Y8, Y8

d1group:
	MOVQ    $64, BX
	CMPQ    CX, BX
	CMOVQLT CX, BX
	SUBQ    BX, CX
	VPXOR   Y0, Y0, Y0
	VPXOR   Y1, Y1, Y1
	CMPQ    BX, $2
	JLT     d1tail

d1loop2:
	VMOVDQU      (DX), Y2
	VMOVDQU      32(DX), Y3
	VPABSB       Y2, Y4
	VPABSB       Y3, Y5
	VMOVDQU      (SI), Y6
	VMOVDQU      32(SI), Y7
	VPSIGNB      Y2, Y6, Y6
	VPSIGNB      Y3, Y7, Y7
	VPMADDUBSW   Y6, Y4, Y6
	VPMADDUBSW   Y7, Y5, Y7
	VPBROADCASTW (DI), Y4
	VPBROADCASTW 2(DI), Y5
	VPMADDWD     Y4, Y6, Y6
	VPMADDWD     Y5, Y7, Y7
	VPADDD       Y6, Y0, Y0
	VPADDD       Y7, Y1, Y1
	ADDQ         $64, SI
	ADDQ         $64, DX
	ADDQ         $4, DI
	SUBQ         $2, BX
	CMPQ         BX, $2
	JGE          d1loop2

d1tail:
	TESTQ        BX, BX
	JZ           d1flush
	VMOVDQU      (DX), Y2
	VPABSB       Y2, Y4
	VMOVDQU      (SI), Y6
	VPSIGNB      Y2, Y6, Y6
	VPMADDUBSW   Y6, Y4, Y6
	VPBROADCASTW (DI), Y4
	VPMADDWD     Y4, Y6, Y6
	VPADDD       Y6, Y0, Y0
	ADDQ         $32, SI
	ADDQ         $32, DX
	ADDQ         $2, DI

d1flush:
	// Both accumulators together cover at most 64 blocks: their sum fits int32.
	VPADDD       Y1, Y0, Y0
	VEXTRACTI128 $1, Y0, X5
	VPMOVSXDQ    X0, Y6
	VPMOVSXDQ    X5, Y5
	VPADDQ       Y6, Y8, Y8
	VPADDQ       Y5, Y8, Y8
	TESTQ        CX, CX
	JNZ          d1group

	VEXTRACTI128 $1, Y8, X5
	VPADDQ       X5, X8, X8
	VPSHUFD      $0x4e, X8, X5
	VPADDQ       X5, X8, X8
	VMOVQ        X8, AX
	VZEROUPPER
	MOVQ         AX, ret+32(FP)
	RET

// func dot4AVX2(q *int8, qstride int, s *int16, x *int8, nb int, dst *int64)
// Four rows against one x: each x block is loaded and its |x| computed once.
TEXT ·dot4AVX2(SB), NOSPLIT, $0-48
	MOVQ q+0(FP), SI
	MOVQ qstride+8(FP), R8
	MOVQ s+16(FP), DI
	MOVQ x+24(FP), DX
	MOVQ nb+32(FP), CX
	LEAQ (R8)(R8*2), R9   // 3*qstride
	MOVQ R8, R10
	SHRQ $4, R10          // scale row stride in bytes: qstride/32 int16s
	LEAQ (R10)(R10*2), R11

	VPXOR Y8, Y8, Y8
	VPXOR Y9, Y9, Y9
	VPXOR Y10, Y10, Y10
	VPXOR Y11, Y11, Y11

d4group:
	MOVQ    $64, BX
	CMPQ    CX, BX
	CMOVQLT CX, BX
	SUBQ    BX, CX
	VPXOR   Y0, Y0, Y0
	VPXOR   Y1, Y1, Y1
	VPXOR   Y2, Y2, Y2
	VPXOR   Y3, Y3, Y3

	CMPQ BX, $2
	JLT  d4tail

d4loop2:
	VMOVDQU (DX), Y4
	VMOVDQU 32(DX), Y6
	VPABSB  Y4, Y5
	VPABSB  Y6, Y7

	VMOVDQU      (SI), Y12
	VMOVDQU      32(SI), Y13
	VPSIGNB      Y4, Y12, Y12
	VPSIGNB      Y6, Y13, Y13
	VPMADDUBSW   Y12, Y5, Y12
	VPMADDUBSW   Y13, Y7, Y13
	VPBROADCASTW (DI), Y14
	VPBROADCASTW 2(DI), Y15
	VPMADDWD     Y14, Y12, Y12
	VPMADDWD     Y15, Y13, Y13
	VPADDD       Y12, Y0, Y0
	VPADDD       Y13, Y0, Y0

	VMOVDQU      (SI)(R8*1), Y12
	VMOVDQU      32(SI)(R8*1), Y13
	VPSIGNB      Y4, Y12, Y12
	VPSIGNB      Y6, Y13, Y13
	VPMADDUBSW   Y12, Y5, Y12
	VPMADDUBSW   Y13, Y7, Y13
	VPBROADCASTW (DI)(R10*1), Y14
	VPBROADCASTW 2(DI)(R10*1), Y15
	VPMADDWD     Y14, Y12, Y12
	VPMADDWD     Y15, Y13, Y13
	VPADDD       Y12, Y1, Y1
	VPADDD       Y13, Y1, Y1

	VMOVDQU      (SI)(R8*2), Y12
	VMOVDQU      32(SI)(R8*2), Y13
	VPSIGNB      Y4, Y12, Y12
	VPSIGNB      Y6, Y13, Y13
	VPMADDUBSW   Y12, Y5, Y12
	VPMADDUBSW   Y13, Y7, Y13
	VPBROADCASTW (DI)(R10*2), Y14
	VPBROADCASTW 2(DI)(R10*2), Y15
	VPMADDWD     Y14, Y12, Y12
	VPMADDWD     Y15, Y13, Y13
	VPADDD       Y12, Y2, Y2
	VPADDD       Y13, Y2, Y2

	VMOVDQU      (SI)(R9*1), Y12
	VMOVDQU      32(SI)(R9*1), Y13
	VPSIGNB      Y4, Y12, Y12
	VPSIGNB      Y6, Y13, Y13
	VPMADDUBSW   Y12, Y5, Y12
	VPMADDUBSW   Y13, Y7, Y13
	VPBROADCASTW (DI)(R11*1), Y14
	VPBROADCASTW 2(DI)(R11*1), Y15
	VPMADDWD     Y14, Y12, Y12
	VPMADDWD     Y15, Y13, Y13
	VPADDD       Y12, Y3, Y3
	VPADDD       Y13, Y3, Y3

	ADDQ $64, SI
	ADDQ $64, DX
	ADDQ $4, DI
	SUBQ $2, BX
	CMPQ BX, $2
	JGE  d4loop2

d4tail:
	TESTQ BX, BX
	JZ    d4flush
	VMOVDQU (DX), Y4
	VPABSB  Y4, Y5

	VMOVDQU      (SI), Y12
	VPSIGNB      Y4, Y12, Y12
	VPMADDUBSW   Y12, Y5, Y12
	VPBROADCASTW (DI), Y14
	VPMADDWD     Y14, Y12, Y12
	VPADDD       Y12, Y0, Y0

	VMOVDQU      (SI)(R8*1), Y12
	VPSIGNB      Y4, Y12, Y12
	VPMADDUBSW   Y12, Y5, Y12
	VPBROADCASTW (DI)(R10*1), Y14
	VPMADDWD     Y14, Y12, Y12
	VPADDD       Y12, Y1, Y1

	VMOVDQU      (SI)(R8*2), Y12
	VPSIGNB      Y4, Y12, Y12
	VPMADDUBSW   Y12, Y5, Y12
	VPBROADCASTW (DI)(R10*2), Y14
	VPMADDWD     Y14, Y12, Y12
	VPADDD       Y12, Y2, Y2

	VMOVDQU      (SI)(R9*1), Y12
	VPSIGNB      Y4, Y12, Y12
	VPMADDUBSW   Y12, Y5, Y12
	VPBROADCASTW (DI)(R11*1), Y14
	VPMADDWD     Y14, Y12, Y12
	VPADDD       Y12, Y3, Y3

	ADDQ $32, SI
	ADDQ $32, DX
	ADDQ $2, DI

d4flush:
	// Flush the int32 lanes into the int64 lanes.
	VEXTRACTI128 $1, Y0, X4
	VPMOVSXDQ    X0, Y5
	VPMOVSXDQ    X4, Y4
	VPADDQ       Y5, Y8, Y8
	VPADDQ       Y4, Y8, Y8
	VEXTRACTI128 $1, Y1, X4
	VPMOVSXDQ    X1, Y5
	VPMOVSXDQ    X4, Y4
	VPADDQ       Y5, Y9, Y9
	VPADDQ       Y4, Y9, Y9
	VEXTRACTI128 $1, Y2, X4
	VPMOVSXDQ    X2, Y5
	VPMOVSXDQ    X4, Y4
	VPADDQ       Y5, Y10, Y10
	VPADDQ       Y4, Y10, Y10
	VEXTRACTI128 $1, Y3, X4
	VPMOVSXDQ    X3, Y5
	VPMOVSXDQ    X4, Y4
	VPADDQ       Y5, Y11, Y11
	VPADDQ       Y4, Y11, Y11
	TESTQ        CX, CX
	JNZ          d4group

	// Horizontal sums: Y8..Y11 = rows a, b, c, d (4 int64 lanes each).
	VPUNPCKLQDQ Y9, Y8, Y12   // a0 b0 | a2 b2
	VPUNPCKHQDQ Y9, Y8, Y13   // a1 b1 | a3 b3
	VPADDQ      Y13, Y12, Y12 // a01 b01 | a23 b23
	VPUNPCKLQDQ Y11, Y10, Y14 // c0 d0 | c2 d2
	VPUNPCKHQDQ Y11, Y10, Y15 // c1 d1 | c3 d3
	VPADDQ      Y15, Y14, Y14 // c01 d01 | c23 d23
	VPERM2I128  $0x20, Y14, Y12, Y0 // a01 b01 c01 d01
	VPERM2I128  $0x31, Y14, Y12, Y1 // a23 b23 c23 d23
	VPADDQ      Y1, Y0, Y0
	MOVQ        dst+40(FP), AX
	VMOVDQU     Y0, (AX)
	VZEROUPPER
	RET

// func peakDotAVX2(q, x *int8, nb int) int64
// The benchmark's reference loop: the classic signed int8 dot product
// (VPSIGNB/VPABSB/VPMADDUBSW/VPMADDWD with ones/VPADDD), no scales, 4 blocks
// per iteration into 4 accumulators. nb is a multiple of 4 and at most 4096.
TEXT ·peakDotAVX2(SB), NOSPLIT, $0-32
	MOVQ      q+0(FP), SI
	MOVQ      x+8(FP), DX
	MOVQ      nb+16(FP), CX
	VPCMPEQW  Y15, Y15, Y15
	VPSRLW    $15, Y15, Y15 // int16 ones
	VPXOR     Y8, Y8, Y8
	VPXOR     Y9, Y9, Y9
	VPXOR     Y10, Y10, Y10
	VPXOR     Y11, Y11, Y11

peakloop:
	VMOVDQU    (DX), Y0
	VMOVDQU    32(DX), Y1
	VMOVDQU    64(DX), Y2
	VMOVDQU    96(DX), Y3
	VPSIGNB    (SI), Y0, Y0
	VPSIGNB    32(SI), Y1, Y1
	VPSIGNB    64(SI), Y2, Y2
	VPSIGNB    96(SI), Y3, Y3
	VPABSB     (SI), Y4
	VPABSB     32(SI), Y5
	VPABSB     64(SI), Y6
	VPABSB     96(SI), Y7
	VPMADDUBSW Y0, Y4, Y0
	VPMADDUBSW Y1, Y5, Y1
	VPMADDUBSW Y2, Y6, Y2
	VPMADDUBSW Y3, Y7, Y3
	VPMADDWD   Y15, Y0, Y0
	VPMADDWD   Y15, Y1, Y1
	VPMADDWD   Y15, Y2, Y2
	VPMADDWD   Y15, Y3, Y3
	VPADDD     Y0, Y8, Y8
	VPADDD     Y1, Y9, Y9
	VPADDD     Y2, Y10, Y10
	VPADDD     Y3, Y11, Y11
	ADDQ       $128, SI
	ADDQ       $128, DX
	SUBQ       $4, CX
	JNZ        peakloop

	VPADDD       Y9, Y8, Y8
	VPADDD       Y11, Y10, Y10
	VPADDD       Y10, Y8, Y8
	VEXTRACTI128 $1, Y8, X1
	VPMOVSXDQ    X8, Y0
	VPMOVSXDQ    X1, Y1
	VPADDQ       Y1, Y0, Y0
	VEXTRACTI128 $1, Y0, X1
	VPADDQ       X1, X0, X0
	VPSHUFD      $0x4e, X0, X1
	VPADDQ       X1, X0, X0
	VMOVQ        X0, AX
	VZEROUPPER
	MOVQ         AX, ret+24(FP)
	RET

// func memSumAVX2(p *byte, n int) uint64
// Sums n bytes (n a multiple of 128, n > 0) as little-endian uint64 words.
TEXT ·memSumAVX2(SB), NOSPLIT, $0-24
	MOVQ  p+0(FP), SI
	MOVQ  n+8(FP), CX
	VPXOR Y0, Y0, Y0
	VPXOR Y1, Y1, Y1
	VPXOR Y2, Y2, Y2
	VPXOR Y3, Y3, Y3

memloop:
	VPADDQ (SI), Y0, Y0
	VPADDQ 32(SI), Y1, Y1
	VPADDQ 64(SI), Y2, Y2
	VPADDQ 96(SI), Y3, Y3
	ADDQ   $128, SI
	SUBQ   $128, CX
	JNZ    memloop

	VPADDQ       Y1, Y0, Y0
	VPADDQ       Y3, Y2, Y2
	VPADDQ       Y2, Y0, Y0
	VEXTRACTI128 $1, Y0, X1
	VPADDQ       X1, X0, X0
	VPSHUFD      $0x4e, X0, X1
	VPADDQ       X1, X0, X0
	VMOVQ        X0, AX
	VZEROUPPER
	MOVQ         AX, ret+16(FP)
	RET

// func dot8x1AVX2(q *int8, s *int16, x *int8, groups int, dst *int64)
// Rows of one block (Stride 32) against one x, eight rows at a time, groups >= 1
// groups: dst[r] = s[r] * (the row's 32 products summed). Per row, VPMADDUBSW and
// VPMADDWD with ones give 8 int32 lanes (each sum of 4 products); three levels of
// VPHADDD and a lane exchange sum the eight rows' lanes into one register of 8 row sums
// (each |t| <= 32*128*127 = 520192), and VPMULLD by the scale (<= 255) stays below
// 2^28: exact in int32, then sign-extended to int64.
TEXT ·dot8x1AVX2(SB), NOSPLIT, $0-40
	MOVQ     q+0(FP), SI
	MOVQ     s+8(FP), DI
	MOVQ     x+16(FP), DX
	MOVQ     groups+24(FP), CX
	MOVQ     dst+32(FP), R8
	VMOVDQU  (DX), Y15      // x
	VPABSB   Y15, Y14       // |x|
	VPCMPEQW Y13, Y13, Y13
	VPSRLW   $15, Y13, Y13  // int16 ones

d8loop:
	VMOVDQU    (SI), Y0
	VMOVDQU    32(SI), Y1
	VMOVDQU    64(SI), Y2
	VMOVDQU    96(SI), Y3
	VPSIGNB    Y15, Y0, Y0
	VPSIGNB    Y15, Y1, Y1
	VPSIGNB    Y15, Y2, Y2
	VPSIGNB    Y15, Y3, Y3
	VPMADDUBSW Y0, Y14, Y0
	VPMADDUBSW Y1, Y14, Y1
	VPMADDUBSW Y2, Y14, Y2
	VPMADDUBSW Y3, Y14, Y3
	VPMADDWD   Y13, Y0, Y0
	VPMADDWD   Y13, Y1, Y1
	VPMADDWD   Y13, Y2, Y2
	VPMADDWD   Y13, Y3, Y3
	VMOVDQU    128(SI), Y4
	VMOVDQU    160(SI), Y5
	VMOVDQU    192(SI), Y6
	VMOVDQU    224(SI), Y7
	VPSIGNB    Y15, Y4, Y4
	VPSIGNB    Y15, Y5, Y5
	VPSIGNB    Y15, Y6, Y6
	VPSIGNB    Y15, Y7, Y7
	VPMADDUBSW Y4, Y14, Y4
	VPMADDUBSW Y5, Y14, Y5
	VPMADDUBSW Y6, Y14, Y6
	VPMADDUBSW Y7, Y14, Y7
	VPMADDWD   Y13, Y4, Y4
	VPMADDWD   Y13, Y5, Y5
	VPMADDWD   Y13, Y6, Y6
	VPMADDWD   Y13, Y7, Y7
	VPHADDD    Y1, Y0, Y0   // per 128-bit lane: r0 pairs, r1 pairs
	VPHADDD    Y3, Y2, Y2
	VPHADDD    Y5, Y4, Y4
	VPHADDD    Y7, Y6, Y6
	VPHADDD    Y2, Y0, Y0   // lane: r0, r1, r2, r3 (that lane's half of each row)
	VPHADDD    Y6, Y4, Y4   // lane: r4, r5, r6, r7
	VPERM2I128 $0x20, Y4, Y0, Y1 // low halves: r0..r3, r4..r7
	VPERM2I128 $0x31, Y4, Y0, Y2 // high halves
	VPADDD     Y2, Y1, Y1   // the 8 row sums
	VPMOVSXWD  (DI), Y2     // the 8 scales
	VPMULLD    Y2, Y1, Y1
	VEXTRACTI128 $1, Y1, X3
	VPMOVSXDQ  X1, Y1
	VPMOVSXDQ  X3, Y3
	VMOVDQU    Y1, (R8)
	VMOVDQU    Y3, 32(R8)
	ADDQ       $256, SI
	ADDQ       $16, DI
	ADDQ       $64, R8
	DECQ       CX
	JNZ        d8loop

	VZEROUPPER
	RET

// func scaleOutAVX2(dst *int32, acc *int64, rs *int64, a uint64, n int) uint64
// ScaleOut's loop, four entries at a time (n a multiple of 4, n >= 4): VPMULUDQ
// multiplies the low 32 bits of each lane, exact when |acc|, rs and a are below 2^32,
// which the returned OR of every |acc| and rs lets the caller check.
TEXT ·scaleOutAVX2(SB), NOSPLIT, $0-48
	MOVQ         dst+0(FP), DI
	MOVQ         acc+8(FP), SI
	MOVQ         rs+16(FP), DX
	MOVQ         a+24(FP), AX
	MOVQ         n+32(FP), CX
	VMOVQ        AX, X15
	VPBROADCASTQ X15, Y15    // a
	MOVQ         $0x80000000, AX
	VMOVQ        AX, X14
	VPBROADCASTQ X14, Y14    // 2^31
	MOVQ         $0x7fffffff, AX
	VMOVQ        AX, X13
	VPBROADCASTQ X13, Y13    // MaxInt32
	MOVQ         $-2147483648, AX
	VMOVQ        AX, X12
	VPBROADCASTQ X12, Y12    // MinInt32
	VPXOR        Y11, Y11, Y11 // OR of the operands
	VPXOR        Y10, Y10, Y10 // zero

soloop:
	VMOVDQU   (SI), Y0
	VMOVDQU   (DX), Y1
	VPCMPGTQ  Y0, Y10, Y2     // sign mask: 0 > acc
	VPXOR     Y2, Y0, Y0
	VPSUBQ    Y2, Y0, Y0      // |acc|
	VPOR      Y0, Y11, Y11
	VPOR      Y1, Y11, Y11
	VPMULUDQ  Y1, Y0, Y3      // |acc|·rs
	VPADDQ    Y14, Y3, Y3
	VPSRLQ    $32, Y3, Y3     // t
	VPMULUDQ  Y15, Y3, Y3     // t·a
	VPADDQ    Y14, Y3, Y3
	VPSRLQ    $32, Y3, Y3     // v
	VPXOR     Y2, Y3, Y3
	VPSUBQ    Y2, Y3, Y3      // sign(acc)·v
	VPCMPGTQ  Y13, Y3, Y4     // above MaxInt32
	VPBLENDVB Y4, Y13, Y3, Y3
	VPCMPGTQ  Y3, Y12, Y4     // below MinInt32
	VPBLENDVB Y4, Y12, Y3, Y3
	VPSHUFD   $0x08, Y3, Y3   // per lane: the low dwords of its two qwords first
	VPERMQ    $0x08, Y3, Y3   // both lanes' pairs in the low 128 bits
	VMOVDQU   X3, (DI)
	ADDQ      $32, SI
	ADDQ      $32, DX
	ADDQ      $16, DI
	SUBQ      $4, CX
	JNZ       soloop

	VEXTRACTI128 $1, Y11, X0
	VPOR         X0, X11, X11
	VPSHUFD      $0x4e, X11, X0
	VPOR         X0, X11, X11
	VMOVQ        X11, AX
	VZEROUPPER
	MOVQ         AX, ret+40(FP)
	RET
