package keeper

import (
	"slices"
	"strconv"

	"github.com/tessera-net/tessera/keys"
	"github.com/tessera-net/tessera/module"
	"github.com/tessera-net/tessera/modules/inference"
	"github.com/tessera-net/tessera/modules/models"
	"github.com/tessera-net/tessera/poc"
	"github.com/tessera-net/tessera/store"
	"github.com/tessera-net/tessera/tx"
)

// Queries implements module.Module:
//
//	epoch/<netuid>             where the chain stands: the phase, the group in force, the
//	                           group formed and waiting for its switch, the round in progress
//	group/<netuid>/<epoch>     an epoch's group (the last KeepGroups are kept)
//	round/<netuid>/<epoch>     an epoch's PoC round: roster with slots, seeds, validators
//	commitments/<netuid>/<epoch>, verdicts/<netuid>/<epoch>
//	participants/<netuid>      every declared participant and its MLNodes (the live
//	                           declarations, in force from the next PoC)
//	mlnodes/<netuid>/<hotkey>  one participant's MLNodes with their allocation and weight
//	models/<netuid>            the models of the group in force (the epoch snapshot)
//	pricing/<netuid>           their prices (models/pricing is the upcoming, governance one)
//
// and the paid inference's (payments_query.go): record, finished, voting, executor,
// executors, usage, eligible.
func (k *Keeper) Queries() map[string]module.Route {
	netuidEpoch := []string{"netuid", "epoch"}
	routes := map[string]module.Route{
		"epoch": {Args: []string{"netuid"}, Query: k.queryEpoch},
		"group": {Args: netuidEpoch, Query: func(q module.QueryRequest) (any, error) {
			netuid, epoch, err := k.netuidEpoch(q)
			if err != nil {
				return nil, err
			}
			g, ok, err := k.Group(q.State, netuid, epoch)
			if err == nil && !ok {
				err = tx.Errorf(tx.CodeNotFound, "subnet %d has no group for epoch %d (formed at the end of its validation; the last %d are kept)", netuid, epoch, KeepGroups)
			}
			return g, err
		}},
		"round": {Args: netuidEpoch, Query: func(q module.QueryRequest) (any, error) {
			netuid, epoch, err := k.netuidEpoch(q)
			if err != nil {
				return nil, err
			}
			rd, ok, err := k.Round(q.State, netuid, epoch)
			if err == nil && !ok {
				err = tx.Errorf(tx.CodeNotFound, "subnet %d has no PoC round for epoch %d (rounds start at PoC start; two epochs are kept)", netuid, epoch)
			}
			return rd, err
		}},
		"commitments": {Args: netuidEpoch, Query: func(q module.QueryRequest) (any, error) {
			netuid, epoch, err := k.netuidEpoch(q)
			if err != nil {
				return nil, err
			}
			return k.Commitments(q.State, netuid, epoch)
		}},
		"verdicts": {Args: netuidEpoch, Query: func(q module.QueryRequest) (any, error) {
			netuid, epoch, err := k.netuidEpoch(q)
			if err != nil {
				return nil, err
			}
			return k.Judgements(q.State, netuid, epoch)
		}},
		"participants": {Args: []string{"netuid"}, Query: k.queryParticipants},
		"mlnodes":      {Args: []string{"netuid", "hotkey"}, Query: k.queryMLNodes},
		"models": {Args: []string{"netuid"}, Query: func(q module.QueryRequest) (any, error) {
			g, err := k.currentArg(q)
			out := []models.Spec{}
			if g != nil {
				for _, sg := range g.Models {
					out = append(out, sg.Model)
				}
			}
			return out, err
		}},
		"pricing": {Args: []string{"netuid"}, Query: func(q module.QueryRequest) (any, error) {
			g, err := k.currentArg(q)
			out := []models.PriceView{}
			if g != nil {
				for _, sg := range g.Models {
					out = append(out, models.PriceView{ID: sg.Model.ID, PricePerToken: sg.Model.PricePerToken})
				}
			}
			return out, err
		}},
	}
	for name, r := range k.paymentQueries() {
		routes[name] = r
	}
	return routes
}

func parseNetuid(s string) (uint16, error) {
	v, err := strconv.ParseUint(s, 10, 16)
	if err != nil {
		return 0, tx.Errorf(tx.CodeInvalidMessage, "netuid %q is not a number from 0 to 65535", s)
	}
	return uint16(v), nil
}

// pocSubnet parses a netuid argument and checks that the subnet is a poc one.
func (k *Keeper) pocSubnet(r store.Reader, arg string) (uint16, error) {
	netuid, err := parseNetuid(arg)
	if err != nil {
		return 0, err
	}
	s, err := k.subnets.Subnet(r, netuid)
	if err != nil {
		return 0, err
	}
	if s.Mechanism != inference.Mechanism {
		return 0, tx.Errorf(tx.CodeInvalidMessage, "subnet %d's mechanism is %q, not %q", netuid, s.Mechanism, inference.Mechanism)
	}
	return netuid, nil
}

