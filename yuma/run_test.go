package yuma

import (
	"math/rand/v2"
	"reflect"
	"testing"
)

// kernelTest skips a test of the run kernels where they do not run, and returns its
// generator, seeded.
func kernelTest(t *testing.T, seed uint64) *rand.Rand {
	t.Helper()
	if !haveRunAsm {
		t.Skip("no run kernel on this platform")
	}
	return rand.New(rand.NewPCG(seed, seed+1))
}

// TestRunKernelMatchesLockstep: on runs of consecutive columns, the run kernel gives what
// emaLockstep gives — the cells kept, the trust, the ranks and the EMA sums — for random
// weights and bonds and for the extremes: weights normalised to 1 (a single weight) or 0,
// consensus 0 or 1, bonds 0 or 65535 (a proportion of 1), α and the stake near 0 and 1,
// rows summing to every bit length.
func TestRunKernelMatchesLockstep(t *testing.T) {
	rng := kernelTest(t, 91)
	for iter := range 3000 {
		n := runMin + rng.IntN(70)
		j0 := rng.IntN(50)
		cols := 2*j0 + n + 10
		nr, or := make([]Entry, n), make([]Entry, n)
		var sum uint64
		for p := range n {
			w := uint16(rng.IntN(65536))
			switch rng.IntN(8) {
			case 0:
				w = 0
			case 1:
				w = 65535
			}
			if iter%9 == 0 {
				w = uint16(rng.IntN(3)) // a row of small sums: short bit lengths
			}
			b := uint16(rng.IntN(65536))
			switch rng.IntN(6) {
			case 0:
				b = 0
			case 1:
				b = 65535
			}
			nr[p], or[p] = Entry{uint16(j0 + p), w}, Entry{uint16(j0 + p), b}
			sum += uint64(w)
		}
		if iter%7 == 0 { // a single weight: normalised to 1
			for p := range nr {
				nr[p].Value = 0
			}
			nr[rng.IntN(n)].Value = 1 + uint16(rng.IntN(65535))
			sum = 0
			for _, e := range nr {
				sum += uint64(e.Value)
			}
		}
		if sum == 0 {
			nr[0].Value, sum = 1, 1
		}
		d := newRowNorm(sum)
		if d.s > 32 {
			continue // a row summing to 1: not the kernel's
		}
		cons := make([]uint64, cols)
		for j := range cons {
			switch rng.IntN(5) {
			case 0:
				cons[j] = 0
			case 1:
				cons[j] = uint64(One)
			default:
				cons[j] = rng.Uint64N(uint64(One) + 1)
			}
		}
		alpha := []uint64{1, uint64(One) - 1, rng.Uint64N(uint64(One)-1) + 1}[iter%3]
		scale := []uint64{uint64(One) - 1, 1, rng.Uint64N(uint64(One))}[iter%3]
		a := colSums{cons: cons, rank: make([]uint64, cols), sum: make([]uint64, cols)}
		b := colSums{cons: cons, rank: make([]uint64, cols), sum: make([]uint64, cols)}
		for j := range cols { // accumulators already holding other rows' sums
			a.rank[j] = rng.Uint64N(1 << 33)
			a.sum[j] = rng.Uint64N(1 << 40)
		}
		copy(b.rank, a.rank)
		copy(b.sum, a.sum)
		om := uint64(One) - alpha
		dstA, dstB := make([]uint64, n), make([]uint64, n)
		ka, ta, done := emaRun(dstA, nr, or, d, &a, scale, alpha, om)
		kb, tb := emaLockstep(dstB, nr[:done], or[:done], d, &b, scale, alpha, om, make([]uint64, n))
		if ka != kb || ta != tb || !reflect.DeepEqual(dstA[:ka], dstB[:kb]) || !reflect.DeepEqual(a, b) {
			t.Fatalf("iteration %d (%d cells from column %d, row sum %d): kernel k=%d trust=%d, lockstep k=%d trust=%d\nkernel %v\nlockstep %v",
				iter, done, j0, sum, ka, ta, kb, tb, dstA[:ka], dstB[:kb])
		}
	}
}

