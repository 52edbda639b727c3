package wallet

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/tessera-net/tessera/internal/testutil/vectorfile"
	"github.com/tessera-net/tessera/keys"
)

// testdata/bittensor-vectors.json is a verbatim copy of the wallet section of
// shared/research/bittensor-wire-vectors.json, so these tests never depend on shared/;
// TestVectorsMatchShared checks it against the original when shared/ is present.
// testdata/legacy-fernet.json is a legacy Fernet key file made with Python's
// cryptography package the way the old bittensor/keyfile.py made them.

type walletVectors struct {
	Wallet struct {
		Chain   map[string]string `json:"key_derivation_chain"`
		Keyfile map[string]any    `json:"keyfile_plaintext_json"`
		NaCl    struct {
			KDF struct {
				OpsLimit    int    `json:"opslimit"`
				MemoryBytes int    `json:"memlimit_bytes"`
				Parallelism int    `json:"parallelism"`
				OutLen      int    `json:"out_len"`
				SaltHex     string `json:"salt_hex"`
			} `json:"kdf"`
			Password   string `json:"password"`
			DerivedKey string `json:"derived_key_hex"`
			Nonce      string `json:"nonce_hex"`
			Plaintext  string `json:"plaintext"`
			File       string `json:"file_hex"`
		} `json:"nacl_encrypted_keyfile"`
		PasswordEnv struct {
			Example struct {
				Path string `json:"path"`
				Env  string `json:"env"`
			} `json:"name_example"`
			Cases []struct {
				Password string `json:"password"`
				Value    string `json:"value"`
			} `json:"cases_for_env_name_prefix_BT_PW__USERS"`
		} `json:"password_env_var"`
	} `json:"wallet"`
}

const testdataVectors = "testdata/bittensor-vectors.json"

func loadWalletVectors(t testing.TB, path string) walletVectors {
	t.Helper()
	var v walletVectors
	vectorfile.Read(t, path, &v)
	if v.Wallet.NaCl.File == "" || len(v.Wallet.PasswordEnv.Cases) == 0 {
		t.Fatalf("%s lacks the wallet vectors", path)
	}
	return v
}

func vectors(t testing.TB) walletVectors {
	return loadWalletVectors(t, testdataVectors)
}

func TestVectorsMatchShared(t *testing.T) {
	vectorfile.MatchShared(t, testdataVectors, "its wallet section", loadWalletVectors)
}

func chainValue(t *testing.T, v walletVectors, prefix string) string {
	t.Helper()
	return vectorfile.ChainValue(t, v.Wallet.Chain, prefix)
}

func keyfileExample(t *testing.T, v walletVectors, prefix string) string {
	t.Helper()
	for k, val := range v.Wallet.Keyfile {
		if s, ok := val.(string); ok && strings.HasPrefix(k, prefix) {
			return s
		}
	}
	t.Fatalf("no keyfile example %q", prefix)
	return ""
}

func TestKDFParametersMatchVectors(t *testing.T) {
	k := vectors(t).Wallet.NaCl.KDF
	if k.OpsLimit != ArgonTime || k.MemoryBytes != ArgonMemoryKiB*1024 || k.Parallelism != ArgonThreads || k.OutLen != 32 {
		t.Fatalf("KDF parameters %+v differ from ours", k)
	}
	if hex.EncodeToString([]byte(naclSalt)) != k.SaltHex {
		t.Fatalf("salt %x, want %s", naclSalt, k.SaltHex)
	}
}

