package poc

import (
	"crypto/sha256"
	"encoding/binary"
	"math/rand/v2"
)

// The domains: every SHA-256 this package takes starts with one of these strings, so
// that no two of its uses can produce the same input bytes.
const (
	domainModel  = "tessera/poc/model/v1"
	domainTarget = "tessera/poc/target/v1"
	domainInput  = "tessera/poc/input/v2"
	domainOutput = "tessera/poc/output/v1"
	domainSample = "tessera/poc/sample/v1"
	domainUptime = "tessera/poc/uptime/v1"
	domainLeaf   = "tessera/poc/leaf/v1"
	domainNode   = "tessera/poc/node/v1"
	domainRoot   = "tessera/poc/root/v1"
)

// hasher builds a SHA-256 input from fixed-width fields: integers little-endian,
// strings with a 4-byte little-endian length before them.
type hasher struct{ b []byte }

func newHasher(domain string) *hasher {
	return &hasher{b: append(make([]byte, 0, 128), domain...)}
}

func (h *hasher) bytes(p []byte) *hasher { h.b = append(h.b, p...); return h }
func (h *hasher) u64(v uint64) *hasher   { h.b = binary.LittleEndian.AppendUint64(h.b, v); return h }
func (h *hasher) u32(v uint32) *hasher   { h.b = binary.LittleEndian.AppendUint32(h.b, v); return h }
func (h *hasher) str(s string) *hasher   { h.u32(uint32(len(s))); h.b = append(h.b, s...); return h }
func (h *hasher) key(k [32]byte) *hasher { return h.bytes(k[:]) }
func (h *hasher) sum() [32]byte          { return sha256.Sum256(h.b) }
func (h *hasher) stream() *rand.ChaCha8  { return rand.NewChaCha8(h.sum()) }

// uniform draws an integer in [0, n) from a ChaCha8 stream without bias: u is the next
// Uint64 (the stream's next 8 bytes, little-endian, as c2sp.org/chacha8rand defines
// them); a u at or above 2^64 − (2^64 mod n) is rejected and the next one drawn;
// otherwise the result is u mod n. n must be at least 1.
func uniform(s *rand.ChaCha8, n uint64) uint64 {
	if n&(n-1) == 0 {
		return s.Uint64() & (n - 1) // 2^64 mod n = 0: nothing is rejected
	}
	limit := -(-n % n) // 2^64 − (2^64 mod n), as uint64: (−n) mod n = 2^64 mod n
	for {
		if u := s.Uint64(); u < limit {
			return u % n
		}
	}
}
