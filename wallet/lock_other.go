//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package wallet

// lockDir is a no-op where flock is not available: concurrent writers of one key pair
// are then not serialised (a crash still leaves the old pair or the new one).
func lockDir(string) (unlock func(), err error) { return func() {}, nil }
