package poc

import (
	"encoding/binary"
	"fmt"

	"github.com/tessera-net/tessera/lm"
)

// DefaultThreshold is the default distance threshold: 2^60, so that a nonce counts with
// probability exactly 2^60 / 2^64 = 1/16 (see Valid).
const DefaultThreshold uint64 = 1 << 60

// Valid reports whether a nonce of the given distance counts: distance < threshold.
// Because the distance is the XOR distance of a SHA-256 digest (see Runner.Run), a
// nonce counts with probability threshold / 2^64, whatever the model and the inputs.
func Valid(distance, threshold uint64) bool { return distance < threshold }

// Result is one nonce's outcome.
type Result struct {
	Nonce uint64
	// Output is the output vector: SHA-256("tessera/poc/output/v1" ‖ the last token's
	// final hidden state, Width int32 values little-endian).
	Output [32]byte
	// Distance is the XOR distance of Output to the target, in its first 64 bits: the
	// first 8 bytes of Output XOR Target read big-endian.
	Distance uint64
}

// Input names one nonce: whose, on which MLNode, and the nonce itself.
type Input struct {
	Participant [32]byte
	MLNode      string
	Nonce       uint64
}

// Runner computes nonces for one PoC stage: the random model of a Dims, seeded by the
// PoC-start block hash, built once. A Runner is safe for concurrent use.
type Runner struct {
	dims   Dims
	model  *lm.Model
	target [32]byte
	batch  int
}

// Seeds derives the PoC stage's two seeds from its start block's hash:
//
//	model  = SHA-256("tessera/poc/model/v1" ‖ blockHash)   the seed lm.Random takes
//	target = SHA-256("tessera/poc/target/v1" ‖ blockHash)  the target vector (256 bits)
func Seeds(blockHash [32]byte) (model, target [32]byte) {
	return newHasher(domainModel).key(blockHash).sum(), newHasher(domainTarget).key(blockHash).sum()
}

// NewRunner builds the stage's random model (lm.Random with the model seed of Seeds)
// with threads goroutines splitting each matrix product (threads < 1 means 1; the
// number never changes a bit).
func NewRunner(d Dims, blockHash [32]byte, threads int) (*Runner, error) {
	if err := d.Validate(); err != nil {
		return nil, err
	}
	seed, target := Seeds(blockHash)
	m, err := lm.Random(d.lm(), seed, lm.Options{Threads: max(threads, 1)})
	if err != nil {
		return nil, fmt.Errorf("poc: building the random model: %w", err)
	}
	return &Runner{dims: d, model: m, target: target, batch: batchFor(d)}, nil
}

// batchFor is how many nonces go through one Forward: enough rows (nonces × SeqLen)
// that each chunk of weights is applied to many inputs while it is in cache, few
// enough that the activations (rows × FFN int32) stay small. Any batch gives the
// same bits; this is speed only.
func batchFor(d Dims) int {
	b := max(1, 128/d.SeqLen)
	for b > 1 && b*d.SeqLen*max(d.FFN, d.Width)*4 > 8<<20 {
		b /= 2
	}
	return b
}

// Dims is the runner's shape.
func (r *Runner) Dims() Dims { return r.dims }

// Target is the stage's target vector.
func (r *Runner) Target() [32]byte { return r.target }

// Close stops the model's worker goroutines.
func (r *Runner) Close() { r.model.Close() }

// Inputs is a nonce's input (domain v2): SeqLen vectors of Width Q16 values, fed to the
// model in place of token embeddings (lm.Item.Inputs), from ChaCha8 keyed by
//
//	SHA-256("tessera/poc/input/v2" ‖ participant (32 bytes) ‖ len(mlnode) (4 bytes LE) ‖ mlnode ‖ nonce (8 bytes LE))
//
// Position 0's values come first, then position 1's, and so on; each Uint64 of the
// stream gives four values, its 16-bit lanes from the lowest, each read as a
// two's-complement int16: uniform in [−2^15, 2^15), ±0.5 in Q16. Every position's vector
// is drawn from the whole nonce, so no prefix of one nonce's input repeats another's (as
// token ids from a vocabulary would): a miner can share no computation between nonces.
func (d Dims) Inputs(in Input) [][]int32 {
	s := newHasher(domainInput).key(in.Participant).str(in.MLNode).u64(in.Nonce).stream()
	out := make([][]int32, d.SeqLen)
	vals := make([]int32, d.SeqLen*d.Width)
	var u uint64
	for i := range vals {
		if i%4 == 0 {
			u = s.Uint64()
		}
		vals[i] = int32(int16(u >> (16 * (i % 4))))
	}
	for p := range out {
		out[p] = vals[p*d.Width : (p+1)*d.Width : (p+1)*d.Width]
	}
	return out
}

// Run computes nonces of one participant's MLNode; Result i is nonces[i]'s.
func (r *Runner) Run(participant [32]byte, mlnode string, nonces []uint64) []Result {
	in := make([]Input, len(nonces))
	for i, n := range nonces {
		in[i] = Input{Participant: participant, MLNode: mlnode, Nonce: n}
	}
	return r.Compute(in)
}

// Compute computes any mix of nonces (a validator's sample across MLNodes); Result i
// is inputs[i]'s. For each it runs the random model over the nonce's Inputs, takes the
// last position's final hidden state h (lm's output norm, Width values in Q16) and
// returns
//
//	Output   = SHA-256("tessera/poc/output/v1" ‖ h_0 ‖ … ‖ h_{Width−1}), each int32 LE
//	Distance = big-endian uint64 of the first 8 bytes of Output XOR Target
//
// The nonces go through the model in batches of several sequences per Forward, which
// is where the speed comes from; a batch's composition never changes a bit.
func (r *Runner) Compute(inputs []Input) []Result {
	out := make([]Result, len(inputs))
	seqs := make([]*lm.Sequence, min(r.batch, len(inputs)))
	for i := range seqs {
		seqs[i] = r.model.NewSequence()
	}
	items := make([]lm.Item, 0, len(seqs))
	buf := make([]byte, 0, len(domainOutput)+4*r.dims.Width)
	for lo := 0; lo < len(inputs); lo += len(seqs) {
		hi := min(lo+len(seqs), len(inputs))
		items = items[:0]
		for i := lo; i < hi; i++ {
			s := seqs[i-lo]
			s.Truncate(0) // reuse the cache's memory
			items = append(items, lm.Item{Seq: s, Inputs: r.dims.Inputs(inputs[i]), Hidden: true})
		}
		if err := r.model.Forward(items); err != nil {
			// The inputs have the model's width and range and fit the context by construction.
			panic(fmt.Sprintf("poc: forward pass: %v", err))
		}
		for i := lo; i < hi; i++ {
			h := items[i-lo].States[0]
			buf = append(buf[:0], domainOutput...)
			for _, v := range h {
				buf = binary.LittleEndian.AppendUint32(buf, uint32(v))
			}
			o := (&hasher{b: buf}).sum()
			out[i] = Result{Nonce: inputs[i].Nonce, Output: o, Distance: distance(o, r.target)}
		}
	}
	return out
}

// distance is the first 64 bits of o XOR t, big-endian.
func distance(o, t [32]byte) uint64 {
	return binary.BigEndian.Uint64(o[:8]) ^ binary.BigEndian.Uint64(t[:8])
}
