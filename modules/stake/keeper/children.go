package keeper

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"

	abci "github.com/cometbft/cometbft/abci/types"

	"github.com/tessera-net/tessera/dtao"
	"github.com/tessera-net/tessera/keys"
	"github.com/tessera-net/tessera/module"
	"github.com/tessera-net/tessera/modules/stake"
	"github.com/tessera-net/tessera/store"
	"github.com/tessera-net/tessera/tx"
)

// Child keys (docs/dtao.md §9, Child keys; subtensor staking/set_children.rs). Every key
// starts with the netuid, so an epoch learns whether its subnet has any relation from one
// prefix scan, and a dissolved subnet's relations go with a prefix delete.
var (
	prefixChildren   = []byte("stk/ck/") // netuid ‖ parent → []childEdge: ChildKeys[parent][netuid]
	prefixParents    = []byte("stk/pk/") // netuid ‖ child → []childEdge: ParentKeys[child][netuid]
	prefixPendingCK  = []byte("stk/cp/") // netuid ‖ parent → pendingChildren: PendingChildKeys[netuid][parent]
	prefixChildTake  = []byte("stk/ct/") // netuid ‖ hotkey → uint16: ChildkeyTake[hotkey][netuid]
	prefixChildLimit = []byte("stk/cl/") // netuid ‖ hotkey → childLimits: the rate limits' last blocks
	keyStakeParams   = []byte("stk/params")
)

// childEdge is one (proportion, hotkey) of a children or parents list.
type childEdge struct {
	Prop   uint64 `cbor:"1,keyasint"`
	Hotkey []byte `cbor:"2,keyasint"`
}

type pendingChildren struct {
	Children      []childEdge `cbor:"1,keyasint,omitempty"`
	CooldownBlock uint64      `cbor:"2,keyasint"`
}

// childLimits are the last blocks of a hotkey's set_children and set_childkey_take on a
// subnet (subtensor's TransactionKeyLastBlock).
type childLimits struct {
	LastSet  uint64 `cbor:"1,keyasint,omitempty"`
	LastTake uint64 `cbor:"2,keyasint,omitempty"`
}

func netKey(prefix []byte, netuid uint16, hot keys.PublicKey) []byte {
	return module.Key(prefix, u16(netuid), hot[:])
}

// Params are the staking module's parameters (the defaults if the genesis set none).
func (sk *Keeper) Params(r store.Reader) (stake.Params, error) {
	p := stake.DefaultParams()
	_, err := module.Get(r, keyStakeParams, &p)
	return p, err
}

// initGenesis reads the staking section of the genesis: only parameters. A genesis that
// sets none writes nothing.
func (sk *Keeper) initGenesis(ctx *module.Context, raw json.RawMessage) error {
	if len(bytes.TrimSpace(raw)) == 0 || string(raw) == "{}" || string(raw) == "null" {
		return nil
	}
	g := stake.Genesis{}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&g); err != nil {
		return fmt.Errorf("stake genesis: %w", err)
	}
	if err := sk.initAuthors(ctx, g.Authors); err != nil {
		return err
	}
	if g.Params == nil {
		return nil
	}
	return module.Put(ctx.KV, keyStakeParams, *g.Params)
}

func (sk *Keeper) edges(r store.Reader, prefix []byte, netuid uint16, hot keys.PublicKey) ([]childEdge, error) {
	var es []childEdge
	_, err := module.Get(r, netKey(prefix, netuid, hot), &es)
	return es, err
}

func putEdges(kv store.KV, prefix []byte, netuid uint16, hot keys.PublicKey, es []childEdge) error {
	if len(es) == 0 {
		return kv.Delete(netKey(prefix, netuid, hot))
	}
	return module.Put(kv, netKey(prefix, netuid, hot), es)
}

// ChildkeyTake is a hotkey's childkey take on a subnet, in 65535ths (0 unless set).
func (sk *Keeper) ChildkeyTake(r store.Reader, netuid uint16, hot keys.PublicKey) (uint16, error) {
	var t uint16
	_, err := module.Get(r, netKey(prefixChildTake, netuid, hot), &t)
	return max(t, dtao.MinChildkeyTake), err
}