// TestRunKernelEpochs: whole epochs through a Workspace give the same results with and
// without the run kernel.
func TestRunKernelEpochs(t *testing.T) {
	rng := kernelTest(t, 93)
	var with, without Workspace
	without.noAsm = true
	for iter := range 600 {
		s := storedFormState(rng, iter)
		a, errA := with.Epoch(s)
		b, errB := without.Epoch(s)
		if errA != nil || errB != nil || !reflect.DeepEqual(a, b) {
			t.Fatalf("iteration %d: with the kernel %+v (%v)\nwithout %+v (%v)", iter, a, errA, b, errB)
		}
	}
	for _, gaps := range []int{0, 3, 40, 500} {
		// Validators weighting every miner but some (gaps per row), so that the kernels
		// take the rows in pieces; two epochs, the second on the bonds of the first.
		s := benchState(1024, 64, true, false)
		for i := range 64 {
			for range gaps {
				row := s.Weights[i]
				k := rng.IntN(len(row))
				s.Weights[i] = append(row[:k:k], row[k+1:]...)
			}
		}
		for epoch := range 2 {
			a, errA := with.Epoch(s)
			b, errB := without.Epoch(s)
			if errA != nil || errB != nil || !reflect.DeepEqual(a, b) {
				t.Fatalf("1024 uids, %d gaps a row, epoch %d: results differ with the run kernels (%v, %v)", gaps, epoch, errA, errB)
			}
			s.Advance(a)
		}
	}
}

// TestDividendRunMatchesRow: on rows of consecutive columns, the dividend kernel gives
// what dividendRow gives — the sum, the OR that flags a recomputation, and the stored
// entries — for random EMA values and sums and for the extremes: a cell that is its
// column's whole sum (a quotient of 1), values of 1 (2^32), sums up to N, incentives
// of 0 and just below 1. (A flagged row's sum is recomputed, so it is not compared.)
func TestDividendRunMatchesRow(t *testing.T) {
	rng := kernelTest(t, 95)
	for iter := range 3000 {
		n := runMin + rng.IntN(70)
		j0 := rng.IntN(50)
		cols := j0 + n + 5
		cd := colDivisors{d: make([]uint64, cols), m: make([]uint64, cols), inc: make([]uint64, cols)}
		row := make([]uint64, n)
		for p := range n {
			j := j0 + p
			v := rng.Uint64N(uint64(One)) + 1
			switch rng.IntN(8) {
			case 0:
				v = 1
			case 1:
				v = uint64(One) - 1
			case 2:
				if iter%5 == 0 {
					v = uint64(One) // flags the row
				}
			}
			sum := v
			switch rng.IntN(3) {
			case 1:
				sum += rng.Uint64N(uint64(One))
			case 2:
				sum += rng.Uint64N(4096 * uint64(One))
			}
			dv := newDivisor(sum)
			cd.d[j], cd.m[j] = dv.d, dv.m
			cd.inc[j] = []uint64{0, uint64(One) - 1, rng.Uint64N(uint64(One))}[rng.IntN(3)]
			row[p] = v<<16 | uint64(j)
		}
		dstA, dstB := make([]Entry, n), make([]Entry, n)
		sa, wa, done := dividendRun(dstA, row, &cd)
		sb, wb := dividendRow(dstB[:done], row[:done], &cd)
		if wa>>fracBits != wb>>fracBits || (wb>>fracBits == 0 && sa != sb) || !reflect.DeepEqual(dstA[:done], dstB[:done]) {
			t.Fatalf("iteration %d (%d cells): kernel sum %d or %#x, row sum %d or %#x\nkernel %v\nrow %v", iter, done, sa, wa, sb, wb, dstA[:done], dstB[:done])
		}
	}
}

