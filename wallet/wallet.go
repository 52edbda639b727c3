package wallet

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/tessera-net/tessera/keys"
)

// Defaults shared with Bittensor.
const (
	DefaultName   = "default"
	DefaultHotkey = "default"
	// BittensorPath is where btcli keeps wallets (the ~ is expanded by New).
	BittensorPath = "~/.bittensor/wallets"
)

// The environment variables the Bittensor SDK reads for the wallet defaults.
const (
	EnvName   = "BT_WALLET_NAME"
	EnvHotkey = "BT_WALLET_HOTKEY"
	EnvPath   = "BT_WALLET_PATH"
)

// Wallet is one wallet directory, <Path>/<Name>, and the hotkey in use.
type Wallet struct {
	// Path is the directory that holds the wallets (btcli's --wallet.path).
	Path string
	// Name is the wallet's directory name (--wallet.name).
	Name string
	// Hotkey is the hotkey file name (--wallet.hotkey).
	Hotkey string

	// Warn, when set, receives the problems that do not stop OpenColdkey or OpenHotkey:
	// a key file that other users can read (a *ModeError).
	Warn func(error)
	// AfterWriteStep, when set, is called after each step of SaveColdkey and SaveHotkey.
	// An error from it stops the write there, with nothing cleaned up, as a crash at that
	// point would; the save returns that error. It exists to test crash safety.
	AfterWriteStep func(WriteStep) error
}

// New checks the names and returns the wallet; a leading ~ in path is the home directory.
// Nothing is read or created.
func New(path, name, hotkey string) (*Wallet, error) {
	p, err := ExpandPath(path)
	if err != nil {
		return nil, err
	}
	if err := ValidateName("wallet", name); err != nil {
		return nil, err
	}
	if err := ValidateName("hotkey", hotkey); err != nil {
		return nil, err
	}
	return &Wallet{Path: p, Name: name, Hotkey: hotkey}, nil
}

// ExpandPath expands a leading "~" to the home directory and cleans the path.
func ExpandPath(path string) (string, error) {
	if path == "" {
		return "", errors.New("wallet path is empty")
	}
	if path == "~" || strings.HasPrefix(path, "~/") {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("expand %s: %w", path, err)
		}
		path = filepath.Join(home, path[1:])
	}
	return filepath.Clean(path), nil
}

