package apinode

import (
	"context"
	"fmt"

	"github.com/tessera-net/tessera/keys"
	"github.com/tessera-net/tessera/modules/inference"
	"github.com/tessera-net/tessera/modules/subnets"
)

// view is what the API node last read of the chain, replaced whole at each poll.
type view struct {
	epoch inference.EpochView
	// registered: the subnet's registered hotkeys, each with its axon's URL ("" when it
	// serves none).
	registered map[inference.Account]string
	// eligible are the executors of each model of the group in force as the chain
	// checks them now (inference/eligible).
	eligible map[string]inference.EligibleView
	ok       bool // read at least once
}

func (v *view) height() uint64 { return v.epoch.Phase.Height }

// group is the group in force (nil before the first).
func (v *view) group() *inference.Group { return v.epoch.Current }

// duringPoC: a round is in progress (from its PoC start to its switch), when only the
// POC_SLOT nodes serve.
func (v *view) duringPoC() bool { return inference.DuringPoC(v.epoch.Round) }

// candidates are model's executors now: the chain's list when it was read, else
// inference.Eligible over the group in force with the round's slots.
func (v *view) candidates(model string) []inference.Candidate {
	if e, ok := v.eligible[model]; ok {
		return e.Candidates
	}
	g := v.group()
	if v.duringPoC() {
		return inference.Eligible(inference.WithSlots(g, v.epoch.Round), model, true)
	}
	return inference.Eligible(g, model, false)
}

// subgroup is model's subgroup in the group in force.
func (v *view) subgroup(model string) (*inference.Subgroup, bool) {
	g := v.group()
	if g == nil {
		return nil, false
	}
	for i := range g.Models {
		if g.Models[i].Model.ID == model {
			return &g.Models[i], true
		}
	}
	return nil, false
}

// url is a registered participant's API node URL.
func (v *view) url(a inference.Account) (string, bool) {
	u, ok := v.registered[a]
	return u, ok && u != ""
}

// refresh reads the epoch view and the subnet's neurons.
func (n *Node) refresh(ctx context.Context) (*view, error) {
	v := &view{registered: map[inference.Account]string{}, eligible: map[string]inference.EligibleView{}, ok: true}
	if err := n.cfg.Chain.Query(ctx, fmt.Sprintf("/inference/epoch/%d", n.cfg.Netuid), &v.epoch); err != nil {
		return nil, err
	}
	var mg subnets.Metagraph
	if err := n.cfg.Chain.Query(ctx, fmt.Sprintf("/subnets/metagraph_lite/%d", n.cfg.Netuid), &mg); err != nil {
		return nil, err
	}
	for i, h := range mg.Hotkeys {
		pub, err := keys.ParsePublicKey(h)
		if err != nil {
			continue
		}
		u := ""
		if i < len(mg.Axons) && mg.Axons[i].Port != 0 && mg.Axons[i].IP != "" {
			u = "http://" + joinHostPort(mg.Axons[i].IP, mg.Axons[i].Port)
		}
		v.registered[inference.Account(pub)] = u
	}
	if g := v.group(); g != nil {
		for _, sg := range g.Models {
			var e inference.EligibleView
			if err := n.cfg.Chain.Query(ctx, fmt.Sprintf("/inference/eligible/%d/%s", n.cfg.Netuid, sg.Model.ID), &e); err == nil {
				v.eligible[sg.Model.ID] = e
			}
		}
	}
	n.view.Store(v)
	return v, nil
}

// current is the last view read.
func (n *Node) current() *view { return n.view.Load() }
