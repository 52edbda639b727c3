//go:build unix

package keeper_test

import (
	"syscall"
	"time"
)

// processCPU is the process's user+system CPU time (BenchmarkChainEpoch reports it per
// op as "cpu-ns/op" beside the wall time).
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
