package main

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/tessera-net/tessera/keys"
	"github.com/tessera-net/tessera/wallet"
)

// walletFlags select a wallet: --wallet.name, --wallet.hotkey, --wallet.path (each also
// from BT_WALLET_NAME, BT_WALLET_HOTKEY, BT_WALLET_PATH, as in Bittensor) and the SS58
// format addresses are shown in. Other command groups can register them to sign with a
// wallet key.
type walletFlags struct {
	name, hotkey, path string
	ss58Format         int
}

func (f *walletFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.name, "wallet.name", wallet.DefaultName, "wallet name (also "+wallet.EnvName+")")
	cmd.Flags().StringVar(&f.hotkey, "wallet.hotkey", wallet.DefaultHotkey, "hotkey name (also "+wallet.EnvHotkey+")")
	cmd.Flags().StringVar(&f.path, "wallet.path", "", "directory of wallets (also "+wallet.EnvPath+"; default <home>/wallets; ~/.bittensor/wallets works as is)")
	cmd.Flags().IntVar(&f.ss58Format, "ss58-format", int(keys.DefaultSS58Prefix), "SS58 network prefix of the addresses shown")
}

// resolvePath is the wallets directory: the flag, BT_WALLET_PATH, or <home>/wallets.
func (f *walletFlags) resolvePath(cmd *cobra.Command, env *cliEnv) string {
	if cmd.Flags().Changed("wallet.path") {
		return f.path
	}
	if v := env.getenv(wallet.EnvPath); v != "" {
		return v
	}
	return filepath.Join(env.home, "wallets")
}

// open resolves the flags and environment into a Wallet.
func (f *walletFlags) open(cmd *cobra.Command, env *cliEnv) (*wallet.Wallet, error) {
	if err := keys.CheckSS58Prefix(f.ss58Format); err != nil {
		return nil, usagef("--ss58-format: %v", err)
	}
	name, hotkey := f.name, f.hotkey
	if v := env.getenv(wallet.EnvName); v != "" && !cmd.Flags().Changed("wallet.name") {
		name = v
	}
	if v := env.getenv(wallet.EnvHotkey); v != "" && !cmd.Flags().Changed("wallet.hotkey") {
		hotkey = v
	}
	w, err := wallet.New(f.resolvePath(cmd, env), name, hotkey)
	if err != nil {
		return nil, usageError{err}
	}
	w.Warn = func(err error) { printKeyWarning(env, err.Error()) }
	return w, nil
}

// printKeyWarning prints, on stderr, a problem with a key that does not stop the
// command, such as a key file other users can read.
func printKeyWarning(env *cliEnv, warning string) { fmt.Fprintln(env.stderr, "Warning: "+warning) }

// warnSummaries prints the warnings of the wallets' keys on stderr.
func warnSummaries(env *cliEnv, list ...wallet.Summary) {
	for _, s := range list {
		for _, k := range append([]wallet.KeySummary{s.Coldkey}, s.Hotkeys...) {
			if k.Warning != "" {
				printKeyWarning(env, k.Warning)
			}
		}
	}
}

func (f *walletFlags) prefix() uint16 { return uint16(f.ss58Format) }

// walletPasswordFlags say where passwords come from and whether new keys are encrypted.
type walletPasswordFlags struct {
	file        string
	noPassword  bool // coldkey written unencrypted
	usePassword bool // hotkey written encrypted
}

func (p *walletPasswordFlags) register(cmd *cobra.Command, coldkey, hotkey bool) {
	cmd.Flags().StringVar(&p.file, "password-file", "", "read the key file password from this file (its first line)")
	if coldkey {
		cmd.Flags().BoolVar(&p.noPassword, "no-password", false, "write the coldkey unencrypted (not recommended)")
	}
	if hotkey {
		cmd.Flags().BoolVar(&p.usePassword, "use-password", false, "encrypt the hotkey too (btcli leaves hotkeys unencrypted so miners can start unattended)")
	}
}

// stdinTerminal returns the file descriptor of stdin when it is a terminal.
func stdinTerminal(env *cliEnv) (int, bool) {
	f, ok := env.stdin.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return 0, false
	}
	return int(f.Fd()), true
}

// promptHidden asks for a secret on the terminal without echoing it.
func promptHidden(env *cliEnv, fd int, prompt string) ([]byte, error) {
	fmt.Fprint(env.stderr, prompt)
	b, err := term.ReadPassword(fd)
	fmt.Fprintln(env.stderr)
	if err != nil {
		return nil, fmt.Errorf("read from terminal: %w", err)
	}
	return b, nil
}

