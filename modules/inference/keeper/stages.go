package keeper

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"

	"github.com/tessera-net/tessera/internal/safemath"
	"github.com/tessera-net/tessera/keys"
	"github.com/tessera-net/tessera/module"
	"github.com/tessera-net/tessera/modules/inference"
	"github.com/tessera-net/tessera/modules/models"
	"github.com/tessera-net/tessera/modules/subnets"
	"github.com/tessera-net/tessera/poc"
	"github.com/tessera-net/tessera/store"
	"github.com/tessera-net/tessera/tx"
)

// KeepGroups is how many epochs of groups the state keeps (the round data, commitments
// and verdicts, only two).
const KeepGroups = 8

// MaxValidators bounds an epoch's validators: the subnet's hotkeys with the most stake.
const MaxValidators = 256

var prefixLastRound = []byte("inf/last/") // netuid → the epoch of the latest round

// LatestRound reads a subnet's latest PoC round (nil before the first).
func (k *Keeper) LatestRound(r store.Reader, netuid uint16) (*inference.Round, error) {
	last, err := module.GetUint64(r, module.Key(prefixLastRound, u16(netuid)))
	if err != nil || last == 0 {
		return nil, err
	}
	rd, _, err := k.Round(r, netuid, last)
	return rd, err
}

// EndBlock settles the inference records due at this block (expiries, payments, the
// ends of votes), then runs the stage transitions due on every poc subnet: the PoC
// start (roster, seed, uptime selection), the validation start (seed, validators), the
// formation of the next group, and the switch to it.
func (k *Keeper) EndBlock(ctx *module.Context) error {
	// What falls due of the inference records first: a payment at this height is
	// made under the group that served it.
	if err := k.settle(ctx); err != nil {
		return fmt.Errorf("inference: records: %w", err)
	}
	ids, err := k.subnets.Netuids(ctx.KV)
	if err != nil {
		return err
	}
	var p *models.Params
	for _, netuid := range ids {
		s, err := k.subnets.Subnet(ctx.KV, netuid)
		if err != nil {
			return err
		}
		if s.Mechanism != inference.Mechanism {
			continue
		}
		if p == nil {
			pp, err := k.models.Params(ctx.KV)
			if err != nil {
				return err
			}
			p = &pp
		}
		if err := k.step(ctx, netuid, *p); err != nil {
			return fmt.Errorf("inference: subnet %d: %w", netuid, err)
		}
	}
	return nil
}

// step runs one subnet's transitions at ctx's height.
func (k *Keeper) step(ctx *module.Context, netuid uint16, p models.Params) error {
	h := uint64(ctx.Height)
	ph := inference.Schedule(p, h)
	if ph.Epoch > 0 && h == ph.PoCStart {
		if err := k.closeLast(ctx, netuid); err != nil {
			return err
		}
		if err := k.startRound(ctx, netuid, p, ph); err != nil {
			return err
		}
	}
	rd, err := k.LatestRound(ctx.KV, netuid)
	if err != nil || rd == nil || rd.Switched || rd.Abandoned {
		return err
	}
	changed := false
	if !rd.Validated && h >= rd.ValidationStart {
		if err := k.startValidation(ctx, rd); err != nil {
			return err
		}
		changed = true
	}
	if rd.Validated && !rd.Formed && h >= rd.Formation {
		if err := k.form(ctx, rd); err != nil {
			return err
		}
		changed = true
	}
	if rd.Formed && !rd.Switched && h >= rd.Switch {
		if err := k.switchTo(ctx, rd); err != nil {
			return err
		}
		changed = true
	}
	if changed {
		return module.Put(ctx.KV, roundKey(netuid, rd.Epoch), rd)
	}
	return nil
}

// closeLast settles the latest round before a new PoC starts: a formed group switches
// now, an unformed round is abandoned. Only a shortened epoch gets here.
func (k *Keeper) closeLast(ctx *module.Context, netuid uint16) error {
	rd, err := k.LatestRound(ctx.KV, netuid)
	if err != nil || rd == nil || rd.Switched || rd.Abandoned {
		return err
	}
	if rd.Formed {
		if err := k.switchTo(ctx, rd); err != nil {
			return err
		}
	} else {
		rd.Abandoned = true
		ctx.Emit("poc_abandoned", module.Attr("netuid", strconv.Itoa(int(netuid))), module.Attr("epoch", strconv.FormatUint(rd.Epoch, 10)))
	}
	return module.Put(ctx.KV, roundKey(netuid, rd.Epoch), rd)
}

