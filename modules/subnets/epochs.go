package subnets

import (
	"bytes"
	"encoding/binary"

	"golang.org/x/crypto/blake2b"

	"github.com/tessera-net/tessera/internal/scale"
	"github.com/tessera-net/tessera/keys"
)

// EpochIndex is the epoch a block belongs to on a subnet (subtensor's get_epoch_index):
// (block + netuid + 1) / (tempo + 1).
func EpochIndex(netuid uint16, tempo uint16, block uint64) uint64 {
	return (block + uint64(netuid) + 1) / (uint64(tempo) + 1)
}

// EpochDue reports whether the epoch of a subnet runs at block (subtensor's legacy
// scheduler): (block + netuid + 1) % (tempo + 1) == 0, never with tempo 0.
func EpochDue(netuid uint16, tempo uint16, block uint64) bool {
	return tempo != 0 && (block+uint64(netuid)+1)%(uint64(tempo)+1) == 0
}

// CommitHash is the hash a weight commit carries, as Bittensor computes it:
// blake2b-256 of SCALE(hotkey[32], netuid u16, Vec<u16> uids, Vec<u16> values,
// Vec<u16> salt, version_key u64).
func CommitHash(hotkey keys.PublicKey, netuid uint16, uids, values, salt []uint16, versionKey uint64) []byte {
	var b bytes.Buffer
	b.Write(hotkey[:])
	b.Write(binary.LittleEndian.AppendUint16(nil, netuid))
	for _, v := range [][]uint16{uids, values, salt} {
		b.Write(scale.AppendCompact(nil, uint64(len(v))))
		for _, x := range v {
			b.Write(binary.LittleEndian.AppendUint16(nil, x))
		}
	}
	b.Write(binary.LittleEndian.AppendUint64(nil, versionKey))
	h := blake2b.Sum256(b.Bytes())
	return h[:]
}
