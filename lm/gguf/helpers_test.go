package gguf

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"os"
	"path/filepath"
	"testing"
)

// fixturePath returns the path of the shared test model, skipping the test
// when it is absent.
func fixturePath(tb testing.TB) string {
	tb.Helper()
	p, err := findFixture()
	if err != nil {
		tb.Skipf("fixture absent, skipping (it is never committed): %v", err)
	}
	return p
}

// findFixture looks for ../shared/models/llama-2-tiny-random.gguf next to
// the directory holding go.mod.
func findFixture() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the test directory")
		}
		dir = parent
	}
	p := filepath.Join(dir, "..", "shared", "models", "llama-2-tiny-random.gguf")
	if _, err := os.Stat(p); err != nil {
		return "", err
	}
	return p, nil
}

// raw builds GGUF bytes by hand, for malformed inputs.
type raw struct{ b []byte }

func (r *raw) u8(v uint8) *raw   { r.b = append(r.b, v); return r }
func (r *raw) u32(v uint32) *raw { r.b = binary.LittleEndian.AppendUint32(r.b, v); return r }
func (r *raw) u64(v uint64) *raw { r.b = binary.LittleEndian.AppendUint64(r.b, v); return r }
func (r *raw) str(s string) *raw { r.u64(uint64(len(s))); r.b = append(r.b, s...); return r }
func (r *raw) bytes(p []byte) *raw {
	r.b = append(r.b, p...)
	return r
}
func (r *raw) pad(align int) *raw {
	for len(r.b)%align != 0 {
		r.b = append(r.b, 0)
	}
	return r
}
func (r *raw) zeros(n int) *raw { r.b = append(r.b, make([]byte, n)...); return r }

// head starts a file: magic, version, counts.
func head(version uint32, nTensors, nKV uint64) *raw {
	r := &raw{}
	r.b = append(r.b, "GGUF"...)
	return r.u32(version).u64(nTensors).u64(nKV)
}

// kvU32 appends a u32 metadata pair.
func (r *raw) kvU32(key string, v uint32) *raw { return r.str(key).u32(uint32(KindUint32)).u32(v) }

// tensor appends a tensor info.
func (r *raw) tensor(name string, typ GGMLType, off uint64, dims ...uint64) *raw {
	r.str(name).u32(uint32(len(dims)))
	for _, d := range dims {
		r.u64(d)
	}
	return r.u32(uint32(typ)).u64(off)
}

// smallFile returns a small valid file built with the Builder: every value
// kind, nested arrays, and one tensor of each decodable type. Its last
// tensor ends on an alignment boundary, so every strict prefix is invalid.
func smallFile(tb testing.TB) []byte {
	tb.Helper()
	b := NewBuilder()
	must := func(err error) {
		tb.Helper()
		if err != nil {
			tb.Fatal(err)
		}
	}
	must(b.AddKV("general.architecture", String("llama")))
	must(b.AddKV("a.u8", Uint8(200)))
	must(b.AddKV("a.i8", Int8(-5)))
	must(b.AddKV("a.u16", Uint16(60000)))
	must(b.AddKV("a.i16", Int16(-30000)))
	must(b.AddKV("a.u32", Uint32(4000000000)))
	must(b.AddKV("a.i32", Int32(-2000000000)))
	must(b.AddKV("a.f32", Float32(1e-5)))
	must(b.AddKV("a.bool", Bool(true)))
	must(b.AddKV("a.u64", Uint64(1<<63+7)))
	must(b.AddKV("a.i64", Int64(-1<<62)))
	must(b.AddKV("a.f64", Float64(math.Pi)))
	must(b.AddKV("a.strs", Array([]string{"<unk>", "", "▁the"})))
	must(b.AddKV("a.f32s", Array([]float32{0, -1.5, 3})))
	must(b.AddKV("a.i32s", Array([]int32{1, -2, 3})))
	must(b.AddKV("a.bools", Array([]bool{true, false})))
	must(b.AddKV("a.nested", Array([]Value{Array([]uint8{1, 2}), Array([]Value{Array([]string{"x"})}), Array([]int64{})})))
	f32 := []float32{1, -2, 0.5, 3.25, 0, -0, 100, 1e-3}
	must(b.AddTensor("t.f32", TypeF32, []uint64{8}, EncodeF32(f32)))
	must(b.AddTensor("t.f16", TypeF16, []uint64{4, 2}, EncodeF16(f32)))
	must(b.AddTensor("t.bf16", TypeBF16, []uint64{8}, EncodeBF16(f32)))
	vals := make([]float32, 64)
	for i := range vals {
		vals[i] = float32(i-30) / 7
	}
	q8, err := EncodeQ8_0(vals)
	must(err)
	must(b.AddTensor("t.q8_0", TypeQ8_0, []uint64{32, 2}, q8))
	q4 := make([]byte, 18*2)
	for i := range q4 {
		q4[i] = byte(i * 37)
	}
	binary.LittleEndian.PutUint16(q4[0:], F32ToF16(0.25))
	binary.LittleEndian.PutUint16(q4[18:], F32ToF16(-3))
	must(b.AddTensor("t.q4_0", TypeQ4_0, []uint64{64}, q4))
	// last: 16 f32 = 64 bytes, ends aligned
	must(b.AddTensor("t.last", TypeF32, []uint64{16}, EncodeF32(make([]float32, 16))))
	var buf bytes.Buffer
	if _, err := b.WriteTo(&buf); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// refF16 decodes binary16 bits with float64 arithmetic, independently of
// F16ToF32 (NaN for NaNs).
func refF16(h uint16) float64 {
	sign := 1.0
	if h&0x8000 != 0 {
		sign = -1
	}
	e := int(h>>10) & 31
	m := float64(h & 0x3ff)
	switch e {
	case 0:
		return sign * math.Ldexp(m, -24)
	case 31:
		if m == 0 {
			return math.Inf(int(sign))
		}
		return math.NaN()
	}
	return sign * math.Ldexp(1024+m, e-25)
}
