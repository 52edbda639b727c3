//go:build unix

package lm

import "syscall"

// mapAnon maps n bytes of private anonymous memory (zeroed, outside the Go heap).
func mapAnon(n int) ([]byte, error) {
	if n == 0 {
		return nil, nil
	}
	return syscall.Mmap(-1, 0, n, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
}

func unmapAnon(b []byte) {
	if len(b) > 0 {
		_ = syscall.Munmap(b)
	}
}
