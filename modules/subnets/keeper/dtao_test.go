package keeper_test

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"math/rand"
	"strconv"
	"testing"

	"github.com/tessera-net/tessera/app"
	"github.com/tessera-net/tessera/genesis"
	"github.com/tessera-net/tessera/store"

	abci "github.com/cometbft/cometbft/abci/types"

	"github.com/tessera-net/tessera/dtao"
	"github.com/tessera-net/tessera/internal/testutil"
	"github.com/tessera-net/tessera/keys"
	"github.com/tessera-net/tessera/modules"
	"github.com/tessera-net/tessera/modules/accounts"
	"github.com/tessera-net/tessera/modules/stake"
	"github.com/tessera-net/tessera/modules/subnets"
	"github.com/tessera-net/tessera/tx"
	"github.com/tessera-net/tessera/yuma"
	"github.com/tessera-net/tessera/yuma/yumajson"
)

const tao = accounts.UnitsPerToken

// newDTAOChainParams is a chain with dTAO on (the genesis default) and these subnets
// params in the genesis.
func newDTAOChainParams(t testing.TB, params map[string]any, funded ...*keys.Pair) *chainHarness {
	t.Helper()
	return newDTAOChainGenesis(t, params, nil, funded...)
}

// newDTAOChainGenesis is newDTAOChainParams with further app_state sections.
func newDTAOChainGenesis(t testing.TB, params map[string]any, sections map[string]json.RawMessage, funded ...*keys.Pair) *chainHarness {
	t.Helper()
	h := newChainGenesis(t, modules.Builtin(), true, params, sections, funded...)
	h.block() // the first block fixes the issuance
	return h
}

// conserve fails the test if the ledger created or lost TAO or alpha.
func (h *chainHarness) conserve() {
	h.t.Helper()
	if err := h.set.Stake.CheckConservation(h.reader()); err != nil {
		h.t.Fatalf("block %d: %v", h.height, err)
	}
}

func epochEvents(r *abci.ResponseFinalizeBlock) map[uint16]map[string]string {
	out := map[uint16]map[string]string{}
	for _, e := range r.Events {
		if e.Type != "epoch" {
			continue
		}
		m := map[string]string{}
		for _, a := range e.Attributes {
			m[a.Key] = a.Value
		}
		n, _ := strconv.Atoi(m["netuid"])
		out[uint16(n)] = m
	}
	return out
}

// setupDTAOSubnet is setupSubnet under dTAO: the validator stakes 100 TAO into subnet 1's
// pool (alpha) and 1000 TAO on root.
func setupDTAOSubnet(t *testing.T) (*chainHarness, actors) {
	return setupDTAOSubnetGenesis(t, nil, nil)
}

// setupDTAOSubnetGenesis is setupDTAOSubnet with these subnets params and further
// app_state sections in the genesis.
func setupDTAOSubnetGenesis(t *testing.T, params map[string]any, sections map[string]json.RawMessage) (*chainHarness, actors) {
	a := actors{owner: testutil.Pair(t, "//Alice"), ownerHot: testutil.Pair(t, "//Alice//hot"), val: testutil.Pair(t, "//Bob"), valHot: testutil.Pair(t, "//Bob//hot")}
	for _, n := range []string{"//M1", "//M2", "//M3"} {
		a.miners = append(a.miners, testutil.Pair(t, n))
		a.minHots = append(a.minHots, testutil.Pair(t, n+"//hot"))
	}
	h := newDTAOChainGenesis(t, params, sections, append([]*keys.Pair{a.owner, a.val}, a.miners...)...)
	h.must(a.owner, h.msg(subnets.NewCreate(a.ownerHot.Public(), "")))
	h.must(a.owner, h.msg(subnets.NewSetHyperparam(1, "tempo", 10)))
	h.must(a.owner, h.msg(subnets.NewSetHyperparam(1, "weights_rate_limit", 0)))
	h.must(a.val, h.msg(subnets.NewRegister(1, a.valHot.Public(), 0)))
	for i, m := range a.miners {
		h.must(m, h.msg(subnets.NewRegister(1, a.minHots[i].Public(), 0)))
	}
	h.must(a.val, h.msg(stake.NewAddOn(1, a.valHot.Public(), 100*tao, 0, false)))
	h.must(a.val, h.msg(stake.NewAdd(a.valHot.Public(), 1_000*tao)))
	h.must(a.val, h.msg(accounts.NewTransfer(a.valHot.Public(), tao)))
	h.conserve()
	return h, a
}

