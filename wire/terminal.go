package wire

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"

	"github.com/tessera-net/tessera/keys"
)

// This file holds what the axon and the dendrite both use: each end's own identity, the
// cache of its peers' keys, and bounded body reading.

// BittensorVersion is the version integer Tessera sends and answers with:
// Bittensor 10.2.0 as major·10⁶ + minor·10³ + patch. Python axons apply their nonce
// window only to dendrites at 7.2.0 or later, so it must stay at least 7002000.
const BittensorVersion = 10002000

// terminal is what each end of a call holds about itself, as Bittensor's TerminalInfo
// describes an end: its signer, its hotkey (SS58), its session uuid, and the cache of
// the keys of the peers whose signatures it checks. Axon and Dendrite embed one.
type terminal struct {
	signer *keys.Signer
	hotkey string
	uuid   string
	keys   *verifierCache
}

// newTerminal prepares pair for signing, with a fresh session uuid. role names the end
// in the error ("axon key: …").
func newTerminal(pair *keys.Pair, role string) (terminal, error) {
	signer, err := keys.NewSigner(pair)
	if err != nil {
		return terminal{}, fmt.Errorf("%s key: %w", role, err)
	}
	return terminal{signer: signer, hotkey: pair.Public().String(), uuid: newUUID4(), keys: newVerifierCache(65536)}, nil
}

var errBodyTooLarge = errors.New("request body too large")

// ioTimeout matches the error a read past the connection's read deadline returns.
var ioTimeout = timeoutError{}

type timeoutError struct{}

func (timeoutError) Error() string { return "i/o timeout" }

// Is matches any net.Error that is a timeout.
func (timeoutError) Is(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// readBody reads the whole body, at most limit bytes. With a Content-Length it reads
// into a buffer of exactly that size (from pool when small); without one it grows as
// bytes arrive.
func readBody(r io.Reader, contentLength, limit int64, pool *bufPool) ([]byte, error) {
	if contentLength > limit {
		return nil, errBodyTooLarge
	}
	if contentLength >= 0 {
		var buf []byte
		if contentLength <= maxPooledBuf {
			buf = pool.get(int(contentLength))[:contentLength]
		} else {
			buf = make([]byte, contentLength)
		}
		if _, err := io.ReadFull(r, buf); err != nil {
			return nil, err
		}
		return buf, nil
	}
	buf, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(buf)) > limit {
		return nil, errBodyTooLarge
	}
	return buf, nil
}

// verifierCache maps hotkeys (SS58 text) to decoded public keys. Decoding costs a base58
// decode, a BLAKE2b checksum and a ristretto255 point decompression; a validator sends
// thousands of requests with one hotkey, so the axon pays that once per hotkey. Only
// keys are cached, never verification results. It is bounded; when full, an arbitrary
// entry makes room (Go's map iteration order is randomised).
type verifierCache struct {
	mu  sync.RWMutex
	m   map[string]*keys.Verifier
	cap int
}

func newVerifierCache(capacity int) *verifierCache {
	return &verifierCache{m: make(map[string]*keys.Verifier), cap: capacity}
}

func (c *verifierCache) get(hotkey string) (*keys.Verifier, error) {
	c.mu.RLock()
	v := c.m[hotkey]
	c.mu.RUnlock()
	if v != nil {
		return v, nil
	}
	pub, _, err := keys.SS58Decode(hotkey)
	if err != nil {
		return nil, err
	}
	if v, err = keys.NewVerifier(pub); err != nil {
		return nil, err
	}
	c.mu.Lock()
	if len(c.m) >= c.cap {
		for k := range c.m {
			delete(c.m, k)
			break
		}
	}
	c.m[hotkey] = v
	c.mu.Unlock()
	return v, nil
}

// newUUID4 returns a random (version 4) UUID in its text form.
func newUUID4() string {
	var u [16]byte
	if _, err := rand.Read(u[:]); err != nil {
		panic(fmt.Sprintf("crypto/rand: %v", err))
	}
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	var b [36]byte
	hex.Encode(b[0:8], u[0:4])
	b[8] = '-'
	hex.Encode(b[9:13], u[4:6])
	b[13] = '-'
	hex.Encode(b[14:18], u[6:8])
	b[18] = '-'
	hex.Encode(b[19:23], u[8:10])
	b[23] = '-'
	hex.Encode(b[24:], u[10:])
	return string(b[:])
}
