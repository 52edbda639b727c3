package gguf

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"math/big"
	"math/rand/v2"
	"testing"
)

func TestF16ToF32Exhaustive(t *testing.T) {
	for i := 0; i < 1<<16; i++ {
		h := uint16(i)
		got := F16ToF32(h)
		ref := refF16(h)
		if math.IsNaN(ref) {
			b := math.Float32bits(got)
			if !math.IsNaN(float64(got)) || b>>31 != uint32(h>>15) || (b>>13)&0x3ff != uint32(h&0x3ff) {
				t.Fatalf("%#04x: NaN decoded as %#08x", h, b)
			}
			continue
		}
		if float64(got) != ref || math.Signbit(float64(got)) != (h&0x8000 != 0) {
			t.Fatalf("%#04x: %v, want %v", h, got, ref)
		}
		// Round trip through the encoder, and through the table.
		if back := F32ToF16(got); back != h {
			t.Fatalf("%#04x -> %v -> %#04x", h, got, back)
		}
	}
	// The row decoder's fast path agrees bit for bit on all inputs.
	rawAll := make([]byte, 2<<16)
	for i := 0; i < 1<<16; i++ {
		binary.LittleEndian.PutUint16(rawAll[2*i:], uint16(i))
	}
	row := make([]float32, 1<<16)
	if err := DecodeRow(TypeF16, rawAll, row); err != nil {
		t.Fatal(err)
	}
	for i, v := range row {
		if math.Float32bits(v) != math.Float32bits(F16ToF32(uint16(i))) {
			t.Fatalf("row decode %#04x", i)
		}
	}
	// NaN payloads survive the round trip too (quiet bit set).
	for _, h := range []uint16{0x7e00, 0xfe01, 0x7fff} {
		if back := F32ToF16(F16ToF32(h)); back != h {
			t.Errorf("NaN %#04x -> %#04x", h, back)
		}
	}
	if F32ToF16(float32(math.NaN()))&0x7e00 != 0x7e00 {
		t.Error("NaN not quiet")
	}
}

// TestF32ToF16Rounding checks round-to-nearest-even at every midpoint
// between consecutive finite f16 values, and one float32 ulp either side.
func TestF32ToF16Rounding(t *testing.T) {
	for h := uint16(0); h < 0x7c00; h++ {
		lo, hi := refF16(h), refF16(h+1) // h+1 may be Inf (0x7c00)
		if h == 0x7bff {
			hi = 65536 // where the next value would be
		}
		mid := float32((lo + hi) / 2) // exact: 12 significant bits
		if float64(mid) != (lo+hi)/2 {
			t.Fatalf("midpoint %v not exact", (lo+hi)/2)
		}
		even := h
		if h&1 == 1 {
			even = h + 1
		}
		for _, s := range []float32{1, -1} {
			sg := uint16(0)
			if s < 0 {
				sg = 0x8000
			}
			if got := F32ToF16(s * mid); got != sg|even {
				t.Fatalf("F32ToF16(%v) = %#04x, want %#04x", s*mid, got, sg|even)
			}
			below := math.Nextafter32(mid, 0)
			above := math.Nextafter32(mid, float32(math.Inf(1)))
			if got := F32ToF16(s * below); got != sg|h {
				t.Fatalf("F32ToF16(%v) = %#04x, want %#04x", s*below, got, sg|h)
			}
			if got := F32ToF16(s * above); got != sg|(h+1) {
				t.Fatalf("F32ToF16(%v) = %#04x, want %#04x", s*above, got, sg|(h+1))
			}
		}
	}
	cases := []struct {
		f float32
		h uint16
	}{
		{0, 0}, {float32(math.Copysign(0, -1)), 0x8000}, {1, 0x3c00}, {-2, 0xc000}, {65504, 0x7bff},
		{1e10, 0x7c00}, {-1e10, 0xfc00}, {float32(math.Inf(1)), 0x7c00}, {float32(math.Inf(-1)), 0xfc00},
		{float32(math.Ldexp(1, -25)), 0}, {float32(math.Ldexp(1.5, -25)), 1}, {float32(math.Ldexp(1, -24)), 1},
		{1e-30, 0}, {math.SmallestNonzeroFloat32, 0}, {float32(math.Ldexp(1, -14)), 0x0400},
	}
	for _, c := range cases {
		if got := F32ToF16(c.f); got != c.h {
			t.Errorf("F32ToF16(%g) = %#04x, want %#04x", c.f, got, c.h)
		}
	}
}

