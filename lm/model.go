package lm

import (
	"fmt"

	"github.com/tessera-net/tessera/lm/kernel"
	"github.com/tessera-net/tessera/lm/tokenizer"
)

// Model is a loaded model: its shape, its tokenizer (nil for a model without a text
// vocabulary, such as a Proof of Compute model) and its weights in the engine's
// integer format. A Model is read-only once made and safe for concurrent use; all
// per-sequence state lives in a Sequence.
type Model struct {
	Config    Config
	Tokenizer *tokenizer.Tokenizer

	embed    *Linear // token embeddings, Vocab × Dim
	layers   []layer
	norm     []int32 // output norm, Q16
	out      *Linear // output projection, Vocab × Dim (the embeddings when tied)
	isd      int64   // 1/sqrt(head dimension), Q16
	ropeFreq []int64 // fixed.RopeFreqs(RopeBase, RopeDims)

	pool *kernel.Pool
}

type layer struct {
	attnNorm, ffnNorm []int32 // Q16
	wq, wk, wv, wo    *Linear
	gate, up, down    *Linear
}

// Bytes is the memory the model's weights take.
func (m *Model) Bytes() int64 {
	n := m.embed.Bytes() + 4*int64(len(m.norm))
	if m.out != m.embed {
		n += m.out.Bytes()
	}
	for _, l := range m.layers {
		n += 4 * int64(len(l.attnNorm)+len(l.ffnNorm))
		for _, w := range []*Linear{l.wq, l.wk, l.wv, l.wo, l.gate, l.up, l.down} {
			n += w.Bytes()
		}
	}
	return n
}

// Options tune how a model runs; none of them changes a single output bit.
type Options struct {
	// Threads is how many goroutines split each matrix product (default 1; the CLI and
	// server default to the number of CPUs).
	Threads int
}

// Close stops the model's worker goroutines.
func (m *Model) Close() {
	if m.pool != nil {
		m.pool.Close()
	}
}

func (o Options) threads() int {
	if o.Threads < 1 {
		return 1
	}
	return o.Threads
}

// shapes lists every tensor a llama model has, with its (rows, cols) in the engine's
// orientation (out × in).
func (c *Config) shapes() []tensorShape {
	hd, kv := c.HeadDim(), c.KVDim()
	s := []tensorShape{{"token_embd.weight", c.Vocab, c.Dim}, {"output_norm.weight", 1, c.Dim}}
	for i := 0; i < c.Layers; i++ {
		p := fmt.Sprintf("blk.%d.", i)
		s = append(s,
			tensorShape{p + "attn_norm.weight", 1, c.Dim},
			tensorShape{p + "attn_q.weight", c.Heads * hd, c.Dim},
			tensorShape{p + "attn_k.weight", kv, c.Dim},
			tensorShape{p + "attn_v.weight", kv, c.Dim},
			tensorShape{p + "attn_output.weight", c.Dim, c.Heads * hd},
			tensorShape{p + "ffn_norm.weight", 1, c.Dim},
			tensorShape{p + "ffn_gate.weight", c.FFN, c.Dim},
			tensorShape{p + "ffn_up.weight", c.FFN, c.Dim},
			tensorShape{p + "ffn_down.weight", c.Dim, c.FFN},
		)
	}
	return append(s, tensorShape{"output.weight", c.Vocab, c.Dim})
}

type tensorShape struct {
	name       string
	rows, cols int
}