// TestScoreRunMatchesColumn: the score kernel normalises and packs a column as
// scoreColumn does, for rows summing to every bit length from 2 (and empty rows, whose
// normaliser is zero), weights of 0 and 65535, and column lengths that leave a tail.
func TestScoreRunMatchesColumn(t *testing.T) {
	rng := kernelTest(t, 97)
	for iter := range 2000 {
		k := 1 + rng.IntN(300)
		vals := make([]uint16, k)
		div := make([]rowNorm, k)
		for v := range k {
			sum := uint64(2) + rng.Uint64N(1<<uint(1+rng.IntN(31)))
			vals[v] = uint16(rng.Uint64N(min(sum, 65536)))
			switch rng.IntN(8) {
			case 0:
				vals[v] = 0
			case 1:
				vals[v] = uint16(min(sum, 65535))
			}
			if rng.IntN(10) > 0 {
				div[v] = newRowNorm(max(sum, uint64(vals[v])))
			} else {
				vals[v] = 0 // an empty row: no weights, a zero normaliser
			}
		}
		vn, ok := newVoterNorms(div)
		if !ok {
			t.Fatalf("iteration %d: no kernel normalisers", iter)
		}
		got, want := make([]scored, k), make([]scored, k)
		or, done := scoreRun(got, vals, &vn)
		or |= scoreColumn(got[done:], vals[done:], div[done:], done)
		wantOr := scoreColumn(want, vals, div, 0)
		if or != wantOr || !reflect.DeepEqual(got, want) {
			t.Fatalf("iteration %d (%d voters): kernel or %#x, want %#x\n%v\n%v", iter, k, or, wantOr, got, want)
		}
	}
	if _, ok := newVoterNorms([]rowNorm{newRowNorm(1)}); ok {
		t.Fatal("a row summing to 1 (shift -1) was given to the kernel")
	}
}

// TestAscendSumAndLockstepKernels: the kernels' loops in sumAscending and lockstepRun
// give what the plain loops give, on rows of every length up to 40 with a break (a
// repeated, lower or out-of-range uid, or a column that differs between the two rows) at
// every position, and on clean rows.
func TestAscendSumAndLockstepKernels(t *testing.T) {
	rng := kernelTest(t, 99)
	for n := range 41 {
		for brk := -1; brk < n; brk++ {
			for kind := range 4 {
				row := make([]Entry, n)
				u := rng.IntN(5)
				for k := range row {
					row[k] = Entry{uint16(u), uint16(rng.IntN(65536))}
					u += 1 + rng.IntN(2)
				}
				other := append([]Entry(nil), row...)
				if brk >= 0 {
					switch kind {
					case 0:
						if brk > 0 {
							row[brk].UID = row[brk-1].UID // repeated
						}
					case 1:
						if brk > 0 {
							row[brk].UID = row[brk-1].UID - 1 // lower
						}
					case 2:
						row[brk].UID = 65535 // out of range (then lower, if not last)
					case 3:
						other[brk].UID++ // the other row leaves the columns here
					}
				}
				last := 0 // a bound at the last uid: out of range
				if n > 0 {
					last = int(row[n-1].UID)
				}
				for _, bound := range []int{u, u + 70000, last} {
					s1, ok1 := sumAscending(row, bound, true)
					s2, ok2 := sumAscending(row, bound, false)
					if s1 != s2 || ok1 != ok2 {
						t.Fatalf("sumAscending of %v below %d: kernel %d %v, plain %d %v", row, bound, s1, ok1, s2, ok2)
					}
				}
				if a, b := lockstepRun(row, other, true), lockstepRun(row, other, false); a != b {
					t.Fatalf("lockstepRun of %v and %v: kernel %d, plain %d", row, other, a, b)
				}
			}
		}
	}
}

// TestConsecutiveRun: the longest prefix on consecutive columns, for gaps at every place.
func TestConsecutiveRun(t *testing.T) {
	for n := 1; n < 20; n++ {
		for gap := 1; gap <= n; gap++ {
			cols := make([]int, n)
			c := 3
			for i := range cols {
				if i == gap {
					c += 2
				}
				cols[i] = c
				c++
			}
			want := min(gap, n)
			if got := consecutiveRun(n, func(i int) int { return cols[i] }); got != want {
				t.Fatalf("%v: %d, want %d", cols, got, want)
			}
		}
	}
}

