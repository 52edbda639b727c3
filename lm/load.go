package lm

import (
	"fmt"
	"io"
	"os"

	"github.com/tessera-net/tessera/lm/fixed"
	"github.com/tessera-net/tessera/lm/gguf"
	"github.com/tessera-net/tessera/lm/tokenizer"
)

// Load reads a GGUF model file. The file is read tensor by tensor and row by row, each
// row quantised as it is read, so loading needs the model's memory and one row more.
func Load(path string, o Options) (*Model, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("lm: %w", err)
	}
	defer fh.Close()
	st, err := fh.Stat()
	if err != nil {
		return nil, fmt.Errorf("lm: %w", err)
	}
	f, err := gguf.Read(fh, st.Size())
	if err != nil {
		return nil, fmt.Errorf("lm: %s: %w", path, err)
	}
	m, err := LoadFile(fh, f, o)
	if err != nil {
		return nil, fmt.Errorf("lm: %s: %w", path, err)
	}
	return m, nil
}

// LoadFile builds a model from a parsed GGUF file whose bytes r holds.
func LoadFile(r io.ReaderAt, f *gguf.File, o Options) (*Model, error) {
	c, err := ConfigOf(f)
	if err != nil {
		return nil, err
	}
	tok, err := TokenizerOf(f)
	if err != nil {
		return nil, err
	}
	return build(c, tok, &fileSource{r: r, f: f}, o)
}

// ConfigOf reads a model's shape from a GGUF file's metadata, with llama.cpp's defaults
// for the optional keys (key/value heads = heads, rope dimensions = head dimension, rope
// base 10000, epsilon 1e-5). The vocabulary size is the embedding tensor's.
func ConfigOf(f *gguf.File) (Config, error) {
	var c Config
	arch, ok := f.String("general.architecture")
	if !ok {
		return c, fmt.Errorf("%w: general.architecture is missing", ErrModel)
	}
	c.Arch = arch
	c.Name, _ = f.String("general.name")
	if arch != "llama" {
		return c, fmt.Errorf("%w: architecture %q is not supported (llama is)", ErrModel, arch)
	}
	need := func(key string, dst *int) error {
		v, ok := f.Uint64(arch + "." + key)
		if !ok {
			return fmt.Errorf("%w: %s.%s is missing or not an unsigned integer", ErrModel, arch, key)
		}
		if v > 1<<31 {
			return fmt.Errorf("%w: %s.%s is %d, too large", ErrModel, arch, key, v)
		}
		*dst = int(v)
		return nil
	}
	for _, k := range []struct {
		key string
		dst *int
	}{
		{"context_length", &c.Context}, {"embedding_length", &c.Dim}, {"block_count", &c.Layers},
		{"feed_forward_length", &c.FFN}, {"attention.head_count", &c.Heads},
	} {
		if err := need(k.key, k.dst); err != nil {
			return c, err
		}
	}
	c.KVHeads = c.Heads
	if _, ok := f.Lookup(arch + ".attention.head_count_kv"); ok {
		if err := need("attention.head_count_kv", &c.KVHeads); err != nil {
			return c, err
		}
	}
	if c.Heads > 0 {
		c.RopeDims = c.Dim / c.Heads
	}
	if _, ok := f.Lookup(arch + ".rope.dimension_count"); ok {
		if err := need("rope.dimension_count", &c.RopeDims); err != nil {
			return c, err
		}
	}
	base, eps := float32(10000), float32(1e-5)
	if err := optFloat(f, arch+".rope.freq_base", &base); err != nil {
		return c, err
	}
	if err := optFloat(f, arch+".attention.layer_norm_rms_epsilon", &eps); err != nil {
		return c, err
	}
	var err error
	if c.RopeBase, err = fixed.FromFloat32(base, 16); err != nil {
		return c, fmt.Errorf("%w: rope frequency base %v: %w", ErrModel, base, err)
	}
	if eps <= 0 {
		return c, fmt.Errorf("%w: RMS norm epsilon %v is not positive", ErrModel, eps)
	}
	c.Eps = epsQ32(eps)
	for _, t := range f.Tensors {
		if t.Name == "token_embd.weight" && len(t.Dims) == 2 {
			c.Vocab = int(min(t.Dims[1], 1<<31))
		}
	}
	if c.Vocab == 0 {
		return c, fmt.Errorf("%w: tensor \"token_embd.weight\" is missing or not two-dimensional", ErrModel)
	}
	return c, c.Validate()
}

