package gguf

import (
	"bytes"
	"errors"
	"io"
	"math"
	"os"
	"runtime"
	"strings"
	"testing"
)

func TestFixture(t *testing.T) {
	r, err := Open(fixturePath(t))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if r.Version != 3 || r.Alignment != 32 {
		t.Fatalf("version %d alignment %d", r.Version, r.Alignment)
	}
	strs := []struct{ key, want string }{
		{"general.architecture", "llama"},
		{"general.name", "LLaMA v2"},
		{"tokenizer.ggml.model", "llama"},
	}
	for _, c := range strs {
		if got, ok := r.String(c.key); !ok || got != c.want {
			t.Errorf("%s = %q, %v; want %q", c.key, got, ok, c.want)
		}
	}
	ints := []struct {
		key  string
		want uint32
	}{
		{"llama.context_length", 4096},
		{"llama.embedding_length", 8},
		{"llama.block_count", 1},
		{"llama.feed_forward_length", 32},
		{"llama.rope.dimension_count", 4},
		{"llama.attention.head_count", 2},
		{"llama.attention.head_count_kv", 2},
		{"general.file_type", 1},
		{"tokenizer.ggml.bos_token_id", 1},
		{"tokenizer.ggml.eos_token_id", 2},
		{"tokenizer.ggml.unknown_token_id", 0},
	}
	for _, c := range ints {
		if got, ok := r.Uint32(c.key); !ok || got != c.want {
			t.Errorf("%s = %d, %v; want %d", c.key, got, ok, c.want)
		}
		if got, ok := r.Int(c.key); !ok || got != int(c.want) {
			t.Errorf("Int(%s) = %d, %v", c.key, got, ok)
		}
		if got, ok := r.Uint64(c.key); !ok || got != uint64(c.want) {
			t.Errorf("Uint64(%s) = %d, %v", c.key, got, ok)
		}
	}
	if eps, ok := r.Float32("llama.attention.layer_norm_rms_epsilon"); !ok || eps != float32(1e-5) {
		t.Errorf("eps = %v, %v", eps, ok)
	}
	toks, ok := r.Strings("tokenizer.ggml.tokens")
	if !ok || len(toks) != 32000 || toks[0] != "<unk>" || toks[1] != "<s>" || toks[2] != "</s>" || toks[3] != "<0x00>" {
		t.Fatalf("tokens: ok %v len %d", ok, len(toks))
	}
	scores, ok := r.Float32s("tokenizer.ggml.scores")
	if !ok || len(scores) != 32000 {
		t.Fatalf("scores: %v %d", ok, len(scores))
	}
	types, ok := r.Int32s("tokenizer.ggml.token_type")
	if !ok || len(types) != 32000 || types[0] != 2 || types[1] != 3 || types[3] != 6 {
		t.Fatalf("token_type: %v %d %v", ok, len(types), types[:4])
	}
	if _, ok := r.String("llama.block_count"); ok {
		t.Error("String on a u32 key succeeded")
	}
	if _, ok := r.Uint32("nope"); ok {
		t.Error("missing key found")
	}
	if len(r.KV) != 18 {
		t.Errorf("%d kv pairs, want 18", len(r.KV))
	}

	want := []struct {
		name string
		typ  GGMLType
		dims []uint64
	}{
		{"token_embd.weight", TypeF16, []uint64{8, 32000}},
		{"blk.0.attn_q.weight", TypeF16, []uint64{8, 8}},
		{"blk.0.attn_k.weight", TypeF16, []uint64{8, 8}},
		{"blk.0.attn_v.weight", TypeF16, []uint64{8, 8}},
		{"blk.0.attn_output.weight", TypeF16, []uint64{8, 8}},
		{"blk.0.ffn_gate.weight", TypeF16, []uint64{8, 32}},
		{"blk.0.ffn_up.weight", TypeF16, []uint64{8, 32}},
		{"blk.0.ffn_down.weight", TypeF16, []uint64{32, 8}},
		{"blk.0.attn_norm.weight", TypeF32, []uint64{8}},
		{"blk.0.ffn_norm.weight", TypeF32, []uint64{8}},
		{"output_norm.weight", TypeF32, []uint64{8}},
		{"output.weight", TypeF16, []uint64{8, 32000}},
	}
	if len(r.Tensors) != len(want) {
		t.Fatalf("%d tensors, want %d", len(r.Tensors), len(want))
	}
	for i, w := range want {
		ti := &r.Tensors[i]
		if ti.Name != w.name || ti.Type != w.typ || !equalDims(ti.Dims, w.dims) {
			t.Errorf("tensor %d = %s %s %v, want %s %s %v", i, ti.Name, ti.Type, ti.Dims, w.name, w.typ, w.dims)
		}
		if got, _ := r.Tensor(w.name); got != ti {
			t.Errorf("Tensor(%q) lookup", w.name)
		}
	}

	// Decode every tensor whole and by rows, and check against an
	// independent float64 decoding of the raw bytes.
	for i := range r.Tensors {
		ti := &r.Tensors[i]
		all, err := r.TensorF32(ti.Name)
		if err != nil {
			t.Fatal(err)
		}
		rawb, err := r.TensorRaw(ti.Name)
		if err != nil {
			t.Fatal(err)
		}
		if uint64(len(all)) != ti.Elements() || uint64(len(rawb)) != ti.Bytes() {
			t.Fatalf("%s: %d values %d bytes", ti.Name, len(all), len(rawb))
		}
		for j, v := range all {
			var ref float64
			if ti.Type == TypeF16 {
				ref = refF16(uint16(rawb[2*j]) | uint16(rawb[2*j+1])<<8)
			} else {
				ref = float64(math.Float32frombits(uint32(rawb[4*j]) | uint32(rawb[4*j+1])<<8 | uint32(rawb[4*j+2])<<16 | uint32(rawb[4*j+3])<<24))
			}
			if float64(v) != ref {
				t.Fatalf("%s[%d] = %v, want %v", ti.Name, j, v, ref)
			}
		}
		var rows int
		err = r.TensorRows(ti.Name, func(row int, vals []float32) error {
			if row != rows || uint64(len(vals)) != ti.RowLen() {
				t.Fatalf("%s row %d (want %d), %d values", ti.Name, row, rows, len(vals))
			}
			for k, v := range vals {
				if math.Float32bits(v) != math.Float32bits(all[row*len(vals)+k]) {
					t.Fatalf("%s row %d [%d] differs", ti.Name, row, k)
				}
			}
			rows++
			return nil
		})
		if err != nil || uint64(rows) != ti.Rows() {
			t.Fatalf("%s: rows %d (want %d) err %v", ti.Name, rows, ti.Rows(), err)
		}
	}
	if _, err := r.TensorF32("nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("missing tensor: %v", err)
	}
}

