package wallet

import (
	"encoding/base64"
	"encoding/hex"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tessera-net/tessera/internal/testutil/vectorfile"
	"github.com/tessera-net/tessera/keys"
)

const vectorMnemonic = "old leopard transfer rib spatial phone calm indicate online fire caution review"

func base64URLDecode(s string, dst []byte) (int, error) {
	return base64.URLEncoding.Decode(dst, []byte(s))
}

func newTestWallet(t *testing.T, name, hotkey string) *Wallet {
	t.Helper()
	w, err := New(filepath.Join(t.TempDir(), "wallets"), name, hotkey)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func generated(t *testing.T) *Keypair {
	t.Helper()
	m, err := keys.NewMnemonic(12)
	if err != nil {
		t.Fatal(err)
	}
	k, err := KeypairFromMnemonic(m)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func assertMode(t *testing.T, path string, want fs.FileMode) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := fi.Mode().Perm(); got != want {
		t.Errorf("%s has mode %o, want %o", path, got, want)
	}
}

func assertNoTempFiles(t *testing.T, dir string) {
	t.Helper()
	_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && strings.Contains(d.Name(), ".tmp-") {
			t.Errorf("temporary file left behind: %s", p)
		}
		return nil
	})
}

func TestSaveAndOpenUnencrypted(t *testing.T) {
	w := newTestWallet(t, "alice", "miner1")
	cold, hot := generated(t), generated(t)
	if err := w.SaveColdkey(cold, SaveOptions{}); err != nil {
		t.Fatalf("SaveColdkey: %v", err)
	}
	if err := w.SaveHotkey(hot, SaveOptions{}); err != nil {
		t.Fatalf("SaveHotkey: %v", err)
	}
	for _, p := range []string{w.ColdkeyPath(), w.ColdkeyPubPath(), w.HotkeyPath(), w.HotkeyPubPath()} {
		assertMode(t, p, FileMode)
	}
	for _, d := range []string{w.Path, w.Dir(), w.HotkeysDir()} {
		assertMode(t, d, DirMode)
	}
	assertNoTempFiles(t, w.Path)

	gotCold, err := w.OpenColdkey(nil)
	if err != nil {
		t.Fatalf("OpenColdkey: %v", err)
	}
	if gotCold.Public != cold.Public || gotCold.Mnemonic != cold.Mnemonic || gotCold.Pair.SecretBytes() != cold.Pair.SecretBytes() {
		t.Fatal("coldkey did not round-trip")
	}
	gotHot, err := w.OpenHotkey(nil)
	if err != nil || gotHot.Public != hot.Public {
		t.Fatalf("OpenHotkey: %v", err)
	}
	if pub, err := w.ColdkeyPub(); err != nil || pub != cold.Public {
		t.Fatalf("ColdkeyPub = %s, %v", pub, err)
	}
	if pub, err := w.HotkeyPub(); err != nil || pub != hot.Public {
		t.Fatalf("HotkeyPub = %s, %v", pub, err)
	}
	pubFile, _ := os.ReadFile(w.ColdkeyPubPath())
	if string(pubFile) != string(MarshalPublic(cold.Public)) || strings.Contains(string(pubFile), "secret") {
		t.Fatalf("coldkeypub.txt = %s", pubFile)
	}
	// A missing public file falls back to the unencrypted key file.
	if err := os.Remove(w.HotkeyPubPath()); err != nil {
		t.Fatal(err)
	}
	if pub, err := w.HotkeyPub(); err != nil || pub != hot.Public {
		t.Fatalf("HotkeyPub without pub file = %s, %v", pub, err)
	}
}

