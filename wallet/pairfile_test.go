package wallet

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tessera-net/tessera/internal/testutil/vectorfile"
	"github.com/tessera-net/tessera/keys"
)

// leftoversIn lists the hidden entries under dir: a wallet written here has none, so
// each is a staging directory or temporary file that was not cleaned up.
func leftoversIn(dir string) []string {
	var out []string
	_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && p != dir && strings.HasPrefix(d.Name(), ".") {
			out = append(out, p)
		}
		return nil
	})
	return out
}

func assertNoLeftovers(t *testing.T, dir string) {
	t.Helper()
	if left := leftoversIn(dir); len(left) != 0 {
		t.Errorf("left behind: %v", left)
	}
}

// filesHolding lists the files under dir whose bytes contain s.
func filesHolding(t *testing.T, dir, s string) []string {
	t.Helper()
	var out []string
	_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if b, err := os.ReadFile(p); err == nil && bytes.Contains(b, []byte(s)) {
				out = append(out, p)
			}
		}
		return nil
	})
	return out
}

// keyRole is one of a wallet's two kinds of key pair, for tests that run over both.
type keyRole struct {
	name string
	save func(*Wallet, *Keypair, SaveOptions) error
	open func(*Wallet, PasswordFunc) (*Keypair, error)
	pub  func(*Wallet) (keys.PublicKey, error)
	path func(*Wallet) string
	pubp func(*Wallet) string
}

var keyRoles = []keyRole{
	{"coldkey", (*Wallet).SaveColdkey, (*Wallet).OpenColdkey, (*Wallet).ColdkeyPub, (*Wallet).ColdkeyPath, (*Wallet).ColdkeyPubPath},
	{"hotkey", (*Wallet).SaveHotkey, (*Wallet).OpenHotkey, (*Wallet).HotkeyPub, (*Wallet).HotkeyPath, (*Wallet).HotkeyPubPath},
}

// rawPair reads a pair's files directly, as a tool that does not recover would; a
// missing public file gives the zero key.
func rawPair(t *testing.T, r keyRole, w *Wallet) (key, pub keys.PublicKey) {
	t.Helper()
	k, err := ReadKeyfile(r.path(w), nil)
	if err != nil {
		t.Fatalf("raw %s: %v", r.name, err)
	}
	if p, err := ReadKeyfile(r.pubp(w), nil); err == nil {
		pub = p.Public
	} else if !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("raw public file: %v", err)
	}
	return k.Public, pub
}

// TestSaveCrashLeavesOldOrNewPair stops an overwriting save after each of its steps, as
// a crash would, and reopens the wallet: it must give the old pair (crash before the
// commit) or the new pair (after), never one of each, and leave no temporary file, in
// particular none holding the new mnemonic in plaintext.
func TestSaveCrashLeavesOldOrNewPair(t *testing.T) {
	errCrash := errors.New("simulated crash")
	for _, r := range keyRoles {
		committed := false
		for _, step := range WriteSteps() {
			committed = committed || step == StepCommitted
			t.Run(r.name+"/"+string(step), func(t *testing.T) {
				w := newTestWallet(t, "w", "h")
				old, neu := generated(t), generated(t)
				if err := r.save(w, old, SaveOptions{}); err != nil {
					t.Fatal(err)
				}
				w.AfterWriteStep = func(s WriteStep) error {
					if s == step {
						return errCrash
					}
					return nil
				}
				if err := r.save(w, neu, SaveOptions{Overwrite: true}); !errors.Is(err, errCrash) {
					t.Fatalf("save = %v, want the simulated crash", err)
				}
				if step != StepDone && len(leftoversIn(w.Dir())) == 0 {
					t.Fatal("the crash left nothing to recover from")
				}
				// On disk, even before any recovery, the files never disagree.
				if key, pub := rawPair(t, r, w); pub != (keys.PublicKey{}) && pub != key {
					t.Fatalf("on disk after the crash: key %s, public file %s", key, pub)
				}

				want := old
				if committed {
					want = neu
				}
				reopened := &Wallet{Path: w.Path, Name: w.Name, Hotkey: w.Hotkey}
				k, err := r.open(reopened, nil)
				if err != nil {
					t.Fatalf("open after the crash: %v", err)
				}
				pub, err := r.pub(reopened)
				if err != nil {
					t.Fatal(err)
				}
				if k.Public != want.Public || pub != want.Public {
					t.Fatalf("after a crash at %q: key %s, public %s; want %s (new pair: %v)", step, k.Public, pub, want.Public, committed)
				}
				if key, pub := rawPair(t, r, w); key != want.Public || pub != want.Public {
					t.Fatalf("files on disk after recovery: %s, %s", key, pub)
				}
				assertNoLeftovers(t, w.Path)
				if got := filesHolding(t, w.Path, neu.Mnemonic); committed && (len(got) != 1 || got[0] != r.path(w)) || !committed && len(got) != 0 {
					t.Fatalf("the new mnemonic is in %v", got)
				}
			})
		}
	}
}

