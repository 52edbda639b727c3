package gguf

import (
	"bytes"
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

func TestBuilderRoundTrip(t *testing.T) {
	b := NewBuilder()
	if err := b.SetVersion(2); err != nil {
		t.Fatal(err)
	}
	kvs := []KV{
		{"general.architecture", String("llama")},
		{AlignmentKey, Uint32(64)},
		{"x.u8s", Array([]uint8{0, 255})},
		{"x.i8s", Array([]int8{-128, 127})},
		{"x.u16s", Array([]uint16{1, 65535})},
		{"x.i16s", Array([]int16{-32768})},
		{"x.u32s", Array([]uint32{7})},
		{"x.u64s", Array([]uint64{1 << 63})},
		{"x.i64s", Array([]int64{-1})},
		{"x.f64s", Array([]float64{0.1, -0})},
		{"x.empty", Array([]string(nil))},
		{"x.nan", Float32(float32FromBits(0x7fc00123))},
		{"x.deep", Array([]Value{Array([]Value{Array([]Value{Array([]uint8{9})})})})},
	}
	for _, kv := range kvs {
		if err := b.AddKV(kv.Key, kv.Value); err != nil {
			t.Fatalf("%s: %v", kv.Key, err)
		}
	}
	// A streamed Q8_0 tensor produced block by block, a raw F16 one, and an
	// empty one.
	const rows, cols = 7, 96
	var want []byte
	src := func(w io.Writer) error {
		var x [32]float32
		for r := 0; r < rows; r++ {
			for c := 0; c < cols/32; c++ {
				for j := range x {
					x[j] = float32((r*cols+c*32+j)%17) - 8
				}
				d, q, err := QuantizeQ8_0Block(&x)
				if err != nil {
					return err
				}
				if _, err := w.Write(AppendQ8_0Block(nil, d, &q)); err != nil {
					return err
				}
			}
		}
		return nil
	}
	var wb bytes.Buffer
	if err := src(&wb); err != nil {
		t.Fatal(err)
	}
	want = wb.Bytes()
	if err := b.AddTensorFunc("q", TypeQ8_0, []uint64{cols, rows}, src); err != nil {
		t.Fatal(err)
	}
	h := EncodeF16([]float32{1, 2, 3})
	if err := b.AddTensor("h", TypeF16, []uint64{3}, h); err != nil {
		t.Fatal(err)
	}
	if err := b.AddTensor("e", TypeF32, []uint64{0, 4}, nil); err != nil {
		t.Fatal(err)
	}
	hdr, err := b.File()
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	n, err := b.WriteTo(&out)
	if err != nil {
		t.Fatal(err)
	}
	if n != int64(out.Len()) || n != hdr.Size {
		t.Fatalf("wrote %d, buffer %d, File().Size %d", n, out.Len(), hdr.Size)
	}
	data := out.Bytes()
	f, err := Read(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	if f.Version != 2 || f.Alignment != 64 || f.DataOffset != hdr.DataOffset {
		t.Fatalf("version %d alignment %d offset %d (%d)", f.Version, f.Alignment, f.DataOffset, hdr.DataOffset)
	}
	if len(f.KV) != len(kvs) {
		t.Fatalf("%d kvs", len(f.KV))
	}
	for i, kv := range kvs {
		if f.KV[i].Key != kv.Key || !f.KV[i].Value.Equal(kv.Value) {
			t.Errorf("kv %d: %s=%v, want %s=%v", i, f.KV[i].Key, f.KV[i].Value, kv.Key, kv.Value)
		}
	}
	for i := range f.Tensors {
		a, b := f.Tensors[i], hdr.Tensors[i]
		if a.Name != b.Name || a.Type != b.Type || a.Offset != b.Offset || !equalDims(a.Dims, b.Dims) || a.Offset%64 != 0 {
			t.Errorf("tensor %d: %+v vs %+v", i, a, b)
		}
	}
	rq, _ := ReadTensorRaw(bytes.NewReader(data), f, &f.Tensors[0])
	rh, _ := ReadTensorRaw(bytes.NewReader(data), f, &f.Tensors[1])
	re, err := ReadTensorRaw(bytes.NewReader(data), f, &f.Tensors[2])
	if !bytes.Equal(rq, want) || !bytes.Equal(rh, h) || len(re) != 0 || err != nil {
		t.Fatal("tensor bytes differ")
	}
	// Row-streamed raw reads see the same bytes.
	var rows2 []byte
	if err := TensorRawRows(bytes.NewReader(data), f, &f.Tensors[0], func(row int, raw []byte) error {
		rows2 = append(rows2, raw...)
		return nil
	}); err != nil || !bytes.Equal(rows2, want) {
		t.Fatal("TensorRawRows differs", err)
	}
	// Writing again gives the same bytes (the callback runs again).
	var again bytes.Buffer
	if _, err := b.WriteTo(&again); err != nil || !bytes.Equal(again.Bytes(), data) {
		t.Fatal("second WriteTo differs")
	}
	// WriteFile + Open.
	path := filepath.Join(t.TempDir(), "m.gguf")
	if err := b.WriteFile(path); err != nil {
		t.Fatal(err)
	}
	disk, _ := os.ReadFile(path)
	if !bytes.Equal(disk, data) {
		t.Fatal("WriteFile differs")
	}
	r, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	vals, err := r.TensorF32("h")
	if err != nil || len(vals) != 3 || vals[2] != 3 {
		t.Fatal(vals, err)
	}
}

func float32FromBits(b uint32) float32 { return math.Float32frombits(b) }

func TestBuilderErrors(t *testing.T) {
	b := NewBuilder()
	if err := b.SetVersion(1); !errors.Is(err, ErrInvalid) {
		t.Error("version 1 accepted")
	}
	if err := b.AddKV("k", Uint8(1)); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		err  error
		msg  string
	}{
		{"duplicate key", b.AddKV("k", Uint8(2)), `"k": duplicate`},
		{"empty key", b.AddKV("", Uint8(2)), "empty metadata key"},
		{"long key", b.AddKV(strings.Repeat("k", MaxKeyLen+1), Uint8(2)), "limit 65535"},
		{"invalid value", b.AddKV("z", Value{}), "invalid value"},
		{"alignment kind", b.AddKV(AlignmentKey, Uint64(32)), "want u32"},
		{"alignment value", b.AddKV(AlignmentKey, Uint32(3)), "power of two"},
		{"bad nesting", b.AddKV("n", Array([]Value{Uint8(1)})), "element 0 of an array of arrays is a u8"},
		{"too deep", b.AddKV("n", Array([]Value{Array([]Value{Array([]Value{Array([]Value{Array([]uint8{})})})})})), "nested deeper than 4"},
		{"data length", b.AddTensor("t", TypeF32, []uint64{4}, make([]byte, 15)), "15 bytes of data, want 16"},
		{"unknown type", b.AddTensor("t", GGMLType(5), []uint64{4}, nil), "unknown ggml type 5"},
		{"bad row", b.AddTensor("t", TypeQ4_K, []uint64{255}, nil), "not a multiple of the block size 256"},
		{"no dims", b.AddTensor("t", TypeF32, nil, nil), "0 dimensions"},
		{"empty name", b.AddTensor("", TypeF32, []uint64{1}, make([]byte, 4)), "empty name"},
		{"nil func", b.AddTensorFunc("t", TypeF32, []uint64{1}, nil), "nil write function"},
	}
	for _, c := range cases {
		if !errors.Is(c.err, ErrInvalid) && !errors.Is(c.err, ErrUnsupported) {
			t.Errorf("%s: %v", c.name, c.err)
			continue
		}
		if !strings.Contains(c.err.Error(), c.msg) {
			t.Errorf("%s: %q lacks %q", c.name, c.err, c.msg)
		}
	}
	if err := b.AddTensor("t", TypeF32, []uint64{1}, make([]byte, 4)); err != nil {
		t.Fatal(err)
	}
	if err := b.AddTensor("t", TypeF32, []uint64{1}, make([]byte, 4)); err == nil || !strings.Contains(err.Error(), "duplicate name") {
		t.Fatal("duplicate tensor accepted", err)
	}

	// Callbacks writing too little, too much, or failing.
	boom := errors.New("boom")
	for _, c := range []struct {
		name string
		fn   func(w io.Writer) error
		want string
		is   error
	}{
		{"short", func(w io.Writer) error { _, err := w.Write(make([]byte, 7)); return err }, "wrote 7 bytes, want 8", ErrInvalid},
		{"long", func(w io.Writer) error { _, err := w.Write(make([]byte, 9)); return err }, "more bytes than the tensor holds", ErrInvalid},
		{"long ignored", func(w io.Writer) error { w.Write(make([]byte, 9)); return nil }, "more bytes", ErrInvalid},
		{"fails", func(w io.Writer) error { return boom }, "boom", boom},
	} {
		b := NewBuilder()
		if err := b.AddTensorFunc("s", TypeF32, []uint64{2}, c.fn); err != nil {
			t.Fatal(err)
		}
		_, err := b.WriteTo(io.Discard)
		if err == nil || !errors.Is(err, c.is) || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), `"s"`) {
			t.Errorf("%s: %v", c.name, err)
		}
	}

	// Write refuses Files that would not parse back.
	data := func(i int, w io.Writer) error { return nil }
	bad := []struct {
		name string
		f    File
		msg  string
	}{
		{"version", File{Version: 1}, "version 1"},
		{"overlap", File{Version: 3, Tensors: []TensorInfo{{Name: "a", Dims: []uint64{16}}, {Name: "b", Dims: []uint64{1}, Offset: 32}}}, "overlaps"},
		{"unaligned", File{Version: 3, Tensors: []TensorInfo{{Name: "a", Dims: []uint64{1}, Offset: 8}}}, "not a multiple"},
		{"dup", File{Version: 3, Tensors: []TensorInfo{{Name: "a", Dims: []uint64{1}}, {Name: "a", Dims: []uint64{1}, Offset: 32}}}, "duplicate"},
		{"alignment", File{Version: 3, Alignment: 64}, "disagrees"},
		{"dup key", File{Version: 3, KV: []KV{{"a", Uint8(1)}, {"a", Uint8(1)}}}, "duplicate"},
	}
	for _, c := range bad {
		if _, err := Write(io.Discard, &c.f, data); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("%s: %v", c.name, err)
		}
	}
}

// TestStreamingMemory writes a 64 MiB Q8_0 tensor through a callback and
// checks the writer allocated only a small fraction of that.
func TestStreamingMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	const blocks = 2 << 20 // 2M blocks * 34 bytes = 68 MB
	var x [32]float32
	for j := range x {
		x[j] = float32(j) - 16
	}
	d, q, _ := QuantizeQ8_0Block(&x)
	blk := AppendQ8_0Block(nil, d, &q)
	b := NewBuilder()
	if err := b.AddTensorFunc("big", TypeQ8_0, []uint64{32 * 1024, blocks / 1024}, func(w io.Writer) error {
		for i := 0; i < blocks; i++ {
			if _, err := w.Write(blk); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	n, err := b.WriteTo(io.Discard)
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatal(err)
	}
	if n < blocks*34 {
		t.Fatalf("wrote %d", n)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 4<<20 {
		t.Fatalf("streaming %d bytes allocated %d", n, alloc)
	}
}
