package lm

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math/bits"
	"math/rand/v2"
	"slices"

	"github.com/tessera-net/tessera/lm/fixed"
)

// Sampling says how a token is chosen from the logits. Its fixed-point fields are what
// the engine computes with; FromFloats makes them from an API's floats.
type Sampling struct {
	// Temperature is Q16; 0 is greedy decoding (the highest logit, the lowest id on a tie).
	Temperature int64
	// TopK keeps the K most likely tokens (0: all).
	TopK int
	// TopP keeps the most likely tokens whose probabilities first reach TopP, Q30
	// (0 or 2^30 and above: all).
	TopP int64
	// Seed seeds the generator; the same seed gives the same draws.
	Seed uint64
}

// Bounds on what a request may ask for.
const (
	maxTemperature = 100 << 16
	MaxTopLogprobs = 20
)

// SamplingFromFloats converts an API's temperature and top_p exactly (fixed.FromFloat64,
// the values' own bits, rounded half away from zero) and checks them.
func SamplingFromFloats(temperature, topP float64, topK int, seed uint64) (Sampling, error) {
	t, err := fixed.FromFloat64(temperature, 16)
	if err != nil || t < 0 || t > maxTemperature {
		return Sampling{}, fmt.Errorf("%w: temperature %v is not in 0..100", ErrRequest, temperature)
	}
	p, err := fixed.FromFloat64(topP, 30)
	if err != nil || p < 0 || p > 1<<30 {
		return Sampling{}, fmt.Errorf("%w: top_p %v is not in 0..1", ErrRequest, topP)
	}
	if topK < 0 {
		return Sampling{}, fmt.Errorf("%w: top_k %d is negative", ErrRequest, topK)
	}
	return Sampling{Temperature: t, TopK: topK, TopP: p, Seed: seed}, nil
}

// Sampler draws tokens for one sequence. Its generator is ChaCha8 (math/rand/v2) keyed
// by SHA-256("tessera/lm/sample/v1" ‖ seed as 8 bytes little-endian); it is consulted
// once per sampled token and never for greedy decoding.
type Sampler struct {
	p     Sampling
	rng   *rand.ChaCha8
	ids   []int
	z     []int32
	probs []uint32
}

// NewSampler starts a sampler.
func NewSampler(p Sampling) *Sampler {
	h := sha256.New()
	h.Write([]byte("tessera/lm/sample/v1"))
	h.Write(binary.LittleEndian.AppendUint64(nil, p.Seed))
	var key [32]byte
	copy(key[:], h.Sum(nil))
	return &Sampler{p: p, rng: rand.NewChaCha8(key)}
}

// Next picks a token from Q16 logits:
//
//  1. Temperature 0: fixed.ArgMax.
//  2. Otherwise the candidates are the TopK highest logits (all when 0), ordered by logit
//     descending then id ascending (fixed.TopK); z_i = Sat32(Rdiv(l_i·2^16, T));
//     p = fixed.Softmax(z) in Q30.
//  3. Top-p keeps the shortest prefix whose sum reaches TopP (at least one token).
//  4. With S the kept probabilities' sum and u the generator's next Uint64, r =
//     ⌊u·S / 2^64⌋; the token is the first whose running sum exceeds r.
func (s *Sampler) Next(logits []int32) int32 {
	if s.p.Temperature == 0 {
		return int32(fixed.ArgMax(logits))
	}
	k := s.p.TopK
	if k <= 0 || k > len(logits) {
		k = len(logits)
	}
	s.ids = fixed.TopK(logits, k, s.ids[:0])
	s.z = slices.Grow(s.z[:0], len(s.ids))[:len(s.ids)]
	for i, id := range s.ids {
		s.z[i] = fixed.Sat32(fixed.Rdiv(int64(logits[id])<<16, s.p.Temperature))
	}
	s.probs = slices.Grow(s.probs[:0], len(s.ids))[:len(s.ids)]
	fixed.Softmax(s.probs, s.z)
	keep := len(s.probs)
	if s.p.TopP > 0 && s.p.TopP < 1<<30 {
		var cum int64
		for i, p := range s.probs {
			cum += int64(p)
			if cum >= s.p.TopP {
				keep = i + 1
				break
			}
		}
	}
	var total uint64
	for _, p := range s.probs[:keep] {
		total += uint64(p)
	}
	r, _ := bits.Mul64(s.rng.Uint64(), total)
	var cum uint64
	for i, p := range s.probs[:keep] {
		cum += uint64(p)
		if cum > r {
			return int32(s.ids[i])
		}
	}
	return int32(s.ids[keep-1])
}