// readPasswordFile returns the first line of a password file.
func readPasswordFile(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, usagef("--password-file: %v", err)
	}
	if i := bytes.IndexByte(b, '\n'); i >= 0 {
		b = b[:i]
	}
	b = bytes.TrimSuffix(b, []byte("\r"))
	if len(b) == 0 {
		return nil, usagef("--password-file %s is empty", path)
	}
	return b, nil
}

// unlockFunc supplies the password of an encrypted key file: --password-file, the
// file's BT_PW_ variable, TESSERA_PASSWORD, or a prompt on the terminal.
func (p *walletPasswordFlags) unlockFunc(env *cliEnv) wallet.PasswordFunc {
	return func(path string) ([]byte, error) {
		pw, err := p.lookup(env, path)
		if err != nil {
			return nil, err
		}
		if pw == nil {
			fd, ok := stdinTerminal(env)
			if !ok {
				return nil, noPasswordError(path)
			}
			if pw, err = promptHidden(env, fd, "Password for "+path+": "); err != nil {
				return nil, err
			}
		}
		fmt.Fprintln(env.stderr, "Decrypting "+filepath.Base(path)+" (slow by design: a few seconds)…")
		return pw, nil
	}
}

// newPassword is the password to encrypt a new key file at path with: from the same
// sources as unlockFunc, or typed twice on the terminal.
func (p *walletPasswordFlags) newPassword(env *cliEnv, path string) ([]byte, error) {
	pw, err := p.lookup(env, path)
	if err != nil || pw != nil {
		return pw, err
	}
	fd, ok := stdinTerminal(env)
	if !ok {
		return nil, noPasswordError(path)
	}
	for {
		pw, err := promptHidden(env, fd, "New password for "+path+": ")
		if err != nil {
			return nil, err
		}
		if len(pw) == 0 {
			fmt.Fprintln(env.stderr, "The password is empty; try again.")
			continue
		}
		again, err := promptHidden(env, fd, "Repeat the password: ")
		if err != nil {
			return nil, err
		}
		if bytes.Equal(pw, again) {
			return pw, nil
		}
		fmt.Fprintln(env.stderr, "The passwords differ; try again.")
	}
}

func (p *walletPasswordFlags) lookup(env *cliEnv, path string) ([]byte, error) {
	if p.file != "" {
		return readPasswordFile(p.file)
	}
	pw, ok, err := wallet.EnvPassword(path, env.getenv)
	if err != nil {
		return nil, err
	}
	if ok {
		return pw, nil
	}
	return nil, nil
}

func noPasswordError(path string) error {
	return usagef("%s needs a password and stdin is not a terminal: use --password-file, set %s (plain) or %s (btwallet's encoding)",
		path, wallet.PlainPasswordEnv, wallet.PasswordEnvName(path))
}

// readSecretInput returns a secret given on the command line, or reads it from stdin:
// hidden from a terminal, or the whole of a pipe.
func readSecretInput(env *cliEnv, given, what string) (string, error) {
	if s := strings.TrimSpace(given); s != "" {
		return s, nil
	}
	if fd, ok := stdinTerminal(env); ok {
		b, err := promptHidden(env, fd, "Enter the "+what+": ")
		if err != nil {
			return "", err
		}
		given = string(b)
	} else {
		b, err := io.ReadAll(io.LimitReader(env.stdin, 64<<10))
		if err != nil {
			return "", fmt.Errorf("read the %s from stdin: %w", what, err)
		}
		given = string(b)
	}
	if s := strings.TrimSpace(given); s != "" {
		return s, nil
	}
	return "", usagef("no %s: give it with a flag or on stdin", what)
}

// keyReport is how a key is printed.
type keyReport struct {
	Role      string `json:"role"`
	Name      string `json:"name,omitempty"`
	Path      string `json:"path"`
	SS58      string `json:"ss58_address"`
	PublicKey string `json:"public_key"`
	Encrypted bool   `json:"encrypted"`
	Mnemonic  string `json:"mnemonic,omitempty"`
}

func newKeyReport(role, name, path string, k *wallet.Keypair, encrypted bool, prefix uint16, withMnemonic bool) keyReport {
	r := keyReport{Role: role, Name: name, Path: path, SS58: k.SS58(prefix), PublicKey: k.Public.Hex(), Encrypted: encrypted}
	if withMnemonic {
		r.Mnemonic = k.Mnemonic
	}
	return r
}

