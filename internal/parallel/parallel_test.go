package parallel

import (
	"runtime"
	"testing"
)

// TestForEachCallsEveryItemOnce: every item is called exactly once, for item counts below
// and above the split threshold and for every GOMAXPROCS from 1 to 4.
func TestForEachCallsEveryItemOnce(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	for procs := 1; procs <= 4; procs++ {
		runtime.GOMAXPROCS(procs)
		for _, n := range []int{0, 1, 7, 16, 100, 1000} {
			calls := make([]int32, n)
			ForEach(n, 4, func(i int) { calls[i]++ })
			for i, c := range calls {
				if c != 1 {
					t.Fatalf("GOMAXPROCS %d, %d items: item %d called %d times", procs, n, i, c)
				}
			}
		}
	}
}
