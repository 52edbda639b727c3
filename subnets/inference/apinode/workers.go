package apinode

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/tessera-net/tessera/poc"
	"github.com/tessera-net/tessera/subnets/inference/mlnode"
	"github.com/tessera-net/tessera/subnets/inference/participant"
)

// Workers is participant.Worker over the participant's MLNodes' management API: a job
// mines on the MLNode it names (poc/generate, then poc/status until done), proofs come
// from that node's tree (poc/proofs), and nonce re-runs go to the first MLNode whose
// models hold the nonces' model (else the first MLNode).
type Workers struct {
	nodes []MLNode
	// Poll is how often a mining node's status is read (0: 250 ms).
	Poll time.Duration
}

// NewWorkers returns the Worker over nodes.
func NewWorkers(nodes []MLNode, poll time.Duration) *Workers {
	return &Workers{nodes: nodes, Poll: poll}
}

func (w *Workers) node(id string) (*mlnode.Client, bool) {
	for _, n := range w.nodes {
		if n.ID == id {
			return n.Client, true
		}
	}
	return nil, false
}

// Mine implements participant.Worker. When stop reports true before the MLNode is done,
// the round is lost for that node (an MLNode commits its tree only once mined): the
// budget is what keeps mining inside the window.
func (w *Workers) Mine(ctx context.Context, j participant.MineJob, stop func() bool) (participant.Mined, error) {
	c, ok := w.node(j.MLNode)
	if !ok {
		return participant.Mined{}, fmt.Errorf("no mlnode %s is configured", j.MLNode)
	}
	job := mlnode.PoCJob{Epoch: j.Epoch, Seed: j.Seed, Model: j.Model, PoC: j.PoC, Threshold: j.Threshold,
		Hotkey: j.Hotkey, MLNode: j.MLNode, Budget: j.Budget, Forge: j.Forge}
	if err := c.PoCGenerate(ctx, job); err != nil {
		return participant.Mined{}, err
	}
	poll := w.Poll
	if poll <= 0 {
		poll = 250 * time.Millisecond
	}
	t := time.NewTicker(poll)
	defer t.Stop()
	for {
		st, err := c.PoCStatus(ctx, j.Epoch)
		if err != nil {
			return participant.Mined{}, err
		}
		switch st.State {
		case mlnode.PoCDone:
			return participant.Mined{Commitment: poc.Commitment{Root: st.Root, Count: st.Count}, Tried: st.Tried, Valid: st.Valid}, nil
		case mlnode.PoCIdle:
			return participant.Mined{}, fmt.Errorf("mlnode %s has no round for epoch %d (restarted?)", j.MLNode, j.Epoch)
		}
		if stop != nil && stop() {
			return participant.Mined{Tried: st.Tried, Valid: st.Valid}, fmt.Errorf("mlnode %s: the window closes with %d of %d nonces mined: nothing to commit", j.MLNode, st.Tried, j.Budget)
		}
		select {
		case <-ctx.Done():
			return participant.Mined{}, ctx.Err()
		case <-t.C:
		}
	}
}

// Proofs implements participant.Worker.
func (w *Workers) Proofs(ctx context.Context, epoch uint64, id string, leaves []uint64) ([][]byte, error) {
	c, ok := w.node(id)
	if !ok {
		return make([][]byte, len(leaves)), nil
	}
	return c.Proofs(ctx, epoch, leaves)
}

// Validate implements participant.Checker on an MLNode holding the model, failing over
// to the next one.
func (w *Workers) Validate(ctx context.Context, j participant.NonceJob) ([]bool, error) {
	nc := mlnode.NonceCheck{Seed: j.Seed, PoC: j.PoC, Threshold: j.Threshold, Hotkey: j.Hotkey, MLNode: j.MLNode, Nonces: j.Nonces}
	var errs []error
	for _, n := range orderFor(w.nodes, j.Model) {
		v, err := n.Client.PoCValidate(ctx, nc)
		if err == nil {
			return v, nil
		}
		errs = append(errs, fmt.Errorf("mlnode %s: %w", n.ID, err))
	}
	if len(errs) == 0 {
		return nil, errors.New("no mlnode to re-run nonces on")
	}
	return nil, errors.Join(errs...)
}

// orderFor is nodes with those holding model first (each keeps its order).
func orderFor(nodes []MLNode, model string) []MLNode {
	var first, rest []MLNode
	for _, n := range nodes {
		if serves(n, model) {
			first = append(first, n)
		} else {
			rest = append(rest, n)
		}
	}
	return append(first, rest...)
}

func serves(n MLNode, model string) bool {
	for _, m := range n.Models {
		if m == model {
			return true
		}
	}
	return false
}