// TestSaveRecoversBeforeWriting: a crash's leftovers are cleaned up by the next save,
// which then replaces the pair.
func TestSaveRecoversBeforeWriting(t *testing.T) {
	w := newTestWallet(t, "w", "h")
	first, second, third := generated(t), generated(t), generated(t)
	if err := w.SaveHotkey(first, SaveOptions{}); err != nil {
		t.Fatal(err)
	}
	w.AfterWriteStep = func(s WriteStep) error {
		if s == StepKeyStaged {
			return errors.New("crash")
		}
		return nil
	}
	if err := w.SaveHotkey(second, SaveOptions{Overwrite: true}); err == nil {
		t.Fatal("no crash")
	}
	// A temporary file of an older single-file write, holding a secret.
	stale := filepath.Join(w.HotkeysDir(), ".h.tmp-123")
	if err := os.WriteFile(stale, []byte(second.Mnemonic), 0o600); err != nil {
		t.Fatal(err)
	}
	w.AfterWriteStep = nil
	if err := w.SaveHotkey(third, SaveOptions{Overwrite: true}); err != nil {
		t.Fatal(err)
	}
	assertNoLeftovers(t, w.Path)
	if got := filesHolding(t, w.Path, second.Mnemonic); len(got) != 0 {
		t.Fatalf("the crashed write's mnemonic is still in %v", got)
	}
	if k, err := w.OpenHotkey(nil); err != nil || k.Public != third.Public {
		t.Fatalf("OpenHotkey = %v", err)
	}
	// A single-file write removes its own stale temporaries too.
	if err := os.WriteFile(filepath.Join(w.Dir(), ".other.tmp-9"), []byte("secret"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := WriteKeyfile(filepath.Join(w.Dir(), "other"), first, nil, false); err != nil {
		t.Fatal(err)
	}
	assertNoLeftovers(t, w.Path)
}

// TestOpenChecksThePair: a key file that disagrees with its public file is refused on
// open and reported by ColdkeyPub and Summarize; an unreadable public file stops a
// signing open too.
func TestOpenChecksThePair(t *testing.T) {
	for _, r := range keyRoles {
		t.Run(r.name, func(t *testing.T) {
			w := newTestWallet(t, "w", "h")
			k, other := generated(t), generated(t)
			if err := r.save(w, k, SaveOptions{}); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(r.pubp(w), MarshalPublic(other.Public), 0o600); err != nil {
				t.Fatal(err)
			}
			if _, err := r.open(w, nil); !errors.Is(err, ErrPairMismatch) || !strings.Contains(err.Error(), other.Public.String()) {
				t.Fatalf("open = %v, want ErrPairMismatch naming %s", err, other.Public)
			}
			if _, err := r.pub(w); !errors.Is(err, ErrPairMismatch) {
				t.Fatalf("public key = %v, want ErrPairMismatch", err)
			}
			s, err := w.Summarize(42)
			if err != nil {
				t.Fatal(err)
			}
			ks := s.Coldkey
			if r.name == "hotkey" {
				ks = s.Hotkeys[0]
			}
			if ks.Check != PairDisagrees || !strings.Contains(ks.Error, ErrPairMismatch.Error()) || ks.SS58 != "" {
				t.Fatalf("summary %+v", ks)
			}
			if err := os.WriteFile(r.pubp(w), []byte("garbage"), 0o600); err != nil {
				t.Fatal(err)
			}
			if _, err := r.open(w, nil); err == nil || !strings.Contains(err.Error(), "cannot be checked") {
				t.Fatalf("open with a corrupt public file = %v", err)
			}
			// Without a public file there is nothing to disagree with.
			if err := os.Remove(r.pubp(w)); err != nil {
				t.Fatal(err)
			}
			if got, err := r.open(w, nil); err != nil || got.Public != k.Public {
				t.Fatalf("open without a public file = %v", err)
			}
		})
	}
}

// TestSummaryCorruptAndEncryptedKeys: a corrupt key file is reported as such, with the
// reason, not as an unencrypted key; an encrypted one says it is not checked.
func TestSummaryCorruptAndEncryptedKeys(t *testing.T) {
	vec := vectors(t)
	w := newTestWallet(t, "w", "h")
	k := generated(t)
	if err := w.SaveColdkey(k, SaveOptions{}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, content string
		check         PairCheck
		err           string
	}{
		{"not JSON", "this is not a key file", PairUnreadable, "unreadable or corrupt: key file is not valid JSON"},
		{"truncated nacl", "$NACL0123", PairUnreadable, "unreadable or corrupt: $NACL key file is truncated"},
		{"bad fernet", "gAAAAA!!", PairUnreadable, "unreadable or corrupt: legacy Fernet key file is not valid base64"},
		{"vault", "$ANSIBLE_VAULT;1.1;AES256\n3132\n", PairUnreadable, "unreadable or corrupt: unsupported key file encryption"},
		{"nacl", string(vectorfile.Hex(t, vec.Wallet.NaCl.File)), PairNeedsPassword, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := os.WriteFile(w.ColdkeyPath(), []byte(tc.content), 0o600); err != nil {
				t.Fatal(err)
			}
			s, err := w.Summarize(42)
			if err != nil {
				t.Fatal(err)
			}
			c := s.Coldkey
			if c.Check != tc.check || !c.Exists || (tc.err == "") != (c.Error == "") || !strings.Contains(c.Error, tc.err) {
				t.Fatalf("summary %+v, want check %s and error %q", c, tc.check, tc.err)
			}
			if tc.err != "" && !strings.Contains(c.Error, w.ColdkeyPath()) {
				t.Fatalf("the error does not name the file: %s", c.Error)
			}
			// The public key is still known from coldkeypub.txt for verification.
			if pub, err := w.ColdkeyPub(); err != nil || pub != k.Public {
				t.Fatalf("ColdkeyPub = %v", err)
			}
		})
	}
}

// TestLooseKeyfileMode: a key file others can read is reported on open (to Warn, as a
// *ModeError naming the file and the fix) and in the summary; 0600 is not.
func TestLooseKeyfileMode(t *testing.T) {
	w := newTestWallet(t, "w", "h")
	if err := w.SaveHotkey(generated(t), SaveOptions{}); err != nil {
		t.Fatal(err)
	}
	var warned []error
	w.Warn = func(err error) { warned = append(warned, err) }
	if _, err := w.OpenHotkey(nil); err != nil || len(warned) != 0 {
		t.Fatalf("0600: %v, warnings %v", err, warned)
	}
	if err := os.Chmod(w.HotkeyPath(), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := w.OpenHotkey(nil); err != nil {
		t.Fatal(err)
	}
	var me *ModeError
	if len(warned) != 1 || !errors.As(warned[0], &me) || me.Path != w.HotkeyPath() ||
		!strings.Contains(warned[0].Error(), "chmod 600 "+w.HotkeyPath()) || !strings.Contains(warned[0].Error(), "can read") {
		t.Fatalf("warnings %v", warned)
	}
	s, err := w.Summarize(42)
	if err != nil || !strings.Contains(s.Hotkeys[0].Warning, "mode 0644") || s.Hotkeys[0].Error != "" {
		t.Fatalf("summary %+v, %v", s.Hotkeys, err)
	}
	if err := os.Chmod(w.HotkeyPath(), 0o620); err != nil {
		t.Fatal(err)
	}
	if err := CheckKeyfileMode(w.HotkeyPath()); err == nil || !strings.Contains(err.Error(), "can change") {
		t.Fatalf("group-writable: %v", err)
	}
}
