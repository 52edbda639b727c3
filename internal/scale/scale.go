// Package scale holds the parts of Substrate's SCALE codec that Tessera needs to reproduce
// Bittensor's bytes exactly: the compact encoding of unsigned integers, which prefixes
// vectors in weight-commit hashes and junctions in key derivation.
package scale

import "encoding/binary"

// AppendCompact appends SCALE's compact encoding of n to b: one byte below 2^6, two
// below 2^14, four below 2^30, else a length byte and the little-endian bytes without
// trailing zeros (at least four).
func AppendCompact(b []byte, n uint64) []byte {
	switch {
	case n < 1<<6:
		return append(b, byte(n<<2))
	case n < 1<<14:
		return binary.LittleEndian.AppendUint16(b, uint16(n<<2|1))
	case n < 1<<30:
		return binary.LittleEndian.AppendUint32(b, uint32(n<<2|2))
	}
	le := binary.LittleEndian.AppendUint64(nil, n)
	for len(le) > 4 && le[len(le)-1] == 0 {
		le = le[:len(le)-1]
	}
	return append(append(b, byte((len(le)-4)<<2|3)), le...)
}