func printKeyReports(w io.Writer, reports []keyReport) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, r := range reports {
		enc := "not encrypted"
		if r.Encrypted {
			enc = "encrypted"
		}
		label := r.Role
		if r.Name != "" {
			label += " " + r.Name
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", label, r.SS58, enc, r.Path)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	var mnemonics []keyReport
	for _, r := range reports {
		if r.Mnemonic != "" {
			mnemonics = append(mnemonics, r)
		}
	}
	if len(mnemonics) > 0 {
		fmt.Fprintln(w, "\nIMPORTANT: write these mnemonics down and keep them secret; they are the only way to recover the keys:")
		for _, r := range mnemonics {
			fmt.Fprintf(w, "  %s: %s\n", r.Role, r.Mnemonic)
		}
	}
	return nil
}

func newWalletCmd(env *cliEnv) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "wallet",
		Short: "Create, restore, list and use Bittensor-compatible wallets (coldkey + hotkeys)",
		Long: `Wallets live in <wallet.path>/<wallet.name>/: coldkey (encrypted), coldkeypub.txt,
hotkeys/<hotkey> and hotkeys/<hotkey>pub.txt, exactly as btcli writes them, so
--wallet.path ~/.bittensor/wallets uses your Bittensor wallets as they are.

Passwords come from --password-file, the key file's BT_PW_ variable (btwallet's
encoding), TESSERA_PASSWORD (plain), or a prompt on the terminal.`,
	}
	cmd.AddCommand(
		newWalletNewCmd(env),
		newWalletCreateKeyCmd(env, "coldkey", false),
		newWalletCreateKeyCmd(env, "hotkey", false),
		newWalletCreateKeyCmd(env, "coldkey", true),
		newWalletCreateKeyCmd(env, "hotkey", true),
		newWalletListCmd(env),
		newWalletShowCmd(env),
		newWalletSignCmd(env),
		newWalletVerifyCmd(env),
		newWalletOverviewCmd(env),
	)
	return cmd
}

// ensureAbsent fails early, before any password prompt, when a key file exists and
// --overwrite was not given.
func ensureAbsent(path string, overwrite bool) error {
	if overwrite {
		return nil
	}
	if _, err := os.Lstat(path); err == nil {
		return fmt.Errorf("%s already exists; pass --overwrite to replace it (the old key is lost unless you have its mnemonic)", path)
	}
	return nil
}

// saveErr adds the --overwrite hint to a refused write.
func saveErr(err error) error {
	if errors.Is(err, wallet.ErrKeyExists) {
		return fmt.Errorf("%w; pass --overwrite to replace it", err)
	}
	return err
}

func newWalletNewCmd(env *cliEnv) *cobra.Command {
	var wf walletFlags
	var pf walletPasswordFlags
	var words int
	var overwrite bool
	cmd := &cobra.Command{
		Use:   "new",
		Short: "Create a wallet: a new coldkey (encrypted) and a new hotkey (not encrypted)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			w, err := wf.open(cmd, env)
			if err != nil {
				return err
			}
			if err := checkWords(words); err != nil {
				return err
			}
			for _, p := range []string{w.ColdkeyPath(), w.HotkeyPath()} {
				if err := ensureAbsent(p, overwrite); err != nil {
					return err
				}
			}
			cold, err := generateKeypair(words)
			if err != nil {
				return err
			}
			hot, err := generateKeypair(words)
			if err != nil {
				return err
			}
			var pw []byte
			if !pf.noPassword || pf.usePassword {
				pwPath := w.ColdkeyPath() // whose BT_PW_ variable applies
				if pf.noPassword {
					pwPath = w.HotkeyPath()
				}
				if pw, err = pf.newPassword(env, pwPath); err != nil {
					return err
				}
			}
			coldOpts := wallet.SaveOptions{Overwrite: overwrite}
			if !pf.noPassword {
				coldOpts.Password = pw
				fmt.Fprintln(env.stderr, "Encrypting the coldkey (Argon2i, 512 MiB; this takes a few seconds)…")
			}
			if err := w.SaveColdkey(cold, coldOpts); err != nil {
				return saveErr(err)
			}
			hotOpts := wallet.SaveOptions{Overwrite: overwrite}
			if pf.usePassword {
				hotOpts.Password = pw
				fmt.Fprintln(env.stderr, "Encrypting the hotkey (Argon2i, 512 MiB; this takes a few seconds)…")
			}
			if err := w.SaveHotkey(hot, hotOpts); err != nil {
				return saveErr(err)
			}
			out := struct {
				Wallet  string    `json:"wallet"`
				Path    string    `json:"path"`
				Coldkey keyReport `json:"coldkey"`
				Hotkey  keyReport `json:"hotkey"`
			}{
				Wallet:  w.Name,
				Path:    w.Dir(),
				Coldkey: newKeyReport("coldkey", "", w.ColdkeyPath(), cold, coldOpts.Password != nil, wf.prefix(), true),
				Hotkey:  newKeyReport("hotkey", w.Hotkey, w.HotkeyPath(), hot, hotOpts.Password != nil, wf.prefix(), true),
			}
			return env.emit(out, func(o io.Writer) error {
				fmt.Fprintf(o, "Created wallet %q in %s\n", w.Name, w.Dir())
				return printKeyReports(o, []keyReport{out.Coldkey, out.Hotkey})
			})
		},
	}
	wf.register(cmd)
	pf.register(cmd, true, true)
	cmd.Flags().IntVar(&words, "words", 12, "mnemonic length: 12, 15, 18, 21 or 24 words")
	cmd.Flags().BoolVar(&overwrite, "overwrite", false, "replace existing key files")
	return cmd
}

