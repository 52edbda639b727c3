package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tessera-net/tessera/keys"
	"github.com/tessera-net/tessera/wallet"
)

const (
	walletTestMnemonic = "old leopard transfer rib spatial phone calm indicate online fire caution review"
	walletTestSS58     = "5HDvhV6WDCjCKyrXqGQSDYqQAzkzabNhctmiDYEqgBC66BsX"
	walletTestSS58Zero = "16ADqpMa4yzfmWs3nuTSMhfZ2ckeGtvqhPWCNqECEGDcGgU2"
	aliceSS58          = "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY"
)

// walletCLI runs tessera in-process with --home set to a temporary directory.
type walletCLI struct {
	t    *testing.T
	home string
}

func newWalletCLI(t *testing.T) *walletCLI {
	// The environment must not leak into the test.
	for _, k := range []string{wallet.EnvName, wallet.EnvHotkey, wallet.EnvPath, wallet.PlainPasswordEnv} {
		t.Setenv(k, "")
	}
	return &walletCLI{t: t, home: t.TempDir()}
}

func (c *walletCLI) run(stdin string, args ...string) (string, string, int) {
	c.t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), append([]string{"--home", c.home}, args...), strings.NewReader(stdin), &out, &errb)
	return out.String(), errb.String(), code
}

