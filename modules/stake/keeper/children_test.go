package keeper

import (
	"encoding/json"
	"math"
	"testing"

	"github.com/tessera-net/tessera/dtao"
	"github.com/tessera-net/tessera/keys"
	"github.com/tessera-net/tessera/module"
	"github.com/tessera-net/tessera/modules/stake"
	"github.com/tessera-net/tessera/store"
	"github.com/tessera-net/tessera/tx"
)

const halfProp = uint64(1) << 63 // exactly ½ in U96F32

// childChain is poolChain(1) with a parent pk(9) (owner pk(1): 100 TAO on root, 50 alpha
// on subnet 1), a child pk(8) (owner pk(2): 10 alpha) and a miner pk(7) (owner pk(3)).
func childChain(t *testing.T) (*Keeper, *store.Cache) {
	t.Helper()
	sk, kv := poolChain(t, 1)
	for _, o := range [][2]byte{{8, 2}, {7, 3}} {
		if err := sk.ClaimHotkey(kv, pk(o[0]), pk(o[1])); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []struct {
		hot, cold byte
		amt       uint64
	}{{9, 1, 50_000_000_000}, {8, 2, 10_000_000_000}} {
		if err := sk.creditAlpha(kv, 1, pk(c.hot), pk(c.cold), c.amt); err != nil {
			t.Fatal(err)
		}
	}
	p, _, _ := sk.Pool(kv, 1)
	p.AlphaOut += 60_000_000_000 // the alpha above was bought
	if err := sk.putPool(kv, &p); err != nil {
		t.Fatal(err)
	}
	return sk, kv
}

// The epoch sees the child with its own alpha plus half of the parent's, and half of the
// parent's root stake; the parent's share of the child's dividend (less the child's take)
// is paid to the parent, which is no uid, as alpha and as root dividend; each receiver's
// alpha/root split uses its own stakes; nothing is created or lost.
func TestChildKeysEpochPaysParentThroughChild(t *testing.T) {
	for _, sameOwner := range []bool{false, true} {
		sk, kv := childChain(t)
		if sameOwner { // a child pk(6) of the parent's own coldkey instead
			if err := sk.ClaimHotkey(kv, pk(6), pk(1)); err != nil {
				t.Fatal(err)
			}
			if err := sk.creditAlpha(kv, 1, pk(6), pk(1), 10_000_000_000); err != nil {
				t.Fatal(err)
			}
			p, _, _ := sk.Pool(kv, 1)
			p.AlphaOut += 10_000_000_000
			_ = sk.putPool(kv, &p)
		}
		parent, child, miner := pk(9), pk(8), pk(7)
		if sameOwner {
			child = pk(6)
		}
		if err := sk.persistChildren(kv, 1, parent, []childEdge{{Prop: halfProp, Hotkey: child[:]}}); err != nil {
			t.Fatal(err)
		}
		if err := module.Put(kv, netKey(prefixChildTake, 1, child), uint16(4369)); err != nil { // 1/15
			t.Fatal(err)
		}
		p, _, _ := sk.Pool(kv, 1)
		p.PendingServer, p.PendingValidator, p.PendingRoot = 1_000_000_000, 1_000_000_000, 200_000_000
		p.AlphaOut += 2_200_000_000
		_ = sk.putPool(kv, &p)
		if err := sk.CheckConservation(kv); err != nil {
			t.Fatal(err)
		}

		hot := []keys.PublicKey{child, miner}
		alpha, root, err := sk.EpochStakes(kv, 1, hot)
		if err != nil {
			t.Fatal(err)
		}
		// 10 + 50/2 alpha; 0 + 100/2 TAO of root stake.
		if alpha[0] != 35_000_000_000 || root[0] != 50_000_000_000 || alpha[1] != 0 || root[1] != 0 {
			t.Fatalf("inherited stakes %v %v", alpha, root)
		}
		tw := uint64(math.MaxUint64)
		pay := stake.EpochPayout{Netuid: 1, Hotkeys: hot, Incentive: []uint64{0, 1_000_000_000}, Dividends: []uint64{1_000_000_000, 0},
			OwnerAssociated: []bool{false, false}, AlphaStake: alpha, RootStake: root, TaoWeight: tw, Owner: pk(1), OwnerHotkey: parent}
		// What the rules give: the split by own stakes (child 10 alpha; parent 50 alpha and
		// 100 TAO × tw at ½: 75 against 10, total 85), then the alpha/root split of the
		// three receivers (child, miner, parent) by their own stakes.
		sp := dtao.SplitParentChild(1_000_000_000, 10_000_000_000, 0, nil,
			[]dtao.ParentShare{{Alpha: 50_000_000_000, Root: 100_000_000_000, Proportion: dtao.Proportion(halfProp), SameOwner: sameOwner}}, tw, 4369, 0)
		wantTake := !sameOwner
		gross := uint64(1_000_000_000) * 75 / 85 // ≈ 882_352_941
		if d := gross - sp.Parents[0]; wantTake != (d > gross/16) || sp.Self+sp.Parents[0] > 1_000_000_000 {
			t.Fatalf("split %+v: gross ≈ %d, take expected %v", sp, gross, wantTake)
		}
		alphaPay, rootPay := dtao.SplitDividends([]uint64{sp.Self, 0, sp.Parents[0]}, []uint64{10_000_000_000, 0, 50_000_000_000},
			[]uint64{0, 0, 100_000_000_000}, tw, 1_000_000_000, 200_000_000)
		childBefore, _ := sk.HotkeyAlpha(kv, 1, child)
		parentBefore, _ := sk.HotkeyAlpha(kv, 1, parent)
		paid, err := sk.PayEpoch(kv, pay)
		if err != nil {
			t.Fatal(err)
		}
		childAfter, _ := sk.HotkeyAlpha(kv, 1, child)
		parentAfter, _ := sk.HotkeyAlpha(kv, 1, parent)
		rootTake, _ := dtao.Take(rootPay[2], stake.DefaultTake) // the root dividend's take is staked as alpha
		if childAfter-childBefore != alphaPay[0] || paid.Validator[0] != alphaPay[0] || rootPay[0] != 0 {
			t.Errorf("child grew %d, paid %d: want %d", childAfter-childBefore, paid.Validator[0], alphaPay[0])
		}
		if parentAfter-parentBefore != alphaPay[2]+rootTake || paid.ToParents != alphaPay[2]+rootPay[2] || rootPay[2] == 0 {
			t.Errorf("parent grew %d (to parents %d): want %d + %d root take (to parents %d)", parentAfter-parentBefore, paid.ToParents, alphaPay[2], rootTake, alphaPay[2]+rootPay[2])
		}
		if p, _, _ := sk.Pool(kv, 1); p.RootHeld != rootPay[2]-rootTake {
			t.Errorf("root held %d, want the parent's root dividend less its take, %d", p.RootHeld, rootPay[2]-rootTake)
		}
		if err := sk.CheckConservation(kv); err != nil {
			t.Fatal(err)
		}
	}
}

func childCtx(kv store.KV, height int64) *module.Context {
	return &module.Context{KV: kv, Height: height}
}

func setChildrenMsg(t *testing.T, hot keys.PublicKey, netuid uint16, cs ...keys.PublicKey) tx.Msg {
	t.Helper()
	var es []stake.ChildEntry
	for _, c := range cs {
		es = append(es, stake.ChildEntry{Proportion: halfProp / 2, Hotkey: c[:]})
	}
	m, err := stake.NewSetChildren(hot, netuid, es)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// A set is pending until a block after its cooldown; of two sets that would make a cycle,
// the one applied second is dropped (children_dropped); a revocation removes the child's
// parent entry; a dissolved subnet loses every relation.
func TestPendingChildrenApplyDropRevoke(t *testing.T) {
	sk, kv := childChain(t)
	if err := sk.initGenesis(childCtx(kv, 0), json.RawMessage(`{"params":{"pending_child_key_cooldown":5}}`)); err != nil {
		t.Fatal(err)
	}
	a, b := pk(9), pk(8) // owners pk(1), pk(2)
	if err := sk.setChildren(childCtx(kv, 10), pk(1), setChildrenMsg(t, a, 1, b)); err != nil {
		t.Fatal(err)
	}
	if err := sk.setChildren(childCtx(kv, 10), pk(2), setChildrenMsg(t, b, 1, a)); err != nil {
		t.Fatal(err) // b's parents are not applied yet: both sets pass their checks
	}
	if err := sk.ApplyPendingChildren(childCtx(kv, 15), 1, 15); err != nil {
		t.Fatal(err)
	}
	if rel, _ := sk.subnetRelations(kv, 1); rel != nil {
		t.Fatal("applied in the cooldown block itself")
	}
	ctx := childCtx(kv, 16)
	if err := sk.ApplyPendingChildren(ctx, 1, 16); err != nil {
		t.Fatal(err)
	}
	var set, dropped int
	for _, e := range ctx.Events() {
		switch e.Type {
		case "children_set":
			set++
		case "children_dropped":
			dropped++
		}
	}
	rel, _ := sk.subnetRelations(kv, 1)
	if set != 1 || dropped != 1 || rel == nil || len(rel.parents) != 1 {
		t.Fatalf("set %d dropped %d relations %+v", set, dropped, rel)
	}
	// pk(8) sorts first: b's set was applied, a's dropped.
	if ps, _ := sk.edges(kv, prefixParents, 1, a); len(ps) != 1 || keys.PublicKey(ps[0].Hotkey) != b {
		t.Fatalf("parents of a: %+v", ps)
	}
	// Within 150 blocks b may not set again; after, its revocation removes the relation.
	if err := sk.setChildren(childCtx(kv, 100), pk(2), setChildrenMsg(t, b, 1)); tx.CodeOf(err) != tx.CodeRateLimited {
		t.Fatalf("second set within the rate limit: %v", err)
	}
	if err := sk.setChildren(childCtx(kv, 160), pk(2), setChildrenMsg(t, b, 1)); err != nil {
		t.Fatal(err)
	}
	if err := sk.ApplyPendingChildren(childCtx(kv, 166), 1, 166); err != nil {
		t.Fatal(err)
	}
	if rel, _ := sk.subnetRelations(kv, 1); rel != nil {
		t.Fatalf("revoked, still %+v", rel)
	}
	// Dissolving clears relations, pending sets, takes and limits.
	if err := sk.setChildren(childCtx(kv, 170), pk(1), setChildrenMsg(t, a, 1, b)); err != nil {
		t.Fatal(err)
	}
	_ = sk.ApplyPendingChildren(childCtx(kv, 180), 1, 180)
	if err := sk.DissolveChildren(kv, 1); err != nil {
		t.Fatal(err)
	}
	for _, p := range [][]byte{prefixChildren, prefixParents, prefixPendingCK, prefixChildTake, prefixChildLimit} {
		_ = kv.Iterate(module.Key(p, u16(1)), func(k, _ []byte) (bool, error) {
			t.Errorf("left after dissolve: %q", k)
			return true, nil
		})
	}
}