func TestSaveRefusesToOverwrite(t *testing.T) {
	w := newTestWallet(t, "default", "default")
	first, second := generated(t), generated(t)
	if err := w.SaveColdkey(first, SaveOptions{}); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(w.ColdkeyPath())
	err := w.SaveColdkey(second, SaveOptions{})
	if !errors.Is(err, ErrKeyExists) || !strings.Contains(err.Error(), w.ColdkeyPath()) {
		t.Fatalf("want ErrKeyExists naming the file, got %v", err)
	}
	after, _ := os.ReadFile(w.ColdkeyPath())
	if string(before) != string(after) {
		t.Fatal("the existing coldkey was changed")
	}
	if pub, _ := w.ColdkeyPub(); pub != first.Public {
		t.Fatal("coldkeypub.txt was changed")
	}
	if err := w.SaveColdkey(second, SaveOptions{Overwrite: true}); err != nil {
		t.Fatalf("overwrite: %v", err)
	}
	if k, err := w.OpenColdkey(nil); err != nil || k.Public != second.Public {
		t.Fatalf("after overwrite: %v", err)
	}
	if pub, _ := w.ColdkeyPub(); pub != second.Public {
		t.Fatal("coldkeypub.txt not replaced")
	}

	// A coldkeypub.txt of another key blocks a new coldkey; one of the same key does not.
	w2 := newTestWallet(t, "pubonly", "default")
	if err := writeFileAtomic(w2.ColdkeyPubPath(), MarshalPublic(first.Public), false); err != nil {
		t.Fatal(err)
	}
	if err := w2.SaveColdkey(second, SaveOptions{}); !errors.Is(err, ErrKeyExists) || !strings.Contains(err.Error(), "holds another key") {
		t.Fatalf("want ErrKeyExists for another key's coldkeypub, got %v", err)
	}
	if _, err := os.Stat(w2.ColdkeyPath()); !errors.Is(err, fs.ErrNotExist) {
		t.Fatal("a coldkey was written despite the error")
	}
	if err := w2.SaveColdkey(first, SaveOptions{}); err != nil {
		t.Fatalf("same key as coldkeypub.txt: %v", err)
	}
	assertNoTempFiles(t, w.Path)
	assertNoTempFiles(t, w2.Path)
}

func TestWriteFileAtomicNoClobberRace(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "k")
	if err := writeFileAtomic(p, []byte("one"), false); err != nil {
		t.Fatal(err)
	}
	if err := writeFileAtomic(p, []byte("two"), false); !errors.Is(err, ErrKeyExists) {
		t.Fatalf("want ErrKeyExists, got %v", err)
	}
	if b, _ := os.ReadFile(p); string(b) != "one" {
		t.Fatalf("content %q", b)
	}
	if err := writeFileAtomic(p, []byte("three"), true); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(p); string(b) != "three" {
		t.Fatalf("content %q", b)
	}
	assertNoTempFiles(t, dir)
	// A directory in the way is an error, and leaves no temporary file.
	if err := writeFileAtomic(filepath.Join(p, "sub"), []byte("x"), false); err == nil {
		t.Fatal("wrote below a file")
	}
	assertNoTempFiles(t, dir)
}

func TestReadKeyfileErrors(t *testing.T) {
	dir := t.TempDir()
	vec := vectors(t)
	nacl := vectorfile.Hex(t, vec.Wallet.NaCl.File)
	files := map[string][]byte{
		"plain-not-json": []byte("this is not a key"),
		"truncated-nacl": nacl[:20],
		"vault":          []byte("$ANSIBLE_VAULT;1.1;AES256\n3132\n"),
		"fernet-garbage": []byte("gAAAAA-not-a-token"),
		"unknown-prefix": []byte("$AGE;v1\nabcdef"),
		"empty":          {},
		"too-large":      make([]byte, maxKeyfileSize+1),
		"nacl":           nacl,
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	pwErr := errors.New("no terminal")
	failingPw := func(string) ([]byte, error) { return nil, pwErr }
	tests := []struct {
		file string
		pw   PasswordFunc
		want string
		is   error
	}{
		{"missing", nil, "does not exist", fs.ErrNotExist},
		{"plain-not-json", nil, "not valid JSON", nil},
		{"truncated-nacl", func(string) ([]byte, error) { return []byte("pw"), nil }, "truncated", nil},
		{"vault", nil, "ansible-vault", ErrUnsupportedEncryption},
		{"fernet-garbage", func(string) ([]byte, error) { return []byte("pw"), nil }, "not valid base64", nil},
		{"empty", nil, "key file is empty", nil},
		{"unknown-prefix", nil, `unsupported key file encryption: it starts with "$AGE"`, ErrUnsupportedEncryption},
		{"too-large", nil, "too large to be a key file", nil},
		{"nacl", nil, "is encrypted (nacl) and no password was given", nil},
		{"nacl", failingPw, "password: no terminal", pwErr},
	}
	for _, tc := range tests {
		t.Run(tc.file+"/"+tc.want, func(t *testing.T) {
			path := filepath.Join(dir, tc.file)
			_, err := ReadKeyfile(path, tc.pw)
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), path) {
				t.Fatalf("error %q should name %s and say %q", err, path, tc.want)
			}
			var ke *KeyfileError
			if !errors.As(err, &ke) || ke.Path != path {
				t.Fatalf("error is not a KeyfileError for %s: %v", path, err)
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Fatalf("error %v does not wrap %v", err, tc.is)
			}
		})
	}
}