func checkWords(words int) error {
	for _, w := range keys.ValidMnemonicWords {
		if w == words {
			return nil
		}
	}
	return usagef("--words must be 12, 15, 18, 21 or 24, not %d", words)
}

func generateKeypair(words int) (*wallet.Keypair, error) {
	m, err := keys.NewMnemonic(words)
	if err != nil {
		return nil, err
	}
	return wallet.KeypairFromMnemonic(m)
}

// newWalletCreateKeyCmd builds new-coldkey, new-hotkey (regen false) and regen-coldkey,
// regen-hotkey (regen true).
func newWalletCreateKeyCmd(env *cliEnv, role string, regen bool) *cobra.Command {
	var wf walletFlags
	var pf walletPasswordFlags
	var words int
	var mnemonic, seed string
	var overwrite bool
	use, short := "new-"+role, "Create a new "+role+" in the wallet"
	if regen {
		use, short = "regen-"+role, "Restore the "+role+" of the wallet from its mnemonic (flag or stdin) or seed"
	}
	cmd := &cobra.Command{
		Use:   use,
		Short: short,
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			w, err := wf.open(cmd, env)
			if err != nil {
				return err
			}
			path, save := w.ColdkeyPath(), w.SaveColdkey
			encrypt := !pf.noPassword
			if role == "hotkey" {
				path, save = w.HotkeyPath(), w.SaveHotkey
				encrypt = pf.usePassword
			}
			if err := ensureAbsent(path, overwrite); err != nil {
				return err
			}
			var k *wallet.Keypair
			switch {
			case !regen:
				if err := checkWords(words); err != nil {
					return err
				}
				if k, err = generateKeypair(words); err != nil {
					return err
				}
			case seed != "":
				b, err := hex.DecodeString(strings.TrimPrefix(strings.TrimSpace(seed), "0x"))
				if err != nil {
					return usagef("--seed must be 0x and 64 hex digits (a mini-secret) or 128 (a secret key): %v", err)
				}
				p, err := keys.FromSeed(b)
				if err != nil {
					return usagef("--seed: %v", err)
				}
				k = wallet.NewKeypair(p, "")
			default:
				m, err := readSecretInput(env, mnemonic, "mnemonic")
				if err != nil {
					return err
				}
				if k, err = wallet.KeypairFromMnemonic(m); err != nil {
					return usageError{err}
				}
			}
			opts := wallet.SaveOptions{Overwrite: overwrite}
			if encrypt {
				if opts.Password, err = pf.newPassword(env, path); err != nil {
					return err
				}
				fmt.Fprintln(env.stderr, "Encrypting the "+role+" (Argon2i, 512 MiB; this takes a few seconds)…")
			}
			if err := save(k, opts); err != nil {
				return saveErr(err)
			}
			name := ""
			if role == "hotkey" {
				name = w.Hotkey
			}
			r := newKeyReport(role, name, path, k, encrypt, wf.prefix(), !regen)
			return env.emit(r, func(o io.Writer) error {
				verb := "Created"
				if regen {
					verb = "Restored"
				}
				fmt.Fprintf(o, "%s the %s of wallet %q\n", verb, role, w.Name)
				return printKeyReports(o, []keyReport{r})
			})
		},
	}
	wf.register(cmd)
	pf.register(cmd, role == "coldkey", role == "hotkey")
	cmd.Flags().BoolVar(&overwrite, "overwrite", false, "replace an existing key file")
	if regen {
		cmd.Flags().StringVar(&mnemonic, "mnemonic", "", "the mnemonic (read from stdin when not given; a flag shows in the shell history)")
		cmd.Flags().StringVar(&seed, "seed", "", "restore from a 0x-hex mini-secret (secretSeed) or 64-byte secret key instead")
	} else {
		cmd.Flags().IntVar(&words, "words", 12, "mnemonic length: 12, 15, 18, 21 or 24 words")
	}
	return cmd
}

