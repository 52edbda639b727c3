package wallet

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"

	"github.com/tessera-net/tessera/keys"
)

// ErrPairMismatch is returned when a key file and its public key file (coldkey and
// coldkeypub.txt, or a hotkey and its pub.txt) hold different keys: what `wallet show`
// prints is then not the key that signs.
var ErrPairMismatch = errors.New("the key file and its public key file hold different keys")

// ErrCorruptKeyfile is returned for a key file that exists but cannot be parsed, or,
// encrypted, does not have the shape of its format.
var ErrCorruptKeyfile = errors.New("unreadable or corrupt")

// ModeError says that a key file grants permissions to its group or to other users.
type ModeError struct {
	Path string
	Mode fs.FileMode
}

// Error names the file, says who can do what with it, and gives the fix.
func (e *ModeError) Error() string {
	what := "read"
	if e.Mode&0o044 == 0 {
		what = "change"
	}
	return fmt.Sprintf("key file %s has mode %04o: other users can %s it; run: chmod 600 %s", e.Path, e.Mode.Perm(), what, e.Path)
}

// CheckKeyfileMode returns a *ModeError when the file at path grants any permission to
// its group or others (ssh refuses such private keys; Tessera warns). It returns nil when
// the mode is 0600 or stricter, when the file cannot be examined, and on Windows, whose
// files have no such mode bits.
func CheckKeyfileMode(path string) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm()&0o077 == 0 {
		return nil
	}
	return &ModeError{Path: path, Mode: fi.Mode().Perm()}
}

// PairCheck is what is known, without a password, of whether a key file agrees with its
// public key file.
type PairCheck string

const (
	// PairAgrees: the key file is unencrypted and holds the key its public file states.
	PairAgrees PairCheck = "agrees"
	// PairNoPublicFile: the key file is unencrypted and there is no public key file.
	PairNoPublicFile PairCheck = "no-public-file"
	// PairNeedsPassword: the key file is encrypted; only its decryption can check it.
	PairNeedsPassword PairCheck = "needs-password"
	// PairDisagrees: the two files hold different keys (ErrPairMismatch).
	PairDisagrees PairCheck = "disagrees"
	// PairUnreadable: the key file cannot be read or is corrupt.
	PairUnreadable PairCheck = "unreadable"
)

// pairView is what the files of a key pair say without a password.
type pairView struct {
	// public is the key the pair is known by: the public file's, or an unencrypted key
	// file's when there is no public file. pubErr says why there is none.
	public keys.PublicKey
	pubErr error
	// keyExists and enc describe the key file; keyErr says it is unreadable, corrupt
	// (ErrCorruptKeyfile) or disagrees with the public file (ErrPairMismatch).
	keyExists bool
	enc       Encryption
	keyErr    error
	check     PairCheck
}

// viewPair examines the contents of a pair's files, decrypting nothing.
func viewPair(p pairFiles, b pairBytes) pairView {
	var v pairView
	stated, pubErr := statedPublic(p, b)
	if pubErr == nil {
		v.public = *stated
	} else if !errors.Is(pubErr, fs.ErrNotExist) {
		v.pubErr = pubErr
	}
	if b.keyErr != nil {
		v.keyExists = !errors.Is(b.keyErr, fs.ErrNotExist)
		if v.keyExists {
			v.keyErr, v.check = b.keyErr, PairUnreadable
		}
		if stated == nil && v.pubErr == nil {
			v.pubErr = pubErr // neither file exists
		}
		return v
	}
	v.keyExists, v.enc = true, DetectEncryption(b.key)
	if v.enc != Plaintext {
		v.check = PairNeedsPassword
		if err := checkEncryptedShape(v.enc, b.key); err != nil {
			v.keyErr, v.check = corrupt(p.key, err), PairUnreadable
		}
		if stated == nil && v.pubErr == nil {
			v.pubErr = fmt.Errorf("%w; and %s is encrypted (%s): its public key cannot be read without the password", pubErr, p.key, v.enc)
		}
		return v
	}
	k, err := DecodeKeyfile(p.key, b.key, nil)
	switch {
	case err != nil:
		v.keyErr, v.check = corrupt(p.key, err), PairUnreadable
	case v.pubErr != nil:
		// The public file is broken; its error stands.
	case stated == nil:
		v.public, v.check = k.Public, PairNoPublicFile
	default:
		v.keyErr, v.check = agree(p, k.Public, *stated), PairAgrees
		if v.keyErr != nil {
			v.check = PairDisagrees
		}
	}
	return v
}

// statedPublic parses the public key file; a missing one gives a nil key and its
// fs.ErrNotExist error.
func statedPublic(p pairFiles, b pairBytes) (*keys.PublicKey, error) {
	if b.pubErr != nil {
		return nil, b.pubErr
	}
	k, err := DecodeKeyfile(p.pub, b.pub, nil)
	if err != nil {
		return nil, err
	}
	return &k.Public, nil
}

// agree returns an ErrPairMismatch error, naming both files, when the key file's public
// key differs from the one its public file states.
func agree(p pairFiles, fromKey, stated keys.PublicKey) error {
	if fromKey == stated {
		return nil
	}
	return keyfileErr(p.key, fmt.Errorf("%w: it holds %s but %s states %s; restore the pair from the mnemonic (regen with --overwrite)",
		ErrPairMismatch, fromKey, filepath.Base(p.pub), stated))
}

// checkSigningPair checks a decrypted key against the public key file, when there is
// one: an unreadable public file is an error too, since the key cannot be checked.
func checkSigningPair(p pairFiles, b pairBytes, k *Keypair) error {
	stated, err := statedPublic(p, b)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		return fmt.Errorf("%w (the key cannot be checked against it)", err)
	}
	return agree(p, k.Public, *stated)
}

// checkEncryptedShape checks, without the password, that an encrypted key file has the
// layout of its format.
func checkEncryptedShape(enc Encryption, data []byte) error {
	switch enc {
	case NaCl:
		if len(data) < len(NaClPrefix)+NaClNonceSize+NaClOverhead+1 {
			return fmt.Errorf("$NACL key file is truncated (%d bytes)", len(data))
		}
	case LegacyFernet:
		_, err := parseFernet(data)
		return err
	case AnsibleVault:
		_, err := Decrypt(data, nil)
		return err
	}
	return nil
}

// corrupt marks a key file's read error as ErrCorruptKeyfile, keeping the reason.
func corrupt(path string, err error) error {
	var ke *KeyfileError
	if errors.As(err, &ke) && ke.Path == path {
		err = ke.Err
	}
	return keyfileErr(path, fmt.Errorf("%w: %w", ErrCorruptKeyfile, err))
}
