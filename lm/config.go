package lm

import (
	"errors"
	"fmt"

	"github.com/tessera-net/tessera/lm/fixed"
)

// ErrModel is wrapped by every error about a model that cannot be used: a missing or
// out-of-range hyperparameter, a tensor of the wrong shape, a weight out of range.
var ErrModel = errors.New("lm: bad model")

// Config is a llama-family model's shape. The fixed-point fields are exact conversions of
// the file's float32 metadata.
type Config struct {
	Arch     string // "llama"
	Name     string // general.name, for display
	Vocab    int    // tokens
	Dim      int    // embedding length
	Layers   int    // transformer blocks
	Heads    int    // attention heads
	KVHeads  int    // key/value heads (grouped-query attention when < Heads)
	FFN      int    // feed-forward length
	Context  int    // longest sequence the model takes
	RopeDims int    // rotated dimensions per head (even, ≤ head dimension)
	RopeBase int64  // rope frequency base, Q16
	Eps      int64  // RMSNorm epsilon, Q32 (at least 1)
}

// Bounds on a model's shape: far above any real model, low enough that no count read
// from a file can make the engine allocate without limit or overflow an index.
const (
	maxDim     = 1 << 16
	maxLayers  = 1 << 10
	maxVocab   = 1 << 20
	maxFFN     = 1 << 18
	maxContext = 1 << 20
)

// HeadDim is the dimension of one attention head.
func (c *Config) HeadDim() int { return c.Dim / c.Heads }

// KVDim is the width of one position's keys (and values).
func (c *Config) KVDim() int { return c.KVHeads * c.HeadDim() }

// Validate checks the shape; every error names the field.
func (c *Config) Validate() error {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%w: %s", ErrModel, fmt.Sprintf(format, a...))
	}
	in := func(name string, v, lo, hi int) error {
		if v < lo || v > hi {
			return bad("%s is %d, want %d to %d", name, v, lo, hi)
		}
		return nil
	}
	if c.Arch != "llama" {
		return bad("architecture %q is not supported (llama is)", c.Arch)
	}
	for _, chk := range []error{
		in("vocabulary size", c.Vocab, 1, maxVocab),
		in("embedding length", c.Dim, 2, maxDim),
		in("block count", c.Layers, 1, maxLayers),
		in("head count", c.Heads, 1, c.Dim),
		in("key/value head count", c.KVHeads, 1, c.Heads),
		in("feed-forward length", c.FFN, 1, maxFFN),
		in("context length", c.Context, 1, maxContext),
	} {
		if chk != nil {
			return chk
		}
	}
	if c.Dim%c.Heads != 0 {
		return bad("embedding length %d is not a multiple of the head count %d", c.Dim, c.Heads)
	}
	if c.Heads%c.KVHeads != 0 {
		return bad("head count %d is not a multiple of the key/value head count %d", c.Heads, c.KVHeads)
	}
	if c.RopeDims < 2 || c.RopeDims > c.HeadDim() || c.RopeDims%2 != 0 {
		return bad("rope dimension count %d must be even and in 2..%d (the head dimension)", c.RopeDims, c.HeadDim())
	}
	if c.RopeBase < 1<<16 || c.RopeBase > 1<<46 {
		return bad("rope frequency base %s is not in 1..2^30", fixedString(c.RopeBase, 16))
	}
	if c.Eps < 1 || c.Eps > 1<<32 {
		return bad("RMS norm epsilon %s is not in 2^-32..1", fixedString(c.Eps, 32))
	}
	return nil
}

func fixedString(v int64, frac uint) string {
	return fmt.Sprintf("%g", fixed.ToFloat64(v, frac))
}
