package keys

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/decred/base58"
	"golang.org/x/crypto/blake2b"
)

// DefaultSS58Prefix is the generic Substrate address prefix (42), Bittensor's and ours.
const DefaultSS58Prefix uint16 = 42

var ss58Pre = []byte("SS58PRE")

func ss58Checksum(data []byte) []byte {
	h, _ := blake2b.New512(nil)
	h.Write(ss58Pre)
	h.Write(data)
	return h.Sum(nil)[:2]
}

// MaxSS58Prefix is the largest SS58 network prefix (14 bits).
const MaxSS58Prefix uint16 = 16383

// SS58Encode renders a public key as an SS58 address with the given network prefix
// (0–16383): base58(prefix ‖ key ‖ blake2b-512("SS58PRE" ‖ prefix ‖ key)[0:2]). Like
// Substrate, it keeps only the low 14 bits of a larger prefix; use CheckSS58Prefix to
// reject one first.
func SS58Encode(pub PublicKey, prefix uint16) string {
	prefix &= MaxSS58Prefix
	var data []byte
	if prefix < 64 {
		data = []byte{byte(prefix)}
	} else {
		data = []byte{
			byte((prefix&0x00fc)>>2) | 0x40,
			byte(prefix>>8) | byte((prefix&0x0003)<<6),
		}
	}
	data = append(data, pub[:]...)
	data = append(data, ss58Checksum(data)...)
	return base58.Encode(data)
}

// MaxSS58Length is the length of the longest SS58 address of a 32-byte key (one with a
// two-byte prefix): SS58Decode refuses a longer string before decoding it.
const MaxSS58Length = 49

// ErrSS58TooLong is the error (under errors.Is) of a string longer than MaxSS58Length
// given as an SS58 address.
var ErrSS58TooLong = errors.New("too long for an SS58 address")

// checkSS58Length refuses an address longer than MaxSS58Length, naming its length rather
// than quoting it.
func checkSS58Length(addr string) error {
	if len(addr) > MaxSS58Length {
		return fmt.Errorf("%w: %d characters, at most %d", ErrSS58TooLong, len(addr), MaxSS58Length)
	}
	return nil
}

// SS58Decode parses an SS58 address for a 32-byte key and returns the key and its prefix.
// A bad character, a wrong length or a wrong checksum is an error; a string longer than
// MaxSS58Length is an ErrSS58TooLong error, refused before any decoding. Base58 decoding
// costs the square of the input's length, so the bound keeps one call to a fixed, small
// cost (a few hundred word operations) whatever the caller is handed.
func SS58Decode(addr string) (PublicKey, uint16, error) {
	var pub PublicKey
	if addr == "" {
		return pub, 0, errors.New("empty SS58 address")
	}
	if err := checkSS58Length(addr); err != nil {
		return pub, 0, err
	}
	data := base58.Decode(addr)
	if len(data) == 0 {
		return pub, 0, fmt.Errorf("SS58 address %q is not valid base58", addr)
	}
	var prefix uint16
	var body []byte
	switch {
	case data[0] < 64:
		prefix, body = uint16(data[0]), data[1:]
	case data[0] < 128 && len(data) >= 2:
		lower := (data[0] << 2) | (data[1] >> 6)
		upper := data[1] & 0x3f
		prefix, body = uint16(lower)|uint16(upper)<<8, data[2:]
	default:
		return pub, 0, fmt.Errorf("SS58 address %q has an invalid prefix byte", addr)
	}
	if len(body) != PublicKeySize+2 {
		return pub, 0, fmt.Errorf("SS58 address %q holds %d bytes, want a 32-byte key and a 2-byte checksum", addr, len(body))
	}
	head := data[:len(data)-2]
	if !bytes.Equal(ss58Checksum(head), data[len(data)-2:]) {
		return pub, 0, fmt.Errorf("SS58 address %q has a wrong checksum", addr)
	}
	copy(pub[:], body[:PublicKeySize])
	return pub, prefix, nil
}

// IsValidSS58 reports whether addr is a well-formed SS58 address with a correct checksum.
func IsValidSS58(addr string) bool {
	_, _, err := SS58Decode(addr)
	return err == nil
}

// CheckSS58Prefix reports an error for a network prefix SS58 cannot encode (above 16383).
func CheckSS58Prefix(prefix int) error {
	if prefix < 0 || prefix > int(MaxSS58Prefix) {
		return fmt.Errorf("SS58 format %d is out of range: it must be between 0 and %d (42 is the generic Substrate and Bittensor format)", prefix, MaxSS58Prefix)
	}
	return nil
}
