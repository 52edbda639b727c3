package gguf

import (
	"encoding/binary"
	"io"
	"math"
)

// F16ToF32 converts IEEE 754 binary16 bits to the float32 of the same
// value, exactly, by bit manipulation: normals rebias the exponent,
// subnormals are normalised, ±0, ±Inf keep their sign, and a NaN keeps its
// sign and payload (shifted into the top of the float32 mantissa).
func F16ToF32(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	mant := uint32(h) & 0x3ff
	switch {
	case exp == 0x1f: // Inf, NaN
		return math.Float32frombits(sign | 0x7f800000 | mant<<13)
	case exp != 0: // normal: rebias 15 -> 127
		return math.Float32frombits(sign | (exp+127-15)<<23 | mant<<13)
	case mant == 0:
		return math.Float32frombits(sign)
	}
	// Subnormal: value = mant * 2^-24. Shift the leading 1 up to bit 10;
	// each shift lowers the exponent, which starts at that of 2^-14.
	e := uint32(127 - 14)
	for mant&0x400 == 0 {
		mant <<= 1
		e--
	}
	return math.Float32frombits(sign | e<<23 | (mant&0x3ff)<<13)
}

// F32ToF16 converts a float32 to binary16 bits, rounding to nearest, ties
// to even (as x86 F16C and ggml do): overflow gives ±Inf, values below half
// the smallest subnormal give ±0, and a NaN gives a quiet NaN keeping its
// sign and the top 9 bits of its payload (sign | 0x7e00 | mant>>13).
func F32ToF16(f float32) uint16 {
	b := math.Float32bits(f)
	sign := uint16(b>>16) & 0x8000
	exp := int32(b>>23) & 0xff
	mant := b & 0x7fffff
	if exp == 0xff {
		if mant == 0 {
			return sign | 0x7c00
		}
		return sign | 0x7e00 | uint16(mant>>13)
	}
	e := exp - 127 + 15 // f16 biased exponent
	if e >= 0x1f {
		return sign | 0x7c00
	}
	if e <= 0 {
		// f16 subnormal (or zero): units of 2^-24. value = m * 2^(exp-150),
		// so the count is m >> (14 - e) rounded; below 2^-25 it is 0.
		if e < -10 {
			return sign
		}
		m := mant | 0x800000
		shift := uint32(14 - e) // 14..24
		return sign | uint16(roundShiftEven(m, shift))
	}
	// Normal: round the 23-bit mantissa to 10 bits; a carry out of the
	// mantissa increments the exponent, and 0x7c00 (Inf) is where an
	// overflowing carry lands.
	h := uint32(e)<<10 + roundShiftEven(mant, 13)
	if h >= 0x7c00 {
		return sign | 0x7c00
	}
	return sign | uint16(h)
}

// roundShiftEven returns m / 2^shift rounded to nearest, ties to even
// (shift in 1..31).
func roundShiftEven(m, shift uint32) uint32 {
	q := m >> shift
	rem := m & (1<<shift - 1)
	half := uint32(1) << (shift - 1)
	if rem > half || (rem == half && q&1 == 1) {
		q++
	}
	return q
}

// BF16ToF32 converts bfloat16 bits to float32 exactly: bits << 16.
func BF16ToF32(h uint16) float32 { return math.Float32frombits(uint32(h) << 16) }

// F32ToBF16 converts a float32 to bfloat16 bits as ggml does: round to
// nearest, ties to even; a NaN is truncated with the quiet bit forced
// (bits>>16 | 0x40).
func F32ToBF16(f float32) uint16 {
	u := math.Float32bits(f)
	if u&0x7fffffff > 0x7f800000 {
		return uint16(u>>16) | 0x40
	}
	return uint16((uint64(u) + 0x7fff + uint64((u>>16)&1)) >> 16)
}

