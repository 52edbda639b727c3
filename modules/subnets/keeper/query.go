package keeper

import (
	"encoding/json"
	"github.com/tessera-net/tessera/dtao"
	"strconv"

	"github.com/tessera-net/tessera/keys"
	"github.com/tessera-net/tessera/module"
	"github.com/tessera-net/tessera/modules/subnets"
	"github.com/tessera-net/tessera/store"
	"github.com/tessera-net/tessera/tx"
	"github.com/tessera-net/tessera/yuma/yumajson"
)

func parseNetuid(s string) (uint16, error) {
	v, err := strconv.ParseUint(s, 10, 16)
	if err != nil {
		return 0, tx.Errorf(tx.CodeInvalidMessage, "netuid %q is not a number from 0 to 65535", s)
	}
	return uint16(v), nil
}

// Queries implements module.Module: "list", "params", "emission", "mechanisms",
// "subnet/<netuid>", "hyperparams/<netuid>", "metagraph/<netuid>" (every term, weights
// and bonds included), "metagraph_lite/<netuid>" (without weights and bonds),
// "neuron/<netuid>/<uid>", "validator_scores/<netuid>", "commitment/<netuid>/<hotkey>",
// "epoch_state/<netuid>", "registrations/<address>", "lock_cost" (what a subnets/create
// in the next block locks).
func (k *Keeper) Queries() map[string]module.Route {
	netuid := []string{"netuid"}
	return map[string]module.Route{
		"params":           {Query: func(q module.QueryRequest) (any, error) { return GetParams(q.State) }},
		"list":             {Query: k.queryList},
		"emission":         {Query: k.queryEmission},
		"mechanisms":       {Query: func(module.QueryRequest) (any, error) { return k.mechanisms.Names(), nil }},
		"subnet":           {Args: netuid, Query: k.querySubnet},
		"hyperparams":      {Args: netuid, Query: k.queryHyperparams},
		"metagraph":        {Args: netuid, Query: func(q module.QueryRequest) (any, error) { return k.queryMetagraph(q, false) }},
		"metagraph_lite":   {Args: netuid, Query: func(q module.QueryRequest) (any, error) { return k.queryMetagraph(q, true) }},
		"neuron":           {Args: []string{"netuid", "uid"}, Query: k.queryNeuron},
		"validator_scores": {Args: netuid, Query: k.queryValidatorScores},
		"commitment":       {Args: []string{"netuid", "hotkey"}, Query: k.queryCommitment},
		"epoch_state":      {Args: netuid, Query: k.queryEpochState},
		"registrations":    {Args: []string{"address"}, Query: k.queryRegistrations},
		"lock_cost":        {Query: k.queryLockCost},
	}
}

// queryRegistrations answers the uids a hotkey holds, on every subnet (root included),
// in ascending netuid order: one lookup per subnet.
func (k *Keeper) queryRegistrations(q module.QueryRequest) (any, error) {
	hot, err := module.AddressArg(q.Args[0])
	if err != nil {
		return nil, err
	}
	ids, err := Netuids(q.State)
	if err != nil {
		return nil, err
	}
	st, err := k.stake.TotalStake(q.State, hot) // a hotkey's stake is the same on every subnet
	if err != nil {
		return nil, err
	}
	out := []subnets.RegistrationView{}
	for _, id := range ids {
		uid, ok, err := UIDOf(q.State, id, hot)
		if err != nil {
			return nil, err
		}
		if !ok {
			continue
		}
		n, err := GetNeuron(q.State, id, uid)
		if err != nil {
			return nil, err
		}
		out = append(out, subnets.RegistrationView{Netuid: id, NeuronView: subnets.ViewNeuron(uid, n, st)})
	}
	return out, nil
}

// subnetArg reads the subnet a query's first argument names.
func subnetArg(q module.QueryRequest) (*subnets.Subnet, error) {
	netuid, err := parseNetuid(q.Args[0])
	if err != nil {
		return nil, err
	}
	return GetSubnet(q.State, netuid)
}