func TestNaClVectorSecretbox(t *testing.T) {
	n := vectors(t).Wallet.NaCl
	var key [32]byte
	copy(key[:], vectorfile.Hex(t, n.DerivedKey))
	var nonce [NaClNonceSize]byte
	copy(nonce[:], vectorfile.Hex(t, n.Nonce))
	file := vectorfile.Hex(t, n.File)

	if DetectEncryption(file) != NaCl {
		t.Fatalf("vector file not detected as $NACL")
	}
	plain, err := OpenNaCl(file, &key)
	if err != nil {
		t.Fatalf("OpenNaCl: %v", err)
	}
	if string(plain) != n.Plaintext {
		t.Fatalf("plaintext = %q", plain)
	}
	if sealed := SealNaCl([]byte(n.Plaintext), &key, &nonce); !bytes.Equal(sealed, file) {
		t.Fatalf("SealNaCl does not reproduce the vector file")
	}
	// The plaintext is the legacy key file of the vector key.
	k, err := ParseKeypair(plain)
	if err != nil {
		t.Fatalf("ParseKeypair: %v", err)
	}
	if k.Public.String() != chainValue(t, vectors(t), "ss58_prefix_42") {
		t.Fatalf("decrypted key is %s", k.Public)
	}

	wrong := key
	wrong[0] ^= 1
	tampered := func(i int) []byte {
		b := append([]byte(nil), file...)
		b[i] ^= 0x40
		return b
	}
	cases := []struct {
		name string
		data []byte
		key  *[32]byte
		want error
		msg  string
	}{
		{"wrong key", file, &wrong, ErrWrongPassword, "wrong password or corrupt key file"},
		{"nonce changed", tampered(len(NaClPrefix) + 3), &key, ErrWrongPassword, ""},
		{"tag changed", tampered(len(NaClPrefix) + NaClNonceSize + 1), &key, ErrWrongPassword, ""},
		{"ciphertext changed", tampered(len(file) - 1), &key, ErrWrongPassword, ""},
		{"last byte cut", file[:len(file)-1], &key, ErrWrongPassword, ""},
		{"truncated to the prefix", file[:len(NaClPrefix)+10], &key, nil, "truncated"},
		{"prefix only", []byte(NaClPrefix), &key, nil, "truncated"},
		{"not nacl", []byte("{}"), &key, nil, "not a $NACL key file"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := OpenNaCl(tc.data, tc.key)
			if err == nil {
				t.Fatal("decrypted")
			}
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Fatalf("error %v, want %v", err, tc.want)
			}
			if tc.msg != "" && !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("error %q does not say %q", err, tc.msg)
			}
		})
	}
}

// TestNaClVectorFullKDF runs the real Argon2i derivation (about 5 s and 512 MiB each).
func TestNaClVectorFullKDF(t *testing.T) {
	if testing.Short() {
		t.Skip("Argon2i with 512 MiB: skipped with -short")
	}
	n := vectors(t).Wallet.NaCl
	if key := DeriveNaClKey([]byte(n.Password)); hex.EncodeToString(key[:]) != n.DerivedKey {
		t.Fatalf("derived key %x, want %s", key, n.DerivedKey)
	}
	plain, err := Decrypt(vectorfile.Hex(t, n.File), []byte(n.Password))
	if err != nil || string(plain) != n.Plaintext {
		t.Fatalf("Decrypt = %q, %v", plain, err)
	}
}

func TestNaClWrongPasswordFullKDF(t *testing.T) {
	if testing.Short() {
		t.Skip("Argon2i with 512 MiB: skipped with -short")
	}
	n := vectors(t).Wallet.NaCl
	_, err := Decrypt(vectorfile.Hex(t, n.File), []byte(n.Password+"x"))
	if !errors.Is(err, ErrWrongPassword) || err.Error() != "wrong password or corrupt key file" {
		t.Fatalf("want ErrWrongPassword, got %v", err)
	}
}

