package app_test

import (
	"context"
	"encoding/json"
	"testing"

	abci "github.com/cometbft/cometbft/abci/types"

	"github.com/tessera-net/tessera/app"
	"github.com/tessera-net/tessera/keys"
	"github.com/tessera-net/tessera/modules"
	"github.com/tessera-net/tessera/modules/accounts"
	"github.com/tessera-net/tessera/store"
	"github.com/tessera-net/tessera/tx"
)

// BenchmarkTransferBlock is the application's share of a transfer's cost, as a node
// pays it: each of a block's 1,000 signed transfers (from 100 accounts) through CheckTx
// (signature, ante, handler on the mempool state), then the block through FinalizeBlock
// (the signatures CheckTx verified are not verified again) and Commit on an in-memory
// IAVL store. Signing is not timed.
func BenchmarkTransferBlock(b *testing.B) {
	const senders, perSender = 100, 10
	set := modules.Builtin()
	a, err := app.New(store.OpenMemory(), app.Options{Modules: set.Modules, Ante: set.Ante})
	if err != nil {
		b.Fatal(err)
	}
	pairs := make([]*keys.Pair, senders)
	var g accounts.Genesis
	for i := range pairs {
		if pairs[i], err = keys.FromURI("//bench" + string(rune('a'+i%26)) + string(rune('a'+i/26))); err != nil {
			b.Fatal(err)
		}
		g.Balances = append(g.Balances, accounts.GenesisBalance{Address: pairs[i].Public().String(), Balance: 1 << 50})
	}
	raw, _ := json.Marshal(map[string]any{"accounts": g})
	ctx := context.Background()
	if _, err := a.InitChain(ctx, &abci.RequestInitChain{ChainId: "bench", AppStateBytes: raw, InitialHeight: 1}); err != nil {
		b.Fatal(err)
	}
	to := pairs[0].Public()
	msg, _ := accounts.NewTransfer(to, 1)
	nonce := uint64(0)
	b.ResetTimer()
	for h := 1; h <= b.N; h++ {
		b.StopTimer()
		txs := make([][]byte, 0, senders*perSender)
		for k := uint64(0); k < perSender; k++ {
			for _, p := range pairs {
				t, err := tx.Sign(p, tx.Envelope{ChainID: "bench", Nonce: nonce + k, Fee: 1000, Msg: msg})
				if err != nil {
					b.Fatal(err)
				}
				txs = append(txs, t)
			}
		}
		nonce += perSender
		b.StartTimer()
		for _, t := range txs {
			if r, _ := a.CheckTx(ctx, &abci.RequestCheckTx{Tx: t, Type: abci.CheckTxType_New}); r.Code != 0 {
				b.Fatalf("check: %s", r.Log)
			}
		}
		res, err := a.FinalizeBlock(ctx, &abci.RequestFinalizeBlock{Height: int64(h), Txs: txs})
		if err != nil {
			b.Fatal(err)
		}
		for _, r := range res.TxResults {
			if r.Code != 0 {
				b.Fatalf("deliver: %s", r.Log)
			}
		}
		if _, err := a.Commit(ctx, &abci.RequestCommit{}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*senders*perSender)/b.Elapsed().Seconds(), "tx/s")
}
