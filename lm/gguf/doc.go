// Package gguf reads and writes GGUF files (the llama.cpp model format),
// versions 2 and 3, little-endian, and decodes tensor data to float32
// exactly.
//
// # File format
//
// All integers are little-endian. A string is a u64 byte length followed
// by that many bytes (no terminator, not required to be UTF-8). A file is:
//
//	magic        4 bytes "GGUF"
//	version      u32: 2 or 3 (the layouts are identical)
//	tensor count u64
//	kv count     u64
//	kv pairs     kv count times: key string, u32 value kind, value
//	tensor infos tensor count times: name string, u32 ndims, ndims x u64
//	             dims (ne[0] first), u32 ggml type, u64 offset
//	padding      zeros up to DataOffset, the header end rounded up to the
//	             alignment
//	data         tensor i's bytes at DataOffset + offset_i
//
// Value kinds (ValueKind): 0 u8, 1 i8, 2 u16, 3 i16, 4 u32, 5 i32, 6 f32,
// 7 bool (one byte, 0 or 1), 8 string, 9 array, 10 u64, 11 i64, 12 f64. An
// array is a u32 element kind, a u64 count and count elements; elements
// may themselves be arrays (each with its own element kind).
//
// The alignment is the value of general.alignment, which must be a u32
// holding a non-zero power of two, or 32 when that key is absent. Every
// tensor offset must be a multiple of it.
//
// A tensor of type T with dims ne[0..n-1] holds ne[0]*...*ne[n-1] elements
// in row-major order with ne[0] fastest; a row is ne[0] elements. Its data
// is Elements/BlockSize(T) blocks of BlockBytes(T) bytes (GGMLType gives
// both for every type ggml defines), so ne[0] must be a multiple of the
// block size.
//
// # What Read accepts
//
// Read parses the header only. It refuses, with an *Error naming the
// field, key or tensor and the byte offset where useful:
//   - a bad magic (ErrFormat); version 1, a byte-swapped (big-endian)
//     version 2 or 3, or any other version (ErrUnsupported);
//   - any count or length larger than the bytes left in the file could
//     hold, judged by the smallest possible encoding of what it counts
//     (14 bytes a kv pair, 33 a tensor info, 1/2/4/8 bytes a scalar, 8 a
//     string, 12 an array), checked before anything is allocated
//     (ErrFormat), and any structure cut short by the end of the file
//     (ErrTruncated). So memory use is bounded by a small multiple (at
//     most 10x; TestAllocBound measures the worst shapes) of the header's
//     size, whatever the counts claim;
//   - an empty key or one over MaxKeyLen (65535) bytes, a string value over
//     MaxStringLen (2^28) bytes, arrays nested deeper than MaxArrayDepth
//     (4), an unknown value kind, a bool byte other than 0 or 1, a
//     duplicate key, a general.alignment that is not a u32 power of two
//     (ErrFormat);
//   - an empty tensor name or one over MaxTensorNameLen (255) bytes, a
//     duplicate name, ndims outside 1..4, an element count or byte size
//     that overflows int64, ne[0] not a multiple of the block size, an
//     offset not a multiple of the alignment, data [DataOffset+offset,
//     DataOffset+offset+Bytes) not inside the file, two tensors whose data
//     overlap (ErrFormat); an unknown ggml type (ErrUnsupported, naming
//     the type number and the tensor).
//
// Padding bytes are not checked, and bytes after the last tensor are
// allowed.
//
// # Decoding to float32
//
// ReadTensorF32, TensorRows and DecodeRow decode F32, F16, BF16, Q8_0,
// Q4_0, Q4_K and Q6_K; other known types can be read raw (ReadTensorRaw,
// TensorRawRows). Decoding is exact and platform independent: it uses
// integer bit manipulation and single IEEE float32 operations whose
// results are either exact or rounded once to nearest even, each wrapped
// in an explicit float32(...) conversion so the Go compiler may not fuse a
// multiply and an add into an FMA (which it may do on arm64, ppc64, s390x
// otherwise). The rules, with d = F16ToF32 of a block's f16 scale:
//
//	F32   the IEEE bits as stored.
//	F16   F16ToF32, by bits: normals rebias the exponent, subnormals are
//	      normalised, ±0, ±Inf kept, NaN keeps sign and payload. Exact.
//	BF16  the 16 bits shifted left by 16. Exact.
//	Q8_0  block of 34 bytes: f16 d, int8 q[32]. y[j] = d * q[j]. Exact
//	      (an 11-bit significand times an 8-bit integer).
//	Q4_0  block of 18 bytes: f16 d, qs[16]. y[j] = d * ((qs[j] & 15) - 8),
//	      y[j+16] = d * ((qs[j] >> 4) - 8), j < 16. Exact.
//	Q4_K  block of 144 bytes: f16 d, f16 dmin, scales[12], qs[128]; 8
//	      sub-blocks of 32 elements, sub-block s with 6-bit scale sc[s] and
//	      min m[s] unpacked as ggml's get_scale_min_k4 (s < 4: sc =
//	      scales[s]&63, m = scales[s+4]&63; else sc = (scales[s+4]&15) |
//	      (scales[s-4]>>6)<<4, m = (scales[s+4]>>4) | (scales[s]>>6)<<4).
//	      For group g < 4 (elements 64g..64g+63), l < 32:
//	      y[64g+l]    = float32(d*sc[2g])   * (qs[32g+l] & 15) - float32(dmin*m[2g])
//	      y[64g+32+l] = float32(d*sc[2g+1]) * (qs[32g+l] >> 4) - float32(dmin*m[2g+1])
//	      Every product is exact; the subtraction rounds once.
//	Q6_K  block of 210 bytes: ql[128], qh[64], int8 scales[16], f16 d. For
//	      half h < 2, l < 32, k < 4, element 128h + 32k + l has
//	      q = ((ql[64h + l + 32(k&1)] >> 4(k>>1)) & 15 |
//	           ((qh[32h + l] >> 2k) & 3) << 4) - 32
//	      y = float32(d * scales[8h + l/16 + 2k]) * q. Exact (the
//	      significands multiply to fewer than 24 bits).
//
// These are ggml's reference dequantisers (dequantize_row_*), so results
// equal llama.cpp's C reference code bit for bit.
//
// # Encoding
//
// F32ToF16 rounds to nearest even (overflow to ±Inf, NaN to a quiet NaN
// sign|0x7e00|mant>>13); F32ToBF16 rounds to nearest even as ggml does.
// QuantizeQ8_0Block is llama.cpp's quantize_row_q8_0_ref in float32:
// amax = max|x|, d = amax/127, id = 1/d (0 if d is 0), q = round half away
// from zero of x*id, scale stored as F32ToF16(d); non-finite input and a
// scale past the f16 range are refused.
//
// # Writing
//
// Write emits a File's header exactly (kv pairs and tensor infos in
// order, with the given offsets), zero padding to the alignment, each
// tensor's data (streamed from a callback, which must produce exactly
// Bytes() bytes) in offset order with zero-filled gaps, and zero padding
// after the last tensor up to a multiple of the alignment, as llama.cpp
// and gguf-py do. A Builder lays tensors out in the order added, each at
// the next aligned offset. Reading a file and writing it back with Write
// and its raw tensor bytes reproduces it byte for byte whenever its
// padding is zero and it ends at the aligned end of its last tensor.
package gguf