// untilDTAOEpoch runs empty blocks until the block before subnet 1's next epoch.
func (h *chainHarness) untilDTAOEpoch() {
	for {
		s, err := subnetsGet(h, 1)
		if err != nil {
			h.t.Fatal(err)
		}
		if dtao.EpochDue(uint64(h.height+1), s.LastEpochBlock, s.Hyperparams.Tempo, 0, 0) {
			return
		}
		h.block()
		if _, ok := h.t.(*testing.T); ok {
			h.conserve()
		}
	}
}

func subnetsGet(h *chainHarness, netuid uint16) (*subnets.SubnetView, error) {
	var v subnets.SubnetView
	h.query("/subnets/subnet/"+strconv.Itoa(int(netuid)), &v)
	return &v, nil
}

// Under dTAO the epoch sees alpha stake plus root stake × tao_weight, and what it pays
// in alpha is exactly Yuma of the chain's epoch state with dtao's payout rules: the miners
// their incentive (the owner's hotkey withheld), the validators their share of the
// validator pot, the owner the cut — to the unit.
func TestDTAOEpochPaysAlphaLikeYuma(t *testing.T) {
	h, a := setupDTAOSubnet(t)
	h.untilDTAOEpoch()
	h.block() // first epoch: permits by stake
	h.conserve()
	h.must(a.valHot, h.msg(subnets.NewSetWeights(1, []uint16{2, 3, 4}, []uint16{100, 50, 10}, 0)))
	h.untilDTAOEpoch()

	r, err := h.app.Query(context.Background(), queryReq("/subnets/epoch_state/1"))
	if err != nil || r.Code != 0 {
		t.Fatalf("epoch_state: %v %s", err, r.Log)
	}
	st, err := yumajson.Decode(r.Value)
	if err != nil {
		t.Fatal(err)
	}
	if len(st.TaoStake) == 0 || st.TaoStake[1] != 1_000*tao || st.TaoWeight != subnets.DefaultTaoWeight {
		t.Fatalf("the epoch does not see root stake × tao_weight: %v %d", st.TaoStake, st.TaoWeight)
	}
	var mg subnets.Metagraph
	h.query("/subnets/metagraph/1", &mg)
	hot := make([]keys.PublicKey, mg.N)
	before := make([]uint64, mg.N)
	for uid, hk := range mg.Hotkeys {
		hot[uid], _ = keys.ParsePublicKey(hk)
		before[uid], _ = h.set.Stake.HotkeyAlpha(h.reader(), 1, hot[uid])
	}
	srv0, val0, root0, cut0, _ := h.set.Stake.Pending(h.reader(), 1)
	res := h.block()
	h.conserve()
	ev := epochEvents(res)[1]
	if ev == nil {
		t.Fatal("no epoch event at the epoch block")
	}
	// The coinbase of the epoch block added one block's alpha before the epoch ran.
	drained, _ := strconv.ParseUint(ev["emission"], 10, 64)
	cut, _ := strconv.ParseUint(ev["owner_cut"], 10, 64)
	if drained <= srv0+val0+root0+cut0 || cut <= cut0 {
		t.Fatalf("drained %d (cut %d) is not the pending %d plus a block's emission", drained, cut, srv0+val0+root0+cut0)
	}
	srv, _ := strconv.ParseUint(ev["server"], 10, 64)
	val, _ := strconv.ParseUint(ev["validator"], 10, 64)
	if root := ev["root"]; root != "0" || srv+val+cut != drained || val >= srv {
		// One subnet: Σ EMA ≤ 1, so the root part is recycled and the validators get less.
		t.Fatalf("pots server %d validator %d root %s cut %d do not make the drained %d", srv, val, root, cut, drained)
	}
	st.RaoEmission = srv + val
	want, err := yuma.Epoch(&st.EpochState)
	if err != nil {
		t.Fatal(err)
	}
	owner := make([]bool, mg.N)
	owner[0] = true
	paid, _, _ := dtao.PayIncentives(want.ServerEmission, owner)
	var inc uint64
	for _, v := range want.ServerEmission {
		inc += v
	}
	alphaPay, _ := dtao.SplitDividends(want.ValidatorEmission, st.Stake, st.TaoStake, st.TaoWeight, dtao.ValidatorPot(val, srv, inc), 0)
	h.query("/subnets/metagraph/1", &mg)
	var minerTotal uint64
	for uid := range mg.UIDs {
		after, _ := h.set.Stake.HotkeyAlpha(h.reader(), 1, hot[uid])
		exp := paid[uid] + alphaPay[uid]
		if uid == 0 {
			exp += cut
		}
		if after-before[uid] != exp {
			t.Errorf("uid %d: alpha stake grew by %d, yuma and the payout rules give %d", uid, after-before[uid], exp)
		}
		if mg.Incentive[uid] != want.Incentive[uid] || mg.Dividends[uid] != want.Dividends[uid] || mg.Consensus[uid] != want.Consensus[uid] {
			t.Errorf("uid %d: terms differ from yuma", uid)
		}
		if uid >= 2 {
			minerTotal += paid[uid]
		}
	}
	if minerTotal == 0 || mg.Incentive[2] <= mg.Incentive[3] {
		t.Fatalf("miners were not paid by their weights: %v", mg.Incentive)
	}
}

