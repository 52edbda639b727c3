package keys

import (
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	schnorrkel "github.com/ChainSafe/go-schnorrkel"
)

// PublicKeySize is the length of an sr25519 public key in bytes.
const PublicKeySize = 32

// SignatureSize is the length of an sr25519 signature in bytes.
const SignatureSize = 64

// SigningContext is the schnorrkel signing context Substrate (and so Bittensor) uses.
var SigningContext = []byte("substrate")

// DevPhrase is Substrate's well-known development mnemonic; a URI that starts with a
// junction ("//Alice") is derived from it.
const DevPhrase = "bottom drive obey lake curtain smoke basket hold race lonely fit walk"

// PublicKey is a 32-byte sr25519 public key, which is also the account id.
type PublicKey [PublicKeySize]byte

// String renders the key as an SS58 address with the default prefix (42).
func (p PublicKey) String() string { return SS58Encode(p, DefaultSS58Prefix) }

// Hex renders the key as "0x"-prefixed lower-case hex.
func (p PublicKey) Hex() string { return "0x" + hex.EncodeToString(p[:]) }

// AddressOf renders the raw bytes of a public key, as messages carry them, as its SS58
// address; bytes that are not 32 long (a malformed message) as "0x"-prefixed hex.
func AddressOf(b []byte) string {
	if len(b) != PublicKeySize {
		return "0x" + hex.EncodeToString(b)
	}
	return PublicKey(b).String()
}

// Verify reports whether sig is a valid sr25519 signature of msg by this key in the
// "substrate" signing context. A malformed key or signature verifies as false.
func (p PublicKey) Verify(msg, sig []byte) bool {
	if len(sig) != SignatureSize {
		return false
	}
	pk, err := schnorrkel.NewPublicKey(p)
	if err != nil {
		return false
	}
	var sb [SignatureSize]byte
	copy(sb[:], sig)
	s := new(schnorrkel.Signature)
	if err := s.Decode(sb); err != nil {
		return false
	}
	ok, err := pk.Verify(s, schnorrkel.NewSigningContext(SigningContext, msg))
	return err == nil && ok
}

// VerifyAllowWrapped is Verify with Bittensor's fallback (btwallet Keypair::verify): when
// sig does not verify for msg itself, it is also tried against "<Bytes>" ‖ msg ‖
// "</Bytes>", the form polkadot-js browser extensions sign. Verifier.VerifyAllowWrapped
// is the same check for a key decoded once.
func (p PublicKey) VerifyAllowWrapped(msg, sig []byte) bool {
	return verifyAllowWrapped(nil, p, msg, sig)
}

// ParsePublicKey reads a public key given as an SS58 address (any prefix) or as 64 hex
// digits with or without "0x". A string longer than both is refused by its length (an
// ErrSS58TooLong error that does not quote it) before any decoding.
func ParsePublicKey(s string) (PublicKey, error) {
	var pk PublicKey
	h := strings.TrimPrefix(strings.TrimPrefix(s, "0x"), "0X")
	if len(h) == 2*PublicKeySize {
		if b, err := hex.DecodeString(h); err == nil {
			copy(pk[:], b)
			return pk, nil
		}
	}
	pub, _, err := SS58Decode(s)
	if errors.Is(err, ErrSS58TooLong) {
		return pk, fmt.Errorf("not a public key (an SS58 address or 64 hex digits): %w", err)
	}
	if err != nil {
		return pk, fmt.Errorf("%q is neither an SS58 address nor a 32-byte hex public key: %w", s, err)
	}
	return pub, nil
}

// Pair is an sr25519 key pair that can sign.
type Pair struct {
	secret *schnorrkel.SecretKey
	nonce  [32]byte // the signing nonce half of the secret key (schnorrkel does not expose it)
	pub    PublicKey
	seed   []byte // the 32-byte mini-secret when known (nil after a soft junction)
}

// Public returns the pair's public key.
func (k *Pair) Public() PublicKey { return k.pub }

// Seed returns the 32-byte mini-secret the pair was expanded from, or nil when it is not
// known (a key from a 64-byte secret, or one derived through a soft junction).
func (k *Pair) Seed() []byte { return append([]byte(nil), k.seed...) }

// SecretBytes returns the 64-byte schnorrkel secret key (scalar ‖ nonce), the value
// Bittensor key files store as privateKey.
func (k *Pair) SecretBytes() [64]byte {
	var b [64]byte
	key := k.secret.Encode()
	copy(b[:32], key[:])
	copy(b[32:], k.nonce[:])
	return b
}