func TestKeyfileJSONVectors(t *testing.T) {
	v := vectors(t)
	mnemonic := chainValue(t, v, "mnemonic")
	pub := chainValue(t, v, "public_key")
	ss58 := chainValue(t, v, "ss58_prefix_42")
	for _, prefix := range []string{"python_legacy_example", "btwallet_rust_example", "coldkeypub_txt_example_rust"} {
		t.Run(prefix, func(t *testing.T) {
			k, err := ParseKeypair([]byte(keyfileExample(t, v, prefix)))
			if err != nil {
				t.Fatalf("ParseKeypair: %v", err)
			}
			if k.Public.Hex() != pub || k.Public.String() != ss58 {
				t.Fatalf("public %s", k.Public.Hex())
			}
			wantSecret := prefix != "coldkeypub_txt_example_rust"
			if k.HasSecret() != wantSecret || (k.Mnemonic == mnemonic) != wantSecret {
				t.Fatalf("secret %v mnemonic %q, want secret %v", k.HasSecret(), k.Mnemonic, wantSecret)
			}
		})
	}

	// What we write holds exactly the fields and values of btwallet's file.
	k, err := KeypairFromMnemonic(mnemonic)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		got     []byte
		example string
	}{
		{"keyfile", mustMarshal(t, k), "btwallet_rust_example"},
		{"coldkeypub", MarshalPublic(k.Public), "coldkeypub_txt_example_rust"},
	} {
		var got, want map[string]any
		if err := json.Unmarshal(tc.got, &got); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal([]byte(keyfileExample(t, v, tc.example)), &want); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: wrote %s\nwant the fields of %s", tc.name, tc.got, keyfileExample(t, v, tc.example))
		}
	}
	// The coldkeypub file is byte-for-byte btwallet's (its three fields happen to be
	// in our order).
	if got := string(MarshalPublic(k.Public)); got != keyfileExample(t, v, "coldkeypub_txt_example_rust") {
		t.Errorf("coldkeypub = %s", got)
	}
}

func mustMarshal(t *testing.T, k *Keypair) []byte {
	t.Helper()
	b, err := MarshalKeypair(k)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestPasswordEnvVectors(t *testing.T) {
	pe := vectors(t).Wallet.PasswordEnv
	if filepath.Separator == '/' {
		if got := PasswordEnvName(pe.Example.Path); got != pe.Example.Env {
			t.Fatalf("PasswordEnvName(%s) = %s, want %s", pe.Example.Path, got, pe.Example.Env)
		}
	}
	// The upstream values were made for a keyfile under /Users; only the first
	// len(password) bytes of the name matter, and they are all "BT_PW__USERS…".
	name := PasswordEnvName("/Users/alice/.bittensor/wallets/default/coldkey")
	if !strings.HasPrefix(name, "BT_PW__USERS_ALICE__BITTENSOR") {
		t.Fatalf("name %s", name)
	}
	for _, c := range pe.Cases {
		if got := ObfuscatePassword(c.Password, name); got != c.Value {
			t.Errorf("ObfuscatePassword(%q) = %s, want %s", c.Password, got, c.Value)
		}
		got, err := DeobfuscatePassword(c.Value, name)
		if err != nil || got != c.Password {
			t.Errorf("DeobfuscatePassword(%s) = %q, %v; want %q", c.Value, got, err, c.Password)
		}
	}
}

func TestLoadPriority(t *testing.T) {
	v := vectors(t)
	mnemonic := chainValue(t, v, "mnemonic")
	a, err := KeypairFromMnemonic(mnemonic)
	if err != nil {
		t.Fatal(err)
	}
	bob, err := keys.FromURI("//Bob")
	if err != nil {
		t.Fatal(err)
	}
	aSeed, bSeed := "0x"+hex.EncodeToString(a.Pair.Seed()), "0x"+hex.EncodeToString(bob.Seed())
	aSk, bSk := a.Pair.SecretBytes(), bob.SecretBytes()
	aPriv, bPriv := "0x"+hex.EncodeToString(aSk[:]), "0x"+hex.EncodeToString(bSk[:])
	tests := []struct {
		name       string
		json       string
		want       keys.PublicKey
		wantSecret bool
	}{
		{"phrase before seed", `{"secretPhrase":"` + mnemonic + `","secretSeed":"` + bSeed + `"}`, a.Public, true},
		{"seed before private key", `{"secretSeed":"` + bSeed + `","privateKey":"` + aPriv + `"}`, bob.Public(), true},
		{"private key before address", `{"privateKey":"` + bPriv + `"}`, bob.Public(), true},
		{"null phrase skipped", `{"secretPhrase":null,"secretSeed":"` + aSeed + `","ss58Address":"` + a.Public.String() + `"}`, a.Public, true},
		{"empty phrase skipped", `{"secretPhrase":"","privateKey":"` + aPriv + `"}`, a.Public, true},
		{"address only", `{"ss58Address":"` + a.Public.String() + `"}`, a.Public, false},
		{"prefix-0 address", `{"ss58Address":"` + keys.SS58Encode(a.Public, 0) + `","publicKey":"` + a.Public.Hex() + `"}`, a.Public, false},
		{"public key only", `{"publicKey":"` + a.Public.Hex() + `"}`, a.Public, false},
		{"account id only", `{"accountId":"` + a.Public.Hex() + `"}`, a.Public, false},
		{"legacy bare hex", a.Public.Hex() + "\n", a.Public, false},
		{"unknown fields ignored", `{"ss58Address":"` + a.Public.String() + `","crypto":"sr25519"}`, a.Public, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			k, err := ParseKeypair([]byte(tc.json))
			if err != nil {
				t.Fatalf("ParseKeypair: %v", err)
			}
			if k.Public != tc.want || k.HasSecret() != tc.wantSecret {
				t.Fatalf("got %s (secret %v), want %s (secret %v)", k.Public, k.HasSecret(), tc.want, tc.wantSecret)
			}
		})
	}
}