func TestBF16(t *testing.T) {
	for i := 0; i < 1<<16; i++ {
		h := uint16(i)
		f := BF16ToF32(h)
		if math.Float32bits(f) != uint32(h)<<16 {
			t.Fatal("BF16ToF32 bits")
		}
		if math.IsNaN(float64(f)) {
			if F32ToBF16(f)&0x7fc0 != 0x7fc0 {
				t.Fatalf("NaN %#04x", h)
			}
			continue
		}
		if F32ToBF16(f) != h {
			t.Fatalf("bf16 round trip %#04x", h)
		}
		// ties to even at the midpoint to the next value
		if h&0x7fff < 0x7f7f {
			mid := math.Float32frombits(uint32(h)<<16 | 0x8000)
			even := h
			if h&1 == 1 {
				even = h + 1
			}
			if F32ToBF16(mid) != even {
				t.Fatalf("bf16 midpoint after %#04x -> %#04x", h, F32ToBF16(mid))
			}
		}
	}
}

func TestQuantizeQ8_0(t *testing.T) {
	// amax 127 gives d = 1 exactly: q = round half away from zero of x.
	var x [32]float32
	x[0] = 127
	x[1], x[2], x[3], x[4], x[5] = 0.5, -0.5, 1.5, 2.5, -2.5
	x[6] = -127
	x[7] = 0.49999997
	d, q, err := QuantizeQ8_0Block(&x)
	if err != nil || d != 0x3c00 {
		t.Fatalf("d %#04x err %v", d, err)
	}
	want := []int8{127, 1, -1, 2, 3, -3, -127, 0}
	for i, w := range want {
		if q[i] != w {
			t.Errorf("q[%d] = %d, want %d", i, q[i], w)
		}
	}
	// All zero: d = 0, q = 0.
	var z [32]float32
	if d, q, err := QuantizeQ8_0Block(&z); err != nil || d != 0 || q != [32]int8{} {
		t.Fatal("zero block")
	}
	// Refusals.
	x[9] = float32(math.NaN())
	if _, _, err := QuantizeQ8_0Block(&x); !errors.Is(err, ErrInvalid) {
		t.Fatal("NaN accepted")
	}
	x[9] = float32(math.Inf(-1))
	if _, _, err := QuantizeQ8_0Block(&x); !errors.Is(err, ErrInvalid) {
		t.Fatal("Inf accepted")
	}
	x[9] = 1e10
	if _, _, err := QuantizeQ8_0Block(&x); !errors.Is(err, ErrInvalid) {
		t.Fatal("huge scale accepted")
	}
	if _, err := EncodeQ8_0(make([]float32, 33)); !errors.Is(err, ErrInvalid) {
		t.Fatal("33 values accepted")
	}

	// Random blocks: q in [-127, 127], decode error within half a step
	// (plus the f16 rounding of the scale), and AppendQ8_0Block /
	// ParseQ8_0Block agree with EncodeQ8_0.
	rng := rand.New(rand.NewPCG(1, 2))
	vals := make([]float32, 32*200)
	for i := range vals {
		vals[i] = float32(rng.NormFloat64() * math.Pow(10, float64(rng.IntN(8)-4)))
	}
	enc, err := EncodeQ8_0(vals)
	if err != nil {
		t.Fatal(err)
	}
	dec := make([]float32, len(vals))
	if err := DecodeRow(TypeQ8_0, enc, dec); err != nil {
		t.Fatal(err)
	}
	for b := 0; b < 200; b++ {
		d, q, err := ParseQ8_0Block(enc[34*b:])
		if err != nil {
			t.Fatal(err)
		}
		d2, q2, _ := QuantizeQ8_0Block((*[32]float32)(vals[32*b:]))
		if d != d2 || q != q2 || !bytes.Equal(AppendQ8_0Block(nil, d, &q), enc[34*b:34*b+34]) {
			t.Fatalf("block %d encodings disagree", b)
		}
		df := float64(F16ToF32(d))
		amax := 0.0
		for j := 0; j < 32; j++ {
			amax = math.Max(amax, math.Abs(float64(vals[32*b+j])))
		}
		for j := 0; j < 32; j++ {
			if q[j] < -127 {
				t.Fatal("q = -128")
			}
			if float64(dec[32*b+j]) != df*float64(q[j]) {
				t.Fatal("decode not d*q exactly")
			}
			// x*id is within 0.5 of q; the f16 scale is off by <= 2^-11 relative.
			if e := math.Abs(float64(dec[32*b+j]) - float64(vals[32*b+j])); e > 0.5*df+amax*1.1/2048 {
				t.Fatalf("block %d [%d]: error %g, step %g", b, j, e, df)
			}
		}
	}
	if _, _, err := ParseQ8_0Block(make([]byte, 33)); !errors.Is(err, ErrInvalid) {
		t.Fatal("short block accepted")
	}
}