// ValidateName checks a wallet or hotkey name: a single path element, not hidden, no
// control characters, and (for hotkeys) not ending in "pub.txt", which is how public
// key files are named.
func ValidateName(kind, name string) error {
	switch {
	case name == "":
		return fmt.Errorf("%s name is empty", kind)
	case name == "." || name == ".." || strings.ContainsAny(name, `/\`):
		return fmt.Errorf("%s name %q must be a plain file name, without / or \\", kind, name)
	case strings.HasPrefix(name, "."):
		return fmt.Errorf("%s name %q must not start with a dot", kind, name)
	case strings.ContainsFunc(name, func(r rune) bool { return r < 0x20 || r == 0x7f }):
		return fmt.Errorf("%s name %q contains a control character", kind, name)
	case kind == "hotkey" && strings.HasSuffix(name, "pub.txt"):
		return fmt.Errorf("hotkey name %q must not end in pub.txt", name)
	}
	return nil
}

// Dir is the wallet's directory.
func (w *Wallet) Dir() string { return filepath.Join(w.Path, w.Name) }

// ColdkeyPath is the coldkey file.
func (w *Wallet) ColdkeyPath() string { return filepath.Join(w.Dir(), "coldkey") }

// ColdkeyPubPath is the public coldkey file, coldkeypub.txt.
func (w *Wallet) ColdkeyPubPath() string { return filepath.Join(w.Dir(), "coldkeypub.txt") }

// HotkeysDir is the directory of hotkey files.
func (w *Wallet) HotkeysDir() string { return filepath.Join(w.Dir(), "hotkeys") }

// HotkeyPath is the file of the wallet's hotkey.
func (w *Wallet) HotkeyPath() string { return filepath.Join(w.HotkeysDir(), w.Hotkey) }

// HotkeyPubPath is the public file of the wallet's hotkey, hotkeys/<hotkey>pub.txt.
func (w *Wallet) HotkeyPubPath() string { return filepath.Join(w.HotkeysDir(), w.Hotkey+"pub.txt") }

// WithHotkey returns a copy of the wallet that uses another hotkey.
func (w *Wallet) WithHotkey(hotkey string) (*Wallet, error) {
	if err := ValidateName("hotkey", hotkey); err != nil {
		return nil, err
	}
	c := *w
	c.Hotkey = hotkey
	return &c, nil
}

// SaveOptions say how a key is written.
type SaveOptions struct {
	// Password encrypts the key file ($NACL) when non-nil; nil writes it unencrypted.
	Password []byte
	// Overwrite replaces existing key files. Without it nothing is replaced, and the
	// error wraps ErrKeyExists.
	Overwrite bool
}

func (w *Wallet) coldkeyFiles() pairFiles { return pairFiles{w.ColdkeyPath(), w.ColdkeyPubPath()} }
func (w *Wallet) hotkeyFiles() pairFiles  { return pairFiles{w.HotkeyPath(), w.HotkeyPubPath()} }

// SaveColdkey writes the coldkey file and coldkeypub.txt as one change: a crash at any
// point leaves the old pair or the new one, and the next open or save finishes or undoes
// the interrupted write and removes its temporary files. Without Overwrite it fails,
// changing nothing, when either exists (a coldkeypub.txt that already holds this key may
// stay).
func (w *Wallet) SaveColdkey(k *Keypair, opts SaveOptions) error {
	return w.saveKey(w.coldkeyFiles(), k, opts)
}

// SaveHotkey writes the hotkey file and its <hotkey>pub.txt, like SaveColdkey.
func (w *Wallet) SaveHotkey(k *Keypair, opts SaveOptions) error {
	return w.saveKey(w.hotkeyFiles(), k, opts)
}

func (w *Wallet) saveKey(p pairFiles, k *Keypair, opts SaveOptions) error {
	if k == nil || k.Pair == nil {
		return keyfileErr(p.key, errors.New("no secret key to write"))
	}
	check := func() error { return checkAbsent(p, k.Public) }
	if opts.Overwrite {
		check = nil
	} else if err := check(); err != nil {
		return err // before the slow encryption
	}
	data, err := EncodeKeyfile(k, opts.Password)
	if err != nil {
		return keyfileErr(p.key, err)
	}
	return p.write(data, MarshalPublic(k.Public), check, w.AfterWriteStep)
}

// checkAbsent refuses a write without overwrite: the key file must not exist, and a
// public key file may only hold pub.
func checkAbsent(p pairFiles, pub keys.PublicKey) error {
	if _, err := os.Lstat(p.key); err == nil {
		return keyfileErr(p.key, ErrKeyExists)
	}
	if existing, err := ReadKeyfile(p.pub, nil); err == nil {
		if existing.Public != pub {
			return keyfileErr(p.pub, fmt.Errorf("%w and holds another key (%s)", ErrKeyExists, existing.Public))
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return keyfileErr(p.pub, fmt.Errorf("%w and cannot be read", ErrKeyExists))
	}
	return nil
}

// OpenColdkey reads the coldkey; pw supplies the password when it is encrypted. The
// decrypted key must agree with coldkeypub.txt when there is one, or the error wraps
// ErrPairMismatch. A coldkey that others can read is reported to Warn.
func (w *Wallet) OpenColdkey(pw PasswordFunc) (*Keypair, error) {
	return w.openKey(w.coldkeyFiles(), pw)
}

// OpenHotkey reads the hotkey, like OpenColdkey (checked against <hotkey>pub.txt).
func (w *Wallet) OpenHotkey(pw PasswordFunc) (*Keypair, error) {
	return w.openKey(w.hotkeyFiles(), pw)
}

func (w *Wallet) openKey(p pairFiles, pw PasswordFunc) (*Keypair, error) {
	b, err := p.read()
	if err != nil {
		return nil, err
	}
	if b.keyErr != nil {
		return nil, b.keyErr
	}
	if err := CheckKeyfileMode(p.key); err != nil && w.Warn != nil {
		w.Warn(err)
	}
	k, err := DecodeKeyfile(p.key, b.key, pw)
	if err != nil {
		return nil, err
	}
	if err := checkSigningPair(p, b, k); err != nil {
		return nil, err
	}
	return k, nil
}

// ColdkeyPub returns the coldkey's public key from coldkeypub.txt, or from the coldkey
// file itself when there is no coldkeypub.txt and the coldkey is not encrypted. An
// unencrypted coldkey that disagrees with coldkeypub.txt is an ErrPairMismatch error.
func (w *Wallet) ColdkeyPub() (keys.PublicKey, error) {
	return publicKey(w.coldkeyFiles())
}

// HotkeyPub returns the hotkey's public key from <hotkey>pub.txt, or from the hotkey file
// when there is no public file and the hotkey is not encrypted, like ColdkeyPub.
func (w *Wallet) HotkeyPub() (keys.PublicKey, error) {
	return publicKey(w.hotkeyFiles())
}

func publicKey(p pairFiles) (keys.PublicKey, error) {
	b, err := p.read()
	if err != nil {
		return keys.PublicKey{}, err
	}
	v := viewPair(p, b)
	switch {
	case v.pubErr != nil:
		return keys.PublicKey{}, v.pubErr
	case errors.Is(v.keyErr, ErrPairMismatch):
		return keys.PublicKey{}, v.keyErr
	}
	return v.public, nil
}

// Hotkeys lists the names of the wallet's hotkeys (those with a key file or a public
// key file), sorted.
func (w *Wallet) Hotkeys() ([]string, error) {
	entries, err := os.ReadDir(w.HotkeysDir())
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
		return nil, fmt.Errorf("list hotkeys: %w", err)
	}
	seen := map[string]bool{}
	for _, e := range entries {
		n := e.Name()
		if e.IsDir() || strings.HasPrefix(n, ".") {
			continue
		}
		seen[strings.TrimSuffix(n, "pub.txt")] = true
	}
	names := make([]string, 0, len(seen))
	for n := range seen {
		if n != "" {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	return names, nil
}

// KeySummary describes one key of a wallet without decrypting anything.
type KeySummary struct {
	Name       string `json:"name,omitempty"`
	Path       string `json:"path"`
	Exists     bool   `json:"exists"`
	Encryption string `json:"encryption,omitempty"`
	PublicKey  string `json:"public_key,omitempty"`
	SS58       string `json:"ss58_address,omitempty"`
	// Check says whether the key file was checked against its public key file.
	Check PairCheck `json:"check,omitempty"`
	// Error says what is wrong: an unreadable or corrupt key file, a key file that
	// disagrees with its public file, or no public key at all.
	Error string `json:"error,omitempty"`
	// Warning is a problem that does not stop the key's use: a key file that other
	// users can read (see ModeError).
	Warning string `json:"warning,omitempty"`
}

// Summary describes a wallet: its coldkey and hotkeys.
type Summary struct {
	Name    string       `json:"name"`
	Path    string       `json:"path"`
	Coldkey KeySummary   `json:"coldkey"`
	Hotkeys []KeySummary `json:"hotkeys"`
}

// Summarize describes the wallet and all its hotkeys, with addresses in the given SS58
// format. Problems with one key are reported in its Error field, not as an error.
func (w *Wallet) Summarize(ss58Prefix uint16) (Summary, error) {
	s := Summary{Name: w.Name, Path: w.Dir(), Coldkey: summarizeKey("", w.coldkeyFiles(), ss58Prefix)}
	names, err := w.Hotkeys()
	if err != nil {
		return s, err
	}
	s.Hotkeys = []KeySummary{}
	for _, n := range names {
		h := Wallet{Path: w.Path, Name: w.Name, Hotkey: n}
		s.Hotkeys = append(s.Hotkeys, summarizeKey(n, h.hotkeyFiles(), ss58Prefix))
	}
	return s, nil
}

// summarizeKey describes one key pair; its problems go into Error and Warning.
func summarizeKey(name string, p pairFiles, prefix uint16) KeySummary {
	ks := KeySummary{Name: name, Path: p.key}
	b, err := p.read()
	if err != nil {
		ks.Error = err.Error()
		return ks
	}
	v := viewPair(p, b)
	ks.Exists, ks.Check = v.keyExists, v.check
	if b.keyErr == nil {
		ks.Encryption = v.enc.String()
		if err := CheckKeyfileMode(p.key); err != nil {
			ks.Warning = err.Error()
		}
	}
	var problems []string
	for _, err := range []error{v.keyErr, v.pubErr} {
		if err != nil && (ks.Exists || !errors.Is(err, fs.ErrNotExist)) {
			problems = append(problems, err.Error())
		}
	}
	ks.Error = strings.Join(problems, "; ")
	if v.pubErr == nil && v.keyErr == nil {
		ks.PublicKey = v.public.Hex()
		ks.SS58 = keys.SS58Encode(v.public, prefix)
	}
	return ks
}

// List describes every wallet under path (directories with a coldkey, a coldkeypub.txt
// or a hotkeys directory), sorted by name. A missing path holds no wallets.
func List(path string, ss58Prefix uint16) ([]Summary, error) {
	root, err := ExpandPath(path)
	if err != nil {
		return nil, err
	}
	entries, err := os.ReadDir(root)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return []Summary{}, nil
		}
		return nil, fmt.Errorf("list wallets in %s: %w", root, err)
	}
	out := []Summary{}
	for _, e := range entries {
		if !e.IsDir() || ValidateName("wallet", e.Name()) != nil {
			continue
		}
		w := &Wallet{Path: root, Name: e.Name(), Hotkey: DefaultHotkey}
		if !exists(w.ColdkeyPath()) && !exists(w.ColdkeyPubPath()) && !exists(w.HotkeysDir()) {
			continue
		}
		s, err := w.Summarize(ss58Prefix)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

func exists(path string) bool {
	_, err := os.Lstat(path)
	return err == nil
}