func TestParseKeypairErrors(t *testing.T) {
	a, err := KeypairFromMnemonic(vectorMnemonic)
	if err != nil {
		t.Fatal(err)
	}
	bob, _ := keys.FromURI("//Bob")
	tests := []struct {
		name, data, want string
	}{
		{"empty", "", "key file is empty"},
		{"blank", " \n", "key file is empty"},
		{"not JSON", "hello", "not valid JSON"},
		{"truncated JSON", `{"ss58Address":"5HDv`, "not valid JSON"},
		{"array", `[]`, "not valid JSON"},
		{"number field", `{"secretPhrase":5}`, "field secretPhrase must be a string or null"},
		{"object field", `{"ss58Address":{"a":1}}`, "field ss58Address must be a string or null"},
		{"no key fields", `{}`, "has none of secretPhrase"},
		{"only nulls", `{"secretPhrase":null,"ss58Address":null}`, "has none of secretPhrase"},
		{"bad mnemonic", `{"secretPhrase":"old leopard"}`, "secretPhrase: invalid mnemonic: it has 2 word(s)"},
		{"bad seed hex", `{"secretSeed":"0xzz"}`, "secretSeed: not hex"},
		{"short seed", `{"secretSeed":"0x0102"}`, "secretSeed: 2 bytes, want 32"},
		{"short private key", `{"privateKey":"0x` + strings.Repeat("ab", 32) + `"}`, "privateKey: 32 bytes, want 64"},
		{"bad address", `{"ss58Address":"5F3sa2TJAWMqDhXG6jhV4N8ko9rLbc4B52kmxXJoN5D3ue8w"}`, "ss58Address"},
		{"bad bare hex", `0x1234`, "neither JSON nor a 0x public key"},
		{"inconsistent", `{"secretPhrase":"` + vectorMnemonic + `","ss58Address":"` + bob.Public().String() + `"}`, "inconsistent: secretPhrase gives " + a.Public.String()},
		{"inconsistent public", `{"ss58Address":"` + a.Public.String() + `","publicKey":"` + bob.Public().Hex() + `"}`, "inconsistent"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseKeypair([]byte(tc.data))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("want error %q, got %v", tc.want, err)
			}
		})
	}
}

type fernetVector struct {
	Password  string `json:"password"`
	Key       string `json:"fernet_key"`
	File      string `json:"file"`
	Plaintext string `json:"plaintext"`
}

func loadFernet(t *testing.T) fernetVector {
	raw, err := os.ReadFile("testdata/legacy-fernet.json")
	if err != nil {
		t.Fatal(err)
	}
	var f fernetVector
	if err := json.Unmarshal(raw, &f); err != nil {
		t.Fatal(err)
	}
	return f
}