func newWalletListCmd(env *cliEnv) *cobra.Command {
	var wf walletFlags
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the wallets and their keys (public keys only; nothing is decrypted)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := keys.CheckSS58Prefix(wf.ss58Format); err != nil {
				return usagef("--ss58-format: %v", err)
			}
			root, err := wallet.ExpandPath(wf.resolvePath(cmd, env))
			if err != nil {
				return usageError{err}
			}
			list, err := wallet.List(root, wf.prefix())
			if err != nil {
				return err
			}
			warnSummaries(env, list...)
			out := struct {
				Path    string           `json:"path"`
				Wallets []wallet.Summary `json:"wallets"`
			}{root, list}
			return env.emit(out, func(o io.Writer) error {
				if len(list) == 0 {
					fmt.Fprintf(o, "No wallets in %s (create one with: tessera wallet new)\n", root)
					return nil
				}
				fmt.Fprintf(o, "Wallets in %s\n", root)
				for _, s := range list {
					printSummary(o, s)
				}
				return nil
			})
		},
	}
	wf.register(cmd)
	return cmd
}

func printSummary(o io.Writer, s wallet.Summary) {
	fmt.Fprintf(o, "%s\n", s.Name)
	tw := tabwriter.NewWriter(o, 0, 4, 2, ' ', 0)
	line := func(label, pubFile string, k wallet.KeySummary) {
		switch {
		case k.Error != "":
			fmt.Fprintf(tw, "  %s\t%s\t\n", label, "error: "+k.Error)
		case k.SS58 == "":
			fmt.Fprintf(tw, "  %s\t%s\t\n", label, "none")
		default:
			enc := "public key only"
			if k.Exists {
				enc = "encryption: " + k.Encryption
			}
			if k.Check == wallet.PairNeedsPassword {
				enc += " (not checked against " + pubFile + " without the password; wallet sign checks it)"
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s\n", label, k.SS58, enc)
		}
	}
	line("coldkey", "coldkeypub.txt", s.Coldkey)
	for _, h := range s.Hotkeys {
		line("hotkey "+h.Name, h.Name+"pub.txt", h)
	}
	tw.Flush()
}

func newWalletShowCmd(env *cliEnv) *cobra.Command {
	var wf walletFlags
	cmd := &cobra.Command{
		Use:   "show",
		Short: "Show a wallet's coldkey and hotkeys (public keys only)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			w, err := wf.open(cmd, env)
			if err != nil {
				return err
			}
			if _, err := os.Stat(w.Dir()); err != nil {
				return fmt.Errorf("no wallet %q in %s (create one with: tessera wallet new --wallet.name %s): %w", w.Name, w.Path, w.Name, err)
			}
			s, err := w.Summarize(wf.prefix())
			if err != nil {
				return err
			}
			warnSummaries(env, s)
			return env.emit(s, func(o io.Writer) error {
				printSummary(o, s)
				return nil
			})
		},
	}
	wf.register(cmd)
	return cmd
}

// signingKeyFlags choose the coldkey or the hotkey of a wallet.
type signingKeyFlags struct {
	useHotkey bool
}

func (s *signingKeyFlags) register(cmd *cobra.Command) {
	cmd.Flags().BoolVar(&s.useHotkey, "use-hotkey", false, "use the hotkey instead of the coldkey")
}

// readMessage is --message, or all of stdin.
func readMessage(env *cliEnv, cmd *cobra.Command, message string) ([]byte, error) {
	if cmd.Flags().Changed("message") {
		return []byte(message), nil
	}
	if _, ok := stdinTerminal(env); ok {
		return nil, usagef("give the message with --message or on stdin")
	}
	b, err := io.ReadAll(bufio.NewReader(env.stdin))
	if err != nil {
		return nil, fmt.Errorf("read the message from stdin: %w", err)
	}
	return b, nil
}

