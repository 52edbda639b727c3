package lm

import (
	"bytes"
	"context"
	"testing"

	"github.com/tessera-net/tessera/lm/gguf"
)

// FuzzLoad feeds damaged model files to the loader: it must refuse them with an error or
// load a model that runs, never panic.
func FuzzLoad(f *testing.F) {
	var buf bytes.Buffer
	if _, err := WriteRandom(&buf, Dims{Vocab: 260, Dim: 8, Layers: 1, Heads: 2, KVHeads: 1, FFN: 16, Context: 16}, testSeed); err != nil {
		f.Fatal(err)
	}
	f.Add(buf.Bytes())
	f.Fuzz(func(t *testing.T, b []byte) {
		file, err := gguf.Read(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			return
		}
		for _, ti := range file.Tensors {
			if ti.Elements() > 1<<16 { // keep each input cheap
				return
			}
		}
		m, err := LoadFile(bytes.NewReader(b), file, Options{})
		if err != nil {
			return
		}
		defer m.Close()
		if _, _, err := m.Generate(context.Background(), Request{Prompt: []int32{0}, MaxTokens: 2, IgnoreEOS: true}, nil); err != nil {
			t.Fatalf("a model that loaded does not run: %v", err)
		}
	})
}
