package poc

import (
	"errors"
	"fmt"

	"github.com/tessera-net/tessera/lm"
)

// ErrDims is wrapped by every error about a PoC model shape that cannot be used.
var ErrDims = errors.New("poc: bad dimensions")

// Dims is the shape of a model's Proof-of-Compute random transformer: the model
// registry stores one per model, so that the work of a nonce tracks the model's size.
type Dims struct {
	Layers  int `json:"layers"`   // transformer blocks
	Width   int `json:"width"`    // embedding length (the hidden state has Width values)
	Heads   int `json:"heads"`    // attention heads; Width/Heads is even
	KVHeads int `json:"kv_heads"` // key/value heads; divides Heads
	FFN     int `json:"ffn"`      // feed-forward length
	Vocab   int `json:"vocab"`    // the random model's vocabulary (the input vectors do not use it)
	SeqLen  int `json:"seq_len"`  // positions per nonce
}

// DefaultDims is the shape used when a model names none: 2 layers of width 1024 (16
// heads, 4 key/value heads, feed-forward 2048) over 4 positions (vocabulary 16384),
// 71.3 million multiply-adds per nonce. docs/poc.md gives the measurements behind it (a
// few milliseconds per nonce on one core; a 200-nonce sample well under a second).
func DefaultDims() Dims {
	return Dims{Layers: 2, Width: 1024, Heads: 16, KVHeads: 4, FFN: 2048, Vocab: 16384, SeqLen: 4}
}

// Bounds on a shape: far above what a PoC needs, low enough that no governance value
// can make a node allocate without limit.
const (
	MaxLayers = 256
	MaxWidth  = 16384
	MaxFFN    = 65536
	MaxVocab  = 1 << 20
	MaxSeqLen = 4096
	// MaxMACs bounds the multiply-adds of one nonce (about a minute on one core).
	MaxMACs = 1 << 40
)

// Validate checks the shape; every error names the field and wraps ErrDims.
func (d Dims) Validate() error {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%w: %s", ErrDims, fmt.Sprintf(format, a...))
	}
	for _, f := range []struct {
		name      string
		v, lo, hi int
	}{
		{"layers", d.Layers, 1, MaxLayers},
		{"width", d.Width, 2, MaxWidth},
		{"heads", d.Heads, 1, d.Width / 2},
		{"kv_heads", d.KVHeads, 1, d.Heads},
		{"ffn", d.FFN, 1, MaxFFN},
		{"vocab", d.Vocab, 2, MaxVocab},
		{"seq_len", d.SeqLen, 1, MaxSeqLen},
	} {
		if f.v < f.lo || f.v > f.hi {
			return bad("%s is %d, want %d to %d", f.name, f.v, f.lo, max(f.lo, f.hi))
		}
	}
	if d.Width%d.Heads != 0 || (d.Width/d.Heads)%2 != 0 {
		return bad("width %d is not an even multiple of heads %d (each head's dimension must be even for the rotary embedding)", d.Width, d.Heads)
	}
	if d.Heads%d.KVHeads != 0 {
		return bad("heads %d is not a multiple of kv_heads %d", d.Heads, d.KVHeads)
	}
	if m := d.MACs(); m > MaxMACs {
		return bad("%d multiply-adds per nonce, more than the limit of %d", m, int64(MaxMACs))
	}
	if _, err := d.lm().Config(); err != nil {
		return fmt.Errorf("%w: %v", ErrDims, err)
	}
	return nil
}

// MACs is the number of multiply-adds one nonce costs: every token's matrix products
// (queries and the attention output Width×Width, keys and values Width×KVWidth,
// gate, up and down Width×FFN) in every layer, plus attention (q·k and p·v, HeadDim
// each, over the positions up to the token's own). The final norm and the
// element-wise steps are not counted. This is the figure the benchmarks divide by.
func (d Dims) MACs() int64 {
	L, W, F, S := int64(d.Layers), int64(d.Width), int64(d.FFN), int64(d.SeqLen)
	if d.Heads <= 0 {
		return 0
	}
	kv := W / int64(d.Heads) * int64(d.KVHeads)
	matrix := 2*W*W + 2*W*kv + 3*W*F
	// Σ_{p=0}^{S-1} (p+1) positions, each q·k and p·v over Width values (all heads).
	attn := 2 * W * S * (S + 1) / 2
	return L * (S*matrix + attn)
}

func (d Dims) lm() lm.Dims {
	return lm.Dims{Vocab: d.Vocab, Dim: d.Width, Layers: d.Layers, Heads: d.Heads, KVHeads: d.KVHeads,
		FFN: d.FFN, Context: d.SeqLen}
}
