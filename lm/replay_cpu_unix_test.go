//go:build unix

package lm

import "syscall"

// cpuTime is the process's user and system time, in nanoseconds: a benchmark's CPU
// figure, which other processes sharing the machine do not inflate as they do its
// wall time.
func cpuTime() int64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}
