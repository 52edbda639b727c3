//go:build !unix

package lm

func cpuTime() int64 { return 0 }
