package wallet

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// WriteStep names a point in the write of a key pair: a key file and its public key
// file, which SaveColdkey and SaveHotkey replace as one change.
type WriteStep string

// The steps of a key pair write, in order. Up to StepPublicStaged a crash leaves the old
// pair (the next open removes the staging directory); from StepCommitted on it leaves
// the new one (the next open moves the rest into place).
const (
	// StepStaged: the staging directory .<key>.pending exists beside the key file.
	StepStaged WriteStep = "staged"
	// StepKeyStaged: the new key file is in the staging directory, synced.
	StepKeyStaged WriteStep = "key staged"
	// StepPublicStaged: the new public key file is there too, synced.
	StepPublicStaged WriteStep = "public key staged"
	// StepCommitted: the staging directory is renamed .<key>.commit; the write is decided.
	StepCommitted WriteStep = "committed"
	// StepPublicRemoved: the old public key file is removed, so that no moment has the
	// old public file beside the new key file, even for a tool that does not recover.
	StepPublicRemoved WriteStep = "old public key removed"
	// StepKeyMoved: the new key file is in place.
	StepKeyMoved WriteStep = "key moved"
	// StepPublicMoved: the new public key file is in place.
	StepPublicMoved WriteStep = "public key moved"
	// StepDone: the commit directory is removed.
	StepDone WriteStep = "done"
)

// WriteSteps returns every WriteStep in the order a write takes them.
func WriteSteps() []WriteStep {
	return []WriteStep{StepStaged, StepKeyStaged, StepPublicStaged, StepCommitted, StepPublicRemoved, StepKeyMoved, StepPublicMoved, StepDone}
}

// The names of the files inside a staging or commit directory.
const (
	stagedKey    = "key"
	stagedPublic = "pub"
)

// pairFiles are a key file and its public key file, in one directory.
type pairFiles struct{ key, pub string }

func (p pairFiles) dir() string { return filepath.Dir(p.key) }
func (p pairFiles) pendingDir() string {
	return filepath.Join(p.dir(), "."+filepath.Base(p.key)+".pending")
}
func (p pairFiles) commitDir() string {
	return filepath.Join(p.dir(), "."+filepath.Base(p.key)+".commit")
}

// stepper reports each finished step to the write's hook and remembers whether the hook
// stopped the write, in which case nothing is cleaned up, as after a crash.
type stepper struct {
	after   func(WriteStep) error
	stopped bool
}

func (s *stepper) done(step WriteStep) error {
	if s.after == nil {
		return nil
	}
	if err := s.after(step); err != nil {
		s.stopped = true
		return err
	}
	return nil
}

// write replaces both files with keyData and pubData so that a crash at any point leaves
// the old pair or the new one, never one of each: both are written into a staging
// directory beside them, a rename of that directory commits the write, and only then are
// they moved into place. It runs under the directory's lock, after recovering an earlier
// interrupted write; check, when non-nil, runs under the lock too and may refuse the
// write. after is the test hook of Wallet.AfterWriteStep.
func (p pairFiles) write(keyData, pubData []byte, check func() error, after func(WriteStep) error) error {
	if err := os.MkdirAll(p.dir(), DirMode); err != nil {
		return keyfileErr(p.key, fmt.Errorf("create directory: %w", err))
	}
	unlock, err := lockDir(p.dir())
	if err != nil {
		return keyfileErr(p.key, fmt.Errorf("lock the directory: %w", err))
	}
	defer unlock()
	if err := p.recover(); err != nil {
		return err
	}
	if check != nil {
		if err := check(); err != nil {
			return err
		}
	}
	st := &stepper{after: after}
	if err := p.stage(keyData, pubData, st); err != nil {
		return err
	}
	return p.commit(st)
}

// stage writes both files into a new staging directory. On an error the directory is
// removed, so no copy of a secret stays behind.
func (p pairFiles) stage(keyData, pubData []byte, st *stepper) (err error) {
	dir := p.pendingDir()
	if err := os.Mkdir(dir, DirMode); err != nil {
		return keyfileErr(p.key, fmt.Errorf("create the staging directory: %w", err))
	}
	defer func() {
		if err != nil && !st.stopped {
			os.RemoveAll(dir)
		}
	}()
	if err := st.done(StepStaged); err != nil {
		return err
	}
	if err := writeNewFile(filepath.Join(dir, stagedKey), keyData); err != nil {
		return keyfileErr(p.key, err)
	}
	if err := st.done(StepKeyStaged); err != nil {
		return err
	}
	if err := writeNewFile(filepath.Join(dir, stagedPublic), pubData); err != nil {
		return keyfileErr(p.pub, err)
	}
	syncDir(dir)
	return st.done(StepPublicStaged)
}