// Subnets created in one block run their epochs in different blocks: the first epoch
// of subnet n waits tempo − n blocks (LastEpochBlock = created − netuid mod tempo).
func TestDTAOStaggeredEpochs(t *testing.T) {
	var owners []*keys.Pair
	for _, n := range []string{"//O1", "//O2", "//O3"} {
		owners = append(owners, testutil.Pair(t, n))
	}
	h := newDTAOChainParams(t, manySubnets, owners...)
	for i := 0; i < 5; i++ {
		h.block()
	}
	var txs [][]byte
	for _, o := range owners {
		txs = append(txs, h.sign(o, h.msg(subnets.NewCreate(testutil.Pair(t, "//hot"+o.Public().String()[:6]).Public(), ""))))
	}
	h.block(txs...)
	created := uint64(h.height)
	epochs := map[uint16][]uint64{}
	for i := 0; i < 800; i++ {
		r := h.block()
		h.conserve()
		for n := range epochEvents(r) {
			epochs[n] = append(epochs[n], uint64(h.height))
		}
	}
	for n := uint16(1); n <= 3; n++ {
		if len(epochs[n]) < 2 {
			t.Fatalf("subnet %d ran %d epochs in 800 blocks", n, len(epochs[n]))
		}
		if first := epochs[n][0]; first != created-uint64(n)+360 {
			t.Errorf("subnet %d: first epoch at %d, want %d (created %d)", n, first, created-uint64(n)+360, created)
		}
		if n > 1 && epochs[n][0] == epochs[n-1][0] {
			t.Errorf("subnets %d and %d run their epochs in one block", n-1, n)
		}
		if epochs[n][1]-epochs[n][0] != 360 {
			t.Errorf("subnet %d: epochs %v are not a tempo apart", n, epochs[n])
		}
	}
}