// TestBittensorDirectoryAsIs lays out a wallet the way btwallet writes one (the vector
// files) and reads it without decrypting anything.
func TestBittensorDirectoryAsIs(t *testing.T) {
	vec := vectors(t)
	root := filepath.Join(t.TempDir(), ".bittensor", "wallets")
	w := &Wallet{Path: root, Name: "default", Hotkey: "default"}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.MkdirAll(w.HotkeysDir(), 0o755))
	must(os.WriteFile(w.ColdkeyPath(), vectorfile.Hex(t, vec.Wallet.NaCl.File), 0o600))
	must(os.WriteFile(w.ColdkeyPubPath(), []byte(keyfileExample(t, vec, "coldkeypub_txt_example_rust")), 0o600))
	must(os.WriteFile(w.HotkeyPath(), []byte(keyfileExample(t, vec, "btwallet_rust_example")), 0o600))
	// An older hotkey with no pub file, written by the legacy Python SDK.
	must(os.WriteFile(filepath.Join(w.HotkeysDir(), "legacy"), []byte(keyfileExample(t, vec, "python_legacy_example")), 0o600))
	must(os.WriteFile(filepath.Join(w.HotkeysDir(), ".hidden"), []byte("x"), 0o600))
	must(os.MkdirAll(filepath.Join(root, "not-a-wallet"), 0o755))

	ss58 := chainValue(t, vec, "ss58_prefix_42")
	list, err := List(root, 42)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 || list[0].Name != "default" {
		t.Fatalf("List = %+v", list)
	}
	s := list[0]
	if s.Coldkey.SS58 != ss58 || s.Coldkey.Encryption != "nacl" || !s.Coldkey.Exists || s.Coldkey.Error != "" {
		t.Fatalf("coldkey summary %+v", s.Coldkey)
	}
	if len(s.Hotkeys) != 2 || s.Hotkeys[0].Name != "default" || s.Hotkeys[1].Name != "legacy" {
		t.Fatalf("hotkeys %+v", s.Hotkeys)
	}
	for _, h := range s.Hotkeys {
		if h.SS58 != ss58 || h.Encryption != "none" || h.Error != "" {
			t.Fatalf("hotkey summary %+v", h)
		}
	}
	hot, err := w.OpenHotkey(nil)
	if err != nil || hot.Public.String() != ss58 || hot.Mnemonic != vectorMnemonic {
		t.Fatalf("OpenHotkey: %v", err)
	}
	// Prefix 0 addresses on request.
	list0, _ := List(root, 0)
	if list0[0].Coldkey.SS58 != chainValue(t, vec, "ss58_prefix_0") {
		t.Fatalf("prefix 0: %s", list0[0].Coldkey.SS58)
	}
	if empty, err := List(filepath.Join(root, "nowhere"), 42); err != nil || len(empty) != 0 {
		t.Fatalf("missing root: %v, %v", empty, err)
	}
}

