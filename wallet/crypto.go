package wallet

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/nacl/secretbox"
	"golang.org/x/crypto/pbkdf2"
)

// Encryption is how a key file's bytes are protected.
type Encryption int

const (
	// Plaintext is an unencrypted key file (JSON).
	Plaintext Encryption = iota
	// NaCl is the current format: "$NACL" ‖ nonce ‖ XSalsa20-Poly1305 box, with the key
	// from Argon2i.
	NaCl
	// AnsibleVault is the format of bittensor before 3.0; it cannot be read here.
	AnsibleVault
	// LegacyFernet is the Fernet format of old Python SDKs ("gAAAAA…").
	LegacyFernet
)

// String names the format.
func (e Encryption) String() string {
	switch e {
	case Plaintext:
		return "none"
	case NaCl:
		return "nacl"
	case AnsibleVault:
		return "ansible-vault"
	case LegacyFernet:
		return "legacy-fernet"
	default:
		return fmt.Sprintf("Encryption(%d)", int(e))
	}
}

// The file prefixes that mark each encryption.
const (
	NaClPrefix         = "$NACL"
	AnsibleVaultPrefix = "$ANSIBLE_VAULT"
	LegacyFernetPrefix = "gAAAAA"
)

// DetectEncryption tells from its first bytes how a key file is encrypted.
func DetectEncryption(data []byte) Encryption {
	switch {
	case bytes.HasPrefix(data, []byte(NaClPrefix)):
		return NaCl
	case bytes.HasPrefix(data, []byte(AnsibleVaultPrefix)):
		return AnsibleVault
	case bytes.HasPrefix(data, []byte(LegacyFernetPrefix)):
		return LegacyFernet
	default:
		return Plaintext
	}
}

// The $NACL key derivation: libsodium crypto_pwhash with ALG_ARGON2I13 and the
// "sensitive" limits, over a fixed salt, exactly as btwallet and the Python SDK do.
const (
	// ArgonTime is libsodium's OPSLIMIT_SENSITIVE (Argon2 passes).
	ArgonTime = 8
	// ArgonMemoryKiB is MEMLIMIT_SENSITIVE, 512 MiB, in KiB.
	ArgonMemoryKiB = 512 * 1024
	// ArgonThreads is libsodium's parallelism (always 1).
	ArgonThreads = 1
	// naclSalt is the fixed 16-byte salt of btwallet (hex 137183dff15a09bc9c90b5518739e9b1).
	naclSalt = "\x13q\x83\xdf\xf1Z\t\xbc\x9c\x90\xb5Q\x879\xe9\xb1"
)

// NaClNonceSize and NaClOverhead describe the $NACL layout: prefix, nonce, then the box,
// which is the plaintext plus a 16-byte Poly1305 tag.
const (
	NaClNonceSize = 24
	NaClOverhead  = secretbox.Overhead
)

// ErrWrongPassword is returned when a key file does not decrypt: the password is wrong
// or the file has been damaged. The two cannot be told apart.
var ErrWrongPassword = errors.New("wrong password or corrupt key file")

// ErrUnsupportedEncryption is returned for a key file encrypted in a format this package
// cannot decrypt (ansible-vault).
var ErrUnsupportedEncryption = errors.New("unsupported key file encryption")

// DeriveNaClKey stretches a password into the 32-byte secretbox key of a $NACL file. It
// takes several seconds and 512 MiB of memory, by design.
func DeriveNaClKey(password []byte) [32]byte {
	var key [32]byte
	copy(key[:], argon2.Key(password, []byte(naclSalt), ArgonTime, ArgonMemoryKiB, ArgonThreads, 32))
	return key
}

// SealNaCl builds a $NACL file from plaintext, a derived key and a nonce. Use EncryptNaCl
// unless the nonce must be fixed (tests).
func SealNaCl(plaintext []byte, key *[32]byte, nonce *[NaClNonceSize]byte) []byte {
	out := make([]byte, 0, len(NaClPrefix)+NaClNonceSize+NaClOverhead+len(plaintext))
	out = append(out, NaClPrefix...)
	out = append(out, nonce[:]...)
	return secretbox.Seal(out, plaintext, nonce, key)
}

// OpenNaCl decrypts a $NACL file with a derived key. A file too short to hold a nonce and
// a tag is reported as truncated; one that fails authentication gives ErrWrongPassword.
func OpenNaCl(data []byte, key *[32]byte) ([]byte, error) {
	if !bytes.HasPrefix(data, []byte(NaClPrefix)) {
		return nil, fmt.Errorf("not a $NACL key file")
	}
	body := data[len(NaClPrefix):]
	if len(body) < NaClNonceSize+NaClOverhead {
		return nil, fmt.Errorf("$NACL key file is truncated: %d bytes after the prefix, at least %d needed", len(body), NaClNonceSize+NaClOverhead)
	}
	var nonce [NaClNonceSize]byte
	copy(nonce[:], body[:NaClNonceSize])
	plain, ok := secretbox.Open(nil, body[NaClNonceSize:], &nonce, key)
	if !ok {
		return nil, ErrWrongPassword
	}
	return plain, nil
}

