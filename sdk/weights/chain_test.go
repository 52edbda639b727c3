package weights_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/tessera-net/tessera/modules"

	abci "github.com/cometbft/cometbft/abci/types"

	"github.com/tessera-net/tessera/app"
	"github.com/tessera-net/tessera/genesis"
	"github.com/tessera-net/tessera/keys"
	"github.com/tessera-net/tessera/modules/subnets"
	"github.com/tessera-net/tessera/sdk/weights"
	"github.com/tessera-net/tessera/store"
	"github.com/tessera-net/tessera/tx"
)

// chain drives the real application through ABCI, one block at a time, so that the
// vectors Compute makes are checked by the chain's own set_weights.
type chain struct {
	t      *testing.T
	app    *app.App
	height int64
	nonce  uint64
	owner  *keys.Pair
}

const chainID = "weights-test"

func newChain(t *testing.T) *chain {
	t.Helper()
	set := modules.Builtin()
	a, err := app.New(store.OpenMemory(), app.Options{Modules: set.Modules, Ante: set.Ante})
	if err != nil {
		t.Fatal(err)
	}
	owner, err := keys.FromURI("//Alice")
	if err != nil {
		t.Fatal(err)
	}
	var st genesis.AppState
	st.Fund(owner.Public(), 1_000_000_000_000_000)
	raw, _ := json.Marshal(st)
	if _, err := a.InitChain(context.Background(), &abci.RequestInitChain{ChainId: chainID, AppStateBytes: raw, InitialHeight: 1}); err != nil {
		t.Fatal(err)
	}
	return &chain{t: t, app: a, owner: owner}
}

// block runs msgs signed by the owner in one block and fails on any refusal.
func (c *chain) block(msgs ...tx.Msg) error {
	c.t.Helper()
	var txs [][]byte
	for _, m := range msgs {
		b, err := tx.Sign(c.owner, tx.Envelope{ChainID: chainID, Nonce: c.nonce, Fee: 1000, Msg: m})
		if err != nil {
			c.t.Fatal(err)
		}
		c.nonce++
		txs = append(txs, b)
	}
	c.height++
	r, err := c.app.FinalizeBlock(context.Background(), &abci.RequestFinalizeBlock{Txs: txs, Height: c.height, Time: time.Unix(1_700_000_000+c.height, 0)})
	if err != nil {
		c.t.Fatal(err)
	}
	if _, err := c.app.Commit(context.Background(), &abci.RequestCommit{}); err != nil {
		c.t.Fatal(err)
	}
	var errs []error
	for i, res := range r.TxResults {
		if res.Code != 0 {
			errs = append(errs, fmt.Errorf("%s: %s", msgs[i].Type, res.Log))
			c.nonce-- // a refused transaction does not use its nonce
		}
	}
	return errors.Join(errs...)
}

// must unwraps a message constructor's result; constructors fail only on a bug here.
func must(m tx.Msg, err error) tx.Msg {
	if err != nil {
		panic(err)
	}
	return m
}

// TestChainAcceptsComputedWeights registers a subnet of 48 uids and has the owner set
// weights computed for random scores under random min_allowed_weights and
// max_weight_limit: the chain must accept every vector.
func TestChainAcceptsComputedWeights(t *testing.T) {
	if testing.Short() {
		t.Skip("drives the application for a few hundred blocks")
	}
	c := newChain(t)
	const netuid, n = 1, 48
	if err := c.block(must(subnets.NewCreate(c.owner.Public(), "")),
		must(subnets.NewSetHyperparam(netuid, "weights_rate_limit", 0))); err != nil {
		t.Fatal(err)
	}
	var regs []tx.Msg
	for i := 1; i < n; i++ {
		hot, err := keys.FromURI(fmt.Sprintf("//Alice//miner%d", i))
		if err != nil {
			t.Fatal(err)
		}
		regs = append(regs, must(subnets.NewRegister(netuid, hot.Public(), 0)))
	}
	if err := c.block(regs...); err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(7, 8))
	for i := range 120 {
		lim := weights.Limits{N: n, MinAllowedWeights: rng.IntN(n + 8)}
		lim.MaxWeightLimit = uint16((65535+n-1)/n + rng.IntN(65535-(65535+n-1)/n+1))
		if i%4 == 0 {
			lim.MaxWeightLimit = 65535
		}
		scores := make([]float64, 1+rng.IntN(n))
		for j := range scores {
			if rng.IntN(3) != 0 {
				scores[j] = rng.Float64()
			}
		}
		v, err := weights.Compute(scores, lim)
		if errors.Is(err, weights.ErrNoScores) {
			continue
		}
		if err != nil {
			t.Fatalf("case %d %+v: %v", i, lim, err)
		}
		if err := c.block(
			must(subnets.NewSetHyperparam(netuid, "min_allowed_weights", uint64(lim.MinAllowedWeights))),
			must(subnets.NewSetHyperparam(netuid, "max_weight_limit", uint64(lim.MaxWeightLimit)))); err != nil {
			t.Fatalf("case %d: %v", i, err)
		}
		if err := c.block(must(subnets.NewSetWeights(netuid, v.UIDs, v.Values, 0))); err != nil {
			t.Fatalf("case %d %+v, scores %v: the chain refused %v: %v", i, lim, scores, v, err)
		}
	}
}