// participants lists the subnet's declared participants that are registered now, in
// hotkey order.
func (k *Keeper) participants(r store.Reader, netuid uint16) ([]inference.Account, [][]inference.MLNode, error) {
	var hots []inference.Account
	var nodes [][]inference.MLNode
	prefix := module.Key(prefixParticipant, u16(netuid))
	err := r.Iterate(prefix, func(key, val []byte) (bool, error) {
		var hot inference.Account
		copy(hot[:], key[len(prefix):])
		if _, ok, err := k.subnets.UIDOf(r, netuid, keys.PublicKey(hot)); err != nil || !ok {
			return err == nil, err
		}
		var p participant
		if err := tx.UnmarshalState(val, &p); err != nil {
			return false, err
		}
		hots = append(hots, hot)
		nodes = append(nodes, p.Nodes)
		return true, nil
	})
	return hots, nodes, err
}

// groupNode finds a node of a member in a group (nil when either is absent).
func groupNode(g *inference.Group, hot inference.Account, id string) (*inference.Member, *inference.GroupNode) {
	if g == nil {
		return nil, nil
	}
	for i := range g.Members {
		if g.Members[i].Hotkey != hot {
			continue
		}
		m := &g.Members[i]
		for j := range m.Nodes {
			if m.Nodes[j].ID == id {
				return m, &m.Nodes[j]
			}
		}
		return m, nil
	}
	return nil, nil
}

// startRound opens epoch ph.Epoch's PoC: the block hash is the seed, the registered
// participants' declarations are the roster, and the uptime selection (over the group
// in force) chooses the MLNodes that keep serving (POC_SLOT).
func (k *Keeper) startRound(ctx *module.Context, netuid uint16, p models.Params, ph inference.Phase) error {
	rd := &inference.Round{Netuid: netuid, Epoch: ph.Epoch, Params: p,
		PoCStart: ph.PoCStart, ValidationStart: ph.ValidationStart, Formation: ph.Formation, Switch: ph.Switch}
	copy(rd.PoCSeed[:], ctx.BlockHash)
	hots, decls, err := k.participants(ctx.KV, netuid)
	if err != nil {
		return err
	}
	cur, err := k.Current(ctx.KV, netuid)
	if err != nil {
		return err
	}
	modelSet := map[string]bool{}
	var umembers []poc.UptimeMember
	for i, hot := range hots {
		m := inference.RosterMember{Hotkey: hot}
		um := poc.UptimeMember{}
		if gm, _ := groupNode(cur, hot, ""); gm != nil && gm.Accepted {
			um.Weight = gm.Weight
		}
		for _, n := range decls[i] {
			first := n.Models[0]
			if !modelSet[first] {
				spec, ok, err := k.models.Model(ctx.KV, first)
				if err != nil {
					return err
				}
				if !ok { // the registry never removes a model; guard all the same
					continue
				}
				modelSet[first] = true
				rd.Models = append(rd.Models, inference.PoCModel{ID: first, PoC: spec.PoC})
			}
			rn := inference.RosterNode{MLNode: n}
			un := poc.UptimeNode{ID: n.ID, Model: first}
			if _, gn := groupNode(cur, hot, n.ID); gn != nil {
				rn.PrevWeight = gn.Weight
				un.Throughput = gn.Throughput
				un.Preserved = gn.Preserved
				un.PendingChange = !slices.Equal(gn.Models, n.Models)
			}
			m.Nodes = append(m.Nodes, rn)
			um.Nodes = append(um.Nodes, un)
		}
		if len(m.Nodes) > 0 {
			rd.Roster = append(rd.Roster, m)
			umembers = append(umembers, um)
		}
	}
	sort.Slice(rd.Models, func(i, j int) bool { return rd.Models[i].ID < rd.Models[j].ID })
	if err := k.allocate(rd, cur, umembers, p.MaxPreservedEpochs); err != nil {
		return err
	}
	if err := module.Put(ctx.KV, roundKey(netuid, rd.Epoch), rd); err != nil {
		return err
	}
	if err := module.PutUint64(ctx.KV, module.Key(prefixLastRound, u16(netuid)), rd.Epoch); err != nil {
		return err
	}
	preserved := 0
	for _, m := range rd.Roster {
		for _, n := range m.Nodes {
			if n.Slot == poc.PoCSlot {
				preserved++
			}
		}
	}
	ctx.Emit("poc_start", module.Attr("netuid", strconv.Itoa(int(netuid))), module.Attr("epoch", strconv.FormatUint(rd.Epoch, 10)),
		module.Attr("participants", strconv.Itoa(len(rd.Roster))), module.Attr("preserved", strconv.Itoa(preserved)),
		module.Attr("validation_start", strconv.FormatUint(rd.ValidationStart, 10)))
	return nil
}

