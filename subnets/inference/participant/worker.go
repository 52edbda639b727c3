package participant

import (
	"context"
	"fmt"
	"sync"

	"github.com/tessera-net/tessera/modules/inference"
	"github.com/tessera-net/tessera/modules/models"
	"github.com/tessera-net/tessera/poc"
)

// MineJob is one MLNode's share of a PoC round, what package mlnode's poc/generate
// takes: nonces 0, 1, … up to Budget of (Hotkey, MLNode) on the PoC model of shape PoC
// seeded by Seed; the valid ones under Threshold are the tree's leaves, with Forge
// forged ones per valid one when positive (Forge).
type MineJob struct {
	Epoch     uint64
	Seed      inference.Hash
	Model     string
	PoC       models.PoC
	Threshold uint64
	Hotkey    inference.Account
	MLNode    string
	Budget    uint64
	Forge     uint64
}

// Mined is a mining job's outcome: the commitment of the tree kept (Count 0: nothing
// valid, nothing to commit), the nonces tried and the valid ones among them.
type Mined struct {
	Commitment poc.Commitment
	Tried      uint64
	Valid      uint64
}

// NonceJob is a re-run of another participant's nonces: those of (Hotkey, MLNode) on
// the PoC model of shape PoC seeded by Seed, each valid when under Threshold.
type NonceJob struct {
	Seed      inference.Hash
	Model     string
	PoC       models.PoC
	Threshold uint64
	Hotkey    inference.Account
	MLNode    string
	Nonces    []uint64
}

// Checker re-runs sampled nonces.
type Checker interface {
	// Validate reports, for each of j.Nonces in order, whether it is valid.
	Validate(ctx context.Context, j NonceJob) ([]bool, error)
}

// Worker does a participant's PoC compute: it mines on the participant's MLNodes,
// serves the proofs of the trees it keeps, and re-runs other participants' nonces.
// LocalWorker does it in this process (the devnet's participants); the API node
// (package apinode) implements it over its MLNodes' management API (mlnode.Client).
type Worker interface {
	Checker
	// Mine mines j on MLNode j.MLNode and keeps the tree of its leaves for Proofs. It
	// returns when the budget is spent or, with what was mined by then, soon after stop
	// reports true (stop may be called from several goroutines).
	Mine(ctx context.Context, j MineJob, stop func() bool) (Mined, error)
	// Proofs are the proofs of leaves of MLNode mlnode's tree of epoch, each in
	// poc.Proof's binary form, nil for a leaf it cannot serve.
	Proofs(ctx context.Context, epoch uint64, mlnode string, leaves []uint64) ([][]byte, error)
}

// LocalWorker is a Worker that computes in this process with package poc, keeping the
// trees of the last two epochs. It is safe for concurrent use.
type LocalWorker struct {
	threads int
	cache   runnerCache

	mu    sync.Mutex
	trees map[uint64]map[string]*poc.Tree // epoch → MLNode → tree
}

// NewLocalWorker returns a worker whose forward passes use threads goroutines (< 1: 1).
func NewLocalWorker(threads int) *LocalWorker {
	return &LocalWorker{threads: max(threads, 1), trees: map[uint64]map[string]*poc.Tree{}}
}

// mineChunk is how many nonces a LocalWorker runs between two looks at stop.
const mineChunk = 32

// Mine implements Worker.
func (w *LocalWorker) Mine(ctx context.Context, j MineJob, stop func() bool) (Mined, error) {
	r, err := w.cache.get(j.Epoch, j.Seed, j.PoC, w.threads)
	if err != nil {
		return Mined{}, err
	}
	var valid []uint64
	var tried uint64
	for tried < j.Budget {
		if err := ctx.Err(); err != nil {
			return Mined{}, err
		}
		count := min(mineChunk, j.Budget-tried)
		valid = append(valid, Mine(r, j.Hotkey, j.MLNode, tried, count, j.Threshold)...)
		tried += count
		if stop != nil && stop() {
			break
		}
	}
	out := Mined{Tried: tried, Valid: uint64(len(valid))}
	leaves := valid
	if j.Forge > 0 {
		leaves = Forge(valid, tried, j.Forge)
	}
	if len(leaves) == 0 {
		return out, nil
	}
	t, err := poc.NewTree(leaves)
	if err != nil {
		return Mined{}, err
	}
	w.keep(j.Epoch, j.MLNode, t)
	out.Commitment = t.Commitment()
	return out, nil
}

// keep stores a tree, forgetting epochs older than the last two.
func (w *LocalWorker) keep(epoch uint64, mlnode string, t *poc.Tree) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.trees[epoch] == nil {
		w.trees[epoch] = map[string]*poc.Tree{}
	}
	w.trees[epoch][mlnode] = t
	for e := range w.trees {
		if e+2 < epoch {
			delete(w.trees, e)
		}
	}
}

// Proofs implements Worker.
func (w *LocalWorker) Proofs(_ context.Context, epoch uint64, mlnode string, leaves []uint64) ([][]byte, error) {
	w.mu.Lock()
	t := w.trees[epoch][mlnode]
	w.mu.Unlock()
	out := make([][]byte, len(leaves))
	if t == nil {
		return out, nil
	}
	for i, leaf := range leaves {
		if leaf >= t.Count() {
			continue
		}
		pr, err := t.Proof(leaf)
		if err != nil {
			continue
		}
		if out[i], err = pr.MarshalBinary(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Validate implements Checker.
func (w *LocalWorker) Validate(_ context.Context, j NonceJob) ([]bool, error) {
	r, err := w.runner(j.Seed, j.PoC)
	if err != nil {
		return nil, err
	}
	return checkNonces(r, j), nil
}

// runner is the runner of a validation's model: the cache keeps the latest rounds'.
func (w *LocalWorker) runner(seed inference.Hash, spec models.PoC) (*poc.Runner, error) {
	return w.cache.lookup(seed, spec, w.threads)
}

// Runner returns the runner of a round's PoC model (built once per round and model).
func (w *LocalWorker) Runner(rd *inference.Round, model string) (*poc.Runner, error) {
	spec, ok := rd.Model(model)
	if !ok {
		return nil, fmt.Errorf("round %d has no PoC model %s", rd.Epoch, model)
	}
	return w.cache.get(rd.Epoch, rd.PoCSeed, spec, w.threads)
}

// Close stops the runners' goroutines.
func (w *LocalWorker) Close() { w.cache.close() }