func (sk *Keeper) childLimits(r store.Reader, netuid uint16, hot keys.PublicKey) (childLimits, error) {
	var l childLimits
	_, err := module.Get(r, netKey(prefixChildLimit, netuid, hot), &l)
	return l, err
}

// childCode is the result code of a broken children rule.
func childCode(err error) tx.Code {
	switch {
	case errors.Is(err, dtao.ErrProportionOverflow):
		return tx.CodeInvalidAmount
	case errors.Is(err, dtao.ErrChildIsParent):
		return tx.CodeConflict
	}
	return tx.CodeInvalidMessage
}

// setChildren is stake/set_children (do_schedule_children): checked now, scheduled for
// the subnet's first epoch after the cooldown.
func (sk *Keeper) setChildren(ctx *module.Context, signer keys.PublicKey, msg tx.Msg) error {
	var s stake.SetChildren
	if err := msg.DecodeBody(&s); err != nil {
		return err
	}
	hot, err := module.PublicKey("hotkey", s.Hotkey)
	if err != nil {
		return err
	}
	cs := make([]dtao.Child[keys.PublicKey], len(s.Children))
	for i, c := range s.Children {
		if cs[i].Hotkey, err = module.PublicKey(fmt.Sprintf("child %d hotkey", i+1), c.Hotkey); err != nil {
			return err
		}
		cs[i].Proportion = dtao.Proportion(c.Proportion)
	}
	block := uint64(max(ctx.Height, 0))
	lim, err := sk.childLimits(ctx.KV, s.Netuid, hot)
	if err != nil {
		return err
	}
	if !dtao.RateLimitPasses(lim.LastSet, block, dtao.SetChildrenRateLimit) {
		return tx.Errorf(tx.CodeRateLimited, "hotkey %s set its children on subnet %d at block %d: the next set_children is allowed from block %d (one per %d blocks)",
			hot, s.Netuid, lim.LastSet, lim.LastSet+dtao.SetChildrenRateLimit, dtao.SetChildrenRateLimit)
	}
	if s.Netuid == 0 {
		return tx.Errorf(tx.CodeInvalidMessage, "%v (netuid 0)", dtao.ErrChildrenOnRoot)
	}
	if _, ok, err := sk.Pool(ctx.KV, s.Netuid); err != nil {
		return err
	} else if !ok {
		return tx.Errorf(tx.CodeNotFound, "subnet %d does not exist (it has no dTAO pool)", s.Netuid)
	}
	if owner, ok, err := sk.Owner(ctx.KV, hot); err != nil {
		return err
	} else if !ok || owner != signer {
		return tx.Errorf(tx.CodeUnauthorized, "only the owner of hotkey %s may set its children", hot)
	}
	parents, err := sk.edges(ctx.KV, prefixParents, s.Netuid, hot)
	if err != nil {
		return err
	}
	if err := dtao.CheckChildren(hot, s.Netuid, cs, edgeKeys(parents)); err != nil {
		return tx.Errorf(childCode(err), "children of %s on subnet %d: %v", hot, s.Netuid, err)
	}
	p, err := sk.Params(ctx.KV)
	if err != nil {
		return err
	}
	lim.LastSet = block
	if err := module.Put(ctx.KV, netKey(prefixChildLimit, s.Netuid, hot), lim); err != nil {
		return err
	}
	pend := pendingChildren{CooldownBlock: block + p.PendingChildKeyCooldown}
	for _, c := range s.Children {
		pend.Children = append(pend.Children, childEdge{Prop: c.Proportion, Hotkey: c.Hotkey})
	}
	if err := module.Put(ctx.KV, netKey(prefixPendingCK, s.Netuid, hot), pend); err != nil {
		return err
	}
	ctx.Emit("children_scheduled", module.Attr("hotkey", hot.String()), module.Attr("netuid", strconv.Itoa(int(s.Netuid))),
		module.Attr("children", strconv.Itoa(len(s.Children))), module.Attr("cooldown_block", strconv.FormatUint(pend.CooldownBlock, 10)))
	return nil
}

