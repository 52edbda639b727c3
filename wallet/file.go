package wallet

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// FileMode and DirMode are the permissions of key files and wallet directories.
const (
	FileMode fs.FileMode = 0o600
	DirMode  fs.FileMode = 0o700
)

// maxKeyfileSize bounds what is read as a key file; real ones are under 1 KiB.
const maxKeyfileSize = 64 << 10

// ErrKeyExists is returned when a write would replace an existing key file and
// overwriting was not asked for.
var ErrKeyExists = errors.New("key file already exists")

// PasswordFunc supplies the password of an encrypted key file. It is called only when
// the file is encrypted; path names the file (for a prompt, or a BT_PW_ lookup).
type PasswordFunc func(path string) ([]byte, error)

// KeyfileError is an error about one key file; it names the file.
type KeyfileError struct {
	Path string
	Err  error
}

// Error says which file and what is wrong.
func (e *KeyfileError) Error() string { return fmt.Sprintf("key file %s: %v", e.Path, e.Err) }

// Unwrap returns the cause.
func (e *KeyfileError) Unwrap() error { return e.Err }

func keyfileErr(path string, err error) error { return &KeyfileError{Path: path, Err: err} }

// ReadKeyfileBytes reads a key file's raw bytes, refusing anything too large to be one.
func ReadKeyfileBytes(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, keyfileErr(path, fmt.Errorf("does not exist: %w", fs.ErrNotExist))
		}
		return nil, keyfileErr(path, err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxKeyfileSize+1))
	if err != nil {
		return nil, keyfileErr(path, err)
	}
	if len(data) > maxKeyfileSize {
		return nil, keyfileErr(path, fmt.Errorf("is over %d bytes, too large to be a key file", maxKeyfileSize))
	}
	return data, nil
}

// KeyfileEncryption reports how the key file at path is encrypted.
func KeyfileEncryption(path string) (Encryption, error) {
	data, err := ReadKeyfileBytes(path)
	if err != nil {
		return Plaintext, err
	}
	return DetectEncryption(data), nil
}

// ReadKeyfile reads and parses a key file, decrypting it with the password from pw when
// it is encrypted. Every error names the file and says what is wrong with it.
func ReadKeyfile(path string, pw PasswordFunc) (*Keypair, error) {
	data, err := ReadKeyfileBytes(path)
	if err != nil {
		return nil, err
	}
	return DecodeKeyfile(path, data, pw)
}

// DecodeKeyfile decrypts (if need be) and parses the bytes of the key file at path.
func DecodeKeyfile(path string, data []byte, pw PasswordFunc) (*Keypair, error) {
	enc := DetectEncryption(data)
	switch enc {
	case Plaintext:
	case AnsibleVault:
		_, err := Decrypt(data, nil)
		return nil, keyfileErr(path, err)
	default:
		if pw == nil {
			return nil, keyfileErr(path, fmt.Errorf("is encrypted (%s) and no password was given", enc))
		}
		password, err := pw(path)
		if err != nil {
			return nil, keyfileErr(path, fmt.Errorf("password: %w", err))
		}
		plain, err := Decrypt(data, password)
		if err != nil {
			return nil, keyfileErr(path, err)
		}
		data = plain
	}
	k, err := ParseKeypair(data)
	if err != nil {
		if enc == Plaintext && len(data) > 1 && data[0] == '$' {
			marker := data
			if i := bytes.IndexAny(marker, ";\n \t"); i >= 0 {
				marker = marker[:i]
			}
			return nil, keyfileErr(path, fmt.Errorf("%w: it starts with %q; Tessera reads unencrypted, $NACL and legacy Fernet (gAAAAA) key files",
				ErrUnsupportedEncryption, truncate(string(marker), 16)))
		}
		return nil, keyfileErr(path, err)
	}
	return k, nil
}