// A subnet whose price is higher gets a larger share of the block emission: subnet 2's
// owner sells its owner cut, its price falls below subnet 1's and its moving price (and
// so its share) follows. (Without root stake the injection cap is 0, so the whole
// emission buys alpha: both prices then climb, and the moving price only sees min(spot, 1).)
func TestDTAOHigherPriceLargerShare(t *testing.T) {
	o1, o2 := testutil.Pair(t, "//O1"), testutil.Pair(t, "//O2")
	h1, h2 := testutil.Pair(t, "//O1//hot"), testutil.Pair(t, "//O2//hot")
	h := newDTAOChainParams(t, manySubnets, o1, o2)
	h.block(h.sign(o1, h.msg(subnets.NewCreate(h1.Public(), ""))), h.sign(o2, h.msg(subnets.NewCreate(h2.Public(), ""))))
	h.block(h.sign(o1, h.msg(subnets.NewSetHyperparam(1, "tempo", 10))), h.sign(o2, h.msg(subnets.NewSetHyperparam(2, "tempo", 10))))
	for i := 0; i < 40; i++ {
		h.block()
		h.conserve()
	}
	alpha, _ := h.set.Stake.AlphaOf(h.reader(), 2, h2.Public(), o2.Public())
	if alpha == 0 {
		t.Fatal("subnet 2's owner has no alpha after its epochs")
	}
	h.must(o2, h.msg(stake.NewRemoveOn(2, h2.Public(), alpha, 0, false)))
	for i := 0; i < 100; i++ {
		h.block()
		h.conserve()
	}
	var p1, p2 stake.PoolView
	h.query("/stake/pool/1", &p1)
	h.query("/stake/pool/2", &p2)
	if p2.PriceRao >= p1.PriceRao {
		t.Fatalf("subnet 2's price %d is not below subnet 1's %d", p2.PriceRao, p1.PriceRao)
	}
	if p2.MovingPriceRao > p1.MovingPriceRao || p2.SharePPB >= p1.SharePPB {
		t.Fatalf("the lower price did not get the smaller share: EMA %d vs %d, share %d vs %d ppb",
			p2.MovingPriceRao, p1.MovingPriceRao, p2.SharePPB, p1.SharePPB)
	}
	if p1.SharePPB+p2.SharePPB < 999_999_998 || p1.LastEmission == 0 {
		t.Fatalf("shares %d + %d ppb do not add up to the whole emission (%d rao to subnet 1)", p1.SharePPB, p2.SharePPB, p1.LastEmission)
	}
}

