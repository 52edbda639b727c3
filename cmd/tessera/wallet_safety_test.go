package main

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tessera-net/tessera/keys"
	"github.com/tessera-net/tessera/wallet"
)

const walletTestMnemonic2 = "legal winner thank year wave sausage worth useful legal winner thank yellow"

// leftovers lists the hidden entries of a wallet's directory and of its hotkeys
// directory: tessera writes none, so each is a staging directory or temporary file that
// was not cleaned up.
func leftovers(w *wallet.Wallet) []string {
	var out []string
	for _, dir := range []string{w.Dir(), w.HotkeysDir()} {
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			if strings.HasPrefix(e.Name(), ".") {
				out = append(out, filepath.Join(dir, e.Name()))
			}
		}
	}
	return out
}

// TestWalletCLICrashedRegen: `wallet regen-coldkey --overwrite` (or regen-hotkey) dies
// after each step of its write; then show, sign and verify all see the old key (a crash
// before the commit) or the new one (after), never one of each, and no temporary file
// (which could hold the new mnemonic) is left once the wallet has been opened. The crash is
// the writer's own hook, Wallet.AfterWriteStep, on the Save the regen commands call.
func TestWalletCLICrashedRegen(t *testing.T) {
	oldKey, _ := wallet.KeypairFromMnemonic(walletTestMnemonic)
	newKey, _ := wallet.KeypairFromMnemonic(walletTestMnemonic2)
	for _, role := range []string{"coldkey", "hotkey"} {
		committed := false
		for _, step := range wallet.WriteSteps() {
			committed = committed || step == wallet.StepCommitted
			t.Run(role+"/"+string(step), func(t *testing.T) {
				c := newWalletCLI(t)
				regen := []string{"wallet", "regen-" + role, "--wallet.name", "w", "--mnemonic", walletTestMnemonic}
				if role == "coldkey" {
					regen = append(regen, "--no-password")
				}
				c.ok(nil, "", regen...)
				w := &wallet.Wallet{Path: filepath.Join(c.home, "wallets"), Name: "w", Hotkey: wallet.DefaultHotkey,
					AfterWriteStep: func(s wallet.WriteStep) error {
						if s == step {
							return errors.New("killed")
						}
						return nil
					}}
				save := w.SaveColdkey
				if role == "hotkey" {
					save = w.SaveHotkey
				}
				if err := save(newKey, wallet.SaveOptions{Overwrite: true}); err == nil {
					t.Fatal("the write was not interrupted")
				}

				want := oldKey.SS58(42)
				if committed {
					want = newKey.SS58(42)
				}
				args := []string{"--wallet.name", "w", "--message", "m", "-o", "json"}
				if role == "hotkey" {
					args = append(args, "--use-hotkey")
				}
				var sig cliSignature
				c.ok(&sig, "", append([]string{"wallet", "sign"}, args...)...)
				var show wallet.Summary
				c.ok(&show, "", "wallet", "show", "--wallet.name", "w", "-o", "json")
				shown := show.Coldkey
				if role == "hotkey" {
					shown = show.Hotkeys[0]
				}
				if sig.Signer != want || shown.SS58 != want || shown.Error != "" {
					t.Fatalf("after a crash at %q: sign uses %s, show prints %s (%s); want %s", step, sig.Signer, shown.SS58, shown.Error, want)
				}
				c.ok(nil, "", append([]string{"wallet", "verify", "--signature", sig.Signature}, args...)...)
				if left := leftovers(w); len(left) != 0 {
					t.Fatalf("left behind: %v", left)
				}
				if role == "hotkey" {
					b, err := os.ReadFile(w.HotkeyPath())
					if err != nil || bytes.Contains(b, []byte(walletTestMnemonic2)) != committed {
						t.Fatalf("hotkey file %s (%v) after a crash at %q", b, err, step)
					}
				}
			})
		}
	}
}

// TestWalletCLIDisagreeingPair: a coldkeypub.txt replaced by another key's (an attacker
// who wants payments sent to his address) makes show report it and sign and verify
// refuse, instead of showing one address and signing with another key.
func TestWalletCLIDisagreeingPair(t *testing.T) {
	c := newWalletCLI(t)
	c.ok(nil, "", "wallet", "regen-coldkey", "--no-password", "--mnemonic", walletTestMnemonic)
	alice, _ := keys.ParsePublicKey(aliceSS58)
	c.file("wallets/default/coldkeypub.txt", string(wallet.MarshalPublic(alice)))

	text := c.ok(nil, "", "wallet", "show")
	if !strings.Contains(text, "hold different keys") || !strings.Contains(text, aliceSS58) {
		t.Fatalf("show does not report the disagreeing pair:\n%s", text)
	}
	c.fails(1, "hold different keys", "", "wallet", "sign", "--message", "m")
	c.fails(1, "hold different keys", "", "wallet", "verify", "--message", "m", "--signature", "0x"+strings.Repeat("00", 64))
}

// TestWalletCLIKeyfileModeWarning: a hotkey file that others can read works, with a
// warning on stderr naming the file and the fix, as ssh does; a 0600 one gives none.
func TestWalletCLIKeyfileModeWarning(t *testing.T) {
	c := newWalletCLI(t)
	c.ok(nil, "", "wallet", "new", "--no-password")
	hotkey := filepath.Join(c.home, "wallets", "default", "hotkeys", "default")
	if _, errs, code := c.run("", "wallet", "sign", "--use-hotkey", "--message", "m"); code != 0 || errs != "" {
		t.Fatalf("0600 hotkey: exit %d, stderr %q", code, errs)
	}
	if err := os.Chmod(hotkey, 0o644); err != nil {
		t.Fatal(err)
	}
	want := "Warning: key file " + hotkey + " has mode 0644: other users can read it; run: chmod 600 " + hotkey
	for _, args := range [][]string{
		{"wallet", "sign", "--use-hotkey", "--message", "m"},
		{"wallet", "list"},
		{"wallet", "show", "-o", "json"},
	} {
		if _, errs, code := c.run("", args...); code != 0 || !strings.Contains(errs, want) {
			t.Fatalf("tessera %s: exit %d, stderr %q, want %q", strings.Join(args, " "), code, errs, want)
		}
	}
}

// TestWalletCLICorruptColdkey: a damaged coldkey is listed as unreadable, with the
// reason, not as an unencrypted key.
func TestWalletCLICorruptColdkey(t *testing.T) {
	c := newWalletCLI(t)
	c.ok(nil, "", "wallet", "new", "--no-password")
	coldkey := c.file("wallets/default/coldkey", "{\"secretPhrase\": \"old leopard")
	text := c.ok(nil, "", "wallet", "list")
	line := ""
	for _, l := range strings.Split(text, "\n") {
		if strings.HasPrefix(strings.TrimSpace(l), "coldkey") {
			line = l
		}
	}
	if !strings.Contains(line, coldkey+": unreadable or corrupt: key file is not valid JSON") || strings.Contains(line, "encryption: none") {
		t.Fatalf("coldkey line %q", line)
	}
	var list struct {
		Wallets []wallet.Summary `json:"wallets"`
	}
	c.ok(&list, "", "wallet", "list", "-o", "json")
	if ck := list.Wallets[0].Coldkey; ck.Check != wallet.PairUnreadable || !strings.Contains(ck.Error, "unreadable or corrupt") {
		t.Fatalf("coldkey %+v", ck)
	}
	c.fails(1, "not valid JSON", "", "wallet", "sign", "--message", "m")
}