// Sign signs msg in the "substrate" context. sr25519 signatures are randomised: two
// signatures of the same message differ, and both verify.
func (k *Pair) Sign(msg []byte) []byte {
	sig, err := k.secret.Sign(schnorrkel.NewSigningContext(SigningContext, msg))
	if err != nil {
		// Sign only fails when the system random source fails, which leaves no safe way on.
		panic(fmt.Sprintf("sr25519 sign: %v", err))
	}
	b := sig.Encode()
	return b[:]
}

// FromSeed builds a pair from a 32-byte mini-secret (expanded Ed25519-style, as Substrate
// does) or from a 64-byte schnorrkel secret key (scalar ‖ nonce).
func FromSeed(seed []byte) (*Pair, error) {
	switch len(seed) {
	case 32:
		var raw [32]byte
		copy(raw[:], seed)
		ms, err := schnorrkel.NewMiniSecretKeyFromRaw(raw)
		if err != nil {
			return nil, fmt.Errorf("mini-secret: %w", err)
		}
		return pairFromMini(ms), nil
	case 64:
		var key, nonce [32]byte
		copy(key[:], seed[:32])
		copy(nonce[:], seed[32:])
		sk := schnorrkel.NewSecretKey(key, nonce)
		pub, err := sk.Public()
		if err != nil {
			return nil, fmt.Errorf("secret key: %w", err)
		}
		return &Pair{secret: sk, nonce: nonce, pub: pub.Encode()}, nil
	default:
		return nil, fmt.Errorf("a seed is 32 bytes (mini-secret) or 64 bytes (secret key), got %d", len(seed))
	}
}

// FromEd25519Secret builds a pair from a 64-byte secret key in the "ed25519 format"
// polkadot-js stores (the scalar multiplied by the cofactor 8, then the nonce), converting
// it the way schnorrkel's SecretKey::from_ed25519_bytes does. Bittensor key files do not
// use this format; it is for keys exported from polkadot-js.
func FromEd25519Secret(secret []byte) (*Pair, error) {
	if len(secret) != 64 {
		return nil, fmt.Errorf("an ed25519-format secret key is 64 bytes, got %d", len(secret))
	}
	b := append([]byte(nil), secret...)
	// Divide the little-endian scalar by 8, carrying each byte's low 3 bits down.
	var low byte
	for i := 31; i >= 0; i-- {
		r := b[i] & 0x07
		b[i] = b[i]>>3 + low
		low = r << 5
	}
	return FromSeed(b)
}

func pairFromMini(ms *schnorrkel.MiniSecretKey) *Pair {
	sk := ms.ExpandEd25519()
	seed := ms.Encode()
	p := &Pair{secret: sk, pub: ms.Public().Encode(), seed: seed[:]}
	// ExpandEd25519 takes the nonce from the second half of SHA-512(mini-secret).
	h := sha512.Sum512(seed[:])
	copy(p.nonce[:], h[32:])
	return p
}

// FromURI derives a pair from a Substrate secret URI: a mnemonic or a 0x-hex seed,
// followed by any number of junctions ("//hard", "/soft") and an optional "///password"
// (the BIP39 passphrase). A URI that starts with a junction is derived from DevPhrase, so
// "//Alice" is the well-known development account.
func FromURI(uri string) (*Pair, error) {
	u, err := ParseURI(uri)
	if err != nil {
		return nil, err
	}
	var p *Pair
	if strings.HasPrefix(u.Phrase, "0x") {
		b, err := hex.DecodeString(u.Phrase[2:])
		if err != nil {
			return nil, fmt.Errorf("secret URI seed is not valid hex (want 0x and 64 or 128 hex digits): %w", err)
		}
		if p, err = FromSeed(b); err != nil {
			return nil, err
		}
	} else if p, err = FromMnemonic(u.Phrase, u.Password); err != nil {
		return nil, err
	}
	return p.Derive(u.Junctions...)
}

// FromMnemonic turns a BIP39 mnemonic into a pair the Substrate way: the mnemonic's
// entropy (not its BIP39 seed) goes through PBKDF2-HMAC-SHA512 with salt
// "mnemonic"+password, and the first 32 bytes are the mini-secret.
func FromMnemonic(phrase, password string) (*Pair, error) {
	mini, err := MiniSecretFromMnemonic(phrase, password)
	if err != nil {
		return nil, err
	}
	return FromSeed(mini[:])
}