// allocate runs the uptime selection over the group in force and writes each roster
// node's slot and consecutive-preservation count.
func (k *Keeper) allocate(rd *inference.Round, cur *inference.Group, members []poc.UptimeMember, maxPreserved uint32) error {
	if cur == nil || len(members) == 0 {
		return nil
	}
	var mt []poc.ModelThroughput
	for _, sg := range cur.Models {
		var total uint64
		for _, m := range cur.Members {
			for _, n := range m.Nodes {
				if n.PoCModel == sg.Model.ID {
					total = satAdd(total, n.Throughput)
				}
			}
		}
		mt = append(mt, poc.ModelThroughput{Model: sg.Model.ID, Total: total})
	}
	slots, err := poc.SelectUptime(rd.PoCSeed, members, mt, maxPreserved)
	if err != nil {
		return err
	}
	for i := range rd.Roster {
		for j := range rd.Roster[i].Nodes {
			n := &rd.Roster[i].Nodes[j]
			n.Slot = slots[i][j]
			n.Preserved = poc.NextPreserved(members[i].Nodes[j].Preserved, n.Slot)
		}
	}
	return nil
}

func satAdd(a, b uint64) uint64 {
	if a+b < a {
		return ^uint64(0)
	}
	return a + b
}

// startValidation seeds the samples with the block hash and snapshots the validators:
// the round's participants with stake (a validator re-runs nonces, so it runs the PoC
// machinery; a hotkey without MLNodes does not judge), the MaxValidators largest (the
// lower uid first on a tie).
func (k *Keeper) startValidation(ctx *module.Context, rd *inference.Round) error {
	rd.Validated = true
	copy(rd.ValidationSeed[:], ctx.BlockHash)
	s, err := k.subnets.Subnet(ctx.KV, rd.Netuid)
	if err != nil {
		return err
	}
	neurons, err := k.subnets.Neurons(ctx.KV, s)
	if err != nil {
		return err
	}
	weights, err := k.stakeWeights(ctx.KV, rd.Netuid, neurons)
	if err != nil {
		return err
	}
	var vals []inference.Validator
	for i, n := range neurons {
		var a inference.Account
		copy(a[:], n.Hotkey)
		if weights[i] > 0 && rosterMember(rd, a) != nil {
			vals = append(vals, inference.Validator{Hotkey: a, Stake: weights[i]})
		}
	}
	sort.SliceStable(vals, func(i, j int) bool { return vals[i].Stake > vals[j].Stake })
	if len(vals) > MaxValidators {
		vals = vals[:MaxValidators]
	}
	rd.Validators = vals
	ctx.Emit("poc_validation", module.Attr("netuid", strconv.Itoa(int(rd.Netuid))), module.Attr("epoch", strconv.FormatUint(rd.Epoch, 10)),
		module.Attr("validators", strconv.Itoa(len(vals))), module.Attr("formation", strconv.FormatUint(rd.Formation, 10)))
	return nil
}

// stakeWeights is each neuron's stake as the subnet's epoch weighs it: under dTAO its
// alpha on the subnet plus its root stake × tao_weight (as Yuma sees it), otherwise its
// stake.
func (k *Keeper) stakeWeights(r store.Reader, netuid uint16, neurons []*subnets.Neuron) ([]uint64, error) {
	p, err := k.subnets.Params(r)
	if err != nil {
		return nil, err
	}
	hot := make([]keys.PublicKey, len(neurons))
	for i, n := range neurons {
		hot[i] = keys.PublicKey(n.Hotkey)
	}
	alpha, root, err := k.stake.EpochStakes(r, netuid, hot)
	if err != nil {
		return nil, err
	}
	out := make([]uint64, len(neurons))
	for i := range out {
		if p.DTAO {
			out[i] = satAdd(alpha[i], safemath.MulDiv(root[i], p.TaoWeight, math.MaxUint64))
		} else {
			out[i] = root[i]
		}
	}
	return out, nil
}

