package stake

import (
	"crypto/sha256"
	"encoding/binary"

	"github.com/tessera-net/tessera/keys"
	"github.com/tessera-net/tessera/tx"
)

// MsgSetAuthor binds a validator's consensus key to the signing account: the staking fees
// of the blocks that validator proposes go to the account's balance (docs/dtao.md §9,
// Fees).
const MsgSetAuthor = "stake/set_author"

// AuthorDomain starts the bytes a consensus key signs to bind itself to an account.
const AuthorDomain = "tessera/stake/set_author/v1"

// ConsensusPubKeySize and ConsensusAddressSize are CometBFT's ed25519 consensus public
// key and its address: the first 20 bytes of SHA-256 of the key (crypto/ed25519 Address).
const (
	ConsensusPubKeySize  = 32
	ConsensusAddressSize = 20
	// AuthorSignatureSize is an ed25519 signature's size.
	AuthorSignatureSize = 64
)

// SetAuthor is stake/set_author: PubKey is a CometBFT ed25519 consensus public key (32
// bytes) and Signature its ed25519 signature of AuthorSignBytes(chain id, signer), so
// only the holder of the consensus key can bind it, to an account that agreed (it signs
// the transaction). A later binding of the same key replaces the earlier one; one
// account per consensus key.
type SetAuthor struct {
	PubKey    []byte `cbor:"1,keyasint"`
	Signature []byte `cbor:"2,keyasint"`
}

// AuthorSignBytes is what the consensus key signs: AuthorDomain ‖ len(chain id) as a
// big-endian uint64 ‖ chain id ‖ the account's public key (32 bytes). The chain id keeps a
// binding from being replayed on another chain; the account, to another account.
func AuthorSignBytes(chainID string, account keys.PublicKey) []byte {
	b := append([]byte(AuthorDomain), make([]byte, 8)...)
	binary.BigEndian.PutUint64(b[len(AuthorDomain):], uint64(len(chainID)))
	b = append(b, chainID...)
	return append(b, account[:]...)
}

// ConsensusAddress is the CometBFT address of an ed25519 consensus public key (what a
// block names as its proposer): the first 20 bytes of its SHA-256.
func ConsensusAddress(pub []byte) []byte {
	h := sha256.Sum256(pub)
	return h[:ConsensusAddressSize]
}

// NewSetAuthor builds a stake/set_author message.
func NewSetAuthor(pub, sig []byte) (tx.Msg, error) {
	return tx.NewMsg(MsgSetAuthor, SetAuthor{PubKey: pub, Signature: sig})
}

// AuthorView answers "author/<consensus address>" and is one entry of "authors": the
// consensus address (upper-case hex, as CometBFT writes it) and the account its blocks'
// staking fees go to.
type AuthorView struct {
	ConsensusAddress string `json:"consensus_address"`
	Account          string `json:"account"`
}

// GenesisAuthor is one entry of the stake genesis's "authors": a consensus public key
// (base64 in JSON, 32 bytes) bound to an account (SS58 or 0x-hex) from the first block,
// without a signature (the genesis is trusted as a whole).
type GenesisAuthor struct {
	PubKey  []byte `json:"pub_key"`
	Account string `json:"account"`
}
