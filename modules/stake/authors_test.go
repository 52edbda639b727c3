package stake

import (
	"bytes"
	"crypto/ed25519"
	"testing"

	cmted25519 "github.com/cometbft/cometbft/crypto/ed25519"

	"github.com/tessera-net/tessera/keys"
)

// ConsensusAddress is CometBFT's address of an ed25519 key (what a block names as its
// proposer), and a CometBFT consensus key's signature of AuthorSignBytes verifies with the
// standard library.
func TestConsensusAddressIsCometBFTs(t *testing.T) {
	for seed := byte(1); seed < 5; seed++ {
		priv := cmted25519.GenPrivKeyFromSecret([]byte{seed})
		pub := priv.PubKey()
		if got, want := ConsensusAddress(pub.Bytes()), []byte(pub.Address()); !bytes.Equal(got, want) {
			t.Fatalf("ConsensusAddress %X, CometBFT's %X", got, want)
		}
		msg := AuthorSignBytes("chain", keys.PublicKey{seed})
		sig, err := priv.Sign(msg)
		if err != nil || !ed25519.Verify(ed25519.PublicKey(pub.Bytes()), msg, sig) {
			t.Fatalf("CometBFT's signature does not verify with crypto/ed25519: %v", err)
		}
	}
	// The bytes signed: domain ‖ len(chain id) (8 bytes, big-endian) ‖ chain id ‖ account.
	want := append([]byte(AuthorDomain), 0, 0, 0, 0, 0, 0, 0, 2, 'c', 'x')
	want = append(want, bytes.Repeat([]byte{9}, 32)...)
	var acct keys.PublicKey
	copy(acct[:], bytes.Repeat([]byte{9}, 32))
	if got := AuthorSignBytes("cx", acct); !bytes.Equal(got, want) {
		t.Fatalf("AuthorSignBytes %q, want %q", got, want)
	}
}