// ok runs a command that must succeed and decodes its JSON output into v (if non-nil).
func (c *walletCLI) ok(v any, stdin string, args ...string) string {
	c.t.Helper()
	out, errs, code := c.run(stdin, args...)
	if code != 0 {
		c.t.Fatalf("tessera %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), code, out, errs)
	}
	if v != nil {
		if err := json.Unmarshal([]byte(out), v); err != nil {
			c.t.Fatalf("tessera %s: output is not JSON: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	return out
}

// fails runs a command that must exit with code and say want on stderr.
func (c *walletCLI) fails(code int, want, stdin string, args ...string) {
	c.t.Helper()
	out, errs, got := c.run(stdin, args...)
	if got != code || !strings.Contains(errs, want) {
		c.t.Fatalf("tessera %s: exit %d (want %d), stderr %q should contain %q\nstdout: %s", strings.Join(args, " "), got, code, errs, want, out)
	}
}

func (c *walletCLI) file(name, content string) string {
	p := filepath.Join(c.home, name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		c.t.Fatal(err)
	}
	return p
}

type cliKeyReport struct {
	SS58      string `json:"ss58_address"`
	PublicKey string `json:"public_key"`
	Encrypted bool   `json:"encrypted"`
	Mnemonic  string `json:"mnemonic"`
	Path      string `json:"path"`
}

type cliSignature struct {
	Signer    string `json:"signer"`
	Signature string `json:"signature"`
}

func TestWalletCLIPlainFlow(t *testing.T) {
	c := newWalletCLI(t)
	var created struct {
		Wallet  string       `json:"wallet"`
		Coldkey cliKeyReport `json:"coldkey"`
		Hotkey  cliKeyReport `json:"hotkey"`
	}
	c.ok(&created, "", "wallet", "new", "--no-password", "--words", "24", "-o", "json")
	if created.Wallet != "default" || created.Coldkey.Encrypted || created.Hotkey.Encrypted {
		t.Fatalf("created %+v", created)
	}
	if n := len(strings.Fields(created.Coldkey.Mnemonic)); n != 24 {
		t.Fatalf("coldkey mnemonic has %d words", n)
	}
	if created.Coldkey.Path != filepath.Join(c.home, "wallets", "default", "coldkey") {
		t.Fatalf("coldkey at %s", created.Coldkey.Path)
	}

	// list and show see the same keys.
	var list struct {
		Wallets []wallet.Summary `json:"wallets"`
	}
	c.ok(&list, "", "wallet", "list", "-o", "json")
	if len(list.Wallets) != 1 || list.Wallets[0].Coldkey.SS58 != created.Coldkey.SS58 ||
		len(list.Wallets[0].Hotkeys) != 1 || list.Wallets[0].Hotkeys[0].SS58 != created.Hotkey.SS58 {
		t.Fatalf("list %+v", list)
	}
	var show wallet.Summary
	c.ok(&show, "", "wallet", "show", "-o", "json")
	if show.Coldkey.SS58 != created.Coldkey.SS58 || show.Coldkey.Encryption != "none" {
		t.Fatalf("show %+v", show)
	}
	if text := c.ok(nil, "", "wallet", "list"); !strings.Contains(text, created.Hotkey.SS58) || !strings.Contains(text, "hotkey default") {
		t.Fatalf("list text:\n%s", text)
	}

	// sign then verify, with the hotkey and the (unencrypted) coldkey.
	for _, useHotkey := range []bool{true, false} {
		args := []string{"--message", "hello tessera", "-o", "json"}
		signer := created.Coldkey.SS58
		if useHotkey {
			args = append(args, "--use-hotkey")
			signer = created.Hotkey.SS58
		}
		var sig cliSignature
		c.ok(&sig, "", append([]string{"wallet", "sign"}, args...)...)
		if sig.Signer != signer || len(sig.Signature) != 130 {
			t.Fatalf("sign %+v", sig)
		}
		verify := append([]string{"wallet", "verify", "--signature", sig.Signature}, args...)
		var v struct {
			Valid bool `json:"valid"`
		}
		c.ok(&v, "", verify...)
		if !v.Valid {
			t.Fatal("signature not valid")
		}
		// Another message, or another key, fails with exit status 1.
		bad := append([]string{"wallet", "verify", "--signature", sig.Signature, "--message", "hello tessera!"}, args[2:]...)
		c.fails(1, "not valid", "", bad...)
		c.fails(1, "not valid", "", "wallet", "verify", "--signature", sig.Signature, "--message", "hello tessera", "--address", aliceSS58)
		// The message on stdin and the signer as an address.
		c.ok(nil, "hello tessera", "wallet", "verify", "--signature", sig.Signature, "--address", signer)
	}
	// The message from stdin is signed as is.
	var sig cliSignature
	c.ok(&sig, "bytes from stdin\n", "wallet", "sign", "--use-hotkey", "-o", "json")
	c.ok(nil, "bytes from stdin\n", "wallet", "verify", "--use-hotkey", "--signature", sig.Signature)
	c.fails(1, "not valid", "bytes from stdin", "wallet", "verify", "--use-hotkey", "--signature", sig.Signature)

	// new-hotkey adds a hotkey; new refuses to replace the existing keys.
	var hot cliKeyReport
	c.ok(&hot, "", "wallet", "new-hotkey", "--wallet.hotkey", "miner2", "-o", "json")
	c.ok(&list, "", "wallet", "list", "-o", "json")
	if len(list.Wallets[0].Hotkeys) != 2 || list.Wallets[0].Hotkeys[1].SS58 != hot.SS58 {
		t.Fatalf("hotkeys %+v", list.Wallets[0].Hotkeys)
	}
	c.fails(1, "already exists; pass --overwrite", "", "wallet", "new", "--no-password")
	c.fails(1, "already exists; pass --overwrite", "", "wallet", "new-hotkey", "--wallet.hotkey", "miner2")
}

func TestWalletCLIRegen(t *testing.T) {
	c := newWalletCLI(t)
	var r cliKeyReport
	c.ok(&r, "", "wallet", "regen-coldkey", "--wallet.name", "vec", "--no-password", "--mnemonic", walletTestMnemonic, "-o", "json")
	if r.SS58 != walletTestSS58 || r.Mnemonic != "" {
		t.Fatalf("regen-coldkey %+v", r)
	}
	// The mnemonic from stdin, extra spaces and all; addresses in format 0.
	c.ok(&r, "  "+walletTestMnemonic+"\n", "wallet", "regen-hotkey", "--wallet.name", "vec", "--ss58-format", "0", "-o", "json")
	if r.SS58 != walletTestSS58Zero {
		t.Fatalf("regen-hotkey %+v", r)
	}
	// A seed restores the same key.
	c.ok(&r, "", "wallet", "regen-hotkey", "--wallet.name", "vec", "--wallet.hotkey", "fromseed",
		"--seed", "0xda3cf5b1e9144931a0f0db65664aab662673b099415a7f8121b7245fb0be4143", "-o", "json")
	if r.SS58 != walletTestSS58 {
		t.Fatalf("regen from seed %+v", r)
	}
	// The files are btwallet's: coldkeypub.txt is byte-for-byte the upstream example.
	pub, err := os.ReadFile(filepath.Join(c.home, "wallets", "vec", "coldkeypub.txt"))
	if err != nil {
		t.Fatal(err)
	}
	want := `{"accountId":"0xe4359ad3e2716c539a1d663ebd0a51bdc5c98a12e663bb4c4402db47828c9446","publicKey":"0xe4359ad3e2716c539a1d663ebd0a51bdc5c98a12e663bb4c4402db47828c9446","ss58Address":"5HDvhV6WDCjCKyrXqGQSDYqQAzkzabNhctmiDYEqgBC66BsX"}`
	if string(pub) != want {
		t.Fatalf("coldkeypub.txt = %s", pub)
	}
	fi, err := os.Stat(filepath.Join(c.home, "wallets", "vec", "coldkey"))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("coldkey mode %v, %v", fi.Mode(), err)
	}

	c.fails(1, "already exists; pass --overwrite", "", "wallet", "regen-coldkey", "--wallet.name", "vec", "--no-password", "--mnemonic", walletTestMnemonic)
	c.ok(nil, "", "wallet", "regen-coldkey", "--wallet.name", "vec", "--no-password", "--overwrite", "--mnemonic", walletTestMnemonic)

	// BT_WALLET_* select the wallet when the flags are absent.
	t.Setenv(wallet.EnvName, "vec")
	t.Setenv(wallet.EnvHotkey, "fromseed")
	var sig cliSignature
	c.ok(&sig, "", "wallet", "sign", "--use-hotkey", "--message", "m", "-o", "json")
	if sig.Signer != walletTestSS58 {
		t.Fatalf("BT_WALLET_* ignored: %+v", sig)
	}
	t.Setenv(wallet.EnvPath, filepath.Join(c.home, "elsewhere"))
	c.fails(1, `no wallet "vec"`, "", "wallet", "show")
	c.ok(nil, "", "wallet", "show", "--wallet.path", filepath.Join(c.home, "wallets"))
}

func TestWalletCLIUsageErrors(t *testing.T) {
	c := newWalletCLI(t)
	c.fails(2, "--words must be 12, 15, 18, 21 or 24", "", "wallet", "new", "--no-password", "--words", "13")
	c.fails(2, "SS58 format 70000 is out of range", "", "wallet", "list", "--ss58-format", "70000")
	c.fails(2, "word 2 (\"leopardx\") is not in the BIP39 English word list", "", "wallet", "regen-coldkey", "--no-password", "--mnemonic", strings.Replace(walletTestMnemonic, "leopard", "leopardx", 1))
	c.fails(2, "checksum does not match", "", "wallet", "regen-coldkey", "--no-password", "--mnemonic", strings.Replace(walletTestMnemonic, "review", "abandon", 1))
	c.fails(2, "it has 11 word(s)", "", "wallet", "regen-hotkey", "--mnemonic", strings.Join(strings.Fields(walletTestMnemonic)[:11], " "))
	c.fails(2, "no mnemonic", "", "wallet", "regen-hotkey")
	c.fails(2, "needs a password and stdin is not a terminal: use --password-file, set TESSERA_PASSWORD", "", "wallet", "new")
	c.fails(2, "wallet name \"../x\" must be a plain file name", "", "wallet", "show", "--wallet.name", "../x")
	c.fails(2, "--signature must be 0x and 128 hex digits", "", "wallet", "verify", "--signature", "0x12", "--message", "m")
	c.fails(2, "--password-file", "", "wallet", "new", "--password-file", filepath.Join(c.home, "missing"))
	c.fails(2, "is empty", "", "wallet", "new", "--password-file", c.file("empty", "\n"))
	c.fails(1, "does not exist", "", "wallet", "sign", "--message", "m")
	if out := c.ok(nil, "", "wallet", "list"); !strings.Contains(out, "No wallets in") {
		t.Fatalf("empty list: %s", out)
	}
	// Nothing was created by the failed commands.
	if _, err := os.Stat(filepath.Join(c.home, "wallets", "default")); !os.IsNotExist(err) {
		t.Fatalf("a failed command left a wallet behind: %v", err)
	}
}

// TestWalletCLIEncrypted uses real $NACL encryption: three Argon2i derivations.
func TestWalletCLIEncrypted(t *testing.T) {
	if testing.Short() {
		t.Skip("Argon2i with 512 MiB: skipped with -short")
	}
	c := newWalletCLI(t)
	pw := c.file("pw", "correct horse battery\n")
	wrong := c.file("wrong", "incorrect horse\n")
	var created struct {
		Coldkey cliKeyReport `json:"coldkey"`
		Hotkey  cliKeyReport `json:"hotkey"`
	}
	c.ok(&created, "", "wallet", "new", "--password-file", pw, "-o", "json")
	if !created.Coldkey.Encrypted || created.Hotkey.Encrypted {
		t.Fatalf("created %+v", created)
	}
	raw, err := os.ReadFile(created.Coldkey.Path)
	if err != nil || !bytes.HasPrefix(raw, []byte("$NACL")) || bytes.Contains(raw, []byte(strings.Fields(created.Coldkey.Mnemonic)[0])) {
		t.Fatalf("coldkey is not $NACL-encrypted (%v)", err)
	}
	// Public information needs no password.
	var show wallet.Summary
	c.ok(&show, "", "wallet", "show", "-o", "json")
	if show.Coldkey.SS58 != created.Coldkey.SS58 || show.Coldkey.Encryption != "nacl" {
		t.Fatalf("show %+v", show)
	}
	// A wrong password fails cleanly and names the file.
	c.fails(1, created.Coldkey.Path+": wrong password or corrupt key file", "", "wallet", "sign", "--message", "m", "--password-file", wrong)
	// TESSERA_PASSWORD unlocks it; the signature verifies against coldkeypub.txt.
	t.Setenv(wallet.PlainPasswordEnv, "correct horse battery")
	var sig cliSignature
	c.ok(&sig, "", "wallet", "sign", "--message", "m", "-o", "json")
	if sig.Signer != created.Coldkey.SS58 {
		t.Fatalf("signer %s", sig.Signer)
	}
	c.ok(nil, "", "wallet", "verify", "--message", "m", "--signature", sig.Signature)

	// show cannot check an encrypted coldkey against coldkeypub.txt, and says so; sign
	// checks it after decrypting.
	if text := c.ok(nil, "", "wallet", "show"); !strings.Contains(text, "not checked against coldkeypub.txt without the password") {
		t.Fatalf("show text:\n%s", text)
	}
	alice, _ := keys.ParsePublicKey(aliceSS58)
	c.file("wallets/default/coldkeypub.txt", string(wallet.MarshalPublic(alice)))
	c.fails(1, "hold different keys", "", "wallet", "sign", "--message", "m")
}

func TestWalletCLIKeysInspect(t *testing.T) {
	c := newWalletCLI(t)
	type inspection struct {
		PublicKey  string `json:"public_key"`
		SS58       string `json:"ss58_address"`
		SecretSeed string `json:"secret_seed"`
		PrivateKey string `json:"private_key"`
	}
	tests := []struct {
		name  string
		stdin string
		args  []string
		ss58  string
	}{
		{"dev URI", "", []string{"//Alice"}, aliceSS58},
		{"mnemonic on stdin", walletTestMnemonic + "\n", nil, walletTestSS58},
		{"format 0", "", []string{walletTestMnemonic, "--ss58-format", "0"}, walletTestSS58Zero},
		{"path", walletTestMnemonic, []string{"--path", "//Alice"}, "5FEiH8iuDUw271xbqWTWuB6WrDjv5dnCeDX1CyHubAniXDNN"},
		{"soft path", walletTestMnemonic, []string{"--path", "/Alice"}, "5GNXbA46ma5dg19GXdiKi5JH3mnkZ8Yea3bBtZAvj7t99P9i"},
		{"dev path", "", []string{"//Bob", "--path", "/test"}, "5CJGwWiKXSE16WJaxBdPZhWqUYkotgenLUALv7ZvqQ4TXeqf"},
		{"seed", "", []string{"0xda3cf5b1e9144931a0f0db65664aab662673b099415a7f8121b7245fb0be4143"}, walletTestSS58},
		{"public", "", []string{"--public", "--ss58-format", "0", walletTestSS58}, walletTestSS58Zero},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got inspection
			c.ok(&got, tc.stdin, append([]string{"keys", "inspect", "-o", "json"}, tc.args...)...)
			if got.SS58 != tc.ss58 || got.SecretSeed != "" || got.PrivateKey != "" {
				t.Fatalf("got %+v, want %s", got, tc.ss58)
			}
		})
	}
	var secret inspection
	c.ok(&secret, "", "keys", "inspect", "--show-secret", "-o", "json", walletTestMnemonic)
	if secret.SecretSeed != "0xda3cf5b1e9144931a0f0db65664aab662673b099415a7f8121b7245fb0be4143" ||
		!strings.HasPrefix(secret.PrivateKey, "0x1f1995bdf3a17b60") {
		t.Fatalf("secret %+v", secret)
	}
	if text := c.ok(nil, "", "keys", "inspect", "//Alice"); !strings.Contains(text, "SS58 address:      "+aliceSS58) {
		t.Fatalf("text output:\n%s", text)
	}
	c.fails(2, "invalid mnemonic", "", "keys", "inspect", "not a mnemonic")
	c.fails(2, "--path must start with /", "", "keys", "inspect", "//Alice", "--path", "x")
	c.fails(2, "--public takes no --path", "", "keys", "inspect", "--public", "--path", "//a", aliceSS58)
	c.fails(2, "no mnemonic, seed or secret URI", "", "keys", "inspect")
}
