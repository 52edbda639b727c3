package lm

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/tessera-net/tessera/lm/gguf"
)

// TestRandomFileIsRandomModel: the file WriteRandom writes loads into exactly the model
// Random makes in memory, and the same seed writes the same bytes.
func TestRandomFileIsRandomModel(t *testing.T) {
	for _, d := range []Dims{Presets["tiny"], {Vocab: 300, Dim: 8, Layers: 1, Heads: 2, KVHeads: 1, FFN: 24, Context: 64}} {
		var a, b bytes.Buffer
		if _, err := WriteRandom(&a, d, testSeed); err != nil {
			t.Fatal(err)
		}
		if _, err := WriteRandom(&b, d, testSeed); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(a.Bytes(), b.Bytes()) {
			t.Fatal("the same seed wrote different files")
		}
		path := filepath.Join(t.TempDir(), "random.gguf")
		if err := os.WriteFile(path, a.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		fromFile, err := Load(path, Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer fromFile.Close()
		inMemory, err := Random(d, testSeed, Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer inMemory.Close()
		if !reflect.DeepEqual(fromFile.layers, inMemory.layers) || !reflect.DeepEqual(fromFile.embed, inMemory.embed) ||
			!reflect.DeepEqual(fromFile.out, inMemory.out) || !reflect.DeepEqual(fromFile.norm, inMemory.norm) {
			t.Fatalf("%+v: the loaded file's weights differ from the in-memory model's", d)
		}
		if fromFile.Config != inMemory.Config {
			t.Fatalf("configs differ: %+v vs %+v", fromFile.Config, inMemory.Config)
		}
		other := testSeed
		other[0] ^= 1
		m2, err := Random(d, other, Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer m2.Close()
		if reflect.DeepEqual(m2.embed, inMemory.embed) {
			t.Fatal("another seed made the same weights")
		}
		p := []int32{1, 5, 9}
		s1, _, err := fromFile.Generate(context.Background(), Request{Prompt: p, MaxTokens: 4, IgnoreEOS: true}, nil)
		if err != nil {
			t.Fatal(err)
		}
		s2, _, _ := inMemory.Generate(context.Background(), Request{Prompt: p, MaxTokens: 4, IgnoreEOS: true}, nil)
		if !reflect.DeepEqual(s1, s2) {
			t.Fatal("the file's model generates differently")
		}
	}
}

func TestParseDims(t *testing.T) {
	d, err := ParseDims("vocab=100,dim=16,layers=2,heads=4,ffn=32")
	if err != nil || d != (Dims{Vocab: 100, Dim: 16, Layers: 2, Heads: 4, KVHeads: 4, FFN: 32, Context: 2048}) {
		t.Fatalf("%+v %v", d, err)
	}
	for _, bad := range []string{"", "dim=8", "vocab=x,dim=8,layers=1,heads=1,ffn=1", "size=3", "vocab=10,dim=8,layers=1,heads=3,ffn=4"} {
		d, err := ParseDims(bad)
		if err == nil {
			_, err = d.Config()
		}
		if err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

// TestLoadRefusesBadModels: a file with a wrong shape, a missing tensor or bad metadata
// gets an error that names the problem.
func TestLoadRefusesBadModels(t *testing.T) {
	var buf bytes.Buffer
	d := Dims{Vocab: 300, Dim: 8, Layers: 1, Heads: 2, KVHeads: 1, FFN: 24, Context: 64}
	if _, err := WriteRandom(&buf, d, testSeed); err != nil {
		t.Fatal(err)
	}
	good, err := gguf.Read(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	edit := func(fn func(f *gguf.File)) *gguf.File {
		f := *good
		f.KV = append([]gguf.KV(nil), good.KV...)
		f.Tensors = append([]gguf.TensorInfo(nil), good.Tensors...)
		fn(&f)
		return &f
	}
	setKV := func(f *gguf.File, key string, v gguf.Value) {
		for i := range f.KV {
			if f.KV[i].Key == key {
				f.KV[i].Value = v
			}
		}
	}
	for _, c := range []struct {
		name, want string
		f          *gguf.File
	}{
		{"arch", `architecture "qwen9"`, edit(func(f *gguf.File) { setKV(f, "general.architecture", gguf.String("qwen9")) })},
		{"heads", "not a multiple of the head count", edit(func(f *gguf.File) { setKV(f, "llama.attention.head_count", gguf.Uint32(3)) })},
		{"eps", "epsilon", edit(func(f *gguf.File) { setKV(f, "llama.attention.layer_norm_rms_epsilon", gguf.Float32(-1)) })},
		{"missing", `"blk.0.ffn_up.weight" is missing`, edit(func(f *gguf.File) {
			for i := range f.Tensors {
				if f.Tensors[i].Name == "blk.0.ffn_up.weight" {
					f.Tensors[i].Name = "blk.0.ffn_upp.weight"
				}
			}
		})},
		{"shape", `"blk.0.attn_k.weight" is`, edit(func(f *gguf.File) {
			for i := range f.Tensors {
				if f.Tensors[i].Name == "blk.0.attn_k.weight" {
					f.Tensors[i].Dims = []uint64{8, 6}
				}
			}
		})},
		{"tokens", "tokenizer.ggml.tokens", edit(func(f *gguf.File) { setKV(f, "tokenizer.ggml.tokens", gguf.Uint32(1)) })},
	} {
		_, err := LoadFile(bytes.NewReader(buf.Bytes()), c.f, Options{})
		if err == nil || !errors.Is(err, ErrModel) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an ErrModel naming %q", c.name, err, c.want)
		}
	}
	if _, err := Load(filepath.Join(t.TempDir(), "absent.gguf"), Options{}); err == nil {
		t.Error("a missing file loaded")
	}
	trunc := filepath.Join(t.TempDir(), "t.gguf")
	os.WriteFile(trunc, buf.Bytes()[:buf.Len()/2], 0o644)
	if _, err := Load(trunc, Options{}); err == nil {
		t.Error("a truncated file loaded")
	}
}