func newWalletSignCmd(env *cliEnv) *cobra.Command {
	var wf walletFlags
	var pf walletPasswordFlags
	var sk signingKeyFlags
	var message string
	cmd := &cobra.Command{
		Use:   "sign",
		Short: "Sign a message (--message or stdin) with the wallet's coldkey or hotkey (sr25519, context \"substrate\")",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			w, err := wf.open(cmd, env)
			if err != nil {
				return err
			}
			msg, err := readMessage(env, cmd, message)
			if err != nil {
				return err
			}
			role, open := "coldkey", w.OpenColdkey
			if sk.useHotkey {
				role, open = "hotkey", w.OpenHotkey
			}
			k, err := open(pf.unlockFunc(env))
			if err != nil {
				return err
			}
			if !k.HasSecret() {
				return fmt.Errorf("the %s file of wallet %q holds only a public key; it cannot sign", role, w.Name)
			}
			out := struct {
				Signer    string `json:"signer"`
				PublicKey string `json:"public_key"`
				Key       string `json:"key"`
				Signature string `json:"signature"`
			}{k.SS58(wf.prefix()), k.Public.Hex(), role, "0x" + hex.EncodeToString(k.Pair.Sign(msg))}
			return env.emit(out, func(o io.Writer) error {
				fmt.Fprintf(o, "signer     %s (%s)\nsignature  %s\n", out.Signer, role, out.Signature)
				return nil
			})
		},
	}
	wf.register(cmd)
	pf.register(cmd, false, false)
	sk.register(cmd)
	cmd.Flags().StringVar(&message, "message", "", "the message, as text (default: read stdin)")
	return cmd
}

func newWalletVerifyCmd(env *cliEnv) *cobra.Command {
	var wf walletFlags
	var sk signingKeyFlags
	var message, signature, address string
	cmd := &cobra.Command{
		Use:   "verify",
		Short: "Verify a signature of a message by an address (default: the wallet's coldkey, or hotkey)",
		Long: `Verify an sr25519 signature in the "substrate" context. Like Bittensor, a signature of
"<Bytes>" + message + "</Bytes>" (as polkadot-js extensions sign) is accepted too.
The exit status is 1 when the signature is not valid.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			sig, err := hex.DecodeString(strings.TrimPrefix(strings.TrimSpace(signature), "0x"))
			if err != nil || len(sig) != keys.SignatureSize {
				return usagef("--signature must be 0x and %d hex digits", 2*keys.SignatureSize)
			}
			if err := keys.CheckSS58Prefix(wf.ss58Format); err != nil {
				return usagef("--ss58-format: %v", err)
			}
			var pub keys.PublicKey
			if address != "" {
				if pub, err = keys.ParsePublicKey(address); err != nil {
					return usagef("--address: %v", err)
				}
			} else {
				w, err := wf.open(cmd, env)
				if err != nil {
					return err
				}
				get := w.ColdkeyPub
				if sk.useHotkey {
					get = w.HotkeyPub
				}
				if pub, err = get(); err != nil {
					return err
				}
			}
			msg, err := readMessage(env, cmd, message)
			if err != nil {
				return err
			}
			out := struct {
				Valid  bool   `json:"valid"`
				Signer string `json:"signer"`
			}{pub.VerifyAllowWrapped(msg, sig), keys.SS58Encode(pub, wf.prefix())}
			if err := env.emit(out, func(o io.Writer) error {
				verdict := "VALID"
				if !out.Valid {
					verdict = "NOT VALID"
				}
				fmt.Fprintf(o, "signature is %s for signer %s\n", verdict, out.Signer)
				return nil
			}); err != nil {
				return err
			}
			if !out.Valid {
				return fmt.Errorf("the signature is not valid for this message and signer %s", out.Signer)
			}
			return nil
		},
	}
	wf.register(cmd)
	sk.register(cmd)
	cmd.Flags().StringVar(&message, "message", "", "the message, as text (default: read stdin)")
	cmd.Flags().StringVar(&signature, "signature", "", "the signature, 0x + 128 hex digits")
	cmd.Flags().StringVar(&address, "address", "", "the signer's SS58 address or 0x public key (default: the wallet's key)")
	return cmd
}
