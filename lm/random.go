package lm

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math"
	"math/bits"
	"math/rand/v2"
	"strconv"
	"strings"

	"github.com/tessera-net/tessera/lm/tokenizer"
)

// Dims is the shape of a random model.
type Dims struct {
	Vocab, Dim, Layers, Heads, KVHeads, FFN, Context int
}

// Presets name the shapes of well-known models, for `tessera lm random --dims`.
var Presets = map[string]Dims{
	"tinyllama-1.1b": {Vocab: 32000, Dim: 2048, Layers: 22, Heads: 32, KVHeads: 4, FFN: 5632, Context: 2048},
	"tiny":           {Vocab: 512, Dim: 64, Layers: 2, Heads: 4, KVHeads: 2, FFN: 128, Context: 256},
}

// ParseDims reads a preset name or a list such as
// "vocab=32000,dim=2048,layers=22,heads=32,kv-heads=4,ffn=5632,context=2048"; kv-heads
// defaults to heads and context to 2048.
func ParseDims(s string) (Dims, error) {
	if d, ok := Presets[s]; ok {
		return d, nil
	}
	d := Dims{Context: 2048}
	fields := map[string]*int{"vocab": &d.Vocab, "dim": &d.Dim, "layers": &d.Layers, "heads": &d.Heads,
		"kv-heads": &d.KVHeads, "ffn": &d.FFN, "context": &d.Context}
	for _, kv := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(kv), "=")
		p := fields[k]
		if !ok || p == nil {
			return Dims{}, fmt.Errorf("lm: dims %q: %q is not one of vocab=, dim=, layers=, heads=, kv-heads=, ffn=, context= (or a preset: tinyllama-1.1b, tiny)", s, kv)
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return Dims{}, fmt.Errorf("lm: dims %q: %s=%q is not a positive integer", s, k, v)
		}
		*p = n
	}
	if d.KVHeads == 0 {
		d.KVHeads = d.Heads
	}
	for name, p := range map[string]int{"vocab": d.Vocab, "dim": d.Dim, "layers": d.Layers, "heads": d.Heads, "ffn": d.FFN} {
		if p == 0 {
			return Dims{}, fmt.Errorf("lm: dims %q has no %s=", s, name)
		}
	}
	return d, nil
}

// randomEps is the RMSNorm epsilon of random models: float32(1e-5), as files carry it.
const randomEps = float32(1e-5)

// Config is the model shape of a random model with these dimensions.
func (d Dims) Config() (Config, error) {
	c := Config{Arch: "llama", Name: "tessera-random", Vocab: d.Vocab, Dim: d.Dim, Layers: d.Layers,
		Heads: d.Heads, KVHeads: d.KVHeads, FFN: d.FFN, Context: d.Context,
		RopeBase: 10000 << 16, Eps: epsQ32(randomEps)}
	if d.Heads > 0 && d.Dim%d.Heads == 0 {
		c.RopeDims = d.Dim / d.Heads
	}
	return c, c.Validate()
}

// Random makes the model whose weights derive from seed, without a file: exactly the
// model that loading WriteRandom's file gives.
//
// Tensor t's rows come from ChaCha8 keyed by SHA-256("tessera/lm/random/v1" ‖ seed ‖
// t's name), eight bytes per Uint64 little-endian, one byte per weight: the byte as an
// int8, with −128 read as 0. Weight = q · 2^−k with k = ⌈log2(√(5400·cols))⌉ for
// matrices (a standard deviation near 1/√cols) and k = 6 for the embeddings; norm
// weights are 1.
func Random(d Dims, seed [32]byte, o Options) (*Model, error) {
	c, err := d.Config()
	if err != nil {
		return nil, err
	}
	return build(c, randomTokenizer(d.Vocab), &randomSource{c: c, seed: seed}, o)
}

type randomSource struct {
	c    Config
	seed [32]byte
	vals []float32
	q    []int8
}

func (r *randomSource) shape(name string) (int, int, bool) {
	for _, s := range r.c.shapes() {
		if s.name == name {
			return s.rows, s.cols, true
		}
	}
	return 0, 0, false
}