// EncryptNaCl encrypts key file plaintext in the $NACL format with a fresh random nonce.
func EncryptNaCl(plaintext, password []byte) ([]byte, error) {
	var nonce [NaClNonceSize]byte
	if _, err := rand.Read(nonce[:]); err != nil {
		return nil, fmt.Errorf("nonce: %w", err)
	}
	key := DeriveNaClKey(password)
	return SealNaCl(plaintext, &key, &nonce), nil
}

// Decrypt decrypts an encrypted key file: $NACL, or the legacy Fernet format of old
// Python SDKs. An ansible-vault file gives ErrUnsupportedEncryption, a plaintext one an
// error saying it is not encrypted.
func Decrypt(data, password []byte) ([]byte, error) {
	switch DetectEncryption(data) {
	case NaCl:
		if len(data) < len(NaClPrefix)+NaClNonceSize+NaClOverhead {
			return OpenNaCl(data, new([32]byte)) // reports the truncation without the KDF
		}
		key := DeriveNaClKey(password)
		return OpenNaCl(data, &key)
	case LegacyFernet:
		if _, err := parseFernet(data); err != nil {
			return nil, err // malformed: say so without the slow key derivation
		}
		key := LegacyFernetKey(password)
		return OpenFernet(data, &key)
	case AnsibleVault:
		return nil, fmt.Errorf("%w: the file is ansible-vault encrypted (bittensor before 3.0), which Tessera cannot read; regenerate the key from its mnemonic", ErrUnsupportedEncryption)
	default:
		return nil, errors.New("key file is not encrypted")
	}
}

// legacyFernetSalt and legacyFernetIterations are the PBKDF2 parameters of the legacy
// Python SDK's Fernet key files.
const (
	legacyFernetSalt       = "Iguesscyborgslikemyselfhaveatendencytobeparanoidaboutourorigins"
	legacyFernetIterations = 10_000_000
)

// LegacyFernetKey derives the raw 32-byte Fernet key (signing key ‖ encryption key) of a
// legacy key file: PBKDF2-HMAC-SHA256(password, fixed salt, 10,000,000 rounds). It takes
// a few seconds.
func LegacyFernetKey(password []byte) [32]byte {
	var key [32]byte
	copy(key[:], pbkdf2.Key(password, []byte(legacyFernetSalt), legacyFernetIterations, 32, sha256.New))
	return key
}

// OpenFernet decrypts a Fernet token (version 0x80, timestamp, IV, AES-128-CBC
// ciphertext, HMAC-SHA256) with a raw 32-byte key. Token age is not checked, as the
// Python SDK did not check it.
func OpenFernet(token []byte, key *[32]byte) ([]byte, error) {
	raw, err := parseFernet(token)
	if err != nil {
		return nil, err
	}
	const header = 1 + 8 + aes.BlockSize
	mac := hmac.New(sha256.New, key[:16])
	mac.Write(raw[:len(raw)-sha256.Size])
	if subtle.ConstantTimeCompare(mac.Sum(nil), raw[len(raw)-sha256.Size:]) != 1 {
		return nil, ErrWrongPassword
	}
	block, err := aes.NewCipher(key[16:])
	if err != nil {
		return nil, fmt.Errorf("legacy Fernet: %w", err)
	}
	ct := raw[header : len(raw)-sha256.Size]
	plain := make([]byte, len(ct))
	cipher.NewCBCDecrypter(block, raw[9:header]).CryptBlocks(plain, ct)
	pad := int(plain[len(plain)-1])
	if pad < 1 || pad > aes.BlockSize || pad > len(plain) {
		return nil, errors.New("legacy Fernet key file has bad padding")
	}
	for _, b := range plain[len(plain)-pad:] {
		if int(b) != pad {
			return nil, errors.New("legacy Fernet key file has bad padding")
		}
	}
	return plain[:len(plain)-pad], nil
}

// parseFernet decodes a Fernet token and checks its shape and version.
func parseFernet(token []byte) ([]byte, error) {
	raw, err := base64.URLEncoding.DecodeString(string(bytes.TrimSpace(token)))
	if err != nil {
		return nil, fmt.Errorf("legacy Fernet key file is not valid base64: %w", err)
	}
	const header = 1 + 8 + aes.BlockSize
	if len(raw) < header+aes.BlockSize+sha256.Size || (len(raw)-header-sha256.Size)%aes.BlockSize != 0 {
		return nil, fmt.Errorf("legacy Fernet key file is truncated or malformed (%d bytes)", len(raw))
	}
	if raw[0] != 0x80 {
		return nil, fmt.Errorf("legacy Fernet key file has version %#x, want 0x80", raw[0])
	}
	return raw, nil
}
