package keys

import (
	"bytes"
	"crypto/sha512"
	"encoding/hex"
	"strings"
	"testing"

	"golang.org/x/crypto/pbkdf2"

	"github.com/tessera-net/tessera/internal/testutil/vectorfile"
)

// The interop vectors come from shared/research/bittensor-wire-vectors.json. The sections
// these tests need are copied verbatim into testdata/bittensor-vectors.json so the tests
// never depend on shared/; TestVectorsMatchShared checks the copy has not drifted when
// shared/ sits beside the repository (as it does in CI).

const testdataVectors = "testdata/bittensor-vectors.json"

type vectorFile struct {
	Wallet struct {
		Chain map[string]string `json:"key_derivation_chain"`
		URI   struct {
			Cases []struct {
				URI       string `json:"uri"`
				SS58      string `json:"ss58"`
				PublicKey string `json:"public_key"`
			} `json:"cases"`
		} `json:"uri_derivation"`
		SS58 struct {
			Cases []struct {
				PublicKey string `json:"public_key"`
				SS58      string `json:"ss58_42"`
				Address   string `json:"address"`
				IsValid   *bool  `json:"is_valid_ss58_address"`
				Format    *int   `json:"get_ss58_format"`
			} `json:"cases"`
			Ed25519 []struct {
				Input string `json:"input"`
				Valid bool   `json:"valid"`
			} `json:"is_valid_ed25519_pubkey_cases"`
		} `json:"ss58"`
	} `json:"wallet"`
	Wire struct {
		Signing vectorfile.Signing `json:"signing"`
	} `json:"wire"`
}

func readVectors(t testing.TB, path string) vectorFile {
	t.Helper()
	var v vectorFile
	vectorfile.Read(t, path, &v)
	if v.Wallet.Chain["mnemonic"] == "" || len(v.Wallet.URI.Cases) == 0 || len(v.Wire.Signing.Examples) == 0 {
		t.Fatalf("vectors %s lack the wallet or wire.signing sections", path)
	}
	return v
}

// vectorSources returns the vector files to run a test against: always the testdata copy,
// and the shared original when it is present.
func vectorSources(t *testing.T) map[string]vectorFile {
	t.Helper()
	src := map[string]vectorFile{"testdata": readVectors(t, testdataVectors)}
	if p := vectorfile.FindShared(); p != "" {
		src["shared"] = readVectors(t, p)
	}
	return src
}

// forEachSource runs fn as a subtest for every vector source.
func forEachSource(t *testing.T, fn func(t *testing.T, v vectorFile)) {
	for name, v := range vectorSources(t) {
		t.Run(name, func(t *testing.T) { fn(t, v) })
	}
}

func TestVectorsMatchShared(t *testing.T) {
	vectorfile.MatchShared(t, testdataVectors, "the wallet and wire.signing sections", readVectors)
}

