// Package vectorfile finds and reads the Bittensor interoperability vectors,
// shared/research/bittensor-wire-vectors.json, and the copies of its sections that
// packages keep in their testdata. It imports nothing of the project's, so the tests of
// any package (keys among them) can use it.
package vectorfile

import (
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// Shared is the path of the vectors file relative to the directory that holds the
// repository (shared/ sits beside it, as it does in CI).
const Shared = "shared/research/bittensor-wire-vectors.json"

// Signing is the wire.signing section of the vectors: the dendrite's and the axon's key
// pairs, and request signatures made with them.
type Signing struct {
	DendriteKeypair Keypair          `json:"dendrite_keypair"`
	AxonKeypair     Keypair          `json:"axon_keypair"`
	Examples        []SigningExample `json:"examples"`
}

// SigningExample is one of wire.signing's examples: the message a dendrite signs for a
// request (and what it is made of), the public key that signed it when it is not the
// dendrite's ("" if it is), signatures that verify over it (0x-hex), one over the
// <Bytes>…</Bytes>-wrapped message, and a signature over another message.
type SigningExample struct {
	Name            string            `json:"name"`
	Nonce           int64             `json:"nonce"`
	UUID            string            `json:"uuid"`
	BodyHash        string            `json:"body_hash"`
	Message         string            `json:"message"`
	SignerPublicKey string            `json:"signer_public_key"`
	ValidSignatures []string          `json:"valid_signatures"`
	WrappedSig      string            `json:"valid_signature_of_bytes_wrapped_message"`
	Invalid         *ForeignSignature `json:"invalid_for_message"`
}

// Keypair is a key pair of the vectors (wire.signing's dendrite_keypair and
// axon_keypair): the mnemonic or the secret URI it is derived from (the other is ""),
// and its public key (0x-hex) and SS58 address.
type Keypair struct {
	Mnemonic  string `json:"mnemonic"`
	URI       string `json:"uri"`
	PublicKey string `json:"public_key"`
	SS58      string `json:"ss58"`
}

// ForeignSignature is a signing example's invalid_for_message: a signature checked
// against a message it was not made over, and the verdict expected.
type ForeignSignature struct {
	Message   string `json:"message"`
	Signature string `json:"signature"`
	Expected  bool   `json:"expected_verify"`
}

// FindShared returns the path of Shared in the working directory or the nearest of its
// parents that has it (tests run in their package's directory, so it is normally
// ../../shared/...), or "" when there is none.
func FindShared() string {
	dir, err := os.Getwd()
	if err != nil {
		return ""
	}
	for {
		p := filepath.Join(dir, Shared)
		if _, err := os.Stat(p); err == nil {
			return p
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}

// Read decodes the JSON file at path into v (a pointer to the sections the test needs),
// failing the test when the file cannot be read or parsed.
func Read(t testing.TB, path string, v any) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read vectors: %v", err)
	}
	if err := json.Unmarshal(raw, v); err != nil {
		t.Fatalf("parse vectors %s: %v", path, err)
	}
}

// MatchShared checks that a testdata copy has not drifted from Shared: load reads the
// sections a package keeps (what the copy holds), and the two readings must be equal. It
// skips the test when Shared is not found, and on a difference fails it naming what to
// recopy (sections, e.g. "the wallet section").
func MatchShared[V any](t *testing.T, copyPath, sections string, load func(t testing.TB, path string) V) {
	t.Helper()
	p := FindShared()
	if p == "" {
		t.Skipf("%s not found in any parent directory; the testdata copy is still tested", Shared)
	}
	if shared, local := load(t, p), load(t, copyPath); !reflect.DeepEqual(shared, local) {
		t.Fatalf("%s differs from %s: recopy %s", copyPath, p, sections)
	}
}

// Hex decodes a hex string of the vectors, 0x-prefixed or not, failing the test on a
// malformed one.
func Hex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.TrimPrefix(s, "0x"))
	if err != nil {
		t.Fatalf("bad hex %q: %v", s, err)
	}
	return b
}

// ChainValue returns the value of the entry of wallet.key_derivation_chain whose key
// starts with prefix (the keys carry explanations in parentheses), failing the test when
// there is none.
func ChainValue(t testing.TB, chain map[string]string, prefix string) string {
	t.Helper()
	for k, v := range chain {
		if strings.HasPrefix(k, prefix) {
			return v
		}
	}
	t.Fatalf("vector chain has no entry %q", prefix)
	return ""
}
