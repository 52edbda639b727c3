package participant

import (
	"context"
	"testing"

	"github.com/tessera-net/tessera/modules/inference"
	"github.com/tessera-net/tessera/modules/models"
	"github.com/tessera-net/tessera/poc"
)

var smallPoC = models.PoC{Layers: 1, Width: 64, Heads: 4, KVHeads: 2, FFN: 128, Vocab: 512, SeqLen: 4}

func testRound(t *testing.T) *inference.Round {
	t.Helper()
	rd := &inference.Round{Netuid: 1, Epoch: 3, Params: models.Params{PoCThreshold: 1 << 60, ValidationSample: 50}, Models: []inference.PoCModel{{ID: "m-a", PoC: smallPoC}}}
	rd.PoCSeed[0], rd.ValidationSeed[0] = 7, 9
	return rd
}

// mined builds a participant's trees for one round as mine does, honest or forging.
func mined(t *testing.T, rd *inference.Round, hot inference.Account, nodes []string, forge uint64) (*Participant, []inference.CommitmentView, *inference.RosterMember) {
	t.Helper()
	p := New(Config{Hotkey: hot, Budget: 400, Forge: forge})
	m := &inference.RosterMember{Hotkey: hot}
	var commits []inference.CommitmentView
	for _, id := range nodes {
		m.Nodes = append(m.Nodes, inference.RosterNode{MLNode: inference.MLNode{ID: id, Models: []string{"m-a"}}})
		r, err := p.local.Runner(rd, "m-a")
		if err != nil {
			t.Fatal(err)
		}
		valid := Mine(r, hot, id, 0, p.cfg.Budget, rd.Params.PoCThreshold)
		if len(valid) < 10 {
			t.Fatalf("only %d valid nonces of %d at a 1/16 hit rate", len(valid), p.cfg.Budget)
		}
		leaves := valid
		if forge > 0 {
			leaves = Forge(valid, p.cfg.Budget, forge)
		}
		tr, err := poc.NewTree(leaves)
		if err != nil {
			t.Fatal(err)
		}
		p.local.keep(rd.Epoch, id, tr)
		c := tr.Commitment()
		commits = append(commits, inference.CommitmentView{Participant: hot, MLNode: id, Root: c.Root, Count: c.Count})
	}
	return p, commits, m
}

func judgeOf(t *testing.T, rd *inference.Round, judge *Participant, prover Prover, m *inference.RosterMember, commits []inference.CommitmentView) (int, int) {
	t.Helper()
	pl := Sample(rd, m, commits, judge.cfg.Hotkey)
	proofs, err := prover.Proofs(context.Background(), rd.Epoch, pl.Refs)
	if err != nil {
		t.Fatal(err)
	}
	f, err := Judge(rd, m, pl, proofs, judge.local.Runner)
	if err != nil {
		t.Fatal(err)
	}
	return len(pl.Refs), f
}

// An honest participant's sample never fails; a forger's fails at about 15/16 of its
// forged share and is rejected by the test; an unserved sample fails entirely.
func TestJudgeHonestForgedUnserved(t *testing.T) {
	rd := testRound(t)
	judge := New(Config{Hotkey: inference.Account{0xaa}})
	honest, hc, hm := mined(t, rd, inference.Account{1}, []string{"gpu-0", "gpu-1"}, 0)
	n, f := judgeOf(t, rd, judge, honest, hm, hc)
	if want := min(50, int(hc[0].Count+hc[1].Count)); n != want || f != 0 {
		t.Fatalf("honest: %d failures of %d sampled", f, n)
	}
	forger, fc, fm := mined(t, rd, inference.Account{2}, []string{"gpu-0"}, 3)
	n, f = judgeOf(t, rd, judge, forger, fm, fc)
	test := poc.DefaultTest()
	if n != 50 || f < 25 || !test.Reject(f, n) {
		t.Fatalf("forger committing 3 fakes per valid nonce: %d failures of %d sampled (reject %v)", f, n, test.Reject(f, n))
	}
	n, f = judgeOf(t, rd, judge, New(Config{}), hm, hc) // a prover without the trees
	if f != n {
		t.Fatalf("unserved: %d failures of %d", f, n)
	}
	// The sample depends on the validator: another key draws other leaves.
	small := *rd
	small.Params.ValidationSample = 20
	a := Sample(&small, hm, hc, inference.Account{0xaa})
	b := Sample(&small, hm, hc, inference.Account{0xbb})
	same := 0
	for i := range a.Refs {
		if a.Refs[i] == b.Refs[i] {
			same++
		}
	}
	if same == len(a.Refs) {
		t.Fatal("two validators drew the same sample")
	}
}

func TestForgeKeepsLeavesSorted(t *testing.T) {
	got := Forge([]uint64{3, 9}, 10, 2)
	want := []uint64{3, 9, 10, 11, 12, 13}
	if len(got) != len(want) {
		t.Fatalf("%v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("%v, want %v", got, want)
		}
	}
	if _, err := poc.NewTree(got); err != nil {
		t.Fatal(err)
	}
}
