package wallet

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/tessera-net/tessera/keys"
)

// Keypair is the content of a key file: a public key, and for a full key file the
// signing pair and, when known, the mnemonic it came from.
type Keypair struct {
	// Public is the sr25519 public key (the account id).
	Public keys.PublicKey
	// Pair signs; it is nil for a public-only file such as coldkeypub.txt.
	Pair *keys.Pair
	// Mnemonic is the BIP39 phrase, or "" when the file does not hold one.
	Mnemonic string
}

// NewKeypair wraps a pair and, optionally, the mnemonic it was derived from.
func NewKeypair(p *keys.Pair, mnemonic string) *Keypair {
	return &Keypair{Public: p.Public(), Pair: p, Mnemonic: mnemonic}
}

// KeypairFromMnemonic derives the key of a mnemonic the way btwallet does (no BIP39
// passphrase) and keeps the mnemonic.
func KeypairFromMnemonic(mnemonic string) (*Keypair, error) {
	m := strings.Join(strings.Fields(mnemonic), " ")
	p, err := keys.FromMnemonic(m, "")
	if err != nil {
		return nil, err
	}
	return NewKeypair(p, m), nil
}

// PublicOnly returns a Keypair with only the public key.
func PublicOnly(pub keys.PublicKey) *Keypair { return &Keypair{Public: pub} }

// HasSecret reports whether the key pair can sign.
func (k *Keypair) HasSecret() bool { return k.Pair != nil }

// SS58 is the public key as an SS58 address with the given prefix.
func (k *Keypair) SS58(prefix uint16) string { return keys.SS58Encode(k.Public, prefix) }

// keyfileJSON is the key file JSON as written: compact, fixed field order, absent
// fields omitted (btwallet omits them too; its order is random).
type keyfileJSON struct {
	AccountID    string `json:"accountId"`
	PublicKey    string `json:"publicKey"`
	PrivateKey   string `json:"privateKey,omitempty"`
	SecretPhrase string `json:"secretPhrase,omitempty"`
	SecretSeed   string `json:"secretSeed,omitempty"`
	SS58Address  string `json:"ss58Address"`
}

// MarshalKeypair renders the plaintext JSON of a key file: accountId and publicKey
// ("0x" + hex of the public key), privateKey ("0x" + the 64-byte schnorrkel secret,
// scalar ‖ nonce), secretPhrase, secretSeed ("0x" + the 32-byte mini-secret) and
// ss58Address (prefix 42). Fields the key pair does not have are left out; a public-only
// Keypair gives the coldkeypub.txt form.
func MarshalKeypair(k *Keypair) ([]byte, error) {
	if k == nil {
		return nil, errors.New("no key pair to write")
	}
	j := keyfileJSON{
		AccountID:    k.Public.Hex(),
		PublicKey:    k.Public.Hex(),
		SecretPhrase: k.Mnemonic,
		SS58Address:  k.Public.String(),
	}
	if k.Pair != nil {
		if k.Pair.Public() != k.Public {
			return nil, errors.New("key pair is inconsistent: its public key does not match its secret")
		}
		sk := k.Pair.SecretBytes()
		j.PrivateKey = "0x" + hex.EncodeToString(sk[:])
		if seed := k.Pair.Seed(); seed != nil {
			j.SecretSeed = "0x" + hex.EncodeToString(seed)
		}
	} else if k.Mnemonic != "" {
		return nil, errors.New("key pair has a mnemonic but no secret key")
	}
	return json.Marshal(j)
}

// MarshalPublic renders the public key file (coldkeypub.txt, <hotkey>pub.txt).
func MarshalPublic(pub keys.PublicKey) []byte {
	b, _ := MarshalKeypair(PublicOnly(pub)) // cannot fail for a public-only key pair
	return b
}