// subnetNeurons reads the subnet a query names, its neurons and their stakes.
func (k *Keeper) subnetNeurons(q module.QueryRequest) (*subnets.Subnet, []*subnets.Neuron, []uint64, error) {
	s, err := subnetArg(q)
	if err != nil {
		return nil, nil, nil, err
	}
	neurons, err := Neurons(q.State, s)
	if err != nil {
		return nil, nil, nil, err
	}
	if _, ok, err := k.stake.Pool(q.State, s.Netuid); err != nil {
		return nil, nil, nil, err
	} else if ok {
		// Under dTAO a uid's stake on the subnet is its hotkey's alpha there.
		hot := make([]keys.PublicKey, len(neurons))
		for i, n := range neurons {
			hot[i] = keys.PublicKey(n.Hotkey)
		}
		alpha, _, err := k.stake.EpochStakes(q.State, s.Netuid, hot)
		return s, neurons, alpha, err
	}
	stakes, err := k.stakes(q.State, neurons)
	return s, neurons, stakes, err
}

func (k *Keeper) queryList(q module.QueryRequest) (any, error) {
	_, ids, shares, err := k.emissionState(q.State)
	if err != nil {
		return nil, err
	}
	out := []subnets.SubnetView{}
	for _, id := range ids {
		s, err := GetSubnet(q.State, id)
		if err != nil {
			return nil, err
		}
		v, err := k.viewOf(q.State, s, shares[id])
		if err != nil {
			return nil, err
		}
		out = append(out, *v)
	}
	return out, nil
}

func (k *Keeper) queryEmission(q module.QueryRequest) (any, error) {
	_, _, shares, err := k.emissionState(q.State)
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for id, v := range shares {
		out[strconv.Itoa(int(id))] = strconv.FormatUint(v, 10)
	}
	return out, nil
}

func (k *Keeper) querySubnet(q module.QueryRequest) (any, error) {
	s, err := subnetArg(q)
	if err != nil {
		return nil, err
	}
	share, err := k.emissionShare(q.State, s.Netuid)
	if err != nil {
		return nil, err
	}
	return k.viewOf(q.State, s, share)
}

// viewOf is subnetView with, under dTAO, the pending alpha and the dTAO schedule's next
// epoch (a tempo after the last, or an owner-triggered one sooner).
func (k *Keeper) viewOf(r store.Reader, s *subnets.Subnet, share uint64) (*subnets.SubnetView, error) {
	v := subnetView(s, share)
	p, ok, err := k.stake.Pool(r, s.Netuid)
	if err != nil || !ok {
		return v, err
	}
	v.Pending = p.PendingServer + p.PendingValidator + p.PendingRoot + p.PendingOwnerCut
	v.NextEpochBlock = 0
	if s.Hyper.Tempo > 0 {
		v.NextEpochBlock = s.LastEpochBlock + uint64(s.Hyper.Tempo)
	}
	if v.PendingEpochAt = s.PendingEpochAt; v.PendingEpochAt != 0 {
		v.NextEpochBlock = min(v.NextEpochBlock, v.PendingEpochAt)
	}
	return v, nil
}

func (k *Keeper) queryHyperparams(q module.QueryRequest) (any, error) {
	s, err := subnetArg(q)
	if err != nil {
		return nil, err
	}
	return s.Hyper, nil
}

func (k *Keeper) queryMetagraph(q module.QueryRequest, lite bool) (any, error) {
	s, neurons, stakes, err := k.subnetNeurons(q)
	if err != nil {
		return nil, err
	}
	return subnets.NewMetagraph(s, q.Height, neurons, stakes, lite), nil
}

func (k *Keeper) queryValidatorScores(q module.QueryRequest) (any, error) {
	s, neurons, stakes, err := k.subnetNeurons(q)
	if err != nil {
		return nil, err
	}
	return subnets.ValidatorScoresView{Netuid: s.Netuid, Block: q.Height, Scores: subnets.ValidatorScores(neurons, stakes)}, nil
}