func equalDims(a, b []uint64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestFixtureRewrite re-writes the fixture from its parsed header and raw
// tensor bytes and expects identical bytes.
func TestFixtureRewrite(t *testing.T) {
	path := fixturePath(t)
	orig, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	f, err := Read(bytes.NewReader(orig), int64(len(orig)))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	n, err := Write(&out, f, func(i int, w io.Writer) error {
		b, err := ReadTensorRaw(bytes.NewReader(orig), f, &f.Tensors[i])
		if err != nil {
			return err
		}
		_, err = w.Write(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if n != int64(out.Len()) || !bytes.Equal(out.Bytes(), orig) {
		t.Fatalf("rewrite differs: %d bytes vs %d", out.Len(), len(orig))
	}

	// The Builder, fed the same pairs and tensors in order, lays them out
	// the same way.
	b := NewBuilder()
	for _, kv := range f.KV {
		if err := b.AddKV(kv.Key, kv.Value); err != nil {
			t.Fatal(err)
		}
	}
	for i := range f.Tensors {
		ti := &f.Tensors[i]
		data, err := ReadTensorRaw(bytes.NewReader(orig), f, ti)
		if err != nil {
			t.Fatal(err)
		}
		if err := b.AddTensor(ti.Name, ti.Type, ti.Dims, data); err != nil {
			t.Fatal(err)
		}
	}
	out.Reset()
	if _, err := b.WriteTo(&out); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out.Bytes(), orig) {
		t.Fatal("Builder output differs from the fixture")
	}
}

func TestSmallFileRoundTrip(t *testing.T) {
	data := smallFile(t)
	f, err := Read(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	if f.Size != int64(len(data)) || f.DataOffset%32 != 0 {
		t.Fatalf("size %d data offset %d", f.Size, f.DataOffset)
	}
	checks := []struct {
		key  string
		want any
	}{
		{"a.u8", uint8(200)}, {"a.i8", int8(-5)}, {"a.u16", uint16(60000)}, {"a.i16", int16(-30000)},
		{"a.u32", uint32(4000000000)}, {"a.i32", int32(-2000000000)}, {"a.f32", float32(1e-5)},
		{"a.bool", true}, {"a.u64", uint64(1<<63 + 7)}, {"a.i64", int64(-1 << 62)}, {"a.f64", math.Pi},
	}
	for _, c := range checks {
		v, ok := f.Lookup(c.key)
		if !ok || v.Interface() != c.want {
			t.Errorf("%s = %v (%v)", c.key, v, ok)
		}
	}
	if i, ok := f.Int("a.i8"); !ok || i != -5 {
		t.Errorf("Int(a.i8) = %d %v", i, ok)
	}
	if _, ok := f.Uint32("a.i8"); ok {
		t.Error("Uint32 of a negative value succeeded")
	}
	if _, ok := f.Uint32("a.u64"); ok {
		t.Error("Uint32 of 2^63+7 succeeded")
	}
	if _, ok := f.Int("a.u64"); ok {
		t.Error("Int of 2^63+7 succeeded")
	}
	if u, ok := f.Uint32("a.u16"); !ok || u != 60000 {
		t.Error("Uint32 of a u16")
	}
	if x, ok := f.Float32("a.f64"); ok {
		t.Errorf("Float32 of pi (f64) = %v", x)
	}
	if x, ok := f.Float64("a.f32"); !ok || x != float64(float32(1e-5)) {
		t.Error("Float64 of an f32")
	}
	if s, ok := f.Strings("a.strs"); !ok || len(s) != 3 || s[2] != "▁the" {
		t.Errorf("strs %q", s)
	}
	if x, ok := f.Int32s("a.i32s"); !ok || len(x) != 3 || x[1] != -2 {
		t.Errorf("i32s %v", x)
	}
	if x, ok := f.Uint32s("a.i32s"); ok {
		t.Errorf("Uint32s of negative values = %v", x)
	}
	if x, ok := f.Float32s("a.f32s"); !ok || x[1] != -1.5 {
		t.Errorf("f32s %v", x)
	}
	nested, _ := f.Lookup("a.nested")
	if ek, _ := nested.ElemKind(); ek != KindArray || nested.Len() != 3 {
		t.Errorf("nested %v", nested)
	}

	// Everything survives a rewrite through Write, byte for byte.
	var out bytes.Buffer
	if _, err := Write(&out, f, func(i int, w io.Writer) error {
		b, err := ReadTensorRaw(bytes.NewReader(data), f, &f.Tensors[i])
		if err == nil {
			_, err = w.Write(b)
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out.Bytes(), data) {
		t.Fatal("rewrite differs")
	}
	// Decoded values.
	wantF := []float32{1, -2, 0.5, 3.25, 0, 0, 100, 1e-3}
	for _, name := range []string{"t.f32", "t.f16", "t.bf16"} {
		ti, _ := f.Tensor(name)
		got, err := ReadTensorF32(bytes.NewReader(data), f, ti)
		if err != nil {
			t.Fatal(err)
		}
		for i, w := range wantF {
			switch name {
			case "t.f16":
				w = F16ToF32(F32ToF16(w))
			case "t.bf16":
				w = BF16ToF32(F32ToBF16(w))
			}
			if got[i] != w {
				t.Errorf("%s[%d] = %v, want %v", name, i, got[i], w)
			}
		}
	}
}

// TestTruncated cuts a valid file at every byte before the end of its
// last tensor: each prefix must fail cleanly.
func TestTruncated(t *testing.T) {
	data := smallFile(t)
	for n := 0; n < len(data); n++ {
		f, err := Read(bytes.NewReader(data[:n]), int64(n))
		if err == nil {
			t.Fatalf("prefix %d of %d parsed: %d tensors", n, len(data), len(f.Tensors))
		}
		if !errors.Is(err, ErrTruncated) && !errors.Is(err, ErrFormat) {
			t.Fatalf("prefix %d: error %v is neither truncated nor format", n, err)
		}
	}
	// A reader shorter than the stated size.
	if _, err := Read(bytes.NewReader(data[:100]), int64(len(data))); !errors.Is(err, ErrTruncated) {
		t.Fatalf("short reader: %v", err)
	}
}

func TestMalformed(t *testing.T) {
	big := strings.Repeat("k", MaxKeyLen+1)
	aligned := func(r *raw) []byte { return r.pad(32).b }
	cases := []struct {
		name string
		data []byte
		kind error
		msg  string // substring of the message
	}{
		{"empty", nil, ErrTruncated, "too short"},
		{"bad magic", []byte("GGML\x03\x00\x00\x00"), ErrFormat, "bad magic"},
		{"v1", head(1, 0, 0).b, ErrUnsupported, "version 1"},
		{"v0", head(0, 0, 0).b, ErrUnsupported, "version 0"},
		{"v4", head(4, 0, 0).b, ErrUnsupported, "unknown version 4"},
		{"big-endian", head(3<<24, 0, 0).b, ErrUnsupported, "big-endian"},
		{"kv count huge", head(3, 0, 1<<60).b, ErrFormat, "metadata count"},
		{"tensor count huge", head(3, 1<<50, 0).b, ErrFormat, "tensor count"},
		{"key length 2^60", head(3, 0, 1).u64(1 << 60).zeros(80).b, ErrFormat, "string length"},
		{"key length past end", head(3, 0, 1).u64(200).zeros(80).b, ErrTruncated, "string length 200"},
		{"key too long", head(3, 0, 1).str(big).u32(0).u8(0).b, ErrFormat, "exceeds the limit 65535"},
		{"empty key", head(3, 0, 1).str("").u32(0).u8(0).zeros(4).b, ErrFormat, "empty key"},
		{"string length 2^60", head(3, 0, 1).str("k").u32(uint32(KindString)).u64(1 << 60).zeros(60).b, ErrFormat, `"k": string length 1152921504606846976`},
		{"array count 2^50", head(3, 0, 1).str("k").u32(uint32(KindArray)).u32(uint32(KindUint8)).u64(1 << 50).zeros(60).b, ErrFormat, "array of 1125899906842624 u8"},
		{"string array count", head(3, 0, 1).str("k").u32(uint32(KindArray)).u32(uint32(KindString)).u64(10).zeros(60).b, ErrFormat, "array of 10 string"},
		{"nested too deep", nest(5), ErrFormat, "nested deeper than 4"},
		{"unknown kind", head(3, 0, 1).str("k").u32(13).u32(0).b, ErrFormat, "unknown value kind 13"},
		{"unknown elem kind", head(3, 0, 1).str("k").u32(uint32(KindArray)).u32(99).u64(0).b, ErrFormat, "unknown array element kind 99"},
		{"bool 2", head(3, 0, 1).str("k").u32(uint32(KindBool)).u8(2).b, ErrFormat, "bool byte 2"},
		{"bool array 3", head(3, 0, 1).str("k").u32(uint32(KindArray)).u32(uint32(KindBool)).u64(2).u8(1).u8(3).b, ErrFormat, "bool byte 3"},
		{"duplicate key", head(3, 0, 2).kvU32("k", 1).kvU32("k", 2).b, ErrFormat, `"k": duplicate`},
		{"alignment not pow2", head(3, 0, 1).kvU32(AlignmentKey, 24).b, ErrFormat, "not a power of two"},
		{"alignment zero", head(3, 0, 1).kvU32(AlignmentKey, 0).b, ErrFormat, "not a power of two"},
		{"alignment wrong kind", head(3, 0, 1).str(AlignmentKey).u32(uint32(KindUint64)).u64(32).b, ErrFormat, "want u32"},
		{"ndims 0", aligned(head(3, 1, 0).tensor("t", TypeF32, 0)), ErrFormat, `"t": 0 dimensions`},
		{"ndims 5", aligned(head(3, 1, 0).tensor("t", TypeF32, 0, 1, 1, 1, 1, 1)), ErrFormat, `"t": 5 dimensions`},
		{"empty name", aligned(head(3, 1, 0).tensor("", TypeF32, 0, 1)), ErrFormat, "empty name"},
		{"name too long", aligned(head(3, 1, 0).tensor(strings.Repeat("n", 256), TypeF32, 0, 1)), ErrFormat, "exceeds the limit 255"},
		{"dims overflow", aligned(head(3, 1, 0).tensor("t", TypeF32, 0, 1<<32, 1<<32)), ErrFormat, "overflows int64"},
		{"bytes overflow", aligned(head(3, 1, 0).tensor("t", TypeF32, 0, 1<<62)), ErrFormat, "byte size overflows"},
		{"row not block multiple", aligned(head(3, 1, 0).tensor("t", TypeQ8_0, 0, 33)), ErrFormat, "not a multiple of the block size 32"},
		{"unknown type", aligned(head(3, 1, 0).tensor("blk.0.attn_q.weight", 4, 0, 1)), ErrUnsupported, `tensor "blk.0.attn_q.weight": unknown ggml type 4`},
		{"unknown type 1000", aligned(head(3, 1, 0).tensor("x", 1000, 0, 1)), ErrUnsupported, "unknown ggml type 1000"},
		{"unaligned offset", head(3, 1, 0).tensor("t", TypeF32, 4, 1).pad(32).zeros(64).b, ErrFormat, "offset 4 is not a multiple of the alignment 32"},
		{"offset past end", aligned(head(3, 1, 0).tensor("blk.0.attn_q.weight", TypeF32, 1<<40, 1)), ErrFormat, `tensor "blk.0.attn_q.weight": offset 1099511627776`},
		{"data past end", head(3, 1, 0).tensor("t", TypeF32, 0, 16).pad(32).zeros(63).b, ErrFormat, "runs past end of file"},
		{"overlap", head(3, 2, 0).tensor("a", TypeF32, 0, 16).tensor("b", TypeF32, 32, 8).pad(32).zeros(128).b, ErrFormat, `"b": data at offset 32 overlaps tensor "a"`},
		{"duplicate tensor", head(3, 2, 0).tensor("a", TypeF32, 0, 1).tensor("a", TypeF32, 32, 1).pad(32).zeros(64).b, ErrFormat, `"a": duplicate name`},
		{"tensor info truncated", head(3, 1, 0).str("t").u32(1).b, ErrFormat, "tensor count 1"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Read(bytes.NewReader(c.data), int64(len(c.data)))
			if err == nil {
				t.Fatal("no error")
			}
			if !errors.Is(err, c.kind) {
				t.Fatalf("error %q is not %v", err, c.kind)
			}
			if !strings.Contains(err.Error(), c.msg) || !strings.HasPrefix(err.Error(), "gguf: ") {
				t.Fatalf("error %q does not contain %q", err, c.msg)
			}
		})
	}
}

// nest returns a file with one key holding arrays nested depth deep.
func nest(depth int) []byte {
	r := head(3, 0, 1).str("k").u32(uint32(KindArray))
	for i := 1; i < depth; i++ {
		r.u32(uint32(KindArray)).u64(1)
	}
	return r.u32(uint32(KindUint8)).u64(1).u8(7).b
}

func TestNestingLimit(t *testing.T) {
	d := nest(MaxArrayDepth)
	f, err := Read(bytes.NewReader(d), int64(len(d)))
	if err != nil {
		t.Fatalf("depth %d: %v", MaxArrayDepth, err)
	}
	v, _ := f.Lookup("k")
	for i := 1; i < MaxArrayDepth; i++ {
		v, _ = v.Index(0)
	}
	if x, _ := v.Index(0); x.Interface() != uint8(7) {
		t.Fatalf("innermost %v", v)
	}
}

func TestGapsAndOrder(t *testing.T) {
	// Tensors listed out of offset order, with a gap, and a custom
	// alignment: parse, then rewrite byte for byte.
	r := head(3, 2, 1).kvU32(AlignmentKey, 64).
		tensor("second", TypeF32, 128, 4).
		tensor("first", TypeF32, 0, 16).pad(64)
	for i := 0; i < 64; i++ {
		r.u8(byte(i))
	}
	r.zeros(64)
	r.bytes([]byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}).pad(64)
	data := r.b
	f, err := Read(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	if f.Alignment != 64 || f.DataOffset%64 != 0 {
		t.Fatalf("alignment %d offset %d", f.Alignment, f.DataOffset)
	}
	var out bytes.Buffer
	if _, err := Write(&out, f, func(i int, w io.Writer) error {
		b, err := ReadTensorRaw(bytes.NewReader(data), f, &f.Tensors[i])
		if err == nil {
			_, err = w.Write(b)
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out.Bytes(), data) {
		t.Fatal("rewrite differs")
	}
}

func TestZeroTensorsNoPadding(t *testing.T) {
	// A file of metadata only may end right after its header.
	d := head(2, 0, 1).kvU32("x", 1).b
	f, err := Read(bytes.NewReader(d), int64(len(d)))
	if err != nil || f.Version != 2 {
		t.Fatal(f, err)
	}
}

func TestValueOf(t *testing.T) {
	for _, x := range []any{uint8(1), int8(1), uint16(1), int16(1), uint32(1), int32(1), uint64(1), int64(1),
		float32(1), float64(1), true, "s", []uint8{1}, []int8{1}, []uint16{1}, []int16{1}, []uint32{1}, []int32{1},
		[]uint64{1}, []int64{1}, []float32{1}, []float64{1}, []bool{true}, []string{"a"}, []Value{Array([]string{})}} {
		v, err := ValueOf(x)
		if err != nil {
			t.Fatalf("%T: %v", x, err)
		}
		if v.String() == "" {
			t.Fatal("empty String")
		}
	}
	if _, err := ValueOf(1); !errors.Is(err, ErrInvalid) {
		t.Fatalf("int: %v", err)
	}
	var zero Value
	if zero.IsValid() || zero.Interface() != nil || zero.String() != "<invalid>" {
		t.Fatal("zero Value")
	}
}

// TestAllocBound checks Read's memory use on headers built to maximise
// it: many tiny metadata pairs, many empty nested arrays, many empty
// strings, many tensors. The documented bound is 10x the file size.
func TestAllocBound(t *testing.T) {
	const n = 20000
	key := func(i int) string {
		return string([]byte{'a' + byte(i%26), 'a' + byte(i/26%26), 'a' + byte(i/676%26), 'a' + byte(i/17576)})
	}
	kvs := head(3, 0, n)
	for i := 0; i < n; i++ {
		kvs.str(key(i)).u32(uint32(KindUint8)).u8(1)
	}
	nested := head(3, 0, 1).str("k").u32(uint32(KindArray)).u32(uint32(KindArray)).u64(n)
	for i := 0; i < n; i++ {
		nested.u32(uint32(KindUint8)).u64(0)
	}
	strs := head(3, 0, 1).str("k").u32(uint32(KindArray)).u32(uint32(KindString)).u64(n)
	for i := 0; i < n; i++ {
		strs.u64(0)
	}
	tensors := head(3, n, 0)
	for i := 0; i < n; i++ {
		tensors.tensor(key(i), TypeF32, 0, 0)
	}
	tensors.pad(32)
	for _, c := range []struct {
		name string
		data []byte
	}{{"kv", kvs.b}, {"nested", nested.b}, {"strings", strs.b}, {"tensors", tensors.b}} {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		f, err := Read(bytes.NewReader(c.data), int64(len(c.data)))
		runtime.ReadMemStats(&after)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		alloc := after.TotalAlloc - before.TotalAlloc
		ratio := float64(alloc) / float64(len(c.data))
		t.Logf("%s: %d bytes file, %d allocated (%.1fx)", c.name, len(c.data), alloc, ratio)
		if ratio > 10 {
			t.Errorf("%s: allocated %.1fx the file size", c.name, ratio)
		}
		runtime.KeepAlive(f)
	}
}

func TestTensorReadErrors(t *testing.T) {
	b := NewBuilder()
	if err := b.AddTensor("k", TypeQ5_K, []uint64{256}, make([]byte, 176)); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if _, err := b.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	r := bytes.NewReader(buf.Bytes())
	f, err := Read(r, int64(buf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	ti := &f.Tensors[0]
	if off, n, err := f.DataRange(ti); err != nil || off != f.DataOffset || n != 176 {
		t.Fatal(off, n, err)
	}
	if raw, err := ReadTensorRaw(r, f, ti); err != nil || len(raw) != 176 {
		t.Fatal(err)
	}
	if _, err := ReadTensorF32(r, f, ti); !errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), `"k"`) {
		t.Fatal(err)
	}
	if err := TensorRows(r, f, ti, nil); !errors.Is(err, ErrUnsupported) {
		t.Fatal(err)
	}
	// A hand-modified tensor pointing outside the file.
	bad := *ti
	bad.Offset = 1 << 20
	if _, err := ReadTensorRaw(r, f, &bad); !errors.Is(err, ErrFormat) {
		t.Fatal(err)
	}
	// A reader shorter than the File says.
	short := bytes.NewReader(buf.Bytes()[:buf.Len()-20])
	if _, err := ReadTensorRaw(short, f, ti); !errors.Is(err, ErrTruncated) {
		t.Fatal(err)
	}
	// A callback error stops TensorRawRows and comes back as is.
	stop := errors.New("stop")
	if err := TensorRawRows(r, f, ti, func(int, []byte) error { return stop }); err != stop {
		t.Fatal(err)
	}
}
