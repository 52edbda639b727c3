package poc

import (
	"errors"
	"fmt"
)

// ErrOverflow is wrapped by errors about sums that do not fit 64 bits.
var ErrOverflow = errors.New("poc: integer overflow")

// DefaultSampleSize is how many of a participant's committed nonces a validator
// re-runs by default.
const DefaultSampleSize = 200

// SampleIndices is the sample a validator draws from a participant's count committed
// nonces: min(n, count) distinct indices in [0, count). When n ≥ count it is every
// index in order. Otherwise the indices are drawn from ChaCha8 keyed by
//
//	SHA-256("tessera/poc/sample/v1" ‖ validatorKey ‖ blockHash ‖ participant ‖ count (8 bytes LE))
//
// each uniform in [0, count) by the rejection rule of the package comment; an index
// already drawn is drawn again; the result is in draw order. Indices run over the
// participant's MLNodes in their declared order (see Locate), so the sample covers
// its whole weight; the block hash is the PoC stage's.
func SampleIndices(validatorKey, blockHash, participant [32]byte, count uint64, n int) []uint64 {
	if n <= 0 || count == 0 {
		return nil
	}
	if uint64(n) >= count {
		out := make([]uint64, count)
		for i := range out {
			out[i] = uint64(i)
		}
		return out
	}
	s := newHasher(domainSample).key(validatorKey).key(blockHash).key(participant).u64(count).stream()
	out := make([]uint64, 0, n)
	seen := make(map[uint64]struct{}, n)
	for len(out) < n {
		i := uniform(s, count)
		if _, dup := seen[i]; dup {
			continue
		}
		seen[i] = struct{}{}
		out = append(out, i)
	}
	return out
}

// Locate maps an index over a participant's MLNodes (counts[k] is MLNode k's
// Commitment.Count, in declared order) to the MLNode and the leaf within it.
func Locate(counts []uint64, index uint64) (node int, leaf uint64, err error) {
	for k, c := range counts {
		if index < c {
			return k, index, nil
		}
		index -= c
	}
	return 0, 0, fmt.Errorf("poc: index is beyond the MLNodes' %d commitments by %d", len(counts), index)
}

// Total is the sum of counts, the count SampleIndices takes; it fails if the sum does
// not fit 64 bits.
func Total(counts []uint64) (uint64, error) {
	var t uint64
	for _, c := range counts {
		if t+c < t {
			return 0, fmt.Errorf("%w: the commitments' counts add up to more than 2^64", ErrOverflow)
		}
		t += c
	}
	return t, nil
}
