package e2e

import (
	"bytes"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/tessera-net/tessera/modules/gov"
	"github.com/tessera-net/tessera/modules/models"
)

// docs/governance.md's walkthrough, through a real node's mempool and the binary: Alice
// proposes adding a model (the docs' example file), Bob and Charlie — the devnet's
// stakers — vote yes, and once the voting period is over `tessera model list` shows the
// model and the deposit is back. A voter with no stake is refused by the mempool.
func TestCLIGovernanceAddsAModel(t *testing.T) {
	ctx := binaryTest(t, 2*time.Minute)
	run, rpc, home := startCLIDevnet(ctx, t, 50)

	var params gov.Params
	run(&params, "gov", "params")

	var sent struct {
		Height int64 `json:"height"`
	}
	run(&sent, "gov", "propose", "--from-uri", "//Alice", "--title", "Add Llama 3.1 8B", "--add-model", "../docs/examples/model-llama.json")
	var shown struct {
		Proposal gov.ProposalView `json:"proposal"`
	}
	run(&shown, "gov", "show", "1")
	if shown.Proposal.Status != "voting" || shown.Proposal.VotingEnd != sent.Height+int64(params.VotingPeriod) || shown.Proposal.Deposit != params.MinDeposit {
		t.Fatalf("proposal 1 after submission: %+v (submitted in block %d, params %+v)", shown.Proposal, sent.Height, params)
	}
	run(nil, "gov", "vote", "--from-uri", "//Bob", "--proposal", "1", "--option", "yes")
	run(nil, "gov", "vote", "--from-uri", "//Charlie", "--proposal", "1", "--option", "no")
	run(nil, "gov", "vote", "--from-uri", "//Charlie", "--proposal", "1", "--option", "yes") // changed

	// Dave holds no stake: his vote is refused, with its code.
	var stderr bytes.Buffer
	cmd := exec.Command(binary, "--home", home, "gov", "vote", "--from-uri", "//Dave", "--proposal", "1", "--option", "yes", "--node="+rpc)
	cmd.Stderr = &stderr
	if err := cmd.Run(); err == nil || !strings.Contains(stderr.String(), "unauthorized") {
		t.Fatalf("a vote without stake: %v\n%s", err, stderr.String())
	}

	var list []models.ModelView
	run(&list, "model", "list")
	if len(list) != 0 {
		t.Fatalf("a model before the end of the vote: %+v", list)
	}
	var all []gov.ProposalView
	for deadline := time.Now().Add(60 * time.Second); ; {
		run(&all, "gov", "list")
		if len(all) == 1 && all[0].Status != "voting" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("proposal 1 still open: %+v", all)
		}
		time.Sleep(300 * time.Millisecond)
	}
	if all[0].Status != "passed" || all[0].DepositOutcome != "refunded" || all[0].Tally == nil || all[0].Tally.No != 0 || all[0].Tally.Yes == 0 {
		t.Fatalf("proposal 1 closed as %+v", all[0])
	}
	run(&list, "model", "list")
	if len(list) != 1 || list[0].ID != "llama-3.1-8b" || list[0].AddedHeight != all[0].VotingEnd || list[0].Proposal != 1 {
		t.Fatalf("model list after the vote: %+v", list)
	}
	var m models.ModelView
	run(&m, "model", "show", "llama-3.1-8b")
	if m.HFRepo != "meta-llama/Llama-3.1-8B-Instruct" || m.PoC.Heads != 4 {
		t.Fatalf("model show: %+v", m)
	}
}