func (k *Keeper) netuidEpoch(q module.QueryRequest) (uint16, uint64, error) {
	netuid, err := k.pocSubnet(q.State, q.Args[0])
	if err != nil {
		return 0, 0, err
	}
	epoch, err := strconv.ParseUint(q.Args[1], 10, 64)
	if err != nil {
		return 0, 0, tx.Errorf(tx.CodeInvalidMessage, "epoch %q is not a number", q.Args[1])
	}
	return netuid, epoch, nil
}

func (k *Keeper) currentArg(q module.QueryRequest) (*inference.Group, error) {
	netuid, err := k.pocSubnet(q.State, q.Args[0])
	if err != nil {
		return nil, err
	}
	return k.Current(q.State, netuid)
}

func (k *Keeper) queryEpoch(q module.QueryRequest) (any, error) {
	netuid, err := k.pocSubnet(q.State, q.Args[0])
	if err != nil {
		return nil, err
	}
	p, err := k.models.Params(q.State)
	if err != nil {
		return nil, err
	}
	v := inference.EpochView{Phase: inference.Schedule(p, uint64(q.Height)), Params: p}
	if v.Current, err = k.Current(q.State, netuid); err != nil {
		return nil, err
	}
	rd, err := k.LatestRound(q.State, netuid)
	if err != nil || rd == nil {
		return v, err
	}
	v.Round = rd
	if rd.Epoch == v.Phase.Epoch && !rd.Abandoned {
		// The round keeps the parameters it started with: its heights are the phase's.
		next := v.Phase.NextPoC
		v.Phase = inference.PhaseIn(rd.Params, rd.Epoch, rd.PoCStart, v.Phase.Height)
		v.Phase.NextPoC = next
	}
	if rd.Formed && !rd.Switched {
		if v.Upcoming, _, err = k.Group(q.State, netuid, rd.Epoch); err != nil {
			return nil, err
		}
	}
	return v, nil
}

func (k *Keeper) queryParticipants(q module.QueryRequest) (any, error) {
	netuid, err := k.pocSubnet(q.State, q.Args[0])
	if err != nil {
		return nil, err
	}
	out := []inference.ParticipantView{}
	prefix := module.Key(prefixParticipant, u16(netuid))
	err = q.State.Iterate(prefix, func(key, val []byte) (bool, error) {
		var p participant
		if err := tx.UnmarshalState(val, &p); err != nil {
			return false, err
		}
		v := inference.ParticipantView{Nodes: p.Nodes}
		copy(v.Hotkey[:], key[len(prefix):])
		uid, ok, err := k.subnets.UIDOf(q.State, netuid, keys.PublicKey(v.Hotkey))
		if err != nil {
			return false, err
		}
		if ok { // a deregistered hotkey's declaration stays, unused, until it re-registers
			v.UID = uid
			out = append(out, v)
		}
		return true, nil
	})
	return out, err
}

// MLNodeView is one declared MLNode with where it stands: its allocation in the latest
// PoC round and its weight in the group in force.
type MLNodeView struct {
	inference.MLNode
	// InRound: the node is in the latest round's roster, with Slot.
	InRound   bool      `json:"in_round"`
	Slot      *poc.Slot `json:"slot,omitempty"`
	Preserved uint32    `json:"preserved_epochs"`
	Weight    uint64    `json:"weight"`
	// PendingChange: its declared models differ from the group's snapshot of it.
	PendingChange bool `json:"pending_change"`
}

func (k *Keeper) queryMLNodes(q module.QueryRequest) (any, error) {
	netuid, err := k.pocSubnet(q.State, q.Args[0])
	if err != nil {
		return nil, err
	}
	hot, err := module.AddressArg(q.Args[1])
	if err != nil {
		return nil, err
	}
	nodes, err := k.Participant(q.State, netuid, hot)
	if err != nil {
		return nil, err
	}
	cur, err := k.Current(q.State, netuid)
	if err != nil {
		return nil, err
	}
	rd, err := k.LatestRound(q.State, netuid)
	if err != nil {
		return nil, err
	}
	out := []MLNodeView{}
	for _, n := range nodes {
		v := MLNodeView{MLNode: n}
		if _, gn := groupNode(cur, inference.Account(hot), n.ID); gn != nil {
			v.Weight = gn.Weight
			v.PendingChange = !slices.Equal(gn.Models, n.Models)
		}
		if rd != nil {
			if m := rosterMember(rd, inference.Account(hot)); m != nil {
				for _, rn := range m.Nodes {
					if rn.ID == n.ID {
						slot := rn.Slot
						v.InRound, v.Slot, v.Preserved = true, &slot, rn.Preserved
					}
				}
			}
		}
		out = append(out, v)
	}
	return out, nil
}