// form builds epoch rd.Epoch's group: each participant's acceptance from the verdicts,
// each node's weight (its commitment's count, or its previous weight when preserved),
// coverage, the registry's models frozen into one subgroup per model served, and the
// expected throughput per model and slot, under the round's parameters. It takes effect
// at rd.Switch.
func (k *Keeper) form(ctx *module.Context, rd *inference.Round) error {
	p := rd.Params
	specs, err := k.models.Models(ctx.KV)
	if err != nil {
		return err
	}
	byID := map[string]models.Spec{}
	for _, s := range specs {
		byID[s.ID] = s.Spec
	}
	g := &inference.Group{Netuid: rd.Netuid, Epoch: rd.Epoch, PoCSeed: rd.PoCSeed, ValidationSeed: rd.ValidationSeed,
		FormedAt: uint64(ctx.Height), ActiveFrom: rd.Switch, CoverageBonusPPM: p.CoverageBonusPPM}
	members, err := k.judgeMembers(ctx.KV, rd, g)
	if err != nil {
		return err
	}
	served := servedModels(g)
	real := make(map[string]uint64, len(served))
	for _, id := range served {
		if real[id], err = module.GetUint64(ctx.KV, throughputKey(rd.Netuid, rd.Epoch, id)); err != nil {
			return err
		}
	}
	if p.ThroughputCheck {
		checkThroughput(members, byID, real)
	}
	dist, err := poc.Rewards(0, served, members, uint64(p.CoverageBonusPPM))
	if err != nil {
		return err
	}
	for i := range g.Members {
		m, pay := &g.Members[i], dist.Members[i]
		m.Weight, m.Covered = pay.Weight, pay.Covered
		for j := range m.Nodes {
			n := &m.Nodes[j]
			n.Weight = pay.NodeWeights[j]
			n.Throughput = satMul(n.Weight, byID[n.PoCModel].ThroughputPerNonce)
		}
		g.TotalWeight = satAdd(g.TotalWeight, m.Weight)
	}
	g.Models = subgroups(g, served, byID, real)
	if err := module.Put(ctx.KV, groupKey(rd.Netuid, rd.Epoch), g); err != nil {
		return err
	}
	rd.Formed = true
	ctx.Emit("epoch_group", module.Attr("netuid", strconv.Itoa(int(rd.Netuid))), module.Attr("epoch", strconv.FormatUint(rd.Epoch, 10)),
		module.Attr("members", strconv.Itoa(len(g.Members))), module.Attr("models", strconv.Itoa(len(g.Models))),
		module.Attr("total_weight", strconv.FormatUint(g.TotalWeight, 10)), module.Attr("active_from", strconv.FormatUint(g.ActiveFrom, 10)))
	return nil
}

// judgeMembers adds every rostered participant to g with its nodes' commitments and its
// acceptance, and returns the inputs of poc.Rewards. A participant is accepted when the
// verdicts accepting it hold more than 2/3 of the validators' stake (silence counts
// against), or when it committed nothing (every node preserved, or idle): with no
// sample to fail, its weight is its preserved nodes'.
func (k *Keeper) judgeMembers(r store.Reader, rd *inference.Round, g *inference.Group) ([]poc.Member, error) {
	var total uint64
	for _, v := range rd.Validators {
		total += v.Stake
	}
	members := make([]poc.Member, 0, len(rd.Roster))
	g.Validators = append([]inference.Validator(nil), rd.Validators...)
	for _, rm := range rd.Roster {
		m := inference.Member{Hotkey: rm.Hotkey, Judged: total}
		verdicts := make([]poc.Verdict, len(rd.Validators))
		for i, v := range rd.Validators {
			var j judgement
			if _, err := module.Get(r, judgementKey(rd.Netuid, rd.Epoch, v.Hotkey, rm.Hotkey), &j); err != nil {
				return nil, err
			}
			verdicts[i] = poc.Verdict{Weight: v.Stake, Accept: j.Accept}
			if j.Sampled > 0 || j.Height > 0 {
				g.Validators[i].Voted = true
			}
			if j.Accept {
				m.Accepting += v.Stake
			}
		}
		var committed uint64
		nodes := make([]poc.MLNode, 0, len(rm.Nodes))
		for _, rn := range rm.Nodes {
			var c commitment
			if _, err := module.Get(r, commitKey(rd.Netuid, rd.Epoch, rm.Hotkey, rn.ID), &c); err != nil {
				return nil, err
			}
			committed += c.Count
			m.Nodes = append(m.Nodes, inference.GroupNode{RosterNode: rn, PoCModel: rn.Models[0], Committed: c.Count, Root: c.Root})
			nodes = append(nodes, poc.MLNode{ID: rn.ID, Model: rn.Models[0], Valid: c.Count, Preserved: rn.Slot == poc.PoCSlot, PrevWeight: rn.PrevWeight})
		}
		m.Accepted = committed == 0 || poc.Accepted(verdicts)
		g.Members = append(g.Members, m)
		members = append(members, poc.Member{MLNodes: nodes, Accepted: m.Accepted})
	}
	return members, nil
}