func TestSummaryReportsBrokenKeys(t *testing.T) {
	w := newTestWallet(t, "broken", "h")
	if err := os.MkdirAll(w.HotkeysDir(), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(w.ColdkeyPubPath(), []byte("garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(w.HotkeyPath(), []byte("$NACL"), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := w.Summarize(42)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(s.Coldkey.Error, "not valid JSON") {
		t.Fatalf("coldkey error %q", s.Coldkey.Error)
	}
	if len(s.Hotkeys) != 1 || !strings.Contains(s.Hotkeys[0].Error, "encrypted") {
		t.Fatalf("hotkeys %+v", s.Hotkeys)
	}
}

func TestNamesAndPaths(t *testing.T) {
	tests := []struct {
		name, hotkey string
		wantErr      string
	}{
		{"default", "default", ""},
		{"my wallet", "miner-1", ""},
		{"", "h", "wallet name is empty"},
		{"w", "", "hotkey name is empty"},
		{"../x", "h", "plain file name"},
		{"w", "a/b", "plain file name"},
		{"..", "h", "plain file name"},
		{".hidden", "h", "must not start with a dot"},
		{"w", "keypub.txt", "must not end in pub.txt"},
		{"w\n", "h", "control character"},
	}
	for _, tc := range tests {
		_, err := New("/tmp/wallets", tc.name, tc.hotkey)
		if tc.wantErr == "" && err != nil {
			t.Errorf("New(%q, %q): %v", tc.name, tc.hotkey, err)
		}
		if tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
			t.Errorf("New(%q, %q): want %q, got %v", tc.name, tc.hotkey, tc.wantErr, err)
		}
	}
	w, _ := New("/r/wallets/", "w", "h")
	want := map[string]string{
		w.ColdkeyPath():    "/r/wallets/w/coldkey",
		w.ColdkeyPubPath(): "/r/wallets/w/coldkeypub.txt",
		w.HotkeyPath():     "/r/wallets/w/hotkeys/h",
		w.HotkeyPubPath():  "/r/wallets/w/hotkeys/hpub.txt",
	}
	for got, exp := range want {
		if filepath.ToSlash(got) != exp {
			t.Errorf("path %s, want %s", got, exp)
		}
	}
	home, err := os.UserHomeDir()
	if err == nil {
		if p, _ := ExpandPath(BittensorPath); p != filepath.Join(home, ".bittensor", "wallets") {
			t.Errorf("ExpandPath(%s) = %s", BittensorPath, p)
		}
	}
	if _, err := ExpandPath(""); err == nil {
		t.Error("empty path accepted")
	}
}

func TestEnvPassword(t *testing.T) {
	path := "/home/alice/.bittensor/wallets/default/coldkey"
	name := PasswordEnvName(path)
	tests := []struct {
		name   string
		env    map[string]string
		want   string
		wantOK bool
		err    string
	}{
		{"none", nil, "", false, ""},
		{"BT_PW_ obfuscated", map[string]string{name: ObfuscatePassword("s3cret!", name)}, "s3cret!", true, ""},
		{"BT_PW_ wins over plain", map[string]string{name: ObfuscatePassword("a", name), PlainPasswordEnv: "b"}, "a", true, ""},
		{"plain", map[string]string{PlainPasswordEnv: "plain pw"}, "plain pw", true, ""},
		{"BT_PW_ not base64", map[string]string{name: "my password"}, "", false, "is not base64"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pw, ok, err := EnvPassword(path, func(k string) string { return tc.env[k] })
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("want error %q, got %v", tc.err, err)
				}
				return
			}
			if err != nil || ok != tc.wantOK || string(pw) != tc.want {
				t.Fatalf("got %q, %v, %v", pw, ok, err)
			}
		})
	}
}

// TestEncryptedColdkeyRoundTrip writes a $NACL coldkey and opens it: two real Argon2i
// derivations.
func TestEncryptedColdkeyRoundTrip(t *testing.T) {
	if testing.Short() {
		t.Skip("Argon2i with 512 MiB: skipped with -short")
	}
	w := newTestWallet(t, "enc", "default")
	k, err := KeypairFromMnemonic(vectorMnemonic)
	if err != nil {
		t.Fatal(err)
	}
	pw := []byte("correct horse")
	if err := w.SaveColdkey(k, SaveOptions{Password: pw}); err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(w.ColdkeyPath())
	if DetectEncryption(raw) != NaCl || strings.Contains(string(raw), "leopard") {
		t.Fatal("coldkey is not encrypted")
	}
	if enc, _ := KeyfileEncryption(w.ColdkeyPath()); enc != NaCl {
		t.Fatalf("encryption %s", enc)
	}
	// The public key is readable without the password.
	if pub, err := w.ColdkeyPub(); err != nil || pub != k.Public {
		t.Fatalf("ColdkeyPub: %v", err)
	}
	asked := ""
	got, err := w.OpenColdkey(func(p string) ([]byte, error) { asked = p; return pw, nil })
	if err != nil {
		t.Fatalf("OpenColdkey: %v", err)
	}
	if asked != w.ColdkeyPath() || got.Public != k.Public || got.Mnemonic != vectorMnemonic {
		t.Fatalf("asked for %q, got %s", asked, got.Public)
	}
	seed := got.Pair.Seed()
	if hex.EncodeToString(seed) != strings.TrimPrefix(chainValue(t, vectors(t), "mini_secret_seed_32"), "0x") {
		t.Fatalf("seed %x", seed)
	}
}

