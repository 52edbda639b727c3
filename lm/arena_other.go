//go:build !unix

package lm

// mapAnon falls back to the Go heap where there is no anonymous mapping.
func mapAnon(n int) ([]byte, error) { return make([]byte, n), nil }

func unmapAnon([]byte) {}