// ParseKeypair reads the plaintext of a key file. It accepts btwallet's compact JSON
// (any key order, absent fields), the legacy Python JSON (null for absent fields), and a
// bare "0x"+64-hex public key (legacy coldkeypub.txt). Like btwallet, it builds the key
// from the first present field of secretPhrase, secretSeed, privateKey, ss58Address;
// publicKey and accountId are accepted last. Every public key the file states must agree
// with the key it builds.
func ParseKeypair(data []byte) (*Keypair, error) {
	text := bytes.TrimSpace(data)
	if len(text) == 0 {
		return nil, errors.New("key file is empty")
	}
	if bytes.HasPrefix(text, []byte("0x")) && !bytes.ContainsAny(text, "{}") {
		pub, err := keys.ParsePublicKey(string(text))
		if err != nil {
			return nil, fmt.Errorf("key file is neither JSON nor a 0x public key: %w", err)
		}
		return PublicOnly(pub), nil
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(text, &raw); err != nil {
		return nil, fmt.Errorf("key file is not valid JSON (%v); a key file is a JSON object with secretPhrase, secretSeed, privateKey or ss58Address", err)
	}
	fields := make(map[string]string, 6)
	for _, name := range []string{"accountId", "publicKey", "privateKey", "secretPhrase", "secretSeed", "ss58Address"} {
		v, ok := raw[name]
		if !ok {
			continue
		}
		var s *string
		if err := json.Unmarshal(v, &s); err != nil {
			return nil, fmt.Errorf("key file field %s must be a string or null, not %s", name, truncate(string(v), 20))
		}
		if s != nil && strings.TrimSpace(*s) != "" {
			fields[name] = strings.TrimSpace(*s)
		}
	}

	var k *Keypair
	var from string
	switch {
	case fields["secretPhrase"] != "":
		from = "secretPhrase"
		kp, err := KeypairFromMnemonic(fields["secretPhrase"])
		if err != nil {
			return nil, fmt.Errorf("key file secretPhrase: %w", err)
		}
		k = kp
	case fields["secretSeed"] != "":
		from = "secretSeed"
		p, err := pairFromHex(fields["secretSeed"], 32)
		if err != nil {
			return nil, fmt.Errorf("key file secretSeed: %w", err)
		}
		k = NewKeypair(p, "")
	case fields["privateKey"] != "":
		from = "privateKey"
		p, err := pairFromHex(fields["privateKey"], 64)
		if err != nil {
			return nil, fmt.Errorf("key file privateKey: %w", err)
		}
		k = NewKeypair(p, "")
	default:
		for _, name := range []string{"ss58Address", "publicKey", "accountId"} {
			if fields[name] == "" {
				continue
			}
			pub, err := keys.ParsePublicKey(fields[name])
			if err != nil {
				return nil, fmt.Errorf("key file %s: %w", name, err)
			}
			k, from = PublicOnly(pub), name
			break
		}
		if k == nil {
			return nil, errors.New("key file has none of secretPhrase, secretSeed, privateKey, ss58Address, publicKey or accountId")
		}
	}
	for _, name := range []string{"ss58Address", "publicKey", "accountId"} {
		if fields[name] == "" || name == from {
			continue
		}
		pub, err := keys.ParsePublicKey(fields[name])
		if err != nil {
			return nil, fmt.Errorf("key file %s: %w", name, err)
		}
		if pub != k.Public {
			return nil, fmt.Errorf("key file is inconsistent: %s gives %s but %s is %s", from, k.Public, name, fields[name])
		}
	}
	return k, nil
}

// pairFromHex decodes a "0x"-hex secret of the given length and builds its pair.
func pairFromHex(s string, size int) (*keys.Pair, error) {
	b, err := hex.DecodeString(strings.TrimPrefix(strings.TrimPrefix(s, "0x"), "0X"))
	if err != nil {
		return nil, fmt.Errorf("not hex: %w", err)
	}
	if len(b) != size {
		return nil, fmt.Errorf("%d bytes, want %d", len(b), size)
	}
	return keys.FromSeed(b)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