// randomShift is k of the weight rule: 2^−k is a tensor's step.
func randomShift(name string, cols int) int {
	if name == "token_embd.weight" {
		return 6
	}
	v := uint64(5400 * cols)
	// ⌈log2 √v⌉ = ⌈bitlen(v−1)/2⌉
	return (bits.Len64(v-1) + 1) / 2
}

// randomRow fills q with tensor name's row j... rows are drawn in order, so the stream
// is the same whether a caller wants rows or Q8_0 blocks.
func (r *randomSource) rows(name string, fn func(int, []float32) error) error {
	rows, cols, _ := r.shape(name)
	if strings.HasSuffix(name, "norm.weight") {
		r.vals = growF32(r.vals, cols)
		for k := range r.vals {
			r.vals[k] = 1
		}
		return fn(0, r.vals)
	}
	g := randomStream(r.seed, name)
	scale := float32(math.Ldexp(1, -randomShift(name, cols)))
	r.vals = growF32(r.vals, cols)
	if cap(r.q) < cols {
		r.q = make([]int8, cols)
	}
	q := r.q[:cols]
	for j := 0; j < rows; j++ {
		g.fill(q)
		for k, v := range q {
			r.vals[k] = float32(v) * scale // exact: a power of two times a small integer
		}
		if err := fn(j, r.vals); err != nil {
			return err
		}
	}
	return nil
}

func growF32(s []float32, n int) []float32 {
	if cap(s) < n {
		return make([]float32, n)
	}
	return s[:n]
}

// stream is a tensor's generator of weights.
type stream struct {
	rng  *rand.ChaCha8
	buf  [8]byte
	left int
}

func randomStream(seed [32]byte, name string) *stream {
	h := sha256.New()
	h.Write([]byte("tessera/lm/random/v1"))
	h.Write(seed[:])
	h.Write([]byte(name))
	var key [32]byte
	copy(key[:], h.Sum(nil))
	return &stream{rng: rand.NewChaCha8(key)}
}

// fill draws len(q) weights, each one byte of the stream as an int8, −128 read as 0.
func (s *stream) fill(q []int8) {
	for i := range q {
		if s.left == 0 {
			binary.LittleEndian.PutUint64(s.buf[:], s.rng.Uint64())
			s.left = 8
		}
		b := int8(s.buf[8-s.left])
		s.left--
		if b == -128 {
			b = 0
		}
		q[i] = b
	}
}

// randomTokenizer is a random model's vocabulary: <unk>, <s>, </s>, the 256 byte
// tokens, then pieces "▁a", "▁b", … "▁z", "▁ba", … (base 26) with falling scores. A
// vocabulary too small for the byte tokens has no tokenizer.
func randomTokenizer(n int) *tokenizer.Tokenizer {
	v, ok := randomVocab(n)
	if !ok {
		return nil
	}
	t, err := tokenizer.New(v)
	if err != nil {
		panic(fmt.Sprintf("lm: the random vocabulary is invalid: %v", err)) // a bug, not input
	}
	return t
}

func randomVocab(n int) (tokenizer.Vocab, bool) {
	if n < 3+256 {
		return tokenizer.Vocab{}, false
	}
	v := tokenizer.Vocab{Tokens: make([]string, n), Scores: make([]float32, n), Types: make([]int32, n),
		BOS: 1, EOS: 2, UNK: 0, AddBOS: true, AddSpacePrefix: true}
	v.Tokens[0], v.Types[0] = "<unk>", 2
	v.Tokens[1], v.Types[1] = "<s>", 3
	v.Tokens[2], v.Types[2] = "</s>", 3
	for b := 0; b < 256; b++ {
		v.Tokens[3+b], v.Types[3+b] = fmt.Sprintf("<0x%02X>", b), 6
	}
	for i := 259; i < n; i++ {
		var word []byte
		for x := i - 259; ; x = x/26 - 1 {
			word = append([]byte{byte('a' + x%26)}, word...)
			if x < 26 {
				break
			}
		}
		v.Tokens[i], v.Types[i], v.Scores[i] = "▁"+string(word), 1, -float32(i-259)
	}
	return v, true
}
