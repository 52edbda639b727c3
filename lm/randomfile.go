package lm

import (
	"fmt"
	"io"
	"strings"

	"github.com/tessera-net/tessera/lm/gguf"
)

// WriteRandom writes the random model of d and seed as a GGUF file: Q8_0 tensors (F32
// where a row is not a whole number of 32-blocks, and for the norms), with the
// vocabulary of Random. Loading it gives exactly the model Random makes. Tensors are
// generated as they are written, so the file is never held in memory.
func WriteRandom(w io.Writer, d Dims, seed [32]byte) (int64, error) {
	c, err := d.Config()
	if err != nil {
		return 0, err
	}
	b := gguf.NewBuilder()
	kv := []struct {
		k string
		v gguf.Value
	}{
		{"general.architecture", gguf.String("llama")},
		{"general.name", gguf.String(c.Name)},
		{"general.file_type", gguf.Uint32(7)}, // mostly Q8_0
		{"llama.context_length", gguf.Uint32(uint32(c.Context))},
		{"llama.embedding_length", gguf.Uint32(uint32(c.Dim))},
		{"llama.block_count", gguf.Uint32(uint32(c.Layers))},
		{"llama.feed_forward_length", gguf.Uint32(uint32(c.FFN))},
		{"llama.rope.dimension_count", gguf.Uint32(uint32(c.RopeDims))},
		{"llama.rope.freq_base", gguf.Float32(10000)},
		{"llama.attention.head_count", gguf.Uint32(uint32(c.Heads))},
		{"llama.attention.head_count_kv", gguf.Uint32(uint32(c.KVHeads))},
		{"llama.attention.layer_norm_rms_epsilon", gguf.Float32(randomEps)},
	}
	if v, ok := randomVocab(c.Vocab); ok {
		kv = append(kv, []struct {
			k string
			v gguf.Value
		}{
			{"tokenizer.ggml.model", gguf.String("llama")},
			{"tokenizer.ggml.tokens", gguf.Array(v.Tokens)},
			{"tokenizer.ggml.scores", gguf.Array(v.Scores)},
			{"tokenizer.ggml.token_type", gguf.Array(v.Types)},
			{"tokenizer.ggml.bos_token_id", gguf.Uint32(uint32(v.BOS))},
			{"tokenizer.ggml.eos_token_id", gguf.Uint32(uint32(v.EOS))},
			{"tokenizer.ggml.unknown_token_id", gguf.Uint32(uint32(v.UNK))},
			{"tokenizer.ggml.add_bos_token", gguf.Bool(true)},
		}...)
	}
	for _, p := range kv {
		if err := b.AddKV(p.k, p.v); err != nil {
			return 0, err
		}
	}
	src := &randomSource{c: c, seed: seed}
	for _, s := range c.shapes() {
		s := s
		dims := []uint64{uint64(s.cols), uint64(s.rows)}
		typ := gguf.TypeQ8_0
		if strings.HasSuffix(s.name, "norm.weight") {
			dims, typ = dims[:1], gguf.TypeF32
		} else if s.cols%32 != 0 {
			typ = gguf.TypeF32
		}
		k := randomShift(s.name, s.cols)
		err := b.AddTensorFunc(s.name, typ, dims, func(w io.Writer) error {
			return src.rows(s.name, func(_ int, vals []float32) error {
				if typ == gguf.TypeF32 {
					_, err := w.Write(gguf.EncodeF32(vals))
					return err
				}
				return writeQ8Row(w, vals, k)
			})
		})
		if err != nil {
			return 0, fmt.Errorf("lm: tensor %q: %w", s.name, err)
		}
	}
	return b.WriteTo(w)
}

// writeQ8Row writes a row of q·2^−k values as Q8_0 blocks with d = 2^−k (exact in f16
// for k ≤ 24) and the q back out of the values.
func writeQ8Row(w io.Writer, vals []float32, k int) error {
	d := gguf.F32ToF16(float32(1) / float32(uint32(1)<<uint(k)))
	buf := make([]byte, 0, len(vals)/32*34)
	var q [32]int8
	for b := 0; b < len(vals); b += 32 {
		for i := range q {
			q[i] = int8(vals[b+i] * float32(uint32(1)<<uint(k)))
		}
		buf = gguf.AppendQ8_0Block(buf, d, &q)
	}
	_, err := w.Write(buf)
	return err
}
