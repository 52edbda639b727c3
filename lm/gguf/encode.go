package gguf

import (
	"encoding/binary"
	"math"
)

// AppendF32 appends the F32 encoding of vals (little-endian IEEE bits,
// exact) to dst.
func AppendF32(dst []byte, vals []float32) []byte {
	for _, v := range vals {
		dst = binary.LittleEndian.AppendUint32(dst, math.Float32bits(v))
	}
	return dst
}

// EncodeF32 returns the F32 encoding of vals.
func EncodeF32(vals []float32) []byte { return AppendF32(make([]byte, 0, 4*len(vals)), vals) }

// AppendF16 appends the F16 encoding of vals (F32ToF16: round to nearest
// even) to dst.
func AppendF16(dst []byte, vals []float32) []byte {
	for _, v := range vals {
		dst = binary.LittleEndian.AppendUint16(dst, F32ToF16(v))
	}
	return dst
}

// EncodeF16 returns the F16 encoding of vals.
func EncodeF16(vals []float32) []byte { return AppendF16(make([]byte, 0, 2*len(vals)), vals) }

// AppendBF16 appends the BF16 encoding of vals (F32ToBF16) to dst.
func AppendBF16(dst []byte, vals []float32) []byte {
	for _, v := range vals {
		dst = binary.LittleEndian.AppendUint16(dst, F32ToBF16(v))
	}
	return dst
}

// EncodeBF16 returns the BF16 encoding of vals.
func EncodeBF16(vals []float32) []byte { return AppendBF16(make([]byte, 0, 2*len(vals)), vals) }

// Q8_0BlockBytes is the encoded size of one Q8_0 block: an f16 scale and
// 32 int8 values.
const Q8_0BlockBytes = 34

// QuantizeQ8_0Block quantises 32 values with llama.cpp's reference rule
// (quantize_row_q8_0_ref), in float32 with every operation rounded
// separately:
//
//	amax = max |x[j]|
//	d    = amax / 127           (float32 division)
//	id   = 1 / d, or 0 if d == 0
//	q[j] = round(x[j] * id)     (float32 product; round half away from zero)
//	scale bits = F32ToF16(d)
//
// so q[j] lies in [-127, 127]. Like llama.cpp it divides by the float32 d,
// not by the f16-rounded scale stored in the block. It refuses (ErrInvalid)
// a non-finite x[j] and an amax whose scale overflows f16 (amax/127 rounds
// to f16 Inf, amax >= 65520*127 or so).
func QuantizeQ8_0Block(x *[32]float32) (d uint16, q [32]int8, err error) {
	var amax float32
	for j, v := range x {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return 0, q, errf(ErrInvalid, "Q8_0: element %d is %v (want finite)", j, v)
		}
		amax = max(amax, float32(math.Abs(float64(v))))
	}
	df := float32(amax / 127)
	d = F32ToF16(df)
	if d&0x7c00 == 0x7c00 {
		return 0, q, errf(ErrInvalid, "Q8_0: max |x| %v gives a scale beyond f16 range", amax)
	}
	var id float32
	if df != 0 {
		id = float32(1 / df)
	}
	for j, v := range x {
		q[j] = int8(math.Round(float64(float32(v * id))))
	}
	return d, q, nil
}

// AppendQ8_0Block appends one Q8_0 block (scale d as f16 bits, then the 32
// values) to dst.
func AppendQ8_0Block(dst []byte, d uint16, q *[32]int8) []byte {
	dst = binary.LittleEndian.AppendUint16(dst, d)
	for _, v := range q {
		dst = append(dst, byte(v))
	}
	return dst
}

// ParseQ8_0Block splits one encoded Q8_0 block (at least 34 bytes; the
// rest is ignored) into its f16 scale bits and 32 values. The element
// values are float32(F16ToF32(d)) * q[j].
func ParseQ8_0Block(blk []byte) (d uint16, q [32]int8, err error) {
	if len(blk) < Q8_0BlockBytes {
		return 0, q, errf(ErrInvalid, "Q8_0 block of %d bytes (want %d)", len(blk), Q8_0BlockBytes)
	}
	d = binary.LittleEndian.Uint16(blk)
	for j := range q {
		q[j] = int8(blk[2+j])
	}
	return d, q, nil
}

// AppendQ8_0 appends the Q8_0 encoding of vals (len a multiple of 32,
// quantised block by block with QuantizeQ8_0Block) to dst.
func AppendQ8_0(dst []byte, vals []float32) ([]byte, error) {
	if len(vals)%32 != 0 {
		return dst, errf(ErrInvalid, "Q8_0: %d values, not a multiple of 32", len(vals))
	}
	for b := 0; b < len(vals)/32; b++ {
		d, q, err := QuantizeQ8_0Block((*[32]float32)(vals[32*b:]))
		if err != nil {
			return dst, errf(ErrInvalid, "Q8_0 block %d: %s", b, err.(*Error).Msg)
		}
		dst = AppendQ8_0Block(dst, d, &q)
	}
	return dst, nil
}

// EncodeQ8_0 returns the Q8_0 encoding of vals (see AppendQ8_0).
func EncodeQ8_0(vals []float32) ([]byte, error) {
	return AppendQ8_0(make([]byte, 0, len(vals)/32*Q8_0BlockBytes), vals)
}
