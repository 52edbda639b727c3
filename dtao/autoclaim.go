package dtao

import (
	"encoding/binary"
	"math"
	"slices"
)

// AutoClaimsPerBlock is how many coldkeys the auto-claim picks each block (subtensor's
// NumRootClaim default: about once a week per coldkey, with spares for repeats).
const AutoClaimsPerBlock = 5

// AutoClaimIndices picks up to k positions in [0, n) of the index of root-staking
// coldkeys from a block hash (claim_root.rs block_hash_to_indices): the hash is read as
// four big-endian u64 words w0..w3 (a missing byte reads as a zero word); starting from
// last = w0, the i-th pick is idx = (last + w[i mod 4]) mod n, the addition saturating at
// 2^64−1, and last = idx. Repeats collapse, so fewer than k may come back; they are
// returned ascending. With n = 0 there is nothing to pick.
func AutoClaimIndices(hash []byte, k, n uint64) []uint64 {
	if n == 0 {
		return nil
	}
	word := func(i uint64) uint64 {
		at := (i * 8) % 32
		if uint64(len(hash)) < at+8 {
			return 0
		}
		return binary.BigEndian.Uint64(hash[at : at+8])
	}
	last := word(0)
	out := make([]uint64, 0, k)
	for i := uint64(0); i < k; i++ {
		sum := last + word(i)
		if sum < last {
			sum = math.MaxUint64
		}
		last = sum % n
		out = append(out, last)
	}
	slices.Sort(out)
	return slices.Compact(out)
}
