package keys

import (
	"crypto/sha256"
	"crypto/sha512"
	"errors"
	"fmt"
	"strings"

	"github.com/cosmos/go-bip39"
	"golang.org/x/crypto/pbkdf2"
)

// ValidMnemonicWords lists the mnemonic lengths BIP39 allows.
var ValidMnemonicWords = []int{12, 15, 18, 21, 24}

// ErrInvalidMnemonic is wrapped by every error about a malformed mnemonic (word count,
// unknown word, checksum), so callers can tell bad input from other failures.
var ErrInvalidMnemonic = errors.New("invalid mnemonic")

// NewMnemonic returns a fresh English BIP39 mnemonic of the given number of words (12, 15,
// 18, 21 or 24) from the system's random source.
func NewMnemonic(words int) (string, error) {
	bits := 0
	for _, w := range ValidMnemonicWords {
		if w == words {
			bits = words / 3 * 32
		}
	}
	if bits == 0 {
		return "", fmt.Errorf("a mnemonic has 12, 15, 18, 21 or 24 words, not %d", words)
	}
	ent, err := bip39.NewEntropy(bits)
	if err != nil {
		return "", fmt.Errorf("entropy: %w", err)
	}
	return bip39.NewMnemonic(ent)
}

// MnemonicEntropy checks a mnemonic (word count, every word in the English list, the
// checksum) and returns its entropy. The error names the first unknown word.
func MnemonicEntropy(phrase string) ([]byte, error) {
	words := strings.Fields(phrase)
	ok := false
	for _, w := range ValidMnemonicWords {
		ok = ok || w == len(words)
	}
	if !ok {
		return nil, fmt.Errorf("%w: it has %d word(s); a mnemonic has 12, 15, 18, 21 or 24 words", ErrInvalidMnemonic, len(words))
	}
	// 11 bits a word: the entropy (32 bits for every 3 words) then the checksum, the
	// leading bits of sha256(entropy).
	bits := make([]byte, 0, len(words)*11)
	for i, w := range words {
		idx, known := bip39.ReverseWordMap[w]
		if !known {
			return nil, fmt.Errorf("%w: word %d (%q) is not in the BIP39 English word list", ErrInvalidMnemonic, i+1, w)
		}
		for b := 10; b >= 0; b-- {
			bits = append(bits, byte(idx>>b)&1)
		}
	}
	entBits := len(words) / 3 * 32
	ent := make([]byte, entBits/8)
	for i := 0; i < entBits; i++ {
		ent[i/8] |= bits[i] << (7 - i%8)
	}
	sum := sha256.Sum256(ent)
	for i := entBits; i < len(bits); i++ {
		j := i - entBits
		if (sum[j/8]>>(7-j%8))&1 != bits[i] {
			return nil, fmt.Errorf("%w: the checksum does not match (a word is wrong or out of order)", ErrInvalidMnemonic)
		}
	}
	return ent, nil
}

// ValidateMnemonic reports what is wrong with a mnemonic, or nil.
func ValidateMnemonic(phrase string) error {
	_, err := MnemonicEntropy(phrase)
	return err
}

// MiniSecretFromMnemonic derives Substrate's 32-byte mini-secret (Bittensor's
// secretSeed) from a mnemonic: PBKDF2-HMAC-SHA512(entropy, "mnemonic"+password, 2048)[:32].
func MiniSecretFromMnemonic(phrase, password string) ([32]byte, error) {
	var mini [32]byte
	ent, err := MnemonicEntropy(phrase)
	if err != nil {
		return mini, err
	}
	copy(mini[:], pbkdf2.Key(ent, []byte("mnemonic"+password), 2048, 64, sha512.New)[:32])
	return mini, nil
}
