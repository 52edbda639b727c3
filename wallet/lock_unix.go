//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package wallet

import (
	"errors"
	"os"
	"syscall"
)

// lockDir takes an exclusive advisory lock (flock) on a directory and returns the
// function that releases it. Writers of a key pair and readers that may roll back or
// forward an interrupted write hold it, so that one never sees the other half done. The
// kernel drops the lock of a process that dies, so a crash leaves no lock behind. On a
// file system without flock (some network mounts) the lock is skipped, not failed.
func lockDir(dir string) (unlock func(), err error) {
	d, err := os.Open(dir)
	if err != nil {
		return nil, err
	}
	for {
		err = syscall.Flock(int(d.Fd()), syscall.LOCK_EX)
		if !errors.Is(err, syscall.EINTR) {
			break
		}
	}
	if err != nil && !errors.Is(err, syscall.ENOLCK) && !errors.Is(err, syscall.EOPNOTSUPP) {
		d.Close()
		return nil, err
	}
	return func() { d.Close() }, nil // closing the descriptor releases the lock
}