func TestWriteKeyfileAndMarshalForms(t *testing.T) {
	dir := t.TempDir()
	alice, err := keys.FromURI("//Alice")
	if err != nil {
		t.Fatal(err)
	}
	soft, err := keys.FromURI("//Alice/soft")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name        string
		k           *Keypair
		fields      []string
		wantMissing []string
	}{
		{"mnemonic", mustKeypair(t, vectorMnemonic), []string{"secretPhrase", "secretSeed", "privateKey"}, nil},
		{"seed only", NewKeypair(alice, ""), []string{"secretSeed", "privateKey"}, []string{"secretPhrase"}},
		{"secret key only", NewKeypair(soft, ""), []string{"privateKey"}, []string{"secretPhrase", "secretSeed"}},
		{"public only", PublicOnly(alice.Public()), nil, []string{"secretPhrase", "secretSeed", "privateKey"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "-"))
			if err := WriteKeyfile(p, tc.k, nil, false); err != nil {
				t.Fatal(err)
			}
			assertMode(t, p, FileMode)
			raw, _ := os.ReadFile(p)
			for _, f := range append(tc.fields, "accountId", "publicKey", "ss58Address") {
				if !strings.Contains(string(raw), `"`+f+`":"0x`) && !strings.Contains(string(raw), `"`+f+`":"`) {
					t.Errorf("field %s missing from %s", f, raw)
				}
			}
			for _, f := range tc.wantMissing {
				if strings.Contains(string(raw), `"`+f+`"`) {
					t.Errorf("field %s present in %s", f, raw)
				}
			}
			got, err := ReadKeyfile(p, nil)
			if err != nil || got.Public != tc.k.Public || got.HasSecret() != tc.k.HasSecret() || got.SS58(0) != tc.k.SS58(0) {
				t.Fatalf("read back: %v", err)
			}
			if tc.k.HasSecret() && got.Pair.SecretBytes() != tc.k.Pair.SecretBytes() {
				t.Fatal("secret key changed")
			}
			if err := WriteKeyfile(p, tc.k, nil, false); !errors.Is(err, ErrKeyExists) {
				t.Fatalf("second write: %v", err)
			}
		})
	}
	for name, k := range map[string]*Keypair{
		"nil":                    nil,
		"mnemonic without pair":  {Public: alice.Public(), Mnemonic: vectorMnemonic},
		"pair of another public": {Public: soft.Public(), Pair: alice},
	} {
		if _, err := MarshalKeypair(k); err == nil {
			t.Errorf("%s: MarshalKeypair accepted it", name)
		}
	}
	w := newTestWallet(t, "w", "h")
	if err := w.SaveHotkey(PublicOnly(alice.Public()), SaveOptions{}); err == nil || !strings.Contains(err.Error(), "no secret key") {
		t.Fatalf("saving a public-only hotkey: %v", err)
	}
	h2, err := w.WithHotkey("other")
	if err != nil || h2.Hotkey != "other" || w.Hotkey != "h" || h2.Name != "w" {
		t.Fatalf("WithHotkey: %+v, %v", h2, err)
	}
	if _, err := w.WithHotkey("a/b"); err == nil {
		t.Fatal("WithHotkey accepted a/b")
	}
}

func mustKeypair(t *testing.T, mnemonic string) *Keypair {
	t.Helper()
	k, err := KeypairFromMnemonic(mnemonic)
	if err != nil {
		t.Fatal(err)
	}
	return k
}
