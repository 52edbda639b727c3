package lm

import (
	"fmt"

	"github.com/tessera-net/tessera/lm/fixed"
	"github.com/tessera-net/tessera/lm/kernel"
	"github.com/tessera-net/tessera/lm/tokenizer"
)

// source gives a model's tensors row by row, as exact float32 values: a GGUF file's
// decoded tensors, or a random model's generated ones.
type source interface {
	// shape reports a tensor's rows and columns, and false when it is absent.
	shape(name string) (rows, cols int, ok bool)
	// rows calls fn with each row in order; vals is reused between calls.
	rows(name string, fn func(j int, vals []float32) error) error
}

// build quantises src's tensors into a model of shape c.
func build(c Config, tok *tokenizer.Tokenizer, src source, o Options) (*Model, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	for _, s := range c.shapes() {
		rows, cols, ok := src.shape(s.name)
		if !ok {
			if s.name == "output.weight" {
				continue // tied to the embeddings
			}
			return nil, fmt.Errorf("%w: tensor %q is missing", ErrModel, s.name)
		}
		if rows != s.rows || cols != s.cols {
			return nil, fmt.Errorf("%w: tensor %q is %d×%d, want %d×%d (rows × columns)",
				ErrModel, s.name, rows, cols, s.rows, s.cols)
		}
	}
	m := &Model{Config: c, Tokenizer: tok, layers: make([]layer, c.Layers)}
	var rq rowQuantizer
	matrix := func(name string, rows, cols int) (*Linear, error) {
		l := newLinear(rows, cols)
		err := src.rows(name, func(j int, vals []float32) error { return rq.quantize(l, j, vals) })
		if err != nil {
			return nil, fmt.Errorf("%w: tensor %q: %w", ErrModel, name, err)
		}
		return l, nil
	}
	vector := func(name string) ([]int32, error) {
		out := make([]int32, c.Dim)
		err := src.rows(name, func(_ int, vals []float32) error {
			for k, v := range vals {
				q, err := fixed.FromFloat32(v, 16)
				if err != nil || q < -1<<31 || q >= 1<<31 {
					return fmt.Errorf("element %d is %v, outside ±32768", k, v)
				}
				out[k] = int32(q)
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("%w: tensor %q: %w", ErrModel, name, err)
		}
		return out, nil
	}
	var err error
	if m.embed, err = matrix("token_embd.weight", c.Vocab, c.Dim); err != nil {
		return nil, err
	}
	if m.norm, err = vector("output_norm.weight"); err != nil {
		return nil, err
	}
	hd := c.HeadDim()
	for i := range m.layers {
		L := &m.layers[i]
		p := fmt.Sprintf("blk.%d.", i)
		for _, t := range []struct {
			dst        **Linear
			name       string
			rows, cols int
		}{
			{&L.wq, "attn_q.weight", c.Heads * hd, c.Dim},
			{&L.wk, "attn_k.weight", c.KVDim(), c.Dim},
			{&L.wv, "attn_v.weight", c.KVDim(), c.Dim},
			{&L.wo, "attn_output.weight", c.Dim, c.Heads * hd},
			{&L.gate, "ffn_gate.weight", c.FFN, c.Dim},
			{&L.up, "ffn_up.weight", c.FFN, c.Dim},
			{&L.down, "ffn_down.weight", c.Dim, c.FFN},
		} {
			if *t.dst, err = matrix(p+t.name, t.rows, t.cols); err != nil {
				return nil, err
			}
		}
		if L.attnNorm, err = vector(p + "attn_norm.weight"); err != nil {
			return nil, err
		}
		if L.ffnNorm, err = vector(p + "ffn_norm.weight"); err != nil {
			return nil, err
		}
	}
	if _, _, ok := src.shape("output.weight"); ok {
		if m.out, err = matrix("output.weight", c.Vocab, c.Dim); err != nil {
			return nil, err
		}
	} else {
		m.out = m.embed
	}
	m.isd = fixed.Rshr(int64(fixed.InvSqrt(uint64(hd)<<32)), 16)
	if m.ropeFreq, err = fixed.RopeFreqs(c.RopeBase, c.RopeDims); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrModel, err)
	}
	m.pool = kernel.NewPool(o.threads())
	return m, nil
}
