package keeper

import (
	"strconv"
	"strings"

	"github.com/tessera-net/tessera/keys"
	"github.com/tessera-net/tessera/module"
	"github.com/tessera-net/tessera/modules/inference"
	"github.com/tessera-net/tessera/poc"
	"github.com/tessera-net/tessera/store"
	"github.com/tessera-net/tessera/tx"
)

// Handlers implements module.Module.
func (k *Keeper) Handlers() map[string]module.Handler {
	return map[string]module.Handler{
		inference.MsgMLNodes: k.handleMLNodes,
		inference.MsgCommit:  k.handleCommit,
		inference.MsgVerdict: k.handleVerdict,
		// Paid inference (payments.go).
		inference.MsgStart:    k.handleStart,
		inference.MsgFinish:   k.handleFinish,
		inference.MsgValidate: k.handleValidate,
		inference.MsgVote:     k.handleVote,
	}
}

// checkParticipant checks that netuid is a poc subnet and signer is registered on it.
func (k *Keeper) checkParticipant(r store.Reader, netuid uint16, signer keys.PublicKey) error {
	s, err := k.subnets.Subnet(r, netuid)
	if err != nil {
		return err
	}
	if s.Mechanism != inference.Mechanism {
		return tx.Errorf(tx.CodeInvalidMessage, "subnet %d's mechanism is %q, not %q: it has no inference participants", netuid, s.Mechanism, inference.Mechanism)
	}
	if _, ok, err := k.subnets.UIDOf(r, netuid, signer); err != nil {
		return err
	} else if !ok {
		return tx.Errorf(tx.CodeUnauthorized, "hotkey %s is not registered on subnet %d", signer, netuid)
	}
	return nil
}

// handleMLNodes applies a hardware diff: removals, then additions and replacements,
// every model id checked against the registry (the unknown ones are listed).
func (k *Keeper) handleMLNodes(ctx *module.Context, signer keys.PublicKey, msg tx.Msg) error {
	var d inference.HardwareDiff
	if err := msg.DecodeBody(&d); err != nil {
		return err
	}
	if err := d.Validate(); err != nil {
		return err
	}
	if err := k.checkParticipant(ctx.KV, d.Netuid, signer); err != nil {
		return err
	}
	if err := k.checkModels(ctx.KV, d.Add); err != nil {
		return err
	}
	nodes, err := k.Participant(ctx.KV, d.Netuid, signer)
	if err != nil {
		return err
	}
	var missing []string
	for _, id := range d.Remove {
		i := nodeIndex(nodes, id)
		if i < 0 {
			missing = append(missing, id)
			continue
		}
		nodes = append(nodes[:i], nodes[i+1:]...)
	}
	if len(missing) > 0 {
		return tx.Errorf(tx.CodeNotFound, "hotkey %s declares no MLNode %s on subnet %d", signer, strings.Join(missing, ", "), d.Netuid)
	}
	for _, n := range d.Add {
		if i := nodeIndex(nodes, n.ID); i >= 0 {
			nodes[i] = n
		} else {
			nodes = append(nodes, n)
		}
	}
	if len(nodes) > inference.MaxMLNodes {
		return tx.Errorf(tx.CodeInvalidMessage, "the diff leaves %d MLNodes, the limit is %d per participant", len(nodes), inference.MaxMLNodes)
	}
	key := participantKey(d.Netuid, signer)
	if len(nodes) == 0 {
		if err := ctx.KV.Delete(key); err != nil {
			return err
		}
	} else if err := module.Put(ctx.KV, key, participant{Nodes: nodes}); err != nil {
		return err
	}
	ctx.Emit("mlnodes", module.Attr("netuid", strconv.Itoa(int(d.Netuid))), module.Attr("hotkey", signer.String()),
		module.Attr("added", strconv.Itoa(len(d.Add))), module.Attr("removed", strconv.Itoa(len(d.Remove))),
		module.Attr("mlnodes", strconv.Itoa(len(nodes))))
	return nil
}

// checkModels refuses nodes that declare a model the registry does not hold, naming
// every unknown id once, in the order they first appear.
func (k *Keeper) checkModels(r store.Reader, nodes []inference.MLNode) error {
	var unknown []string
	seen := map[string]bool{}
	for _, n := range nodes {
		for _, id := range n.Models {
			if seen[id] {
				continue
			}
			seen[id] = true
			if _, ok, err := k.models.Model(r, id); err != nil {
				return err
			} else if !ok {
				unknown = append(unknown, id)
			}
		}
	}
	if len(unknown) > 0 {
		return tx.Errorf(tx.CodeNotFound, "unknown model ids: %s (the governance registry holds the models an MLNode may declare: tessera model list)", strings.Join(unknown, ", "))
	}
	return nil
}

func nodeIndex(nodes []inference.MLNode, id string) int {
	for i := range nodes {
		if nodes[i].ID == id {
			return i
		}
	}
	return -1
}

// roundFor reads the round a commitment or verdict names.
func (k *Keeper) roundFor(r store.Reader, netuid uint16, epoch uint64, what string) (*inference.Round, error) {
	rd, ok, err := k.Round(r, netuid, epoch)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, tx.Errorf(tx.CodeWrongStage, "subnet %d has no PoC round for epoch %d: %s refused", netuid, epoch, what)
	}
	return rd, nil
}

func rosterMember(rd *inference.Round, hot inference.Account) *inference.RosterMember {
	for i := range rd.Roster {
		if rd.Roster[i].Hotkey == hot {
			return &rd.Roster[i]
		}
	}
	return nil
}