func randF16(rng *rand.Rand) uint16 {
	for {
		h := uint16(rng.Uint32())
		if h&0x7c00 != 0x7c00 {
			return h
		}
	}
}

func TestDecodeQ4_0(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	blk := make([]byte, 18*50)
	for i := range blk {
		blk[i] = byte(rng.Uint32())
	}
	for b := 0; b < 50; b++ {
		binary.LittleEndian.PutUint16(blk[18*b:], randF16(rng))
	}
	y := make([]float32, 32*50)
	if err := DecodeRow(TypeQ4_0, blk, y); err != nil {
		t.Fatal(err)
	}
	for i := range y {
		b, j := i/32, i%32
		d := refF16(binary.LittleEndian.Uint16(blk[18*b:]))
		var q int
		if j < 16 {
			q = int(blk[18*b+2+j] & 15)
		} else {
			q = int(blk[18*b+2+j-16] >> 4)
		}
		if want := d * float64(q-8); float64(y[i]) != want {
			t.Fatalf("[%d] = %v, want %v", i, y[i], want)
		}
	}
}

// refQ4_K computes one element of a Q4_K block independently: exact
// rational arithmetic, then one rounding to float32.
func refQ4_K(blk []byte, i int) float32 {
	d := refF16(binary.LittleEndian.Uint16(blk[0:]))
	dmin := refF16(binary.LittleEndian.Uint16(blk[2:]))
	sc := blk[4:16]
	s := i / 32 // sub-block
	var scale, mn int
	if s < 4 {
		scale, mn = int(sc[s]&63), int(sc[s+4]&63)
	} else {
		scale = int(sc[s+4]&15) | int(sc[s-4]>>6)<<4
		mn = int(sc[s+4]>>4) | int(sc[s]>>6)<<4
	}
	g, l := i/64, i%32
	qb := blk[16+32*g+l]
	q := int(qb & 15)
	if i%64 >= 32 {
		q = int(qb >> 4)
	}
	prec := uint(200)
	a := new(big.Float).SetPrec(prec).SetFloat64(d)
	a.Mul(a, new(big.Float).SetPrec(prec).SetInt64(int64(scale*q)))
	m := new(big.Float).SetPrec(prec).SetFloat64(dmin)
	m.Mul(m, new(big.Float).SetPrec(prec).SetInt64(int64(mn)))
	a.Sub(a, m)
	f, _ := a.Float32()
	return f
}

