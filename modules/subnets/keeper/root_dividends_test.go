package keeper_test

import (
	"strconv"
	"testing"

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
// it below 1). The validator's epoch pays its root part: the take to its owner, the rest
// accrued for the root stakers under the hotkey. A nominator with TAO on root under that
// hotkey, who holds no alpha, can then claim it through a transaction: the alpha is sold
// and its TAO staked on root. Nothing is created or lost after any block, and no pool
// owes more than it holds.
func TestDTAORootDividendsClaimedOnChain(t *testing.T) {
	a := actors{owner: testutil.Pair(t, "//Alice"), ownerHot: testutil.Pair(t, "//Alice//hot"), val: testutil.Pair(t, "//Bob"), valHot: testutil.Pair(t, "//Bob//hot")}
	nom := testutil.Pair(t, "//Dave")
	o2, h2 := testutil.Pair(t, "//Carol"), testutil.Pair(t, "//Carol//hot")
	miner, minerHot := testutil.Pair(t, "//M1"), testutil.Pair(t, "//M1//hot")
	h := newChainParams(t, modules.Builtin(), map[string]any{"dtao": true, "moving_alpha": uint64(1) << 32, "ema_price_halving_blocks": 1},
		a.owner, a.val, nom, o2, miner)
	h.block()
	check := func() {
		t.Helper()
		h.conserve()
		if err := h.set.Stake.CheckRootClaims(h.reader()); err != nil {
			t.Fatalf("block %d: %v", h.height, err)
		}
	}
	h.must(a.owner, h.msg(subnets.NewCreate(a.ownerHot.Public(), "")))
	h.must(o2, h.msg(subnets.NewCreate(h2.Public(), "")))
	h.must(a.owner, h.msg(subnets.NewSetHyperparam(1, "tempo", 10)))
	h.must(a.owner, h.msg(subnets.NewSetHyperparam(1, "weights_rate_limit", 0)))
	h.must(a.val, h.msg(subnets.NewRegister(1, a.valHot.Public(), 0)))
	h.must(miner, h.msg(subnets.NewRegister(1, minerHot.Public(), 0)))
	h.must(a.val, h.msg(stake.NewAddOn(1, a.valHot.Public(), 100*tao, 0, false)))
	h.must(a.val, h.msg(stake.NewAdd(a.valHot.Public(), 1_000*tao)))
	h.must(nom, h.msg(stake.NewAdd(a.valHot.Public(), 3_000*tao)))
	h.must(a.val, h.msg(accounts.NewTransfer(a.valHot.Public(), tao)))
	check()

	// An epoch gives the validator its permit; it weights the miner; the next epochs pay.
	owedNow := func(cold *keys.Pair) (owed uint64) {
		t.Helper()
		var cs []stake.RootClaimable
		h.query("/stake/root_claimable/"+cold.Public().String(), &cs)
		for _, c := range cs {
			owed += c.Owed
		}
		return owed
	}
	// The setup's blocks may already hold an epoch: count from here.
	owed0 := owedNow(nom) + owedNow(a.val)
	var rootPot uint64 // the root dividends the epochs from here drained
	epoch := func() {
		t.Helper()
		h.untilDTAOEpoch()
		r := h.block()
		check()
		e, ok := epochEvents(r)[1]
		if !ok {
			t.Fatalf("block %d: no epoch of subnet 1", h.height)
		}
		pot, _ := strconv.ParseUint(e["root"], 10, 64)
		rootPot += pot
	}
	epoch()
	h.must(a.valHot, h.msg(subnets.NewSetWeights(1, []uint16{2}, []uint16{65535}, 0)))
	for range 3 {
		epoch()
	}
	var p1, p2 stake.PoolView
	h.query("/stake/pool/1", &p1)
	h.query("/stake/pool/2", &p2)
	if p1.MovingPriceRao+p2.MovingPriceRao <= 1_000_000_000 {
		t.Fatalf("the moving prices sum to %d rao per alpha, not past 1 TAO", p1.MovingPriceRao+p2.MovingPriceRao)
	}
	if rootPot == 0 {
		t.Fatal("three epochs with the moving prices past 1 drained no root dividends")
	}

	var owed []stake.RootClaimable
	h.query("/stake/root_claimable/"+nom.Public().String(), &owed)
	var alphaOwed, taoValue uint64
	for _, o := range owed {
		if o.Hotkey != a.valHot.Public().String() || o.RootStake != 3_000*tao {
			t.Fatalf("unexpected claimable entry %+v", o)
		}
		alphaOwed += o.Owed
		taoValue += o.TAOValue
	}
	if alphaOwed == 0 || taoValue == 0 {
		t.Fatalf("the nominator's 3,000 TAO on root under the validator earned nothing to claim: %+v", owed)
	}
	// The nominator holds three quarters of the hotkey's root stake and the owner one
	// quarter, so the nominator is owed three times what the owner is (to the rounding of
	// the claim rate), and together less than the root dividends drained (the take).
	var ownerOwed []stake.RootClaimable
	h.query("/stake/root_claimable/"+a.val.Public().String(), &ownerOwed)
	if len(ownerOwed) != 1 {
		t.Fatalf("the validator's owner has %d claimable entries, want 1", len(ownerOwed))
	}
	o := ownerOwed[0].Owed
	if alphaOwed < 3*o-3 || alphaOwed > 3*o+3 {
		t.Fatalf("owed %d alpha to the nominator and %d to the owner: not 3 to 1", alphaOwed, o)
	}
	// What is owed is what was drained less the validator's take (stake.DefaultTake,
	// staked to its owner), to the floors of each epoch.
	if _, rest := dtao.Take(rootPot, stake.DefaultTake); alphaOwed+o-owed0 > rest || alphaOwed+o-owed0 < rest-rest/1000 {
		t.Fatalf("%d alpha more owed after epochs that drained %d, less the take %d", alphaOwed+o-owed0, rootPot, rest)
	}
	before, _ := h.set.Stake.StakeOf(h.reader(), a.valHot.Public(), nom.Public())
	res := h.block(h.sign(nom, h.msg(stake.NewClaimRoot(nil, false, nil)))).TxResults[0]
	if res.Code != 0 {
		t.Fatalf("claim_root: %d %s", res.Code, res.Log)
	}
	check()
	var claimedAlpha, claimedTAO uint64
	for _, e := range res.Events {
		if e.Type != "root_claimed" {
			continue
		}
		for _, at := range e.Attributes {
			v, _ := strconv.ParseUint(at.Value, 10, 64)
			switch at.Key {
			case "alpha":
				claimedAlpha += v
			case "tao":
				claimedTAO += v
			}
		}
	}
	after, _ := h.set.Stake.StakeOf(h.reader(), a.valHot.Public(), nom.Public())
	if claimedAlpha != alphaOwed || after-before != claimedTAO {
		t.Fatalf("claimed %d alpha for %d rao (root stake +%d); the query said %d alpha owed", claimedAlpha, claimedTAO, after-before, alphaOwed)
	}
	// The block's coinbase moved the pool between the quote and the claim: within 1 %.
	if claimedTAO < taoValue-taoValue/100 || claimedTAO > taoValue+taoValue/100 {
		t.Fatalf("the claim staked %d rao on root, the quote a block earlier %d", claimedTAO, taoValue)
	}
	h.query("/stake/root_claimable/"+nom.Public().String(), &owed)
	for _, o := range owed {
		if o.Owed != 0 {
			t.Fatalf("after the claim %d alpha is still owed on subnet %d", o.Owed, o.Netuid)
		}
	}
}