// handleCommit stores an MLNode's commitment for the round in progress.
func (k *Keeper) handleCommit(ctx *module.Context, signer keys.PublicKey, msg tx.Msg) error {
	var c inference.Commit
	if err := msg.DecodeBody(&c); err != nil {
		return err
	}
	if err := c.Validate(); err != nil {
		return err
	}
	rd, err := k.roundFor(ctx.KV, c.Netuid, c.Epoch, "commitment")
	if err != nil {
		return err
	}
	h := uint64(ctx.Height)
	if h <= rd.PoCStart || h >= rd.ValidationStart {
		return tx.Errorf(tx.CodeWrongStage, "epoch %d takes commitments in blocks %d to %d; this is block %d", c.Epoch, rd.PoCStart+1, rd.ValidationStart-1, h)
	}
	m := rosterMember(rd, inference.Account(signer))
	if m == nil {
		return tx.Errorf(tx.CodeUnauthorized, "hotkey %s is not in epoch %d's PoC roster on subnet %d (MLNodes declared after PoC start mine in the next one)", signer, c.Epoch, c.Netuid)
	}
	var node *inference.RosterNode
	for i := range m.Nodes {
		if m.Nodes[i].ID == c.MLNode {
			node = &m.Nodes[i]
		}
	}
	if node == nil {
		return tx.Errorf(tx.CodeNotFound, "MLNode %s is not in epoch %d's roster for hotkey %s", c.MLNode, c.Epoch, signer)
	}
	if node.Slot == poc.PoCSlot {
		return tx.Errorf(tx.CodeConflict, "MLNode %s holds POC_SLOT in epoch %d: it keeps serving and keeps its previous weight, so it commits nothing", c.MLNode, c.Epoch)
	}
	if err := module.Put(ctx.KV, commitKey(c.Netuid, c.Epoch, inference.Account(signer), c.MLNode), commitment{Root: c.Root, Count: c.Count, Height: h}); err != nil {
		return err
	}
	ctx.Emit("poc_commit", module.Attr("netuid", strconv.Itoa(int(c.Netuid))), module.Attr("epoch", strconv.FormatUint(c.Epoch, 10)),
		module.Attr("hotkey", signer.String()), module.Attr("mlnode", c.MLNode), module.Attr("count", strconv.FormatUint(c.Count, 10)))
	return nil
}

// committedTotal is the sum of a participant's commitment counts in a round.
func (k *Keeper) committedTotal(r store.Reader, rd *inference.Round, m *inference.RosterMember) (uint64, error) {
	var total uint64
	for _, n := range m.Nodes {
		var c commitment
		if _, err := module.Get(r, commitKey(rd.Netuid, rd.Epoch, m.Hotkey, n.ID), &c); err != nil {
			return 0, err
		}
		total += c.Count // each ≤ 2^40, at most 32 nodes: no overflow
	}
	return total, nil
}

// handleVerdict stores a validator's judgements of the round in validation. Each
// judgement's sample size must be the one the rule draws, min(sample, committed), and
// its acceptance is the statistical test's on its counts.
func (k *Keeper) handleVerdict(ctx *module.Context, signer keys.PublicKey, msg tx.Msg) error {
	var v inference.Verdict
	if err := msg.DecodeBody(&v); err != nil {
		return err
	}
	if err := v.Validate(); err != nil {
		return err
	}
	rd, err := k.roundFor(ctx.KV, v.Netuid, v.Epoch, "verdict")
	if err != nil {
		return err
	}
	h := uint64(ctx.Height)
	if !rd.Validated || rd.Formed || h <= rd.ValidationStart || h >= rd.Formation {
		return tx.Errorf(tx.CodeWrongStage, "epoch %d takes verdicts in blocks %d to %d; this is block %d", v.Epoch, rd.ValidationStart+1, rd.Formation-1, h)
	}
	validator := inference.Account(signer)
	isValidator := false
	for _, val := range rd.Validators {
		isValidator = isValidator || val.Hotkey == validator
	}
	if !isValidator {
		return tx.Errorf(tx.CodeUnauthorized, "hotkey %s is not a validator of epoch %d on subnet %d (validators are the subnet's hotkeys with stake at validation start)", signer, v.Epoch, v.Netuid)
	}
	test := poc.DefaultTest()
	for i, j := range v.Judgements {
		var pk inference.Account
		copy(pk[:], j.Participant)
		m := rosterMember(rd, pk)
		if m == nil {
			return tx.Errorf(tx.CodeNotFound, "judgements[%d]: %s is not in epoch %d's roster", i, pk, v.Epoch)
		}
		total, err := k.committedTotal(ctx.KV, rd, m)
		if err != nil {
			return err
		}
		if want := min(uint64(rd.Params.ValidationSample), total); uint64(j.Sampled) != want {
			return tx.Errorf(tx.CodeInvalidMessage, "judgements[%d]: %d sampled, but the sample of %s is min(%d, %d committed) = %d", i, j.Sampled, pk, rd.Params.ValidationSample, total, want)
		}
		jd := judgement{Sampled: j.Sampled, Failures: j.Failures, Accept: j.Sampled > 0 && !test.Reject(int(j.Failures), int(j.Sampled)), Height: h}
		if err := module.Put(ctx.KV, judgementKey(v.Netuid, v.Epoch, validator, pk), jd); err != nil {
			return err
		}
	}
	ctx.Emit("poc_verdict", module.Attr("netuid", strconv.Itoa(int(v.Netuid))), module.Attr("epoch", strconv.FormatUint(v.Epoch, 10)),
		module.Attr("validator", signer.String()), module.Attr("judgements", strconv.Itoa(len(v.Judgements))))
	return nil
}