// The conservation property: random stakes, unstakes, moves, transfers and swaps (with
// and without limit prices) between root and two subnets, with epochs every few blocks;
// after every block the TAO issuance equals balances + root stake + reserves and every
// subnet's alpha outstanding is accounted for (CheckConservation). The blocks' proposer is
// bound to an account (stake/set_author), so the fees move TAO to its balance; claim types
// change and the root auto-claim runs every block.
func TestDTAOConservationProperty(t *testing.T) {
	// Child keys take effect 3 blocks after they are set (at the subnet's next epoch).
	h, a := setupDTAOSubnetGenesis(t, manySubnets, map[string]json.RawMessage{"stake": json.RawMessage(`{"params":{"pending_child_key_cooldown":3}}`)})
	o2, h2 := testutil.Pair(t, "//Carol"), testutil.Pair(t, "//Carol//hot")
	h.must(a.owner, h.msg(accounts.NewTransfer(o2.Public(), 10_000*tao)))
	h.must(o2, h.msg(subnets.NewCreate(h2.Public(), "")))
	h.must(o2, h.msg(subnets.NewSetHyperparam(2, "tempo", 7)))
	h.must(a.valHot, h.msg(subnets.NewSetWeights(1, []uint16{2, 3, 4}, []uint16{100, 50, 10}, 0)))
	// The blocks' proposer is bound to Carol: the staking fees go to her balance.
	cons := ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize))
	h.must(o2, h.msg(stake.NewSetAuthor(cons.Public().(ed25519.PublicKey), ed25519.Sign(cons, stake.AuthorSignBytes(chain, o2.Public())))))
	h.proposer = stake.ConsensusAddress(cons.Public().(ed25519.PublicKey))
	authorFees := uint64(0)
	users := append([]*keys.Pair{a.val, a.owner, o2}, a.miners...)
	hots := []keys.PublicKey{a.valHot.Public(), a.ownerHot.Public(), h2.Public(), a.minHots[0].Public()}
	hotOwners := []*keys.Pair{a.val, a.owner, o2, a.miners[0]}
	rng := rand.New(rand.NewSource(16))
	codes := map[tx.Code]int{}
	childrenSet := 0
	autos := 0 // root dividends the blocks' auto-claims paid
	unstakedAll := 0
	for b := 0; b < 300; b++ {
		var txs [][]byte
		var all []bool // txs[i] is an unstake_all
		for i := rng.Intn(4); i > 0; i-- {
			u := users[rng.Intn(len(users))]
			hi := rng.Intn(len(hots))
			hk := hots[hi]
			n1, n2 := uint16(rng.Intn(3)), uint16(rng.Intn(3))
			amt := uint64(rng.Int63n(50*int64(tao))) + 1
			var limit uint64
			if rng.Intn(3) == 0 {
				limit = uint64(rng.Int63n(3 * int64(tao)))
			}
			var m tx.Msg
			var err error
			switch rng.Intn(11) {
			case 0, 1:
				m, err = stake.NewAddOn(n1, hk, amt, limit, rng.Intn(2) == 0)
			case 2:
				m, err = stake.NewRemoveOn(n1, hk, amt/2, limit, rng.Intn(2) == 0)
			case 3:
				m, err = stake.NewMoveOn(hk, n1, hots[rng.Intn(len(hots))], n2, amt/4)
			case 4:
				m, err = stake.NewTransfer(users[rng.Intn(len(users))].Public(), hk, n1, n2, amt/4)
			case 5:
				m, err = stake.NewSwap(hk, n1, n2, amt/4, limit/2, rng.Intn(2) == 0)
			case 6: // root dividends accrue only once Σ EMA > 1: mostly nothing to claim here
				m, err = stake.NewClaimRoot(nil, rng.Intn(2) == 0, nil)
			case 7: // child keys, mostly signed by the hotkey's owner, some breaking a rule
				if rng.Intn(4) != 0 {
					u = hotOwners[hi]
				}
				var cs []stake.ChildEntry
				for j := rng.Intn(3); j > 0; j-- {
					c := hots[rng.Intn(len(hots))]
					cs = append(cs, stake.ChildEntry{Proportion: rng.Uint64() >> rng.Intn(3), Hotkey: c[:]})
				}
				m, err = stake.NewSetChildren(hk, n1, cs)
			case 8:
				m, err = stake.NewSetChildkeyTake(hk, n1, uint16(rng.Intn(int(dtao.MaxChildkeyTake)+1)))
				u = hotOwners[hi]
			case 9: // the claim type the auto-claim uses each block
				typ := uint8(rng.Intn(3))
				var ns []uint16
				if typ == stake.ClaimKeepSubnets {
					ns = []uint16{uint16(1 + rng.Intn(2))}
				}
				m, err = stake.NewSetRootClaimType(typ, ns)
			case 10: // everything on a hotkey, to the balance or into root stake
				m, err = stake.NewUnstakeAll(hk, rng.Intn(2) == 0)
			}
			if err != nil {
				t.Fatal(err)
			}
			txs, all = append(txs, h.sign(u, m)), append(all, m.Type == stake.MsgUnstakeAll || m.Type == stake.MsgUnstakeAllAlpha)
		}
		r := h.block(txs...)
		for i, tr := range r.TxResults {
			codes[tx.Code(tr.Code)]++
			if all[i] && tr.Code == 0 {
				unstakedAll++
			}
			for _, e := range tr.Events {
				if e.Type == "author_fee" {
					for _, at := range e.Attributes {
						if at.Key == "amount" {
							v, _ := strconv.ParseUint(at.Value, 10, 64)
							authorFees += v
						}
					}
				}
			}
		}
		for _, e := range r.Events {
			if e.Type == "root_claimed" {
				autos++
			}
		}
		for _, e := range r.Events {
			if e.Type == "children_set" {
				childrenSet++
			}
		}
		h.conserve()
		// Refused transactions do not use their nonces: resync.
		for _, u := range users {
			acct, _ := h.set.Accounts.Account(h.reader(), u.Public())
			h.nonces[u.Public()] = acct.Nonce
		}
	}
	if codes[tx.CodeOK] < 50 || childrenSet < 3 || authorFees == 0 || unstakedAll == 0 {
		t.Fatalf("too few operations succeeded to mean anything: %v, %d sets of children applied, %d unstake_all, %d rao of fees to the author",
			codes, childrenSet, unstakedAll, authorFees)
	}
	t.Logf("results by code: %v; %d sets of children applied; %d unstake_all; %d auto-claims; %d rao of fees to the block author",
		codes, childrenSet, unstakedAll, autos, authorFees)
}