func edgeKeys(es []childEdge) []keys.PublicKey {
	out := make([]keys.PublicKey, len(es))
	for i, e := range es {
		out[i] = keys.PublicKey(e.Hotkey)
	}
	return out
}

// setChildkeyTake is stake/set_childkey_take (do_set_childkey_take).
func (sk *Keeper) setChildkeyTake(ctx *module.Context, signer keys.PublicKey, msg tx.Msg) error {
	var s stake.SetChildkeyTake
	if err := msg.DecodeBody(&s); err != nil {
		return err
	}
	hot, err := module.PublicKey("hotkey", s.Hotkey)
	if err != nil {
		return err
	}
	if owner, ok, err := sk.Owner(ctx.KV, hot); err != nil {
		return err
	} else if !ok || owner != signer {
		return tx.Errorf(tx.CodeUnauthorized, "only the owner of hotkey %s may set its childkey take", hot)
	}
	if !dtao.ValidChildkeyTake(s.Take) {
		return tx.Errorf(tx.CodeInvalidMessage, "childkey take %d is outside %d … %d (0 … 18%%)", s.Take, dtao.MinChildkeyTake, dtao.MaxChildkeyTake)
	}
	cur, err := sk.ChildkeyTake(ctx.KV, s.Netuid, hot)
	if err != nil {
		return err
	}
	block := uint64(max(ctx.Height, 0))
	lim, err := sk.childLimits(ctx.KV, s.Netuid, hot)
	if err != nil {
		return err
	}
	if s.Take > cur && !dtao.RateLimitPasses(lim.LastTake, block, dtao.ChildkeyTakeRateLimit) {
		return tx.Errorf(tx.CodeRateLimited, "the childkey take of %s on subnet %d was set at block %d: it may rise again from block %d (one increase per %d blocks; lowering it is allowed)",
			hot, s.Netuid, lim.LastTake, lim.LastTake+dtao.ChildkeyTakeRateLimit, dtao.ChildkeyTakeRateLimit)
	}
	lim.LastTake = block
	if err := module.Put(ctx.KV, netKey(prefixChildLimit, s.Netuid, hot), lim); err != nil {
		return err
	}
	if s.Take == 0 {
		err = ctx.KV.Delete(netKey(prefixChildTake, s.Netuid, hot))
	} else {
		err = module.Put(ctx.KV, netKey(prefixChildTake, s.Netuid, hot), s.Take)
	}
	if err != nil {
		return err
	}
	ctx.Emit("childkey_take_set", module.Attr("hotkey", hot.String()), module.Attr("netuid", strconv.Itoa(int(s.Netuid))),
		module.Attr("take", strconv.Itoa(int(s.Take))))
	return nil
}