// checkThroughput is the throughput check (models.Params.ThroughputCheck): for each
// model whose preserved nodes served less, during PoC, than the weights they keep
// promise (Σ PrevWeight × throughput per nonce), each of its preserved nodes keeps
// PrevWeight × real / expected.
func checkThroughput(members []poc.Member, byID map[string]models.Spec, real map[string]uint64) {
	expected := map[string]uint64{}
	for _, m := range members {
		for _, n := range m.MLNodes {
			if n.Preserved {
				expected[n.Model] = satAdd(expected[n.Model], satMul(n.PrevWeight, byID[n.Model].ThroughputPerNonce))
			}
		}
	}
	for i := range members {
		for j := range members[i].MLNodes {
			n := &members[i].MLNodes[j]
			if e := expected[n.Model]; n.Preserved && real[n.Model] < e {
				n.PrevWeight = safemath.MulDiv(n.PrevWeight, real[n.Model], e)
			}
		}
	}
}

// subgroups is one subgroup per served model: the model frozen, its members, and its
// expected throughput per slot (PRE_POC_SLOT: every node of the model; POC_SLOT: the
// preserved ones) beside the real one recorded during PoC.
func subgroups(g *inference.Group, served []string, byID map[string]models.Spec, real map[string]uint64) []inference.Subgroup {
	out := make([]inference.Subgroup, 0, len(served))
	for _, id := range served {
		sg := inference.Subgroup{Model: byID[id]}
		sg.RealThroughput[poc.PoCSlot] = real[id]
		for _, m := range g.Members {
			in := false
			for _, n := range m.Nodes {
				if n.PoCModel != id {
					continue
				}
				in = true
				sg.ExpectedThroughput[poc.PrePoCSlot] = satAdd(sg.ExpectedThroughput[poc.PrePoCSlot], n.Throughput)
				if n.Slot == poc.PoCSlot {
					sg.ExpectedThroughput[poc.PoCSlot] = satAdd(sg.ExpectedThroughput[poc.PoCSlot], n.Throughput)
				}
			}
			if in {
				sg.Members = append(sg.Members, m.Hotkey)
			}
		}
		out = append(out, sg)
	}
	return out
}

// servedModels lists, in id order, the models some node of the group mines for: the
// group's subgroups, and the models coverage is counted over.
func servedModels(g *inference.Group) []string {
	set := map[string]bool{}
	var out []string
	for _, m := range g.Members {
		for _, n := range m.Nodes {
			if !set[n.PoCModel] {
				set[n.PoCModel] = true
				out = append(out, n.PoCModel)
			}
		}
	}
	sort.Strings(out)
	return out
}

func satMul(a, b uint64) uint64 {
	if a != 0 && b > ^uint64(0)/a {
		return ^uint64(0)
	}
	return a * b
}

// switchTo puts rd's group in force and drops the round data of two epochs back.
func (k *Keeper) switchTo(ctx *module.Context, rd *inference.Round) error {
	rd.Switched = true
	if err := module.PutUint64(ctx.KV, module.Key(prefixCurrent, u16(rd.Netuid)), rd.Epoch); err != nil {
		return err
	}
	if rd.Epoch > 2 {
		old := rd.Epoch - 2
		for _, prefix := range [][]byte{module.Key(prefixCommit, u16(rd.Netuid), u64(old)), module.Key(prefixJudgement, u16(rd.Netuid), u64(old))} {
			if err := module.DeletePrefix(ctx.KV, prefix); err != nil {
				return err
			}
		}
		if err := ctx.KV.Delete(roundKey(rd.Netuid, old)); err != nil {
			return err
		}
	}
	if rd.Epoch > KeepGroups {
		if err := ctx.KV.Delete(groupKey(rd.Netuid, rd.Epoch-KeepGroups)); err != nil {
			return err
		}
	}
	ctx.Emit("epoch_switch", module.Attr("netuid", strconv.Itoa(int(rd.Netuid))), module.Attr("epoch", strconv.FormatUint(rd.Epoch, 10)))
	return nil
}
