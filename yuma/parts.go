package yuma

import (
	"runtime"

	"github.com/tessera-net/tessera/internal/parallel"
)

// This file holds how the stored-form path splits a large epoch's walks across cores.
// Each walk is cut into contiguous parts (columns for the consensus, rows for the bonds
// and the dividends) whose results do not depend on one another: a part writes only its
// own columns' or rows' outputs and its own buffers, and what parts share is summed
// afterwards, part by part, in integers that do not saturate (see clipEMA), so the
// results are the same bits for any number of parts. TestPartsMatchOnePart checks it.

// parallelCells is the smallest number of weight and bond entries for which an epoch is
// split: below it, starting goroutines costs more than it saves.
const parallelCells = 1 << 16

// maxParts bounds the parts of a walk: beyond it the walks are bound by memory rather
// than by cores.
const maxParts = 8

// parts is how many parts the walks of an epoch with the given number of weight and bond
// entries are cut into: the Workspace's Parts, or GOMAXPROCS if that is 0, at most
// maxParts; 1 for a small epoch.
func (w *Workspace) parts(cells int) int {
	p := w.Parts
	if p <= 0 {
		p = runtime.GOMAXPROCS(0)
	}
	if cells < parallelCells && w.Parts <= 0 {
		return 1
	}
	return max(1, min(p, maxParts))
}

// cuts splits [0, len(cost)) into p contiguous ranges of about equal total cost (cost[i]
// ≥ 0 is item i's): range k is [c[k], c[k+1]). Ranges may be empty.
func cuts(p int, cost func(i int) int, n int) []int {
	total := 0
	for i := range n {
		total += cost(i)
	}
	c := make([]int, p+1)
	for k := 1; k <= p; k++ {
		c[k] = n
	}
	if total == 0 {
		return c // nothing to share: every item in part 0
	}
	acc, k := 0, 1
	for i := 0; i < n && k < p; i++ {
		acc += cost(i)
		for k < p && acc*p >= total*k {
			c[k] = i + 1
			k++
		}
	}
	return c
}

// inParts runs fn(k, c[k], c[k+1]) for every part k of cuts c, on the machine's cores
// (parallel.ForEach), and returns when all have.
func inParts(c []int, fn func(k, lo, hi int)) {
	parallel.ForEach(len(c)-1, 1, func(k int) { fn(k, c[k], c[k+1]) })
}