// epsQ32 is max(1, eps in Q32): an epsilon too small for Q32 still keeps the norm's
// denominator above zero.
func epsQ32(eps float32) int64 {
	v, err := fixed.FromFloat32(eps, 32)
	if err != nil || v < 1 {
		return 1
	}
	return v
}

func optFloat(f *gguf.File, key string, dst *float32) error {
	if _, ok := f.Lookup(key); !ok {
		return nil
	}
	v, ok := f.Float32(key)
	if !ok {
		return fmt.Errorf("%w: %s is not a number", ErrModel, key)
	}
	*dst = v
	return nil
}

// TokenizerOf builds the tokenizer a GGUF file describes (tokenizer.ggml.*), or nil
// when it has none. Only llama's SentencePiece model is supported.
func TokenizerOf(f *gguf.File) (*tokenizer.Tokenizer, error) {
	model, ok := f.String("tokenizer.ggml.model")
	if !ok {
		return nil, nil
	}
	if model != "llama" {
		return nil, fmt.Errorf("%w: tokenizer model %q is not supported (llama's SentencePiece is)", ErrModel, model)
	}
	v := tokenizer.Vocab{BOS: -1, EOS: -1, UNK: -1, AddBOS: true, AddSpacePrefix: true}
	if v.Tokens, ok = f.Strings("tokenizer.ggml.tokens"); !ok {
		return nil, fmt.Errorf("%w: tokenizer.ggml.tokens is missing or not an array of strings", ErrModel)
	}
	if v.Scores, ok = f.Float32s("tokenizer.ggml.scores"); !ok {
		return nil, fmt.Errorf("%w: tokenizer.ggml.scores is missing or not an array of numbers", ErrModel)
	}
	if v.Types, ok = f.Int32s("tokenizer.ggml.token_type"); !ok {
		return nil, fmt.Errorf("%w: tokenizer.ggml.token_type is missing or not an array of integers", ErrModel)
	}
	for _, id := range []struct {
		key string
		dst *int32
	}{{"bos_token_id", &v.BOS}, {"eos_token_id", &v.EOS}, {"unknown_token_id", &v.UNK}} {
		if _, ok := f.Lookup("tokenizer.ggml." + id.key); !ok {
			continue
		}
		n, ok := f.Uint64("tokenizer.ggml." + id.key)
		if !ok || n >= uint64(len(v.Tokens)) {
			return nil, fmt.Errorf("%w: tokenizer.ggml.%s is not a token id", ErrModel, id.key)
		}
		*id.dst = int32(n)
	}
	for _, b := range []struct {
		key string
		dst *bool
	}{{"add_bos_token", &v.AddBOS}, {"add_eos_token", &v.AddEOS}, {"add_space_prefix", &v.AddSpacePrefix}} {
		if val, ok := f.Lookup("tokenizer.ggml." + b.key); ok {
			if *b.dst, ok = val.AsBool(); !ok {
				return nil, fmt.Errorf("%w: tokenizer.ggml.%s is not a boolean", ErrModel, b.key)
			}
		}
	}
	v.ChatTemplate, _ = f.String("tokenizer.chat_template")
	t, err := tokenizer.New(v)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrModel, err)
	}
	return t, nil
}

// fileSource reads a GGUF file's tensors.
type fileSource struct {
	r io.ReaderAt
	f *gguf.File
}

func (s *fileSource) find(name string) *gguf.TensorInfo {
	for i := range s.f.Tensors {
		if s.f.Tensors[i].Name == name {
			return &s.f.Tensors[i]
		}
	}
	return nil
}

func (s *fileSource) shape(name string) (int, int, bool) {
	t := s.find(name)
	if t == nil {
		return 0, 0, false
	}
	rows := 1
	for _, d := range t.Dims[1:] {
		rows *= int(min(d, 1<<31))
	}
	return rows, int(min(t.Dims[0], 1<<31)), true
}

func (s *fileSource) rows(name string, fn func(int, []float32) error) error {
	return gguf.TensorRows(s.r, s.f, s.find(name), fn)
}