// ApplyPendingChildren is do_set_pending_children, which the subnets module calls after a
// subnet's epoch: every set of children scheduled on the subnet whose cooldown ended
// before this block (dtao.ChildReady) replaces the parent's children. A set that no longer
// holds (one of its children became a parent of the hotkey meanwhile) is dropped, as
// subtensor drops it, with a children_dropped event saying why.
func (sk *Keeper) ApplyPendingChildren(ctx *module.Context, netuid uint16, block uint64) error {
	type ready struct {
		parent keys.PublicKey
		p      pendingChildren
	}
	var due []ready
	prefix := module.Key(prefixPendingCK, u16(netuid))
	if err := ctx.KV.Iterate(prefix, func(k, v []byte) (bool, error) {
		var p pendingChildren
		if err := tx.UnmarshalState(v, &p); err != nil {
			return false, err
		}
		if dtao.ChildReady(p.CooldownBlock, block) {
			due = append(due, ready{keys.PublicKey(k[len(prefix):]), p})
		}
		return true, nil
	}); err != nil {
		return err
	}
	for _, d := range due {
		if err := ctx.KV.Delete(netKey(prefixPendingCK, netuid, d.parent)); err != nil {
			return err
		}
		attrs := []abci.EventAttribute{module.Attr("hotkey", d.parent.String()), module.Attr("netuid", strconv.Itoa(int(netuid))),
			module.Attr("children", strconv.Itoa(len(d.p.Children)))}
		parents, err := sk.edges(ctx.KV, prefixParents, netuid, d.parent)
		if err != nil {
			return err
		}
		cs := make([]dtao.Child[keys.PublicKey], len(d.p.Children))
		for i, c := range d.p.Children {
			cs[i] = dtao.Child[keys.PublicKey]{Proportion: dtao.Proportion(c.Prop), Hotkey: keys.PublicKey(c.Hotkey)}
		}
		if err := dtao.CheckChildren(d.parent, netuid, cs, edgeKeys(parents)); err != nil {
			ctx.Emit("children_dropped", append(attrs, module.Attr("reason", err.Error()))...)
			continue
		}
		if err := sk.persistChildren(ctx.KV, netuid, d.parent, d.p.Children); err != nil {
			return err
		}
		ctx.Emit("children_set", attrs...)
	}
	return nil
}

// persistChildren makes children the parent's children on the subnet and keeps every
// child's parents list in step (persist_child_parent_relations, the children side).
func (sk *Keeper) persistChildren(kv store.KV, netuid uint16, parent keys.PublicKey, children []childEdge) error {
	prev, err := sk.edges(kv, prefixChildren, netuid, parent)
	if err != nil {
		return err
	}
	if err := putEdges(kv, prefixChildren, netuid, parent, children); err != nil {
		return err
	}
	update := func(child keys.PublicKey, prop uint64, keep bool) error {
		ps, err := sk.edges(kv, prefixParents, netuid, child)
		if err != nil {
			return err
		}
		i := slices.IndexFunc(ps, func(e childEdge) bool { return keys.PublicKey(e.Hotkey) == parent })
		switch {
		case keep && i >= 0:
			ps[i].Prop = prop
		case keep:
			ps = append(ps, childEdge{Prop: prop, Hotkey: parent[:]})
		case i >= 0:
			ps = slices.Delete(ps, i, i+1)
		}
		return putEdges(kv, prefixParents, netuid, child, ps)
	}
	for _, c := range children {
		if err := update(keys.PublicKey(c.Hotkey), c.Prop, true); err != nil {
			return err
		}
	}
	for _, c := range prev {
		if !slices.ContainsFunc(children, func(e childEdge) bool { return keys.PublicKey(e.Hotkey) == keys.PublicKey(c.Hotkey) }) {
			if err := update(keys.PublicKey(c.Hotkey), 0, false); err != nil {
				return err
			}
		}
	}
	return nil
}

// DissolveChildren deletes a dissolved subnet's child keys, pending sets, childkey takes
// and rate limits (the netuid may be reused).
func (sk *Keeper) DissolveChildren(kv store.KV, netuid uint16) error {
	for _, p := range [][]byte{prefixChildren, prefixParents, prefixPendingCK, prefixChildTake, prefixChildLimit} {
		if err := module.DeletePrefix(kv, module.Key(p, u16(netuid))); err != nil {
			return err
		}
	}
	return nil
}

// relations are a subnet's parent/child edges, read in one scan of its parents lists.
type relations struct {
	parents    map[keys.PublicKey][]childEdge       // child → (prop, parent)
	childProps map[keys.PublicKey][]dtao.Proportion // parent → the proportions it lends
}

func (rel *relations) involved(h keys.PublicKey) bool {
	_, c := rel.parents[h]
	_, p := rel.childProps[h]
	return c || p
}