func TestDecodeQ4_K(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	const nb = 40
	blk := make([]byte, 144*nb)
	for i := range blk {
		blk[i] = byte(rng.Uint32())
	}
	for b := 0; b < nb; b++ {
		binary.LittleEndian.PutUint16(blk[144*b:], randF16(rng))
		binary.LittleEndian.PutUint16(blk[144*b+2:], randF16(rng))
	}
	y := make([]float32, 256*nb)
	if err := DecodeRow(TypeQ4_K, blk, y); err != nil {
		t.Fatal(err)
	}
	for i := range y {
		b := i / 256
		want := refQ4_K(blk[144*b:144*b+144], i%256)
		if math.Float32bits(y[i]) != math.Float32bits(want) && !(y[i] == 0 && want == 0) {
			t.Fatalf("[%d] = %v (%#08x), want %v (%#08x)", i, y[i], math.Float32bits(y[i]), want, math.Float32bits(want))
		}
	}
}

func TestDecodeQ6_K(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	const nb = 40
	blk := make([]byte, 210*nb)
	for i := range blk {
		blk[i] = byte(rng.Uint32())
	}
	for b := 0; b < nb; b++ {
		binary.LittleEndian.PutUint16(blk[210*b+208:], randF16(rng))
	}
	// One block with the extreme scale -128 and d the largest f16.
	blk[192] = 0x80
	binary.LittleEndian.PutUint16(blk[208:], 0x7bff)
	y := make([]float32, 256*nb)
	if err := DecodeRow(TypeQ6_K, blk, y); err != nil {
		t.Fatal(err)
	}
	for i := range y {
		b, e := i/256, i%256
		x := blk[210*b : 210*b+210]
		h, r := e/128, e%128
		k, l := r/32, r%32
		lo := x[64*h+l+32*(k&1)]
		if k >= 2 {
			lo >>= 4
		}
		q := int(lo&15|((x[128+32*h+l]>>(2*k))&3)<<4) - 32
		sc := int(int8(x[192+8*h+l/16+2*k]))
		want := refF16(binary.LittleEndian.Uint16(x[208:])) * float64(sc) * float64(q) // exact in float64
		if float64(y[i]) != want {
			t.Fatalf("[%d] = %v, want %v (not exact)", i, y[i], want)
		}
	}
}

func TestDecodeRowErrors(t *testing.T) {
	if err := DecodeRow(TypeQ8_0, make([]byte, 33), make([]float32, 32)); !errors.Is(err, ErrInvalid) {
		t.Error(err)
	}
	if err := DecodeRow(TypeQ8_0, make([]byte, 34), make([]float32, 31)); !errors.Is(err, ErrInvalid) {
		t.Error(err)
	}
	if err := DecodeRow(TypeQ5_K, nil, nil); !errors.Is(err, ErrUnsupported) {
		t.Error(err)
	}
	if err := DecodeRow(GGMLType(4), nil, nil); !errors.Is(err, ErrUnsupported) {
		t.Error(err)
	}
}

func TestTypeTable(t *testing.T) {
	cases := []struct {
		t      GGMLType
		name   string
		bs, bb int
	}{
		{TypeF32, "F32", 1, 4}, {TypeF16, "F16", 1, 2}, {TypeQ4_0, "Q4_0", 32, 18}, {TypeQ8_0, "Q8_0", 32, 34},
		{TypeQ4_K, "Q4_K", 256, 144}, {TypeQ6_K, "Q6_K", 256, 210}, {TypeBF16, "BF16", 1, 2},
		{TypeQ5_K, "Q5_K", 256, 176}, {TypeMXFP4, "MXFP4", 32, 17}, {GGMLType(4), "type(4)", 0, 0},
		{GGMLType(40), "type(40)", 0, 0}, {GGMLType(1 << 31), "type(2147483648)", 0, 0},
	}
	for _, c := range cases {
		if c.t.String() != c.name || c.t.BlockSize() != c.bs || c.t.BlockBytes() != c.bb || c.t.Known() != (c.bs != 0) {
			t.Errorf("%d: %s %d %d", uint32(c.t), c.t, c.t.BlockSize(), c.t.BlockBytes())
		}
	}
	ti := TensorInfo{Name: "x", Type: TypeQ8_0, Dims: []uint64{64, 3, 2}}
	if ti.Elements() != 384 || ti.Bytes() != 12*34 || ti.Rows() != 6 || ti.RowBytes() != 68 || ti.RowLen() != 64 {
		t.Errorf("sizes %d %d %d %d", ti.Elements(), ti.Bytes(), ti.Rows(), ti.RowBytes())
	}
	bad := TensorInfo{Name: "x", Type: TypeQ8_0, Dims: []uint64{33}}
	if bad.Validate() == nil || bad.Bytes() != 0 || bad.Elements() != 0 {
		t.Error("bad tensor validated")
	}
}

