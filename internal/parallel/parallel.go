// Package parallel runs independent pieces of deterministic work on the machine's cores.
//
// The work a node does in a block must come out the same on every node whatever its
// number of cores: ForEach is for items whose results are written to their own places
// (item i writes out[i] and nothing another item reads), so the order in which they run
// never reaches a result.
package parallel

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// ForEach calls fn(i) for every i in [0, n), on up to GOMAXPROCS goroutines (the caller's
// among them) that take the next item as each finishes one, when there are at least
// minPer items for each; otherwise, or with one core, on the caller alone, in order. It
// returns when every call has. fn must be safe to call concurrently for distinct items.
func ForEach(n, minPer int, fn func(i int)) {
	workers := min(runtime.GOMAXPROCS(0), n/max(minPer, 1))
	if workers <= 1 {
		for i := range n {
			fn(i)
		}
		return
	}
	var wg sync.WaitGroup
	var next atomic.Int64
	work := func() {
		for i := int(next.Add(1) - 1); i < n; i = int(next.Add(1) - 1) {
			fn(i)
		}
	}
	for range workers - 1 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			work()
		}()
	}
	work()
	wg.Wait()
}
