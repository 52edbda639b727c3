package keys

import (
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"fmt"

	"github.com/gtank/merlin"
	r255 "github.com/gtank/ristretto255"
)

// This file holds the hot-path forms of sr25519 signing and verification, for code that
// signs or verifies many messages with the same key (the wire protocol does one of each
// per request). They compute exactly what schnorrkel does — same transcript, same
// equation, signatures interchangeable with PublicKey.Verify and Pair.Sign, with
// go-schnorrkel, polkadot-js and sp_core — but they keep the expensive per-key work
// out of the per-message path:
//
//   - go-schnorrkel's SecretKey.Sign recomputes the public key (a full scalar-base
//     multiplication) and re-encodes it on every call. Signer does both once.
//   - PublicKey.Verify decompresses the public key (a field square root) and, inside
//     go-schnorrkel, compresses it again (an inverse square root) and decompresses and
//     recompresses R, on every call. Verifier decodes the key once, appends the bytes
//     of R from the signature to the transcript as they are, and checks the equation by
//     comparing the canonical encoding of R' = s·B − k·A with those bytes. That is the
//     check the reference implementation (w3f/schnorrkel) makes, and it accepts exactly
//     the signatures that decoding R and comparing points accepts: a ristretto255
//     encoding is canonical, so equal bytes mean an equal, validly encoded point.
//
// What is cached is only key material; every signature is checked in full.

// Transcript labels, shared by every call. merlin appends the length to the label it is
// given (append(label, …)), so each label's capacity is cut to its length: the append
// then always copies, and concurrent signers never write into a shared array.
var (
	labelProto = fixedLabel("proto-name")
	labelSchn  = fixedLabel("Schnorr-sig")
	labelPK    = fixedLabel("sign:pk")
	labelR     = fixedLabel("sign:R")
	labelC     = fixedLabel("sign:c")
	labelEmpty = fixedLabel("")
	labelBytes = fixedLabel("sign-bytes")
)

func fixedLabel(s string) []byte {
	b := []byte(s)
	return b[:len(b):len(b)]
}

// signingTranscript starts the schnorrkel transcript for msg in the "substrate" context,
// as schnorrkel.NewSigningContext does.
func signingTranscript(msg []byte) *merlin.Transcript {
	t := merlin.NewTranscript("SigningContext")
	t.AppendMessage(labelEmpty, SigningContext)
	t.AppendMessage(labelBytes, msg)
	return t
}

// challenge finishes the transcript with the public key and R and draws the challenge
// scalar k.
func challenge(t *merlin.Transcript, pub, r []byte) *r255.Scalar {
	t.AppendMessage(labelProto, labelSchn)
	t.AppendMessage(labelPK, pub)
	t.AppendMessage(labelR, r)
	return r255.NewScalar().FromUniformBytes(t.ExtractBytes(labelC, 64))
}

// Verifier is an sr25519 public key decoded once for fast repeated verification in the
// "substrate" context. It is safe for concurrent use.
type Verifier struct {
	pub PublicKey
	neg *r255.Element // −A, so that R' = k·(−A) + s·B is one double-scalar multiplication
}

// NewVerifier decodes pub. It fails when pub is not a valid ristretto255 point, so a
// Verifier never holds an unusable key.
func NewVerifier(pub PublicKey) (*Verifier, error) {
	a := r255.NewElement()
	if err := a.Decode(pub[:]); err != nil {
		return nil, fmt.Errorf("public key %s is not a valid sr25519 (ristretto255) point: %w", pub.Hex(), err)
	}
	if a.Equal(r255.NewElement().Zero()) == 1 {
		return nil, errors.New("public key is the identity point")
	}
	return &Verifier{pub: pub, neg: r255.NewElement().Negate(a)}, nil
}

// PublicKey returns the key the verifier checks signatures against.
func (v *Verifier) PublicKey() PublicKey { return v.pub }

// Verify reports whether sig is a valid sr25519 signature of msg in the "substrate"
// context: 64 bytes, the schnorrkel marker bit set, a canonical s, and R = s·B − k·A.
func (v *Verifier) Verify(msg, sig []byte) bool {
	if len(sig) != SignatureSize || sig[63]&0x80 == 0 {
		return false
	}
	var sb [32]byte
	copy(sb[:], sig[32:])
	sb[31] &= 0x7f
	s := r255.NewScalar()
	if err := s.Decode(sb[:]); err != nil {
		return false
	}
	k := challenge(signingTranscript(msg), v.pub[:], sig[:32])
	rp := r255.NewElement().VarTimeDoubleScalarBaseMult(k, v.neg, s)
	var enc [32]byte
	rp.Encode(enc[:0])
	return subtle.ConstantTimeCompare(enc[:], sig[:32]) == 1
}

// Signer signs with an sr25519 key in the "substrate" context without recomputing the
// public key for every signature. It is safe for concurrent use.
type Signer struct {
	pub PublicKey
	x   *r255.Scalar
}

// NewSigner prepares p for repeated signing.
func NewSigner(p *Pair) (*Signer, error) {
	if p == nil || p.secret == nil {
		return nil, errors.New("signer needs a key pair with a secret key")
	}
	x, err := scalarFromSecret(p.secret.Encode())
	if err != nil {
		return nil, err
	}
	return &Signer{pub: p.pub, x: x}, nil
}

func scalarFromSecret(key [32]byte) (*r255.Scalar, error) {
	x := r255.NewScalar()
	if err := x.Decode(key[:]); err != nil {
		return nil, fmt.Errorf("secret scalar is not canonical: %w", err)
	}
	return x, nil
}

// PublicKey returns the public key of the signing pair.
func (s *Signer) PublicKey() PublicKey { return s.pub }

// Sign signs msg. Like Pair.Sign the signature is randomised (a fresh 64-byte witness
// from crypto/rand for every call) and panics only if the system random source fails.
func (s *Signer) Sign(msg []byte) []byte {
	var wide [64]byte
	if _, err := rand.Read(wide[:]); err != nil {
		panic(fmt.Sprintf("sr25519 sign: %v", err))
	}
	r := r255.NewScalar().FromUniformBytes(wide[:])
	sig := make([]byte, SignatureSize)
	r255.NewElement().ScalarBaseMult(r).Encode(sig[:0])
	k := challenge(signingTranscript(msg), s.pub[:], sig[:32])
	sc := r255.NewScalar().Multiply(k, s.x)
	sc.Add(sc, r)
	sc.Encode(sig[32:32])
	sig[63] |= 0x80
	return sig
}
