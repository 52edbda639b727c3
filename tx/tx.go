package tx

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"reflect"

	"github.com/fxamacker/cbor/v2"

	"github.com/tessera-net/tessera/keys"
)

// MaxTxBytes bounds the size of an encoded transaction.
const MaxTxBytes = 128 * 1024

// MaxChainIDLen bounds the chain id in an envelope.
const MaxChainIDLen = 64

// Msg is a typed message: the module's message type name and its CBOR-encoded body.
type Msg struct {
	Type string          `cbor:"1,keyasint"`
	Body cbor.RawMessage `cbor:"2,keyasint"`
}

// Envelope is what the signer signs.
type Envelope struct {
	ChainID string `cbor:"1,keyasint"`
	Signer  []byte `cbor:"2,keyasint"` // the 32-byte sr25519 public key
	Nonce   uint64 `cbor:"3,keyasint"` // the signer's next nonce, starting at 0
	Fee     uint64 `cbor:"4,keyasint"` // in the smallest unit, at least the chain's minimum
	Msg     Msg    `cbor:"5,keyasint"`
}

// wireTx is the outer encoding: the exact envelope bytes that were signed, and the
// signature over them.
type wireTx struct {
	Envelope  []byte `cbor:"1,keyasint"`
	Signature []byte `cbor:"2,keyasint"`
}

// Tx is a decoded, stateless-valid transaction. Its signature has not been checked yet:
// call VerifySignature.
type Tx struct {
	Envelope
	SignerKey keys.PublicKey
	SignBytes []byte // the canonical envelope bytes, what the signature covers
	Signature []byte
	Hash      [32]byte // sha256 of the whole transaction, as CometBFT indexes it
}

var (
	encMode cbor.EncMode
	decMode cbor.DecMode
)

func init() {
	var err error
	if encMode, err = cbor.CoreDetEncOptions().EncMode(); err != nil {
		panic(err)
	}
	decMode, err = cbor.DecOptions{
		DupMapKey:         cbor.DupMapKeyEnforcedAPF,
		IndefLength:       cbor.IndefLengthForbidden,
		TagsMd:            cbor.TagsForbidden,
		ExtraReturnErrors: cbor.ExtraDecErrorUnknownField,
		MaxNestedLevels:   16,
		MaxArrayElements:  65536,
		MaxMapPairs:       4096,
		UTF8:              cbor.UTF8RejectInvalid,
	}.DecMode()
	if err != nil {
		panic(err)
	}
}

// Marshal encodes v in canonical CBOR (core deterministic encoding).
func Marshal(v any) ([]byte, error) { return encMode.Marshal(v) }

// Unmarshal decodes canonical CBOR into v strictly: it rejects unknown fields, duplicate
// keys, indefinite lengths, tags, invalid UTF-8, trailing bytes, and any encoding that is
// not the canonical one (so that one value has exactly one encoding).
func Unmarshal(data []byte, v any) error {
	if err := decMode.Unmarshal(data, v); err != nil {
		return err
	}
	// Canonical check: re-encoding must give the same bytes, otherwise two encodings of the
	// same value would exist (transaction malleability).
	again, err := encMode.Marshal(reflect.ValueOf(v).Elem().Interface())
	if err != nil {
		return err
	}
	if !bytes.Equal(again, data) {
		return fmt.Errorf("not in canonical CBOR encoding")
	}
	return nil
}

// UnmarshalState decodes bytes the chain itself wrote with Marshal (its stored state):
// Unmarshal without the canonical check, which re-encodes the value to compare and costs
// as much as the decoding. State bytes are canonical by construction, and the app hash
// commits to them, so a node whose store differed would be outvoted, not misled; input
// from outside (transactions, messages) must go through Unmarshal.
func UnmarshalState(data []byte, v any) error { return decMode.Unmarshal(data, v) }

// NewMsg builds a message from its type name and body value.
func NewMsg(typ string, body any) (Msg, error) {
	b, err := Marshal(body)
	if err != nil {
		return Msg{}, fmt.Errorf("encode %s body: %w", typ, err)
	}
	return Msg{Type: typ, Body: b}, nil
}

// Sign encodes the envelope, signs it with the pair, and returns the transaction bytes.
// The envelope's Signer is set from the pair.
func Sign(pair *keys.Pair, env Envelope) ([]byte, error) {
	pub := pair.Public()
	env.Signer = pub[:]
	sb, err := Marshal(env)
	if err != nil {
		return nil, fmt.Errorf("encode envelope: %w", err)
	}
	return Marshal(wireTx{Envelope: sb, Signature: pair.Sign(sb)})
}

// Decode parses transaction bytes and checks everything that needs no state: size,
// canonical encoding, field shapes. It does not verify the signature.
func Decode(b []byte) (*Tx, error) {
	if len(b) > MaxTxBytes {
		return nil, Errorf(CodeTooLarge, "transaction is %d bytes, the limit is %d", len(b), MaxTxBytes)
	}
	if len(b) == 0 {
		return nil, Errorf(CodeMalformed, "empty transaction")
	}
	var w wireTx
	if err := Unmarshal(b, &w); err != nil {
		return nil, Errorf(CodeMalformed, "decode transaction: %v", err)
	}
	if len(w.Signature) != keys.SignatureSize {
		return nil, Errorf(CodeMalformed, "signature is %d bytes, want %d", len(w.Signature), keys.SignatureSize)
	}
	t := &Tx{SignBytes: w.Envelope, Signature: w.Signature, Hash: sha256.Sum256(b)}
	if err := Unmarshal(w.Envelope, &t.Envelope); err != nil {
		return nil, Errorf(CodeMalformed, "decode envelope: %v", err)
	}
	if len(t.Signer) != keys.PublicKeySize {
		return nil, Errorf(CodeMalformed, "signer is %d bytes, want a %d-byte public key", len(t.Signer), keys.PublicKeySize)
	}
	copy(t.SignerKey[:], t.Signer)
	if t.ChainID == "" || len(t.ChainID) > MaxChainIDLen {
		return nil, Errorf(CodeMalformed, "chain id must be 1 to %d bytes", MaxChainIDLen)
	}
	if t.Msg.Type == "" {
		return nil, Errorf(CodeMalformed, "message type is empty")
	}
	return t, nil
}

// VerifySignature checks the sr25519 signature over the envelope bytes.
func (t *Tx) VerifySignature() error {
	if !t.SignerKey.Verify(t.SignBytes, t.Signature) {
		return Errorf(CodeBadSignature, "signature does not verify for signer %s", t.SignerKey)
	}
	return nil
}

// DecodeBody decodes the message body strictly into v, reporting a CodeInvalidMessage error.
func (m Msg) DecodeBody(v any) error {
	if err := Unmarshal(m.Body, v); err != nil {
		return Errorf(CodeInvalidMessage, "decode %s body: %v", m.Type, err)
	}
	return nil
}