// DecodeRow decodes raw, the encoding of len(dst) elements of type t, into
// dst. len(dst) must be a multiple of t's block size and len(raw) exactly
// len(dst)/BlockSize*BlockBytes. The rules (exact, platform-independent)
// are in the package documentation.
func DecodeRow(t GGMLType, raw []byte, dst []float32) error {
	if !t.CanDecode() {
		if !t.Known() {
			return errf(ErrUnsupported, "decode: unknown ggml type %d", uint32(t))
		}
		return errf(ErrUnsupported, "decode: no float32 decoder for type %s", t)
	}
	bs, bb := t.BlockSize(), t.BlockBytes()
	if len(dst)%bs != 0 || len(raw) != len(dst)/bs*bb {
		return errf(ErrInvalid, "decode %s: %d bytes for %d elements (want %d elements a multiple of %d, %d bytes each %d)",
			t, len(raw), len(dst), len(dst), bs, bb, bs)
	}
	decodeRow(t, raw, dst)
	return nil
}

// decodeRow is DecodeRow without the checks.
func decodeRow(t GGMLType, raw []byte, dst []float32) {
	switch t {
	case TypeF32:
		for i := range dst {
			dst[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
		}
	case TypeF16:
		raw = raw[:2*len(dst)]
		for i := range dst {
			h := uint32(binary.LittleEndian.Uint16(raw[2*i:]))
			if e := h & 0x7c00; e != 0 && e != 0x7c00 {
				// normal: sign to bit 31, exponent+mantissa shifted by 13
				// and rebiased by (127-15)<<23
				dst[i] = math.Float32frombits((h&0x8000)<<16 | ((h&0x7fff)<<13 + (127-15)<<23))
			} else {
				dst[i] = F16ToF32(uint16(h))
			}
		}
	case TypeBF16:
		for i := range dst {
			dst[i] = BF16ToF32(binary.LittleEndian.Uint16(raw[2*i:]))
		}
	case TypeQ8_0:
		for b := 0; b < len(dst)/32; b++ {
			decodeQ8_0((*[34]byte)(raw[34*b:]), (*[32]float32)(dst[32*b:]))
		}
	case TypeQ4_0:
		for b := 0; b < len(dst)/32; b++ {
			decodeQ4_0((*[18]byte)(raw[18*b:]), (*[32]float32)(dst[32*b:]))
		}
	case TypeQ4_K:
		for b := 0; b < len(dst)/256; b++ {
			decodeQ4_K((*[144]byte)(raw[144*b:]), (*[256]float32)(dst[256*b:]))
		}
	case TypeQ6_K:
		for b := 0; b < len(dst)/256; b++ {
			decodeQ6_K((*[210]byte)(raw[210*b:]), (*[256]float32)(dst[256*b:]))
		}
	}
}

// decodeQ8_0: block = f16 d, int8 q[32]; y[j] = d * q[j]. Exact: d has an
// 11-bit significand, |q| <= 128, so the product needs <= 19 bits.
func decodeQ8_0(blk *[34]byte, y *[32]float32) {
	d := F16ToF32(binary.LittleEndian.Uint16(blk[0:]))
	for j := range y {
		y[j] = float32(d * float32(int8(blk[2+j])))
	}
}

// decodeQ4_0: block = f16 d, u8 qs[16]; y[j] = d*((qs[j]&15)-8),
// y[j+16] = d*((qs[j]>>4)-8). Exact (11-bit by 4-bit significands).
func decodeQ4_0(blk *[18]byte, y *[32]float32) {
	d := F16ToF32(binary.LittleEndian.Uint16(blk[0:]))
	for j := 0; j < 16; j++ {
		q := blk[2+j]
		y[j] = float32(d * float32(int32(q&15)-8))
		y[j+16] = float32(d * float32(int32(q>>4)-8))
	}
}

// scaleMinK4 is ggml's get_scale_min_k4: the 6-bit scale and min of
// sub-block j (0..7) packed in the 12 scale bytes of a Q4_K/Q5_K block.
func scaleMinK4(j int, q *[12]byte) (sc, m uint8) {
	if j < 4 {
		return q[j] & 63, q[j+4] & 63
	}
	return (q[j+4] & 0xF) | ((q[j-4] >> 6) << 4), (q[j+4] >> 4) | ((q[j] >> 6) << 4)
}

// decodeQ4_K: block = f16 d, f16 dmin, scales[12], qs[128]; eight
// sub-blocks of 32 with 6-bit scale sc and min m:
// y = float32(float32(d*sc) * q) - float32(dmin*m), q the 4-bit value. Each
// product is exact (<= 21-bit significands); the subtraction rounds once
// (IEEE, to nearest even). The explicit float32 conversions stop Go fusing
// the multiply and subtract into an FMA (which here would not change the
// result anyway, since the product is exact).
func decodeQ4_K(blk *[144]byte, y *[256]float32) {
	d := F16ToF32(binary.LittleEndian.Uint16(blk[0:]))
	dmin := F16ToF32(binary.LittleEndian.Uint16(blk[2:]))
	scales := (*[12]byte)(blk[4:16])
	qs := blk[16:144]
	for g := 0; g < 4; g++ { // 64 elements per group: two sub-blocks
		sc1, m1 := scaleMinK4(2*g, scales)
		sc2, m2 := scaleMinK4(2*g+1, scales)
		d1, min1 := float32(d*float32(sc1)), float32(dmin*float32(m1))
		d2, min2 := float32(d*float32(sc2)), float32(dmin*float32(m2))
		q := qs[32*g : 32*g+32]
		out := y[64*g : 64*g+64]
		for l := 0; l < 32; l++ {
			out[l] = float32(d1*float32(q[l]&0xF)) - min1
			out[l+32] = float32(d2*float32(q[l]>>4)) - min2
		}
	}
}

// decodeQ6_K: block = ql[128], qh[64], int8 scales[16], f16 d; 6-bit
// values q in [-32, 31] (4 low bits from ql, 2 high from qh), 16
// sub-blocks of 16 with scale sc: y = float32(float32(d*sc) * q), evaluated
// in that order as ggml does. Exact: the significands multiply to < 2^23.
func decodeQ6_K(blk *[210]byte, y *[256]float32) {
	d := F16ToF32(binary.LittleEndian.Uint16(blk[208:]))
	for n := 0; n < 2; n++ { // 128 elements per half
		ql := blk[64*n : 64*n+64]
		qh := blk[128+32*n : 128+32*n+32]
		sc := blk[192+8*n : 192+8*n+8]
		out := y[128*n : 128*n+128]
		for l := 0; l < 32; l++ {
			is := l / 16
			q1 := int32((ql[l]&0xF)|((qh[l]>>0)&3)<<4) - 32
			q2 := int32((ql[l+32]&0xF)|((qh[l]>>2)&3)<<4) - 32
			q3 := int32((ql[l]>>4)|((qh[l]>>4)&3)<<4) - 32
			q4 := int32((ql[l+32]>>4)|((qh[l]>>6)&3)<<4) - 32
			out[l] = float32(float32(d*float32(int8(sc[is]))) * float32(q1))
			out[l+32] = float32(float32(d*float32(int8(sc[is+2]))) * float32(q2))
			out[l+64] = float32(float32(d*float32(int8(sc[is+4]))) * float32(q3))
			out[l+96] = float32(float32(d*float32(int8(sc[is+6]))) * float32(q4))
		}
	}
}

// dataRange returns the file offset and byte size of t's data, checking
// that t is well formed and its data lies inside the file f describes.
func dataRange(f *File, t *TensorInfo) (off, n int64, err error) {
	_, nb, err := t.size()
	if err != nil {
		return 0, 0, err
	}
	if f.DataOffset < 0 || f.DataOffset > f.Size || t.Offset > uint64(f.Size-f.DataOffset) ||
		nb > uint64(f.Size-f.DataOffset)-t.Offset {
		return 0, 0, errf(ErrFormat, "tensor %q: data at offset %d + %d (%d bytes) lies outside the file (size %d)",
			t.Name, f.DataOffset, t.Offset, nb, f.Size)
	}
	return f.DataOffset + int64(t.Offset), int64(nb), nil
}

// DataRange returns the file offset and byte length of tensor t's data,
// checking that t is well formed and that the range lies inside the file
// (f must come from Read, which sets Size).
func (f *File) DataRange(t *TensorInfo) (off, n int64, err error) { return dataRange(f, t) }

// ReadTensorRaw returns the raw bytes of tensor t of f (parsed by Read),
// read from r.
func ReadTensorRaw(r io.ReaderAt, f *File, t *TensorInfo) ([]byte, error) {
	off, n, err := dataRange(f, t)
	if err != nil {
		return nil, err
	}
	if n > int64(math.MaxInt) {
		return nil, errf(ErrUnsupported, "tensor %q: %d bytes do not fit in memory on this platform", t.Name, n)
	}
	b := make([]byte, n) // n <= f.Size - f.DataOffset
	if err := readFull(r, b, off); err != nil {
		return nil, rangeErr(err, t, off)
	}
	return b, nil
}

func rangeErr(err error, t *TensorInfo, off int64) error {
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return errf(ErrTruncated, "tensor %q: file ends inside its data (at %d)", t.Name, off)
	}
	return wrapf(ErrIO, err, "tensor %q: reading at %d", t.Name, off)
}