// TestKeepBucketKernel: keepBucket's kernel loop keeps what the plain loop keeps, in
// order, for every length up to 40, buckets that hold none, some or all entries.
func TestKeepBucketKernel(t *testing.T) {
	rng := kernelTest(t, 101)
	for n := range 41 {
		for iter := range 50 {
			shift := uint(16 + rng.IntN(30))
			src := make([]scored, n)
			for v := range src {
				src[v] = mkScored(Fixed(rng.Uint64N(4)<<(shift-16)|rng.Uint64N(1<<(shift-16))), v)
			}
			b := uint64(iter % 5) // 4 is in no entry's bucket
			got := keepBucket(make([]scored, n), src, shift, b, true)
			want := keepBucket(make([]scored, n), src, shift, b, false)
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("%d entries, bucket %d from bit %d: kernel %v, plain %v", n, b, shift, got, want)
			}
		}
	}
}

// TestGatherKernel: the block a column-block gather writes is the same with the
// transpose kernel as with gatherBlock alone, cell for cell (values from 0 to 65535,
// UIDs in the low halves that must not leak into them), with voters in groups of eight
// and a tail, rows that hold a whole block and rows with gaps or that end inside it, and
// the cursors advance alike.
func TestGatherKernel(t *testing.T) {
	rng := kernelTest(t, 111)
	for iter := range 200 {
		k := 1 + rng.IntN(40)
		n := 8 * (1 + rng.IntN(40))
		rows := make([][]Entry, k)
		for v := range rows {
			for j := range n {
				if rng.IntN(4) > 0 || v%3 != 0 { // every third voter's row has gaps
					val := uint16(rng.Uint32())
					if rng.IntN(10) == 0 {
						val = 65535
					}
					rows[v] = append(rows[v], Entry{UID: uint16(j), Value: val})
				}
			}
			if v%5 == 4 { // and every fifth ends early
				rows[v] = rows[v][:rng.IntN(len(rows[v])+1)]
			}
		}
		bw := 8 * (1 + rng.IntN(8))
		stride := k + 8
		gather := func(asm bool) ([]uint16, []int) {
			var all []uint16
			blk := make([]uint16, bw*stride)
			pos := make([]int, k)
			for j0 := 0; j0+bw <= n; j0 += bw {
				clear(blk)
				gatherVoters(blk, stride, rows, pos, j0, bw, asm)
				all = append(all, blk...)
			}
			return all, pos
		}
		gb, gp := gather(true)
		wb, wp := gather(false)
		if !reflect.DeepEqual(gb, wb) || !reflect.DeepEqual(gp, wp) {
			t.Fatalf("iteration %d (%d voters, %d columns, blocks of %d): kernel and plain gathers differ", iter, k, n, bw)
		}
	}
}

// TestHistKernel: the first histogram's kernel loop sums what the plain loop sums, for
// every length up to 40 and every shift the median takes, stakes up to 2^32 (one voter
// holding everything) and entries in few buckets or spread over all 64.
func TestHistKernel(t *testing.T) {
	rng := kernelTest(t, 121)
	for n := range 41 {
		for range 50 {
			sh := uint(16 + rng.IntN(43))
			col := make([]scored, n)
			stake := make([]Fixed, n)
			spread := uint64(1) << (1 + rng.IntN(radixBits))
			for v := range col {
				bucket := rng.Uint64N(spread)
				col[v] = scored(bucket<<sh | rng.Uint64N(1<<sh))
				stake[v] = Fixed(rng.Uint64N(uint64(One) + 1))
			}
			var got, want [1 << radixBits]Fixed
			firstHistogram(&got, col, stake, sh, true)
			firstHistogram(&want, col, stake, sh, false)
			if got != want {
				t.Fatalf("%d entries from bit %d: kernel %v, plain %v", n, sh, got, want)
			}
		}
	}
}