// subnetRelations reads a subnet's relations; nil when it has none (the common case: one
// empty prefix scan).
func (sk *Keeper) subnetRelations(r store.Reader, netuid uint16) (*relations, error) {
	var rel *relations
	prefix := module.Key(prefixParents, u16(netuid))
	err := r.Iterate(prefix, func(k, v []byte) (bool, error) {
		var es []childEdge
		if err := tx.UnmarshalState(v, &es); err != nil {
			return false, err
		}
		if rel == nil {
			rel = &relations{parents: map[keys.PublicKey][]childEdge{}, childProps: map[keys.PublicKey][]dtao.Proportion{}}
		}
		child := keys.PublicKey(k[len(prefix):])
		rel.parents[child] = es
		for _, e := range es {
			p := keys.PublicKey(e.Hotkey)
			rel.childProps[p] = append(rel.childProps[p], dtao.Proportion(e.Prop))
		}
		return true, nil
	})
	return rel, err
}

// ownStakes reads hotkeys' own alpha on a subnet and root stake, once each.
type ownStakes struct {
	sk     *Keeper
	r      store.Reader
	netuid uint16
	seen   map[keys.PublicKey][2]uint64
}

func (o *ownStakes) get(h keys.PublicKey) (alpha, root uint64, err error) {
	if v, ok := o.seen[h]; ok {
		return v[0], v[1], nil
	}
	if alpha, err = o.sk.HotkeyAlpha(o.r, o.netuid, h); err != nil {
		return 0, 0, err
	}
	if root, err = o.sk.TotalStake(o.r, h); err != nil {
		return 0, 0, err
	}
	o.seen[h] = [2]uint64{alpha, root}
	return alpha, root, nil
}

// inheritStakes turns the own stakes EpochStakes read (alpha on the subnet, root) into
// what the epoch weighs when the subnet has child keys (get_stake_weights_for_network):
// each uid's inherited alpha and inherited root stake (dtao.InheritedStake, the subnet's
// relations for both). Parents need not be uids. Without relations nothing changes.
func (sk *Keeper) inheritStakes(r store.Reader, netuid uint16, hotkeys []keys.PublicKey, alpha, root []uint64) error {
	rel, err := sk.subnetRelations(r, netuid)
	if err != nil || rel == nil {
		return err
	}
	own := &ownStakes{sk: sk, r: r, netuid: netuid, seen: map[keys.PublicKey][2]uint64{}}
	for uid, h := range hotkeys {
		own.seen[h] = [2]uint64{alpha[uid], root[uid]}
	}
	for uid, h := range hotkeys {
		if !rel.involved(h) {
			continue
		}
		ps := rel.parents[h]
		pa, pr, props := make([]uint64, len(ps)), make([]uint64, len(ps)), make([]dtao.Proportion, len(ps))
		for i, e := range ps {
			if pa[i], pr[i], err = own.get(keys.PublicKey(e.Hotkey)); err != nil {
				return err
			}
			props[i] = dtao.Proportion(e.Prop)
		}
		a, rt := own.seen[h][0], own.seen[h][1]
		alpha[uid] = dtao.InheritedStake(a, rel.childProps[h], pa, props)
		root[uid] = dtao.InheritedStake(rt, rel.childProps[h], pr, props)
	}
	return nil
}

