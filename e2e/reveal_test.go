package e2e

import (
	"slices"
	"testing"
	"time"

	"github.com/tessera-net/tessera/keys"
	"github.com/tessera-net/tessera/modules/subnets"
)

// Commit-reveal through a node's mempool and the CLI: the owner turns commit-reveal on,
// Bob commits to weights, and in the reveal epoch `weights reveal` with the printed salt
// is accepted (CheckTx judges it at the height the transaction will enter, not at block
// 0) and the weights then show in the metagraph.
func TestCLIWeightsCommitReveal(t *testing.T) {
	ctx := binaryTest(t, 2*time.Minute)
	const tempo = 10 // an epoch every 11 blocks: a 2.2 s reveal window at 200 ms blocks
	run, rpc, _ := startCLIDevnet(ctx, t, tempo)
	c := dial(t, rpc)

	run(nil, "subnet", "set", "1", "commit_reveal_weights_enabled", "1", "--from-uri", "//Alice")
	var hyper subnets.Hyperparams
	run(&hyper, "subnet", "hyperparams", "1")
	if !hyper.CommitReveal || hyper.Tempo != tempo {
		t.Fatalf("hyperparameters %+v: want commit-reveal on and tempo %d", hyper, tempo)
	}
	bob, err := keys.FromURI("//Bob")
	if err != nil {
		t.Fatal(err)
	}
	// Only validators may weight others, and permits come with the subnet's first epoch.
	var mg subnets.Metagraph
	uid := -1
	for uid < 0 || !mg.ValidatorPermit[uid] {
		if ctx.Err() != nil {
			t.Fatalf("Bob has no validator permit: %v", ctx.Err())
		}
		time.Sleep(100 * time.Millisecond)
		run(&mg, "metagraph", "--netuid", "1")
		uid = slices.Index(mg.Hotkeys, bob.Public().String())
	}

	weights := []string{"--from-uri", "//Bob", "--netuid", "1", "--uids", "3,4,5", "--weights", "1,0.5,0.2"}
	var committed struct {
		Tx struct {
			Height int64 `json:"height"`
		} `json:"tx"`
		Salt string `json:"salt"`
	}
	run(&committed, append([]string{"weights", "commit"}, weights...)...)
	if committed.Salt == "" || committed.Tx.Height == 0 {
		t.Fatalf("weights commit printed %+v", committed)
	}

	// Wait until the next block is in the reveal epoch, then reveal.
	due := subnets.EpochIndex(1, tempo, uint64(committed.Tx.Height)) + hyper.RevealPeriod
	for {
		h, err := c.AppHeight(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if subnets.EpochIndex(1, tempo, uint64(h+1)) >= due {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	run(nil, append([]string{"weights", "reveal", "--salt", committed.Salt}, weights...)...)

	run(&mg, "metagraph", "--netuid", "1")
	want := [][2]uint16{{3, 65535}, {4, 32768}, {5, 13107}}
	if got := mg.Weights[uid]; !slices.Equal(got, want) {
		t.Fatalf("Bob's weights after the reveal are %v, want %v", got, want)
	}
}