func benchRow(b *testing.B, typ GGMLType, n int) {
	bb := n / typ.BlockSize() * typ.BlockBytes()
	raw := make([]byte, bb)
	rng := rand.New(rand.NewPCG(9, 9))
	for i := range raw {
		raw[i] = byte(rng.Uint32())
	}
	// keep scales finite
	step := typ.BlockBytes()
	for o := 0; o+step <= len(raw); o += step {
		switch typ {
		case TypeF16:
			binary.LittleEndian.PutUint16(raw[o:], randF16(rng))
		case TypeQ8_0, TypeQ4_0:
			binary.LittleEndian.PutUint16(raw[o:], randF16(rng))
		}
	}
	dst := make([]float32, n)
	b.SetBytes(int64(bb))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		decodeRow(typ, raw, dst)
	}
}

// The row benchmarks report MB/s of encoded input.
func BenchmarkDecodeRowF16(b *testing.B)  { benchRow(b, TypeF16, 4096) }
func BenchmarkDecodeRowBF16(b *testing.B) { benchRow(b, TypeBF16, 4096) }
func BenchmarkDecodeRowQ8_0(b *testing.B) { benchRow(b, TypeQ8_0, 4096) }
func BenchmarkDecodeRowQ4_0(b *testing.B) { benchRow(b, TypeQ4_0, 4096) }
func BenchmarkDecodeRowQ4_K(b *testing.B) { benchRow(b, TypeQ4_K, 4096) }
func BenchmarkDecodeRowQ6_K(b *testing.B) { benchRow(b, TypeQ6_K, 4096) }

func BenchmarkEncodeQ8_0(b *testing.B) {
	vals := make([]float32, 4096)
	for i := range vals {
		vals[i] = float32(i%61) - 30
	}
	dst := make([]byte, 0, 4096/32*34)
	b.SetBytes(4096 * 4)
	for i := 0; i < b.N; i++ {
		dst, _ = AppendQ8_0(dst[:0], vals)
	}
}

// BenchmarkTensorRows streams a 4096x256 F16 tensor through TensorRows.
func BenchmarkTensorRows(b *testing.B) {
	bld := NewBuilder()
	vals := make([]float32, 4096*256)
	for i := range vals {
		vals[i] = float32(i%1000) / 100
	}
	if err := bld.AddTensor("w", TypeF16, []uint64{4096, 256}, EncodeF16(vals)); err != nil {
		b.Fatal(err)
	}
	var buf bytes.Buffer
	if _, err := bld.WriteTo(&buf); err != nil {
		b.Fatal(err)
	}
	r := bytes.NewReader(buf.Bytes())
	f, err := Read(r, int64(buf.Len()))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(f.Tensors[0].Bytes()))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := TensorRows(r, f, &f.Tensors[0], func(int, []float32) error { return nil }); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkReadFixtureHeader(b *testing.B) {
	r, err := Open(fixturePath(b))
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := Read(r, r.Size); err != nil {
			b.Fatal(err)
		}
	}
}