func TestKeyDerivationChain(t *testing.T) {
	forEachSource(t, func(t *testing.T, v vectorFile) {
		c := v.Wallet.Chain
		mnemonic := vectorfile.ChainValue(t, c, "mnemonic")
		entropy := vectorfile.Hex(t, vectorfile.ChainValue(t, c, "bip39_entropy"))
		pbkdf := vectorfile.Hex(t, vectorfile.ChainValue(t, c, "pbkdf2_hmac_sha512"))
		mini := vectorfile.Hex(t, vectorfile.ChainValue(t, c, "mini_secret_seed_32"))
		priv := vectorfile.Hex(t, vectorfile.ChainValue(t, c, "schnorrkel_secret_key_64"))
		polkadot := vectorfile.Hex(t, vectorfile.ChainValue(t, c, "same_secret_in_polkadot_js"))
		pub := vectorfile.Hex(t, vectorfile.ChainValue(t, c, "public_key"))
		ss42 := vectorfile.ChainValue(t, c, "ss58_prefix_42")
		ss0 := vectorfile.ChainValue(t, c, "ss58_prefix_0")

		gotEnt, err := MnemonicEntropy(mnemonic)
		if err != nil {
			t.Fatalf("MnemonicEntropy: %v", err)
		}
		if !bytes.Equal(gotEnt, entropy) {
			t.Fatalf("entropy = %x, want %x", gotEnt, entropy)
		}
		if got := pbkdf2.Key(entropy, []byte("mnemonic"), 2048, 64, sha512.New); !bytes.Equal(got, pbkdf) {
			t.Fatalf("pbkdf2 = %x, want %x", got, pbkdf)
		}
		gotMini, err := MiniSecretFromMnemonic(mnemonic, "")
		if err != nil {
			t.Fatalf("MiniSecretFromMnemonic: %v", err)
		}
		if !bytes.Equal(gotMini[:], mini) {
			t.Fatalf("mini-secret = %x, want %x", gotMini, mini)
		}

		fromMnemonic, err := FromMnemonic(mnemonic, "")
		if err != nil {
			t.Fatalf("FromMnemonic: %v", err)
		}
		fromURI, err := FromURI(mnemonic)
		if err != nil {
			t.Fatalf("FromURI(mnemonic): %v", err)
		}
		fromSeedURI, err := FromURI("0x" + hex.EncodeToString(mini))
		if err != nil {
			t.Fatalf("FromURI(0x seed): %v", err)
		}
		fromMini, err := FromSeed(mini)
		if err != nil {
			t.Fatalf("FromSeed(mini): %v", err)
		}
		fromPriv, err := FromSeed(priv)
		if err != nil {
			t.Fatalf("FromSeed(privateKey): %v", err)
		}
		fromPolkadot, err := FromEd25519Secret(polkadot)
		if err != nil {
			t.Fatalf("FromEd25519Secret: %v", err)
		}
		pairs := []struct {
			name     string
			p        *Pair
			wantSeed bool
		}{
			{"FromMnemonic", fromMnemonic, true},
			{"FromURI(mnemonic)", fromURI, true},
			{"FromURI(0x seed)", fromSeedURI, true},
			{"FromSeed(mini)", fromMini, true},
			{"FromSeed(privateKey)", fromPriv, false},
			{"FromEd25519Secret", fromPolkadot, false},
		}
		for _, tc := range pairs {
			if got := tc.p.Public(); !bytes.Equal(got[:], pub) {
				t.Errorf("%s: public = %x, want %x", tc.name, got, pub)
			}
			if got := tc.p.SecretBytes(); !bytes.Equal(got[:], priv) {
				t.Errorf("%s: privateKey = %x, want %x", tc.name, got, priv)
			}
			if got := tc.p.Seed(); tc.wantSeed != (got != nil) || (tc.wantSeed && !bytes.Equal(got, mini)) {
				t.Errorf("%s: seed = %x, want %x (known: %v)", tc.name, got, mini, tc.wantSeed)
			}
			if got := tc.p.Public().String(); got != ss42 {
				t.Errorf("%s: ss58 = %s, want %s", tc.name, got, ss42)
			}
			if got := SS58Encode(tc.p.Public(), 0); got != ss0 {
				t.Errorf("%s: ss58(0) = %s, want %s", tc.name, got, ss0)
			}
		}
		for addr, prefix := range map[string]uint16{ss42: 42, ss0: 0} {
			got, gotPrefix, err := SS58Decode(addr)
			if err != nil || !bytes.Equal(got[:], pub) || gotPrefix != prefix {
				t.Errorf("SS58Decode(%s) = %x, %d, %v; want %x, %d", addr, got, gotPrefix, err, pub, prefix)
			}
		}
	})
}

func TestURIDerivationVectors(t *testing.T) {
	forEachSource(t, func(t *testing.T, v vectorFile) {
		if len(v.Wallet.URI.Cases) != 7 {
			t.Errorf("want the 7 upstream URI vectors, found %d", len(v.Wallet.URI.Cases))
		}
		for _, tc := range v.Wallet.URI.Cases {
			t.Run(redactURI(tc.URI), func(t *testing.T) {
				p, err := FromURI(tc.URI)
				if err != nil {
					t.Fatalf("FromURI: %v", err)
				}
				if got := p.Public().String(); got != tc.SS58 {
					t.Errorf("ss58 = %s, want %s", got, tc.SS58)
				}
				if tc.PublicKey != "" && p.Public().Hex() != tc.PublicKey {
					t.Errorf("public = %s, want %s", p.Public().Hex(), tc.PublicKey)
				}
				// Derivation is deterministic in the public key, and in the secret when
				// the last junction is hard.
				again, err := FromURI(tc.URI)
				if err != nil {
					t.Fatalf("FromURI again: %v", err)
				}
				if again.Public() != p.Public() {
					t.Errorf("second derivation gave %s", again.Public())
				}
				u, _ := ParseURI(tc.URI)
				if len(u.Junctions) > 0 && u.Junctions[len(u.Junctions)-1].Hard && again.SecretBytes() != p.SecretBytes() {
					t.Errorf("hard derivation is not deterministic")
				}
			})
		}
	})
}

func TestSS58Vectors(t *testing.T) {
	forEachSource(t, func(t *testing.T, v vectorFile) {
		for i, tc := range v.Wallet.SS58.Cases {
			switch {
			case tc.PublicKey != "":
				var pk PublicKey
				copy(pk[:], vectorfile.Hex(t, tc.PublicKey))
				if got := SS58Encode(pk, 42); got != tc.SS58 {
					t.Errorf("case %d: SS58Encode = %s, want %s", i, got, tc.SS58)
				}
				if len(tc.SS58) != 48 {
					t.Errorf("case %d: a prefix-42 address has 48 characters, got %d", i, len(tc.SS58))
				}
			case tc.IsValid != nil:
				_, _, err := SS58Decode(tc.Address)
				if got := IsValidSS58(tc.Address); got != *tc.IsValid || (err == nil) != *tc.IsValid {
					t.Errorf("case %d: IsValidSS58(%q) = %v (err %v), want %v", i, tc.Address, got, err, *tc.IsValid)
				}
			case tc.Format != nil:
				_, prefix, err := SS58Decode(tc.Address)
				if err != nil || int(prefix) != *tc.Format {
					t.Errorf("case %d: format of %s = %d, %v; want %d", i, tc.Address, prefix, err, *tc.Format)
				}
			default:
				t.Errorf("case %d: unrecognised SS58 vector", i)
			}
		}
		for _, tc := range v.Wallet.SS58.Ed25519 {
			_, err := ParsePublicKey(tc.Input)
			if (err == nil) != tc.Valid {
				t.Errorf("ParsePublicKey(%q): err = %v, want valid = %v", tc.Input, err, tc.Valid)
			}
		}
	})
}