func TestLegacyFernet(t *testing.T) {
	f := loadFernet(t)
	if DetectEncryption([]byte(f.File)) != LegacyFernet {
		t.Fatal("not detected as legacy Fernet")
	}
	var key [32]byte
	if n, err := base64URLDecode(f.Key, key[:]); err != nil || n != 32 {
		t.Fatalf("fernet key: %v", err)
	}
	plain, err := OpenFernet([]byte(f.File), &key)
	if err != nil || string(plain) != f.Plaintext {
		t.Fatalf("OpenFernet = %q, %v", plain, err)
	}
	wrong := key
	wrong[3] ^= 1
	if _, err := OpenFernet([]byte(f.File), &wrong); !errors.Is(err, ErrWrongPassword) {
		t.Fatalf("wrong key: %v", err)
	}
	for name, tok := range map[string]string{
		"not base64": "gAAAAA!!!!",
		"truncated":  f.File[:40],
		"bad length": f.File[:len(f.File)-8],
	} {
		if _, err := Decrypt([]byte(tok), []byte("x")); err == nil || errors.Is(err, ErrWrongPassword) {
			t.Errorf("%s: want a format error, got %v", name, err)
		}
	}
}

// TestLegacyFernetFullKDF runs the legacy PBKDF2 (10,000,000 rounds, a few seconds).
func TestLegacyFernetFullKDF(t *testing.T) {
	if testing.Short() {
		t.Skip("10,000,000 PBKDF2 rounds: skipped with -short")
	}
	f := loadFernet(t)
	plain, err := Decrypt([]byte(f.File), []byte(f.Password))
	if err != nil || string(plain) != f.Plaintext {
		t.Fatalf("Decrypt = %q, %v", plain, err)
	}
}

func TestDecryptOtherFormats(t *testing.T) {
	vault := "$ANSIBLE_VAULT;1.1;AES256\n6162636465\n"
	if _, err := Decrypt([]byte(vault), []byte("pw")); !errors.Is(err, ErrUnsupportedEncryption) || !strings.Contains(err.Error(), "ansible-vault") {
		t.Fatalf("ansible-vault: %v", err)
	}
	if _, err := Decrypt([]byte(`{"ss58Address":"x"}`), []byte("pw")); err == nil || !strings.Contains(err.Error(), "not encrypted") {
		t.Fatalf("plaintext: %v", err)
	}
	if _, err := EncodeKeyfile(PublicOnly(keys.PublicKey{}), []byte{}); err == nil {
		t.Fatal("an empty password was accepted")
	}
	for data, want := range map[string]Encryption{
		"$NACL...": NaCl, "$ANSIBLE_VAULT;1.1": AnsibleVault, "gAAAAABk": LegacyFernet, "{}": Plaintext, "": Plaintext,
	} {
		if got := DetectEncryption([]byte(data)); got != want {
			t.Errorf("DetectEncryption(%q) = %s, want %s", data, got, want)
		}
	}
}

func FuzzParseKeypair(f *testing.F) {
	v := vectors(f)
	for k, val := range v.Wallet.Keyfile {
		if s, ok := val.(string); ok && strings.Contains(k, "example") {
			f.Add([]byte(s))
		}
	}
	for _, s := range []string{"", "{}", "null", "0x", `{"secretSeed":"0x00"}`, `{"privateKey":null}`, "[1,2]"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		k, err := ParseKeypair(data)
		if err != nil {
			return
		}
		// Whatever parses writes back to a file that parses to the same key.
		out, err := MarshalKeypair(k)
		if err != nil {
			t.Fatalf("MarshalKeypair of a parsed key: %v", err)
		}
		again, err := ParseKeypair(out)
		if err != nil || again.Public != k.Public || again.HasSecret() != k.HasSecret() || again.Mnemonic != k.Mnemonic {
			t.Fatalf("round trip of %q: %v", data, err)
		}
	})
}
