package keeper

import (
	"strconv"

	"github.com/tessera-net/tessera/keys"
	"github.com/tessera-net/tessera/module"
	"github.com/tessera-net/tessera/modules/gov"
	"github.com/tessera-net/tessera/store"
	"github.com/tessera-net/tessera/tx"
)

// Queries implements module.Module: "params", "proposals" (every proposal, in id order,
// with its status), "proposal/<id>", "votes/<id>" and "tally/<id>".
func (k *Keeper) Queries() map[string]module.Route {
	return map[string]module.Route{
		"params":    {Query: func(q module.QueryRequest) (any, error) { return k.Params(q.State) }},
		"proposals": {Query: k.queryProposals},
		"proposal":  {Args: []string{"id"}, Query: k.queryProposal},
		"votes":     {Args: []string{"id"}, Query: k.queryVotes},
		"tally":     {Args: []string{"id"}, Query: k.queryTally},
	}
}

func idArg(s string) (uint64, error) {
	id, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, tx.Errorf(tx.CodeInvalidMessage, "proposal id %q is not a number", s)
	}
	return id, nil
}

func (k *Keeper) view(p *proposal) gov.ProposalView {
	v := gov.ProposalView{ID: p.ID, Proposer: keys.PublicKey(p.Proposer).String(), Title: p.Title, Summary: p.Summary,
		Deposit: p.Deposit, Status: p.Status.String(), SubmitHeight: p.SubmitHeight, VotingEnd: p.VotingEnd,
		Tally: p.Tally, Reason: p.Reason, Actions: make([]gov.ActionView, 0, len(p.Actions))}
	switch p.Status {
	case gov.StatusVoting:
		v.DepositOutcome = "held"
	case gov.StatusNoQuorum:
		v.DepositOutcome = "burned"
	default:
		v.DepositOutcome = "refunded"
	}
	for _, a := range p.Actions {
		av := gov.ActionView{Type: a.Type}
		if viewer, ok := k.actions[a.Type].(ActionViewer); ok {
			if val, err := viewer.View(a); err == nil {
				av.Value = val
			}
		}
		if av.Value == nil {
			av.Body = a.Body
		}
		v.Actions = append(v.Actions, av)
	}
	return v
}

func (k *Keeper) queryProposals(q module.QueryRequest) (any, error) {
	out := []gov.ProposalView{}
	err := q.State.Iterate(prefixProposal, func(_, val []byte) (bool, error) {
		var p proposal
		if err := tx.UnmarshalState(val, &p); err != nil {
			return false, err
		}
		out = append(out, k.view(&p))
		return true, nil
	})
	return out, err
}

func (k *Keeper) queryProposal(q module.QueryRequest) (any, error) {
	id, err := idArg(q.Args[0])
	if err != nil {
		return nil, err
	}
	p, err := k.get(q.State, id)
	if err != nil {
		return nil, err
	}
	return k.view(p), nil
}

func (k *Keeper) queryVotes(q module.QueryRequest) (any, error) {
	id, err := idArg(q.Args[0])
	if err != nil {
		return nil, err
	}
	if _, err := k.get(q.State, id); err != nil {
		return nil, err
	}
	vs, err := k.votes(q.State, id)
	if err != nil {
		return nil, err
	}
	out := make([]gov.VoteView, 0, len(vs))
	for _, v := range vs {
		w, err := k.stake.ColdkeyStake(q.State, v.voter)
		if err != nil {
			return nil, err
		}
		out = append(out, gov.VoteView{Voter: v.voter.String(), Option: v.option.String(), Weight: w})
	}
	return out, nil
}

func (k *Keeper) queryTally(q module.QueryRequest) (any, error) {
	id, err := idArg(q.Args[0])
	if err != nil {
		return nil, err
	}
	p, err := k.get(q.State, id)
	if err != nil {
		return nil, err
	}
	return k.tallyView(q.State, p)
}

func (k *Keeper) tallyView(r store.Reader, p *proposal) (gov.TallyView, error) {
	v := gov.TallyView{Proposal: p.ID, Status: p.Status.String()}
	if p.Tally != nil {
		// Closed: the outcome decided then, under the parameters of then.
		v.Tally, v.Final = *p.Tally, true
		v.QuorumReached = p.Status != gov.StatusNoQuorum
		v.ThresholdReached = p.Status == gov.StatusPassed || p.Status == gov.StatusFailed
		return v, nil
	}
	t, err := k.tally(r, p.ID)
	if err != nil {
		return v, err
	}
	v.Tally = t
	params, err := k.Params(r)
	if err != nil {
		return v, err
	}
	v.QuorumReached, v.ThresholdReached = gov.Decide(params, v.Tally)
	return v, nil
}