// commit renames the staging directory to the commit directory, which decides the write,
// then moves the files into place.
func (p pairFiles) commit(st *stepper) error {
	if err := os.Rename(p.pendingDir(), p.commitDir()); err != nil {
		os.RemoveAll(p.pendingDir())
		return keyfileErr(p.key, fmt.Errorf("commit the staged files: %w", err))
	}
	syncDir(p.dir())
	if err := st.done(StepCommitted); err != nil {
		return err
	}
	return p.rollForward(st)
}

// rollForward moves what is left in the commit directory into place and removes it: the
// old public file goes first, then the key file and the public file move in. A file
// already moved (by an interrupted run) is skipped, so it can be run again; the files on
// disk are at every moment the old pair, the new pair, or one key file without a public
// file.
func (p pairFiles) rollForward(st *stepper) error {
	if _, err := os.Lstat(filepath.Join(p.commitDir(), stagedPublic)); err == nil {
		if err := os.Remove(p.pub); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return keyfileErr(p.pub, fmt.Errorf("remove the old public key file: %w", err))
		}
		syncDir(p.dir())
	}
	if err := st.done(StepPublicRemoved); err != nil {
		return err
	}
	for _, f := range []struct {
		staged, final string
		step          WriteStep
	}{{stagedKey, p.key, StepKeyMoved}, {stagedPublic, p.pub, StepPublicMoved}} {
		err := os.Rename(filepath.Join(p.commitDir(), f.staged), f.final)
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return keyfileErr(f.final, fmt.Errorf("move the new file into place: %w", err))
		}
		syncDir(p.dir())
		if err := st.done(f.step); err != nil {
			return err
		}
	}
	if err := os.RemoveAll(p.commitDir()); err != nil {
		return keyfileErr(p.key, fmt.Errorf("remove the commit directory: %w", err))
	}
	syncDir(p.dir())
	return st.done(StepDone)
}

// recover finishes or undoes a write that a crash interrupted and removes what it left:
// a commit directory is rolled forward, a staging directory is removed (the old pair is
// intact), and so are temporary files of single-file writes. Call it under the lock.
func (p pairFiles) recover() error {
	if _, err := os.Lstat(p.commitDir()); err == nil {
		if err := p.rollForward(&stepper{}); err != nil {
			return fmt.Errorf("finish an interrupted write: %w", err)
		}
	}
	if err := os.RemoveAll(p.pendingDir()); err != nil {
		return keyfileErr(p.key, fmt.Errorf("remove the staging directory of an interrupted write: %w", err))
	}
	if err := removeStaleTemps(p.key); err != nil {
		return err
	}
	return removeStaleTemps(p.pub)
}

// pairBytes are the raw contents of a key pair's files, each with its read error.
type pairBytes struct {
	key, pub       []byte
	keyErr, pubErr error
}

// read reads both files under the directory's lock, after recovering an interrupted
// write, so that they come from one write. The error is a failed recovery; a missing
// directory reads as two missing files.
func (p pairFiles) read() (pairBytes, error) {
	if unlock, err := lockDir(p.dir()); err == nil {
		defer unlock()
		if err := p.recover(); err != nil {
			return pairBytes{}, err
		}
	}
	var b pairBytes
	b.key, b.keyErr = ReadKeyfileBytes(p.key)
	b.pub, b.pubErr = ReadKeyfileBytes(p.pub)
	return b, nil
}

// writeNewFile creates path (which must not exist) with mode 0600 and writes and syncs
// data. On an error the file is removed.
func writeNewFile(path string, data []byte) (err error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, FileMode)
	if err != nil {
		return fmt.Errorf("create %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			os.Remove(path)
		}
	}()
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("sync %s: %w", path, err)
	}
	return f.Close()
}