// childDividends is the parent/child split of an epoch's dividends (dtao.md §3,
// Dividends (1)): each uid's dividend is shared with its parents on the subnet by
// dtao.SplitParentChild (the childkey take to the child when the coldkeys differ), before
// the alpha/root split, which weighs each receiver by its own stakes. It returns the
// receivers — the uids' hotkeys, then the parents that are not uids, in the order met —
// with their dividends and own alpha and root stakes. Without relations on the subnet it
// returns pay's own vectors (EpochStakes read own stakes then).
func (sk *Keeper) childDividends(r store.Reader, pay stake.EpochPayout) (recv []keys.PublicKey, div, alpha, root []uint64, err error) {
	rel, err := sk.subnetRelations(r, pay.Netuid)
	if err != nil || rel == nil {
		return pay.Hotkeys, pay.Dividends, pay.AlphaStake, pay.RootStake, err
	}
	n := len(pay.Hotkeys)
	recv = slices.Clone(pay.Hotkeys)
	div, alpha, root = make([]uint64, n), slices.Clone(pay.AlphaStake), slices.Clone(pay.RootStake)
	own := &ownStakes{sk: sk, r: r, netuid: pay.Netuid, seen: map[keys.PublicKey][2]uint64{}}
	index := make(map[keys.PublicKey]int, n)
	for uid, h := range pay.Hotkeys {
		index[h] = uid
		if rel.involved(h) { // the epoch saw inherited stakes: the split uses own ones
			if alpha[uid], root[uid], err = own.get(h); err != nil {
				return nil, nil, nil, nil, err
			}
		}
	}
	for uid, h := range pay.Hotkeys {
		d, ps := pay.Dividends[uid], rel.parents[h]
		if len(ps) == 0 || d == 0 {
			div[uid] += d
			continue
		}
		childOwner, _, err := sk.Owner(r, h)
		if err != nil {
			return nil, nil, nil, nil, err
		}
		take, err := sk.ChildkeyTake(r, pay.Netuid, h)
		if err != nil {
			return nil, nil, nil, nil, err
		}
		shares := make([]dtao.ParentShare, len(ps))
		for i, e := range ps {
			p := keys.PublicKey(e.Hotkey)
			a, rt, err := own.get(p)
			if err != nil {
				return nil, nil, nil, nil, err
			}
			po, ok, err := sk.Owner(r, p)
			if err != nil {
				return nil, nil, nil, nil, err
			}
			shares[i] = dtao.ParentShare{Alpha: a, Root: rt, Proportion: dtao.Proportion(e.Prop), SameOwner: ok && po == childOwner}
		}
		sp := dtao.SplitParentChild(d, alpha[uid], root[uid], rel.childProps[h], shares, pay.TaoWeight, take, dtao.DefaultCKBurn)
		div[uid] += sp.Self
		for i, e := range ps {
			p := keys.PublicKey(e.Hotkey)
			j, ok := index[p]
			if !ok {
				j = len(recv)
				index[p] = j
				recv = append(recv, p)
				div = append(div, 0)
				alpha, root = append(alpha, shares[i].Alpha), append(root, shares[i].Root)
			}
			div[j] += sp.Parents[i]
		}
	}
	return recv, div, alpha, root, nil
}

// queryChildren answers "children/<hotkey>/<netuid>" (stake.ChildrenView).
func (sk *Keeper) queryChildren(q module.QueryRequest) (any, error) {
	hot, err := module.AddressArg(q.Args[0])
	if err != nil {
		return nil, err
	}
	n, err := strconv.ParseUint(q.Args[1], 10, 16)
	if err != nil {
		return nil, tx.Errorf(tx.CodeInvalidMessage, "netuid %q is not a number from 0 to 65535", q.Args[1])
	}
	netuid := uint16(n)
	v := stake.ChildrenView{Hotkey: hot.String(), Netuid: netuid}
	views := func(es []childEdge) []stake.ChildView {
		out := make([]stake.ChildView, len(es))
		for i, e := range es {
			out[i] = stake.ChildView{Proportion: e.Prop, Hotkey: keys.AddressOf(e.Hotkey)}
		}
		return out
	}
	cs, err := sk.edges(q.State, prefixChildren, netuid, hot)
	if err != nil {
		return nil, err
	}
	ps, err := sk.edges(q.State, prefixParents, netuid, hot)
	if err != nil {
		return nil, err
	}
	v.Children, v.Parents = views(cs), views(ps)
	var pend pendingChildren
	if ok, err := module.Get(q.State, netKey(prefixPendingCK, netuid, hot), &pend); err != nil {
		return nil, err
	} else if ok {
		v.Pending = &stake.PendingView{Children: views(pend.Children), CooldownBlock: pend.CooldownBlock}
	}
	if v.Take, err = sk.ChildkeyTake(q.State, netuid, hot); err != nil {
		return nil, err
	}
	p, err := sk.Params(q.State)
	v.Cooldown = p.PendingChildKeyCooldown
	return v, err
}