// EncodeKeyfile renders the bytes of a key file: the JSON of k, $NACL-encrypted with
// password unless password is nil.
func EncodeKeyfile(k *Keypair, password []byte) ([]byte, error) {
	plain, err := MarshalKeypair(k)
	if err != nil {
		return nil, err
	}
	if password == nil {
		return plain, nil
	}
	if len(password) == 0 {
		return nil, errors.New("the password is empty")
	}
	return EncryptNaCl(plain, password)
}

// WriteKeyfile writes k to path (encrypted with password unless it is nil) atomically,
// with mode 0600, creating missing directories with mode 0700. Without overwrite an
// existing file is left alone and the error wraps ErrKeyExists.
func WriteKeyfile(path string, k *Keypair, password []byte, overwrite bool) error {
	data, err := EncodeKeyfile(k, password)
	if err != nil {
		return keyfileErr(path, err)
	}
	return writeFileAtomic(path, data, overwrite)
}

// writeFileAtomic writes data to a temporary file beside path, syncs it, and moves it
// into place, so that path holds either its old content or all of data, never a part.
// Without overwrite the move is a hard link, which fails if path exists. It holds the
// directory's lock, and first removes the temporary files an earlier crash left.
func writeFileAtomic(path string, data []byte, overwrite bool) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, DirMode); err != nil {
		return keyfileErr(path, fmt.Errorf("create directory: %w", err))
	}
	unlock, err := lockDir(dir)
	if err != nil {
		return keyfileErr(path, fmt.Errorf("lock the directory: %w", err))
	}
	defer unlock()
	if err := removeStaleTemps(path); err != nil {
		return err
	}
	if !overwrite {
		if _, err := os.Lstat(path); err == nil {
			return keyfileErr(path, ErrKeyExists)
		}
	}
	tmp, err := os.CreateTemp(dir, tempPrefix(path)+"*")
	if err != nil {
		return keyfileErr(path, fmt.Errorf("create temporary file: %w", err))
	}
	tmpName := tmp.Name()
	committed := false
	defer func() {
		if !committed {
			os.Remove(tmpName)
		}
	}()
	if err := tmp.Chmod(FileMode); err != nil {
		tmp.Close()
		return keyfileErr(path, err)
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return keyfileErr(path, fmt.Errorf("write: %w", err))
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return keyfileErr(path, fmt.Errorf("sync: %w", err))
	}
	if err := tmp.Close(); err != nil {
		return keyfileErr(path, fmt.Errorf("close: %w", err))
	}
	if overwrite {
		if err := os.Rename(tmpName, path); err != nil {
			return keyfileErr(path, fmt.Errorf("move into place: %w", err))
		}
		committed = true
	} else {
		if err := os.Link(tmpName, path); err != nil {
			if errors.Is(err, fs.ErrExist) {
				return keyfileErr(path, ErrKeyExists)
			}
			// A file system without hard links: the existence check above stands.
			if err := os.Rename(tmpName, path); err != nil {
				return keyfileErr(path, fmt.Errorf("move into place: %w", err))
			}
			committed = true
		}
	}
	syncDir(dir)
	return nil
}

// tempPrefix starts the names of writeFileAtomic's temporary files for path.
func tempPrefix(path string) string { return "." + filepath.Base(path) + ".tmp-" }

// removeStaleTemps removes the temporary files of path that a crashed write left behind
// (they may hold a secret in plaintext). Call it under the directory's lock, so that no
// live write's file is taken.
func removeStaleTemps(path string) error {
	entries, err := os.ReadDir(filepath.Dir(path))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		return keyfileErr(path, fmt.Errorf("look for stale temporary files: %w", err))
	}
	prefix := tempPrefix(path)
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), prefix) {
			continue
		}
		stale := filepath.Join(filepath.Dir(path), e.Name())
		if err := os.RemoveAll(stale); err != nil {
			return keyfileErr(path, fmt.Errorf("remove the stale temporary file %s: %w", stale, err))
		}
	}
	return nil
}

// syncDir flushes a directory entry change to disk where the platform allows it.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
}