func (k *Keeper) queryNeuron(q module.QueryRequest) (any, error) {
	netuid, err := parseNetuid(q.Args[0])
	if err != nil {
		return nil, err
	}
	uid, err := strconv.ParseUint(q.Args[1], 10, 16)
	if err != nil {
		return nil, tx.Errorf(tx.CodeInvalidMessage, "uid %q is not a number from 0 to 65535", q.Args[1])
	}
	if _, err := GetSubnet(q.State, netuid); err != nil {
		return nil, err
	}
	n, err := GetNeuron(q.State, netuid, uint16(uid))
	if err != nil {
		return nil, err
	}
	st, err := k.stake.TotalStake(q.State, keys.PublicKey(n.Hotkey))
	if err != nil {
		return nil, err
	}
	return subnets.ViewNeuron(uint16(uid), n, st), nil
}

func (k *Keeper) queryCommitment(q module.QueryRequest) (any, error) {
	netuid, err := parseNetuid(q.Args[0])
	if err != nil {
		return nil, err
	}
	if _, err := GetSubnet(q.State, netuid); err != nil {
		return nil, err
	}
	hot, err := module.AddressArg(q.Args[1])
	if err != nil {
		return nil, err
	}
	c, ok, err := GetCommitment(q.State, netuid, hot)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, tx.Errorf(tx.CodeNotFound, "hotkey %s has no commitment on subnet %d", hot, netuid)
	}
	return c, nil
}

func (k *Keeper) queryEpochState(q module.QueryRequest) (any, error) {
	s, err := subnetArg(q)
	if err != nil {
		return nil, err
	}
	return k.epochStateView(q, s)
}

// emissionShare is one subnet's share of the block emission.
func (k *Keeper) emissionShare(r store.Reader, netuid uint16) (uint64, error) {
	_, _, shares, err := k.emissionState(r)
	return shares[netuid], err
}

func subnetView(s *subnets.Subnet, share uint64) *subnets.SubnetView {
	v := &subnets.SubnetView{Netuid: s.Netuid, Mechanism: s.Mechanism, Owner: keys.PublicKey(s.Owner).String(), OwnerHotkey: keys.PublicKey(s.OwnerHotkey).String(),
		CreatedAt: s.CreatedAt, N: s.N, Burn: s.Burn, Pending: s.Pending, EmissionPerBlk: share, LastEpochBlock: s.LastEpochBlock,
		Locked: s.Locked, Hyperparams: s.Hyper}
	if s.Netuid == subnets.RootNetuid {
		v.Owner, v.OwnerHotkey = "", "" // root has no owner
	}
	if s.Hyper.Tempo > 0 && s.Netuid != subnets.RootNetuid {
		// The next block b > last at which (b + netuid + 1) % (tempo + 1) == 0.
		period := uint64(s.Hyper.Tempo) + 1
		from := max(s.LastEpochBlock, uint64(max(s.CreatedAt, 0))) + 1
		v.NextEpochBlock = from + (period-(from+uint64(s.Netuid)+1)%period)%period
	}
	return v
}

// epochStateView is the epoch state (docs/yuma.md "§9 The epoch-state JSON") that the
// subnet's epoch would see if it ran in the next block with no transaction in it: feed it
// to `tessera yuma simulate` to try hyperparameters on the live state.
func (k *Keeper) epochStateView(q module.QueryRequest, s *subnets.Subnet) (json.RawMessage, error) {
	p, err := GetParams(q.State)
	if err != nil {
		return nil, err
	}
	if p.DTAO {
		// Under dTAO: the alpha pending now (the next block's coinbase adds one block's).
		srv, val, root, _, err := k.stake.Pending(q.State, s.Netuid)
		if err != nil {
			return nil, err
		}
		in, err := k.EpochInputDTAO(q.State, s, uint64(max(q.Height, 0))+1, dtao.EpochEmission(srv, val, root), p.TaoWeight)
		if err != nil {
			return nil, err
		}
		return yumajson.MarshalState(&yumajson.State{EpochState: *subnets.YumaState(in), Sparse: true})
	}
	share, err := k.emissionShare(q.State, s.Netuid)
	if err != nil {
		return nil, err
	}
	pending := s.Pending + share
	in, err := k.EpochInput(q.State, s, uint64(max(q.Height, 0))+1, pending-subnets.OwnerCut(pending, p))
	if err != nil {
		return nil, err
	}
	return yumajson.MarshalState(&yumajson.State{EpochState: *subnets.YumaState(in), Sparse: true})
}