// chunkBytes is how much raw tensor data the row readers fetch per ReadAt.
const chunkBytes = 1 << 20

// TensorRawRows passes the raw bytes of tensor t, one row (Dims[0]
// elements, RowBytes bytes) at a time, to fn in row order; rows are read
// from r about 1 MiB at a time, so memory use is about max(1 MiB, one row).
// raw is only valid during the call. An error from fn stops the walk and is
// returned as is.
func TensorRawRows(r io.ReaderAt, f *File, t *TensorInfo, fn func(row int, raw []byte) error) error {
	off, n, err := dataRange(f, t)
	if err != nil {
		return err
	}
	rowBytes := int64(t.RowBytes())
	if n == 0 || rowBytes == 0 {
		return nil
	}
	rows := n / rowBytes
	if rows > int64(math.MaxInt) || rowBytes > int64(math.MaxInt) {
		return errf(ErrUnsupported, "tensor %q: too large for this platform", t.Name)
	}
	per := max(1, chunkBytes/rowBytes)
	buf := make([]byte, min(per, rows)*rowBytes)
	for r0 := int64(0); r0 < rows; r0 += per {
		m := min(per, rows-r0)
		b := buf[:m*rowBytes]
		at := off + r0*rowBytes
		if err := readFull(r, b, at); err != nil {
			return rangeErr(err, t, at)
		}
		for i := int64(0); i < m; i++ {
			if err := fn(int(r0+i), b[i*rowBytes:(i+1)*rowBytes]); err != nil {
				return err
			}
		}
	}
	return nil
}

