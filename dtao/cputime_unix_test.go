//go:build unix

package dtao

import (
	"syscall"
	"testing"
	"time"
)

// processCPU is the process's user+system CPU time. Benchmarks report it per op as
// "cpu-ns/op" beside the wall time, because on a shared machine the wall time includes the
// time the benchmark was not scheduled.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func reportCPU(b *testing.B, start time.Duration) {
	if b.N > 0 {
		b.ReportMetric(float64(processCPU()-start)/float64(b.N), "cpu-ns/op")
	}
}
