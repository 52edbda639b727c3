// Package kernel holds the LM engine's int8 block-matrix kernels: the exact
// integer dot products behind every matrix-vector product of the forward pass.
//
// # Data
//
// A Matrix has Rows x Cols weights stored row-major in Q with a row stride of
// Stride = Cols rounded up to a multiple of BlockSize (32); the padding columns
// Cols..Stride-1 hold zeros. Each row is cut into Stride/32 blocks of 32
// columns; block b of row j has the scale S[j*(Stride/32)+b]. Ranges (checked
// by Matrix.Validate, assumed by the kernels):
//
//	Q[i] in [-127, 127]   (never -128)
//	S[i] in [0, 255]
//	x[k] any int8         (the engine uses [-127, 127]; -128 is also exact)
//
// # Result
//
// For row j and an input vector x of length Stride, every kernel returns
//
//	acc_j = Σ_{b=0}^{Stride/32-1} S[j,b] · Σ_{k=32b}^{32b+31} Q[j,k]·x[k]
//
// as an exact int64. The padding columns multiply zero weights, so x's padding
// entries do not matter. Dot computes it for one row; MatVec sets
// dst[j] = acc_j for all rows; MatMul does the same for n inputs stored back to
// back in xs (input i at xs[i*Stride:(i+1)*Stride]), dst[i*Rows+j].
//
// # Why nothing overflows
//
// One product has magnitude at most 128·127 = 16256. A block's inner sum is at
// most 32·16256 = 520192 (< 2^20) and a scaled block at most 255·520192 =
// 132648960 (< 2^27); an int64 sum of them cannot overflow for any row that
// fits in memory (2^63 / 2^27 = 2^36 blocks).
//
// The AVX2 kernel (amd64) computes one 32-byte block per YMM register:
//
//  1. |x| (VPABSB, unsigned bytes in [0, 128]) and q' = q·sign(x) (VPSIGNB,
//     in [-127, 127] because q is never -128); q'·|x| = q·x.
//  2. VPMADDUBSW(|x|, q'): 16 int16 lanes, each the sum of two adjacent
//     products, magnitude <= 2·16256 = 32512 < 32767, so it never saturates.
//  3. VPMADDWD with the block scale broadcast to 16 int16 lanes: 8 int32 lanes,
//     each scale·(4 products), magnitude <= 255·4·16256 = 16581120 < 2^24.
//  4. VPADDD into int32 accumulator lanes, which are sign-extended and added
//     into int64 lanes after at most 64 blocks: 64·16581120 = 1061191680 <
//     2^31-1. The int64 lanes are summed at the end.
//
// Every step is exact, so the AVX2 kernels, the plain Go reference
// (dotGeneric: int32 per block, int64 total) and any split of the work agree
// bit for bit; the tests check it on random and extreme inputs (all ±127 or
// -128, scales 255, rows up to 16384 columns), for every thread count, batch
// size and with assembly on and off.
//
// # Implementations
//
// On amd64 with AVX2 (detected with golang.org/x/sys/cpu) the assembly
// kernels run: a one-row kernel and a four-row kernel that shares each x load
// and |x| across four rows. Elsewhere (arm64, other architectures, the purego
// build tag, or no AVX2) the plain Go code runs. There is no AVX-512/VNNI
// kernel. The environment variable TESSERA_LM_NOASM=1, read once when the
// package is initialised, turns the assembly off; SetAssembly changes it at
// run time (for tests and benchmarks); Assembly and Impl report it. Results
// never depend on the choice.
//
// # Traversal and threads
//
// MatVec and MatMul walk a row range as four equal quarters computed together
// by the four-row kernel (row r0+i with r0+qr+i, r0+2qr+i, r0+3qr+i), then
// the leftover rows one at a time: four long sequential weight streams, which
// the hardware prefetchers follow at memory bandwidth. MatMul applies each
// chunk of about 64 KiB of weights to all n inputs before moving on, so the
// weights are read from memory once per call however large n is.
//
// A Pool spreads MatVec and MatMul over threads (the caller plus persistent
// worker goroutines): the rows are cut into at most Threads() contiguous
// ranges whose boundaries are multiples of 16 rows; each thread computes all
// outputs of its range and writes nothing else. Calls with fewer than 2^18
// multiply-adds run on the caller alone. The result is the same for every
// thread count because every output is one exact integer computed by one
// thread. Neither the kernels nor the Pool allocate on the hot path.
//
// # Errors
//
// Matrix.Validate reports a bad matrix with an error wrapping ErrShape,
// ErrRange or ErrPadding. The kernels themselves take checked data: a length
// mismatch (x or dst of the wrong length, Q or S shorter than the shape) is a
// programming error and panics with a message naming the lengths, as an index
// out of range would.
package kernel
