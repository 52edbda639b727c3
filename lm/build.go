package lm

import (
	"errors"
	"fmt"
	"strings"
	"sync"

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
	size := 0
	for _, s := range c.shapes() {
		if _, _, ok := src.shape(s.name); ok && !strings.HasSuffix(s.name, "norm.weight") {
			size += arenaBytes(s.rows, s.cols)
		}
	}
	a, err := newArena(size)
	if err != nil {
		return nil, err
	}
	a.release(m)
	q := newParallelQuantizer(o.threads())
	matrix := func(name string, rows, cols int) (*Linear, error) {
		l := newLinear(a, rows, cols)
		if err := q.run(src, name, l); err != nil {
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

// parallelQuantizer quantises a tensor's rows on several goroutines: rows are copied
// into a batch of about 4 MiB as the source gives them, and each full batch is split
// across the workers. Every row is quantised on its own, so the split changes no bit.
type parallelQuantizer struct {
	rqs   []rowQuantizer
	batch []float32
}

func newParallelQuantizer(threads int) *parallelQuantizer {
	return &parallelQuantizer{rqs: make([]rowQuantizer, threads)}
}

func (p *parallelQuantizer) run(src source, name string, l *Linear) error {
	cols := l.Cols()
	per := max(1, min(l.Rows(), (4<<20)/(4*max(cols, 1))))
	if cap(p.batch) < per*cols {
		p.batch = make([]float32, per*cols)
	}
	batch := p.batch[:per*cols]
	first, n := 0, 0
	flush := func() error {
		errs := make([]error, len(p.rqs))
		var wg sync.WaitGroup
		for t := range p.rqs {
			wg.Add(1)
			go func(t int) {
				defer wg.Done()
				for i := t; i < n; i += len(p.rqs) {
					if err := p.rqs[t].quantize(l, first+i, batch[i*cols:(i+1)*cols]); err != nil {
						errs[t] = err
						return
					}
				}
			}(t)
		}
		wg.Wait()
		first, n = first+n, 0
		return errors.Join(errs...)
	}
	err := src.rows(name, func(j int, vals []float32) error {
		if len(vals) != cols {
			return fmt.Errorf("row %d has %d values, want %d", j, len(vals), cols)
		}
		copy(batch[n*cols:], vals)
		if n++; n == per {
			return flush()
		}
		return nil
	})
	if err == nil && n > 0 {
		err = flush()
	}
	return err
}
