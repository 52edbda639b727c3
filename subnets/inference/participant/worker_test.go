package participant

import (
	"context"
	"testing"

	"github.com/tessera-net/tessera/modules/inference"
	"github.com/tessera-net/tessera/poc"
)

// A LocalWorker's tree serves proofs that verify against the commitment it returns,
// and its re-run agrees with the in-process Judge.
func TestLocalWorkerMineProveValidate(t *testing.T) {
	ctx := context.Background()
	rd := testRound(t)
	w := NewLocalWorker(1)
	defer w.Close()
	hot := inference.Account{4}
	spec, _ := rd.Model("m-a")
	for _, forge := range []uint64{0, 2} {
		j := MineJob{Epoch: rd.Epoch, Seed: rd.PoCSeed, Model: "m-a", PoC: spec, Threshold: rd.Params.PoCThreshold, Hotkey: hot, MLNode: "gpu-0", Budget: 100, Forge: forge}
		stops := 0
		got, err := w.Mine(ctx, j, func() bool { stops++; return false })
		if err != nil {
			t.Fatal(err)
		}
		if got.Tried != 100 || got.Valid == 0 || got.Commitment.Count != got.Valid*(1+forge) || stops != 4 {
			t.Fatalf("forge %d: %+v after %d looks at stop", forge, got, stops)
		}
		leaves := []uint64{0, got.Commitment.Count - 1, got.Commitment.Count}
		proofs, err := w.Proofs(ctx, rd.Epoch, "gpu-0", leaves)
		if err != nil {
			t.Fatal(err)
		}
		for i, leaf := range leaves[:2] {
			var pr poc.Proof
			if err := pr.UnmarshalBinary(proofs[i]); err != nil || got.Commitment.Verify(leaf, pr) != nil {
				t.Fatalf("forge %d: leaf %d's proof does not verify", forge, leaf)
			}
		}
		if proofs[2] != nil {
			t.Fatal("a leaf past the tree was served")
		}
	}
	// Stop after the first chunk: a partial tree, still committed.
	j := MineJob{Epoch: rd.Epoch, Seed: rd.PoCSeed, Model: "m-a", PoC: spec, Threshold: rd.Params.PoCThreshold, Hotkey: hot, MLNode: "gpu-1", Budget: 1000}
	got, err := w.Mine(ctx, j, func() bool { return true })
	if err != nil || got.Tried != mineChunk {
		t.Fatalf("stopped: %+v, %v", got, err)
	}
	if pr, _ := w.Proofs(ctx, rd.Epoch, "nope", []uint64{0}); pr[0] != nil {
		t.Fatal("an unknown node served a proof")
	}
	valid, err := w.Validate(ctx, NonceJob{Seed: rd.PoCSeed, Model: "m-a", PoC: spec, Threshold: rd.Params.PoCThreshold, Hotkey: hot, MLNode: "gpu-0", Nonces: []uint64{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19}})
	if err != nil {
		t.Fatal(err)
	}
	r, _ := w.Runner(rd, "m-a")
	want := Mine(r, hot, "gpu-0", 0, 20, rd.Params.PoCThreshold)
	n := 0
	for _, v := range valid {
		if v {
			n++
		}
	}
	if n != len(want) {
		t.Fatalf("validate found %d valid of 20, mining %d", n, len(want))
	}
}

func TestJobs(t *testing.T) {
	rd := testRound(t)
	a, b := inference.Account{1}, inference.Account{2}
	node := func(id string, slot poc.Slot, ms ...string) inference.RosterNode {
		return inference.RosterNode{MLNode: inference.MLNode{ID: id, Models: ms}, Slot: slot}
	}
	rd.Roster = []inference.RosterMember{
		{Hotkey: a, Nodes: []inference.RosterNode{node("x", poc.PrePoCSlot, "m-a"), node("y", poc.PoCSlot, "m-a"), node("z", poc.PrePoCSlot, "unknown")}},
		{Hotkey: b, Nodes: []inference.RosterNode{node("x", poc.PrePoCSlot, "m-a")}},
	}
	cases := []struct {
		hot  inference.Account
		want []string
	}{{a, []string{"x"}}, {b, []string{"x"}}, {inference.Account{3}, nil}}
	for _, c := range cases {
		jobs := Jobs(rd, c.hot, 10, 1)
		if len(jobs) != len(c.want) {
			t.Fatalf("%s: %d jobs, want %v", c.hot, len(jobs), c.want)
		}
		for i, j := range jobs {
			if j.MLNode != c.want[i] || j.Hotkey != c.hot || j.Budget != 10 || j.Forge != 1 || j.Epoch != rd.Epoch || j.Seed != rd.PoCSeed {
				t.Fatalf("%s: job %+v", c.hot, j)
			}
		}
	}
}
