package keeper_test

import (
	"strconv"
	"testing"

	abci "github.com/cometbft/cometbft/abci/types"

	"github.com/tessera-net/tessera/dtao"
	"github.com/tessera-net/tessera/internal/testutil"
	"github.com/tessera-net/tessera/keys"
	"github.com/tessera-net/tessera/modules"
	"github.com/tessera-net/tessera/modules/accounts"
	"github.com/tessera-net/tessera/modules/stake"
	"github.com/tessera-net/tessera/modules/subnets"
)

// Root dividends on a chain, end to end: with moving prices that follow the spot price at
// once (moving_alpha 1.0, a one-block ramp), two subnets priced at about 1 TAO put the
// moving prices' sum past 1, so the coinbase keeps each block's root alpha (it recycles
// it below 1). The validator's epochs pay its root part: the take to its owner, the rest
// accrued for the root stakers under the hotkey — here its owner (1000 TAO on root) and a
// nominator (3000 TAO, no alpha). Each block's auto-claim pays them out by their claim
// type (Keep here, so that their root stakes, and so their shares, stay put): what was
// claimed and what is still owed is 3 to 1 between them and, together, exactly what the
// epochs drained less the take, to the floors. Nothing is created or lost after any
// block, and no pool owes more than it holds. Then the nominator turns to Swap and its
// root stake grows by the TAO of what the next auto-claim sells.
func TestDTAORootDividendsClaimedOnChain(t *testing.T) {
	a := actors{owner: testutil.Pair(t, "//Alice"), ownerHot: testutil.Pair(t, "//Alice//hot"), val: testutil.Pair(t, "//Bob"), valHot: testutil.Pair(t, "//Bob//hot")}
	nom := testutil.Pair(t, "//Dave")
	o2, h2 := testutil.Pair(t, "//Carol"), testutil.Pair(t, "//Carol//hot")
	miner, minerHot := testutil.Pair(t, "//M1"), testutil.Pair(t, "//M1//hot")
	h := newChainParams(t, modules.Builtin(), true, map[string]any{"moving_alpha": uint64(1) << 32, "ema_price_halving_blocks": 1, "network_rate_limit": 0},
		a.owner, a.val, nom, o2, miner)
	h.block()
	claimed := map[string]uint64{} // alpha auto-claimed, by coldkey
	var rootPot uint64             // the root dividends subnet 1's epochs drained
	var swapTAO uint64             // TAO the nominator's Swap claims staked on root
	blk := func(txs ...[]byte) *abci.ResponseFinalizeBlock {
		t.Helper()
		r := h.block(txs...)
		h.conserve()
		if err := h.set.Stake.CheckRootClaims(h.reader()); err != nil {
			t.Fatalf("block %d: %v", h.height, err)
		}
		for _, e := range r.Events {
			at := map[string]string{}
			for _, x := range e.Attributes {
				at[x.Key] = x.Value
			}
			switch {
			case e.Type == "root_claimed":
				v, _ := strconv.ParseUint(at["alpha"], 10, 64)
				claimed[at["coldkey"]] += v
				if at["coldkey"] == nom.Public().String() && at["kept"] == "false" {
					v, _ := strconv.ParseUint(at["tao"], 10, 64)
					swapTAO += v
				}
			case e.Type == "epoch" && at["netuid"] == "1":
				v, _ := strconv.ParseUint(at["root"], 10, 64)
				rootPot += v
			}
		}
		return r
	}
	do := func(msgs ...[]byte) {
		t.Helper()
		r := blk(msgs...)
		for i, tr := range r.TxResults {
			if tr.Code != 0 {
				t.Fatalf("block %d tx %d: %d %s", h.height, i, tr.Code, tr.Log)
			}
		}
	}
	do(h.sign(a.owner, h.msg(subnets.NewCreate(a.ownerHot.Public(), ""))), h.sign(o2, h.msg(subnets.NewCreate(h2.Public(), ""))))
	do(h.sign(a.owner, h.msg(subnets.NewSetHyperparam(1, "tempo", 10))))
	do(h.sign(a.owner, h.msg(subnets.NewSetHyperparam(1, "weights_rate_limit", 0))),
		h.sign(a.val, h.msg(subnets.NewRegister(1, a.valHot.Public(), 0))), h.sign(miner, h.msg(subnets.NewRegister(1, minerHot.Public(), 0))))
	do(h.sign(a.val, h.msg(stake.NewSetRootClaimType(stake.ClaimKeep, nil))), h.sign(nom, h.msg(stake.NewSetRootClaimType(stake.ClaimKeep, nil))))
	do(h.sign(a.val, h.msg(stake.NewAddOn(1, a.valHot.Public(), 100*tao, 0, false))), h.sign(nom, h.msg(stake.NewAdd(a.valHot.Public(), 3_000*tao))))
	do(h.sign(a.val, h.msg(stake.NewAdd(a.valHot.Public(), 1_000*tao))), h.sign(a.val, h.msg(accounts.NewTransfer(a.valHot.Public(), tao))))

	owedNow := func(cold *keys.Pair) (owed uint64) {
		t.Helper()
		var cs []stake.RootClaimable
		h.query("/stake/root_claimable/"+cold.Public().String(), &cs)
		for _, c := range cs {
			owed += c.Owed
		}
		return owed
	}
	// Count from here: what is owed now, what was claimed and drained before.
	nom0, val0 := owedNow(nom)+claimed[nom.Public().String()], owedNow(a.val)+claimed[a.val.Public().String()]
	pot0 := rootPot
	// The validator weights the miner once an epoch has given it a permit; 60 blocks hold
	// about six epochs of subnet 1.
	weighted := false
	for i := 0; i < 60; i++ {
		var txs [][]byte
		if !weighted && i == 15 {
			txs = append(txs, h.sign(a.valHot, h.msg(subnets.NewSetWeights(1, []uint16{2}, []uint16{65535}, 0))))
			weighted = true
		}
		do(txs...)
	}
	var p1, p2 stake.PoolView
	h.query("/stake/pool/1", &p1)
	h.query("/stake/pool/2", &p2)
	if p1.MovingPriceRao+p2.MovingPriceRao <= 1_000_000_000 {
		t.Fatalf("the moving prices sum to %d rao per alpha, not past 1 TAO", p1.MovingPriceRao+p2.MovingPriceRao)
	}
	drained := rootPot - pot0
	nomGot := owedNow(nom) + claimed[nom.Public().String()] - nom0
	valGot := owedNow(a.val) + claimed[a.val.Public().String()] - val0
	if drained == 0 || claimed[nom.Public().String()] == 0 {
		t.Fatalf("60 blocks with the moving prices past 1: %d root dividends drained, %d alpha auto-claimed by the nominator", drained, claimed[nom.Public().String()])
	}
	// The nominator holds three quarters of the hotkey's root stake, the owner one quarter.
	if nomGot < 3*valGot-3 || nomGot > 3*valGot+3 {
		t.Fatalf("the nominator accrued %d alpha and the owner %d: not 3 to 1", nomGot, valGot)
	}
	if _, rest := dtao.Take(drained, stake.DefaultTake); nomGot+valGot > rest || nomGot+valGot < rest-rest/1000 {
		t.Fatalf("%d alpha accrued for the root stakers of %d drained, less the take %d", nomGot+valGot, drained, rest)
	}
	t.Logf("drained %d root alpha; accrued %d to the nominator, %d to the owner; auto-claimed %d and %d",
		drained, nomGot, valGot, claimed[nom.Public().String()], claimed[a.val.Public().String()])
	if s, _ := h.set.Stake.StakeOf(h.reader(), a.valHot.Public(), nom.Public()); s != 3_000*tao {
		t.Fatalf("Keep claims moved the nominator's root stake to %d", s)
	}

	// Swap: the next auto-claims sell what is owed and stake the TAO on root.
	do(h.sign(nom, h.msg(stake.NewSetRootClaimType(stake.ClaimSwap, nil))))
	for i := 0; i < 15; i++ {
		do()
	}
	s, _ := h.set.Stake.StakeOf(h.reader(), a.valHot.Public(), nom.Public())
	if swapTAO == 0 || s != 3_000*tao+swapTAO {
		t.Fatalf("after Swap claims worth %d rao the nominator's root stake is %d", swapTAO, s)
	}
	t.Logf("the Swap claims staked %d rao on root", swapTAO)
}
