package yuma

// Workspace holds the large buffers of sparse epochs: the backing arrays of their
// million-entry matrices. A caller that runs epochs repeatedly (the chain, once per subnet
// per tempo) keeps one Workspace and runs them through it, which avoids allocating and
// zeroing tens of megabytes of fresh memory per epoch — at 4096 uids that adds about half
// to the epoch's time. Buffers never outlive an epoch: results are copied out. The zero
// value is ready to use; a Workspace must not be used by two epochs at once.
type Workspace struct {
	weights, bonds, delta, ema []cell
	emaRows                    rowArena
	kept                       []Entry  // stored-form path: weight rows that lost entries to the masks
	packed                     []uint64 // stored-form path: the packed EMA bonds
	unfused                    bool     // tests: take the step-by-step path everywhere
	noAsm                      bool     // tests: leave the run kernel (run.go) out
	// Parts is how many goroutines the stored-form path splits a large epoch's walks
	// across (see parts.go): 0 means GOMAXPROCS, for epochs of at least parallelCells
	// weight and bond entries; a positive value splits every epoch that many ways. The
	// results are the same for every value.
	Parts int
}

// Epoch is the package-level Epoch run in w's buffers.
//
// The chain's default state (see storedFormApplies) takes the stored-form path, which
// validates the rows as it first reads them; a state it cannot take, or one with a row
// that is invalid or not ascending, is validated in full and runs step by step, so the
// results and the errors are those of validate followed by epochSparse.
func (w *Workspace) Epoch(s *EpochState) (*EpochResult, error) {
	if !w.unfused {
		if res, ok := s.epochStoredForm(w); ok {
			return res, nil
		}
	}
	c, err := s.validate()
	if err != nil {
		return nil, err
	}
	return epochSparse(s, c, w), nil
}

// rowArena hands out rows carved from chunks that are kept for the next epoch: a row is
// reserved with room for its largest possible size, then committed at the size written.
// Unlike an array grown by append, rows never move and nothing is copied, and the memory
// used is what the rows need rather than an upper bound for the whole matrix.
type rowArena struct {
	chunks   [][]cell
	cur, off int
}

// arenaChunk is the size of a rowArena chunk, in cells (4 MiB).
const arenaChunk = 1 << 18

// reset makes every chunk available again; rows handed out before are invalidated.
func (a *rowArena) reset() { a.cur, a.off = 0, 0 }

// reserve returns room for up to m cells, to be followed by commit.
func (a *rowArena) reserve(m int) []cell {
	for a.cur < len(a.chunks) && len(a.chunks[a.cur])-a.off < m {
		a.cur++
		a.off = 0
	}
	if a.cur == len(a.chunks) {
		a.chunks = append(a.chunks, make([]cell, max(arenaChunk, m)))
	}
	return a.chunks[a.cur][a.off : a.off+m : a.off+m]
}

// commit keeps the first w cells of the last reservation as a row and returns it.
func (a *rowArena) commit(w int) []cell {
	r := a.chunks[a.cur][a.off : a.off+w : a.off+w]
	a.off += w
	return r
}

// take returns *b emptied, with capacity for at least c entries (growing it if needed).
// Rows are appended to it and sliced off with full-capacity limits; if an estimate was too
// small, append moves on to a new array and the rows already carved stay valid.
func take[T any](b *[]T, c int) []T {
	if cap(*b) < c {
		*b = make([]T, 0, c)
	}
	return (*b)[:0]
}

// asm reports whether the stored-form path takes the run kernels (run.go).
func (w *Workspace) asm() bool { return haveRunAsm && !w.noAsm }
