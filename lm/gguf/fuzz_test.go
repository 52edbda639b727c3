package gguf

import (
	"bytes"
	"errors"
	"flag"
	"io"
	"os"
	"testing"
)

// FuzzRead parses arbitrary bytes. Whatever parses must decode without
// panicking, and must survive a rewrite with Write: the re-read header and
// tensor bytes equal the original ones.
func FuzzRead(f *testing.F) {
	f.Add(smallFile(f))
	f.Add(nest(3))
	f.Add(head(3, 2, 1).kvU32(AlignmentKey, 64).tensor("b", TypeF32, 128, 4).tensor("a", TypeQ8_0, 0, 32).pad(64).zeros(192).b)
	f.Add(head(2, 1, 1).str("k").u32(uint32(KindArray)).u32(uint32(KindString)).u64(2).str("x").str("").
		tensor("z", TypeF16, 0, 0, 3).pad(32).b)
	if p, err := findFixture(); err == nil {
		if b, err := os.ReadFile(p); err == nil {
			if flag.Lookup("test.fuzz").Value.String() == "" {
				f.Add(b) // whole, as a regression seed only: 1.7 MB stalls the fuzzer
			}
			if mini := miniFixture(f, b); mini != nil {
				f.Add(mini)
			}
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := Read(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %v is not an *Error", err)
			}
			return
		}
		for _, kv := range file.KV {
			_ = kv.Value.String()
			v, ok := file.Lookup(kv.Key)
			if !ok || !v.Equal(kv.Value) {
				t.Fatalf("Lookup(%q)", kv.Key)
			}
			file.Int(kv.Key)
			file.Float32(kv.Key)
			file.Int32s(kv.Key)
			file.Uint32s(kv.Key)
			file.Float32s(kv.Key)
		}
		r := bytes.NewReader(data)
		raws := make([][]byte, len(file.Tensors))
		for i := range file.Tensors {
			ti := &file.Tensors[i]
			if raws[i], err = ReadTensorRaw(r, file, ti); err != nil {
				t.Fatalf("tensor %q raw: %v", ti.Name, err)
			}
			if ti.Type.CanDecode() && ti.Elements() <= 1<<22 {
				vals, err := ReadTensorF32(r, file, ti)
				if err != nil || uint64(len(vals)) != ti.Elements() {
					t.Fatalf("tensor %q decode: %v", ti.Name, err)
				}
				if err := TensorRows(r, file, ti, func(int, []float32) error { return nil }); err != nil {
					t.Fatal(err)
				}
			}
		}
		var out bytes.Buffer
		if _, err := Write(&out, file, func(i int, w io.Writer) error {
			_, err := w.Write(raws[i])
			return err
		}); err != nil {
			t.Fatalf("rewrite: %v", err)
		}
		f2, err := Read(bytes.NewReader(out.Bytes()), int64(out.Len()))
		if err != nil {
			t.Fatalf("re-read: %v", err)
		}
		if f2.Version != file.Version || len(f2.KV) != len(file.KV) || len(f2.Tensors) != len(file.Tensors) ||
			f2.DataOffset != file.DataOffset || f2.Alignment != file.Alignment {
			t.Fatal("re-read header differs")
		}
		for i := range file.KV {
			if f2.KV[i].Key != file.KV[i].Key || !f2.KV[i].Value.Equal(file.KV[i].Value) {
				t.Fatalf("kv %d differs", i)
			}
		}
		for i := range file.Tensors {
			a, b := &file.Tensors[i], &f2.Tensors[i]
			if a.Name != b.Name || a.Type != b.Type || a.Offset != b.Offset || !equalDims(a.Dims, b.Dims) {
				t.Fatalf("tensor %d differs", i)
			}
			rb, err := ReadTensorRaw(bytes.NewReader(out.Bytes()), f2, b)
			if err != nil || !bytes.Equal(rb, raws[i]) {
				t.Fatalf("tensor %q bytes differ", a.Name)
			}
		}
	})
}

// miniFixture rebuilds the fixture with every array cut to 64 elements and
// every 32000-long dimension cut to 64: the same structure in a few KB.
func miniFixture(tb testing.TB, orig []byte) []byte {
	f, err := Read(bytes.NewReader(orig), int64(len(orig)))
	if err != nil {
		tb.Fatal(err)
	}
	b := NewBuilder()
	for _, kv := range f.KV {
		v := kv.Value
		switch a := v.Interface().(type) {
		case []string:
			v = Array(a[:min(64, len(a))])
		case []float32:
			v = Array(a[:min(64, len(a))])
		case []int32:
			v = Array(a[:min(64, len(a))])
		}
		if err := b.AddKV(kv.Key, v); err != nil {
			tb.Fatal(err)
		}
	}
	for i := range f.Tensors {
		t := f.Tensors[i]
		raw, err := ReadTensorRaw(bytes.NewReader(orig), f, &t)
		if err != nil {
			tb.Fatal(err)
		}
		dims := append([]uint64(nil), t.Dims...)
		for j := range dims {
			if dims[j] == 32000 {
				dims[j] = 64
			}
		}
		t.Dims = dims
		if err := b.AddTensor(t.Name, t.Type, dims, raw[:t.Bytes()]); err != nil {
			tb.Fatal(err)
		}
	}
	var out bytes.Buffer
	if _, err := b.WriteTo(&out); err != nil {
		tb.Fatal(err)
	}
	return out.Bytes()
}