// TensorRows decodes tensor t to float32 one row (Dims[0] elements) at a
// time, passing each to fn in row order, so a tensor is never held whole
// as float32: memory use is about 1 MiB of raw data plus one row of
// float32. vals is reused: it is only valid during the call. An error from
// fn stops the walk and is returned as is. Decoding follows DecodeRow.
func TensorRows(r io.ReaderAt, f *File, t *TensorInfo, fn func(row int, vals []float32) error) error {
	if !t.Type.CanDecode() {
		return errf(ErrUnsupported, "tensor %q: no float32 decoder for type %s", t.Name, t.Type)
	}
	if _, _, err := dataRange(f, t); err != nil {
		return err
	}
	rowLen := t.RowLen()
	if rowLen > uint64(math.MaxInt) {
		return errf(ErrUnsupported, "tensor %q: row of %d elements too large for this platform", t.Name, rowLen)
	}
	if t.Elements() == 0 {
		// No row to decode (a dimension is 0), however long the rows would be: nothing
		// is allocated for them.
		return nil
	}
	vals := make([]float32, rowLen) // bounded: the row's encoding lies inside the file
	return TensorRawRows(r, f, t, func(row int, raw []byte) error {
		decodeRow(t.Type, raw, vals)
		return fn(row, vals)
	})
}

// ReadTensorF32 decodes the whole of tensor t to float32 (Elements()
// values, row-major with Dims[0] fastest). Decoding follows DecodeRow.
func ReadTensorF32(r io.ReaderAt, f *File, t *TensorInfo) ([]float32, error) {
	if !t.Type.CanDecode() {
		return nil, errf(ErrUnsupported, "tensor %q: no float32 decoder for type %s", t.Name, t.Type)
	}
	if _, _, err := dataRange(f, t); err != nil {
		return nil, err
	}
	elems := t.Elements()
	if elems > uint64(math.MaxInt)/4 {
		return nil, errf(ErrUnsupported, "tensor %q: %d elements too large for this platform", t.Name, elems)
	}
	out := make([]float32, elems) // bounded: the encoding lies inside the file
	rowLen := int(t.RowLen())
	err := TensorRawRows(r, f, t, func(row int, raw []byte) error {
		decodeRow(t.Type, raw, out[row*rowLen:(row+1)*rowLen])
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
