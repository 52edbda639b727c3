package e2e

import (
	"bytes"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tessera-net/tessera/modules/subnets"
)

// A btcli-style wallet — a funded coldkey and an empty hotkey — registers, and its
// hotkey then announces an axon and sets weights through a node's mempool without a
// token: a registered hotkey's neuron calls are free, bounded by rate limits. A second
// serve_axon inside the serving rate limit is refused, and the hotkey's nonce is not used.
func TestCLIFreeNeuronCalls(t *testing.T) {
	ctx := binaryTest(t, 2*time.Minute)
	run, rpc, home := startCLIDevnet(ctx, t, 50)

	w := newRegisteredWallet(t, run, "w", "5")

	var mg subnets.Metagraph
	run(&mg, "metagraph", "--netuid", "1")
	uid := -1
	for i, h := range mg.Hotkeys {
		if h == w.hotkey {
			uid = i
		}
	}
	if uid < 0 {
		t.Fatal("the wallet's hotkey is not registered")
	}

	run(nil, "subnet", "serve-axon", "--netuid", "1", "--wallet.name", "w", "--ip", "127.0.0.1", "--port", "9555")
	run(nil, "weights", "set", "--netuid", "1", "--wallet.name", "w", "--uids", strconv.Itoa(uid), "--weights", "1")
	var acct struct {
		Balance string `json:"balance"`
		Nonce   uint64 `json:"nonce"`
	}
	run(&acct, "query", "account", w.hotkey)
	if acct.Balance != "0" || acct.Nonce != 2 {
		t.Fatalf("the hotkey after two free calls: balance %s, nonce %d (want 0 and 2)", acct.Balance, acct.Nonce)
	}
	run(&mg, "metagraph", "--netuid", "1")
	if mg.Axons[uid].Port != 9555 {
		t.Fatalf("axon %+v", mg.Axons[uid])
	}

	// Inside the serving rate limit: refused by the mempool, with its code.
	var stderr bytes.Buffer
	cmd := exec.Command(binary, "--home", home, "subnet", "serve-axon", "--netuid", "1", "--wallet.name", "w",
		"--port", "9556", "--node="+rpc)
	cmd.Stderr = &stderr
	if err := cmd.Run(); err == nil || !strings.Contains(stderr.String(), "rate_limited") {
		t.Fatalf("a second serve_axon at once: %v\n%s", err, stderr.String())
	}
	run(&acct, "query", "account", w.hotkey)
	if acct.Nonce != 2 {
		t.Fatalf("the refused call used a nonce: %d", acct.Nonce)
	}
}