// At max_subnets a new subnet replaces the non-immune one with the lowest moving price
// (ties: the earliest registered): its pool's TAO goes back to its stakers pro rata to
// their alpha, its state is deleted, and its netuid is reused.
func TestDTAOPruneAtSubnetLimit(t *testing.T) {
	o1, o2, o3, bob := testutil.Pair(t, "//O1"), testutil.Pair(t, "//O2"), testutil.Pair(t, "//O3"), testutil.Pair(t, "//Bob")
	set := modules.Builtin()
	var hooked []uint16 // the modules' dissolve hooks run with the victim's netuid
	set.Subnets.OnDissolve(func(_ store.KV, netuid uint16) error { hooked = append(hooked, netuid); return nil })
	a, err := app.New(store.OpenMemory(), app.Options{Modules: set.Modules, Ante: set.Ante})
	if err != nil {
		t.Fatal(err)
	}
	var st genesis.AppState
	for _, p := range []*keys.Pair{o1, o2, o3, bob} {
		st.Fund(p.Public(), 1_000_000_000_000_000)
	}
	st.Extra = map[string]json.RawMessage{"subnets": json.RawMessage(`{"params":{"max_subnets":2,"network_immunity_period":0,"network_rate_limit":0}}`)}
	raw, _ := json.Marshal(st)
	if _, err := a.InitChain(context.Background(), &abci.RequestInitChain{ChainId: chain, AppStateBytes: raw, InitialHeight: 1}); err != nil {
		t.Fatal(err)
	}
	h := &chainHarness{t: t, app: a, set: set, nonces: map[keys.PublicKey]uint64{}}
	h.block()
	h.must(o1, h.msg(subnets.NewCreate(testutil.Pair(t, "//O1//hot").Public(), "")))
	h.must(o2, h.msg(subnets.NewCreate(testutil.Pair(t, "//O2//hot").Public(), "")))
	h.must(bob, h.msg(stake.NewAddOn(1, testutil.Pair(t, "//O1//hot").Public(), 100*tao, 0, false)))
	h.must(bob, h.msg(stake.NewAddOn(2, testutil.Pair(t, "//O2//hot").Public(), 100*tao, 0, false)))
	h.conserve()
	before, _ := h.set.Accounts.Account(h.reader(), bob.Public())
	value := uint64(0)
	{
		var ps []stake.Position
		h.query("/stake/coldkey/"+bob.Public().Hex(), &ps)
		for _, p := range ps {
			if p.Netuid == 1 {
				value = p.TAOValue
			}
		}
	}
	r := h.block(h.sign(o3, h.msg(subnets.NewCreate(testutil.Pair(t, "//O3//hot").Public(), ""))))
	if r.TxResults[0].Code != 0 {
		t.Fatalf("the third subnet was refused: %s", r.TxResults[0].Log)
	}
	if len(hooked) != 1 {
		t.Fatalf("the dissolve hooks ran for %v", hooked)
	}
	h.conserve()
	var dissolved map[string]string
	for _, e := range r.TxResults[0].Events {
		if e.Type == "subnet_dissolved" {
			dissolved = map[string]string{}
			for _, at := range e.Attributes {
				dissolved[at.Key] = at.Value
			}
		}
	}
	if dissolved["netuid"] != "1" {
		t.Fatalf("dissolved %v, want subnet 1 (equal moving prices: the earliest)", dissolved)
	}
	after, _ := h.set.Accounts.Account(h.reader(), bob.Public())
	// Bob held almost all of subnet 1's alpha (the owner's cut and the pending emission
	// are not positions): he gets nearly the whole pot, more than a sale would give.
	if got := after.Balance - before.Balance; got <= value {
		t.Fatalf("Bob got %d back for alpha worth %d on sale", got, value)
	}
	var s subnets.SubnetView
	h.query("/subnets/subnet/1", &s)
	if s.Owner != o3.Public().String() || s.N != 1 {
		t.Fatalf("netuid 1 is not O3's new subnet: %+v", s)
	}
	var ps []stake.Position
	h.query("/stake/coldkey/"+bob.Public().Hex(), &ps)
	for _, p := range ps {
		if p.Netuid == 1 {
			t.Fatalf("Bob still has a position on the dissolved subnet: %+v", p)
		}
	}
}