func TestSS58ChecksumError(t *testing.T) {
	// The upstream invalid address fails on its checksum, not on its shape.
	_, _, err := SS58Decode("5F3sa2TJAWMqDhXG6jhV4N8ko9rLbc4B52kmxXJoN5D3ue8w")
	if err == nil || !strings.Contains(err.Error(), "checksum") {
		t.Fatalf("want a checksum error, got %v", err)
	}
}

func TestSignatureVectors(t *testing.T) {
	forEachSource(t, func(t *testing.T, v vectorFile) {
		s := v.Wire.Signing
		dendrite, err := FromMnemonic(s.DendriteKeypair.Mnemonic, "")
		if err != nil {
			t.Fatalf("dendrite key: %v", err)
		}
		axon, err := FromURI(s.AxonKeypair.URI)
		if err != nil {
			t.Fatalf("axon key: %v", err)
		}
		if dendrite.Public().Hex() != s.DendriteKeypair.PublicKey || dendrite.Public().String() != s.DendriteKeypair.SS58 {
			t.Fatalf("dendrite key = %s, want %s", dendrite.Public().Hex(), s.DendriteKeypair.PublicKey)
		}
		if axon.Public().Hex() != s.AxonKeypair.PublicKey || axon.Public().String() != s.AxonKeypair.SS58 {
			t.Fatalf("axon key = %s, want %s", axon.Public().Hex(), s.AxonKeypair.PublicKey)
		}
		for _, ex := range s.Examples {
			t.Run(ex.Name, func(t *testing.T) {
				signer, other := dendrite.Public(), axon.Public()
				if ex.SignerPublicKey != "" {
					pk, err := ParsePublicKey(ex.SignerPublicKey)
					if err != nil {
						t.Fatal(err)
					}
					signer = pk
					if signer == axon.Public() {
						other = dendrite.Public()
					}
				}
				msg := []byte(ex.Message)
				for _, sigHex := range ex.ValidSignatures {
					sig := vectorfile.Hex(t, sigHex)
					if !signer.Verify(msg, sig) {
						t.Errorf("valid signature %s… does not verify", sigHex[:18])
					}
					if !signer.VerifyAllowWrapped(msg, sig) {
						t.Errorf("VerifyAllowWrapped rejects a plain signature")
					}
					if other.Verify(msg, sig) {
						t.Errorf("signature verifies under the wrong key")
					}
					for _, tampered := range tamperings(msg) {
						if signer.Verify(tampered, sig) || signer.VerifyAllowWrapped(tampered, sig) {
							t.Errorf("signature verifies for tampered message %q", tampered)
						}
					}
					bad := append([]byte(nil), sig...)
					bad[10] ^= 0x01
					if signer.Verify(msg, bad) {
						t.Errorf("tampered signature verifies")
					}
				}
				if ex.WrappedSig != "" {
					sig := vectorfile.Hex(t, ex.WrappedSig)
					if signer.Verify(msg, sig) {
						t.Errorf("a signature of the <Bytes>-wrapped message verifies for the bare message")
					}
					if !signer.Verify([]byte("<Bytes>"+ex.Message+"</Bytes>"), sig) {
						t.Errorf("wrapped signature does not verify against the wrapped message")
					}
					if !signer.VerifyAllowWrapped(msg, sig) {
						t.Errorf("VerifyAllowWrapped rejects the wrapped signature")
					}
				}
				if inv := ex.Invalid; inv != nil {
					if got := signer.Verify([]byte(inv.Message), vectorfile.Hex(t, inv.Signature)); got != inv.Expected {
						t.Errorf("invalid_for_message: Verify = %v, want %v", got, inv.Expected)
					}
				}
			})
		}
	})
}

// tamperings returns altered copies of msg: a flipped bit at each end and in the middle,
// a byte appended, the last byte removed.
func tamperings(msg []byte) [][]byte {
	var out [][]byte
	for _, i := range []int{0, len(msg) / 2, len(msg) - 1} {
		m := append([]byte(nil), msg...)
		m[i] ^= 0x01
		out = append(out, m)
	}
	out = append(out, append(append([]byte(nil), msg...), '.'), msg[:len(msg)-1])
	return out
}
