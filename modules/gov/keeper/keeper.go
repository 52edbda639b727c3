// Package keeper is the state and the rules of the governance module (its types are in
// package gov above): proposals, votes, the tally and the execution of passed proposals'
// actions at the end of their voting period.
package keeper

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"unicode/utf8"

	abci "github.com/cometbft/cometbft/abci/types"

	"github.com/tessera-net/tessera/keys"
	"github.com/tessera-net/tessera/module"
	"github.com/tessera-net/tessera/modules/accounts"
	"github.com/tessera-net/tessera/modules/gov"
	"github.com/tessera-net/tessera/store"
	"github.com/tessera-net/tessera/tx"
)

var (
	keyParams      = []byte("gov/params")
	keyNext        = []byte("gov/next")   // the next proposal id (ids start at 1)
	keyEscrow      = []byte("gov/escrow") // deposits held by open proposals
	prefixProposal = []byte("gov/p/")     // be64(id) → proposal
	prefixEnd      = []byte("gov/e/")     // be64(voting end) ‖ be64(id) → empty: open proposals
	prefixVote     = []byte("gov/v/")     // be64(id) ‖ voter → option
)

func be64(v uint64) []byte { return binary.BigEndian.AppendUint64(nil, v) }

// proposal is a proposal as stored.
type proposal struct {
	ID           uint64       `cbor:"1,keyasint"`
	Proposer     []byte       `cbor:"2,keyasint"`
	Title        string       `cbor:"3,keyasint"`
	Summary      string       `cbor:"4,keyasint"`
	Deposit      uint64       `cbor:"5,keyasint"`
	Actions      []gov.Action `cbor:"6,keyasint"`
	SubmitHeight int64        `cbor:"7,keyasint"`
	VotingEnd    int64        `cbor:"8,keyasint"`
	Status       gov.Status   `cbor:"9,keyasint"`
	Tally        *gov.Tally   `cbor:"10,keyasint,omitempty"`
	Reason       string       `cbor:"11,keyasint,omitempty"`
}

// Keeper is the governance module.
type Keeper struct {
	accounts AccountKeeper
	stake    StakeKeeper
	actions  map[string]ActionHandler
}

// New returns the governance keeper; action handlers are added with Register.
func New(accounts AccountKeeper, stake StakeKeeper) *Keeper {
	k := &Keeper{accounts: accounts, stake: stake, actions: map[string]ActionHandler{}}
	k.Register(gov.ActionParams, paramsAction{k})
	return k
}

// Register makes typ an action proposals may carry, handled by h. Registering a type
// twice is a wiring bug and panics.
func (k *Keeper) Register(typ string, h ActionHandler) {
	if _, dup := k.actions[typ]; dup {
		panic(fmt.Sprintf("gov: action type %q registered twice", typ))
	}
	k.actions[typ] = h
}

// ActionTypes lists the registered action types, sorted.
func (k *Keeper) ActionTypes() []string {
	out := make([]string, 0, len(k.actions))
	for t := range k.actions {
		out = append(out, t)
	}
	sort.Strings(out)
	return out
}

// Name implements module.Module.
func (*Keeper) Name() string { return gov.Name }

// Params reads the parameters.
func (*Keeper) Params(r store.Reader) (gov.Params, error) {
	p := gov.DefaultParams()
	_, err := module.Get(r, keyParams, &p)
	return p, err
}

// InitGenesis implements module.Module: the parameters (defaults when absent).
func (k *Keeper) InitGenesis(ctx *module.Context, raw json.RawMessage) error {
	var g gov.Genesis
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &g); err != nil {
			return fmt.Errorf("gov genesis: %w", err)
		}
	}
	p := gov.DefaultParams()
	if g.Params != nil {
		p = *g.Params
	}
	if err := p.Validate(); err != nil {
		return fmt.Errorf("gov genesis: %w", err)
	}
	if err := module.Put(ctx.KV, keyParams, p); err != nil {
		return err
	}
	return module.PutUint64(ctx.KV, keyNext, 1)
}

// Handlers implements module.Module.
func (k *Keeper) Handlers() map[string]module.Handler {
	return map[string]module.Handler{gov.MsgSubmit: k.submit, gov.MsgVote: k.vote}
}

func (k *Keeper) get(r store.Reader, id uint64) (*proposal, error) {
	var p proposal
	ok, err := module.Get(r, module.Key(prefixProposal, be64(id)), &p)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, tx.Errorf(tx.CodeNotFound, "proposal %d does not exist", id)
	}
	return &p, nil
}

func (k *Keeper) put(kv store.KV, p *proposal) error {
	return module.Put(kv, module.Key(prefixProposal, be64(p.ID)), p)
}

// checkText bounds a title or summary: valid UTF-8 without control characters other
// than newlines and tabs (in the summary).
func checkText(field, s string, min, max int, multiline bool) error {
	if len(s) < min || len(s) > max {
		return tx.Errorf(tx.CodeInvalidMessage, "%s is %d bytes, want %d to %d", field, len(s), min, max)
	}
	if !utf8.ValidString(s) {
		return tx.Errorf(tx.CodeInvalidMessage, "%s is not valid UTF-8", field)
	}
	for _, r := range s {
		if r < 0x20 && !(multiline && (r == '\n' || r == '\t')) || r == 0x7f {
			return tx.Errorf(tx.CodeInvalidMessage, "%s holds the control character %U", field, r)
		}
	}
	return nil
}

// validateActions checks every action of a proposal: its type registered, its size
// bounded, its handler's Validate passed. An error names the action by position and type.
func (k *Keeper) validateActions(ctx *module.Context, actions []gov.Action) error {
	if len(actions) == 0 || len(actions) > gov.MaxActions {
		return tx.Errorf(tx.CodeInvalidMessage, "a proposal holds 1 to %d actions, not %d", gov.MaxActions, len(actions))
	}
	for i, a := range actions {
		if len(a.Type) > gov.MaxActionType {
			return tx.Errorf(tx.CodeInvalidMessage, "action %d: type is %d bytes, the limit is %d", i+1, len(a.Type), gov.MaxActionType)
		}
		if len(a.Body) > gov.MaxActionBody {
			return tx.Errorf(tx.CodeInvalidMessage, "action %d (%s): body is %d bytes, the limit is %d", i+1, a.Type, len(a.Body), gov.MaxActionBody)
		}
		h, ok := k.actions[a.Type]
		if !ok {
			return tx.Errorf(tx.CodeInvalidMessage, "action %d: no module handles action type %q (known: %v)", i+1, a.Type, k.ActionTypes())
		}
		if err := h.Validate(ctx, a); err != nil {
			return tx.Errorf(tx.CodeOf(err), "action %d (%s): %s", i+1, a.Type, errText(err))
		}
	}
	return nil
}

// errText is an error's message without its code name (the wrapping error has the code).
func errText(err error) string {
	if te, ok := err.(*tx.Error); ok {
		return te.Msg
	}
	return err.Error()
}

func (k *Keeper) submit(ctx *module.Context, signer keys.PublicKey, msg tx.Msg) error {
	var s gov.Submit
	if err := msg.DecodeBody(&s); err != nil {
		return err
	}
	if err := checkText("title", s.Title, 1, gov.MaxTitleLen, false); err != nil {
		return err
	}
	if err := checkText("summary", s.Summary, 0, gov.MaxSummaryLen, true); err != nil {
		return err
	}
	params, err := k.Params(ctx.KV)
	if err != nil {
		return err
	}
	if s.Deposit < params.MinDeposit {
		return tx.Errorf(tx.CodeInvalidAmount, "deposit %s is below the minimum deposit %s", accounts.FormatAmount(s.Deposit), accounts.FormatAmount(params.MinDeposit))
	}
	if err := k.validateActions(ctx, s.Actions); err != nil {
		return err
	}
	if err := k.accounts.Debit(ctx.KV, signer, s.Deposit); err != nil {
		return err
	}
	escrow, err := module.GetUint64(ctx.KV, keyEscrow)
	if err != nil {
		return err
	}
	if err := module.PutUint64(ctx.KV, keyEscrow, escrow+s.Deposit); err != nil {
		return err
	}
	id, err := module.GetUint64(ctx.KV, keyNext)
	if err != nil {
		return err
	}
	if id == 0 {
		id = 1
	}
	p := &proposal{ID: id, Proposer: signer[:], Title: s.Title, Summary: s.Summary, Deposit: s.Deposit, Actions: s.Actions,
		SubmitHeight: ctx.Height, VotingEnd: ctx.Height + int64(params.VotingPeriod), Status: gov.StatusVoting}
	if err := k.put(ctx.KV, p); err != nil {
		return err
	}
	if err := ctx.KV.Set(module.Key(prefixEnd, be64(uint64(p.VotingEnd)), be64(id)), []byte{}); err != nil {
		return err
	}
	if err := module.PutUint64(ctx.KV, keyNext, id+1); err != nil {
		return err
	}
	ctx.Emit("proposal_submitted", module.Attr("proposal", strconv.FormatUint(id, 10)), module.Attr("proposer", signer.String()),
		module.Attr("deposit", strconv.FormatUint(s.Deposit, 10)), module.Attr("voting_end", strconv.FormatInt(p.VotingEnd, 10)))
	return nil
}

func (k *Keeper) vote(ctx *module.Context, signer keys.PublicKey, msg tx.Msg) error {
	var v gov.Vote
	if err := msg.DecodeBody(&v); err != nil {
		return err
	}
	if v.Option.String() == "invalid" {
		return tx.Errorf(tx.CodeInvalidMessage, "option %d is not yes (1), no (2) or abstain (3)", v.Option)
	}
	p, err := k.get(ctx.KV, v.Proposal)
	if err != nil {
		return err
	}
	if p.Status != gov.StatusVoting {
		return tx.Errorf(tx.CodeConflict, "proposal %d is closed (%s)", p.ID, p.Status)
	}
	weight, err := k.stake.ColdkeyStake(ctx.KV, signer)
	if err != nil {
		return err
	}
	if weight == 0 {
		return tx.Errorf(tx.CodeUnauthorized, "%s holds no stake: votes are weighted by stake, stake first", signer)
	}
	if err := module.Put(ctx.KV, module.Key(prefixVote, be64(p.ID), signer[:]), v.Option); err != nil {
		return err
	}
	ctx.Emit("proposal_vote", module.Attr("proposal", strconv.FormatUint(p.ID, 10)), module.Attr("voter", signer.String()),
		module.Attr("option", v.Option.String()))
	return nil
}

type vote struct {
	voter  keys.PublicKey
	option gov.Option
}

// votes lists a proposal's votes in voter key order.
func (k *Keeper) votes(r store.Reader, id uint64) ([]vote, error) {
	var out []vote
	prefix := module.Key(prefixVote, be64(id))
	err := r.Iterate(prefix, func(key, val []byte) (bool, error) {
		var o gov.Option
		if err := tx.UnmarshalState(val, &o); err != nil {
			return false, err
		}
		out = append(out, vote{voter: keys.PublicKey(key[len(prefix):]), option: o})
		return true, nil
	})
	return out, err
}

// tally counts a proposal's votes with the stake each voter holds in r now.
func (k *Keeper) tally(r store.Reader, id uint64) (gov.Tally, error) {
	var t gov.Tally
	vs, err := k.votes(r, id)
	if err != nil {
		return t, err
	}
	for _, v := range vs {
		w, err := k.stake.ColdkeyStake(r, v.voter)
		if err != nil {
			return t, err
		}
		// The sum of every voter's stake is at most the total staked, a uint64.
		switch v.option {
		case gov.OptionYes:
			t.Yes += w
		case gov.OptionNo:
			t.No += w
		case gov.OptionAbstain:
			t.Abstain += w
		}
	}
	t.Staked, err = k.stake.TotalStaked(r)
	return t, err
}

// EndBlock implements module.EndBlocker: every proposal whose voting period ends in this
// block is tallied and closed, in id order; a passed one's actions run.
func (k *Keeper) EndBlock(ctx *module.Context) error {
	prefix := module.Key(prefixEnd, be64(uint64(ctx.Height)))
	var ids []uint64
	err := ctx.KV.Iterate(prefix, func(key, _ []byte) (bool, error) {
		ids = append(ids, binary.BigEndian.Uint64(key[len(prefix):]))
		return true, nil
	})
	if err != nil {
		return err
	}
	for _, id := range ids {
		if err := k.close(ctx, id); err != nil {
			return fmt.Errorf("close proposal %d: %w", id, err)
		}
		if err := ctx.KV.Delete(module.Key(prefix, be64(id))); err != nil {
			return err
		}
	}
	return nil
}

func (k *Keeper) close(ctx *module.Context, id uint64) error {
	p, err := k.get(ctx.KV, id)
	if err != nil {
		return err
	}
	params, err := k.Params(ctx.KV)
	if err != nil {
		return err
	}
	t, err := k.tally(ctx.KV, id)
	if err != nil {
		return err
	}
	p.Tally = &t
	quorum, threshold := gov.Decide(params, t)
	switch {
	case !quorum:
		p.Status = gov.StatusNoQuorum
	case !threshold:
		p.Status = gov.StatusRejected
	default:
		p.Status = gov.StatusPassed
		if err := k.execute(ctx, p); err != nil {
			p.Status, p.Reason = gov.StatusFailed, err.Error()
		}
	}
	idStr := strconv.FormatUint(id, 10)
	attrs := []string{"proposal", idStr, "status", p.Status.String(), "yes", strconv.FormatUint(t.Yes, 10),
		"no", strconv.FormatUint(t.No, 10), "abstain", strconv.FormatUint(t.Abstain, 10), "staked", strconv.FormatUint(t.Staked, 10)}
	if p.Reason != "" {
		attrs = append(attrs, "reason", p.Reason)
	}
	ctx.Emit("proposal_closed", pairs(attrs)...)
	escrow, err := module.GetUint64(ctx.KV, keyEscrow)
	if err != nil {
		return err
	}
	if err := module.PutUint64(ctx.KV, keyEscrow, escrow-p.Deposit); err != nil {
		return err
	}
	proposer := keys.PublicKey(p.Proposer)
	if p.Status == gov.StatusNoQuorum {
		ctx.Emit("deposit_burned", module.Attr("proposal", idStr), module.Attr("proposer", proposer.String()), module.Attr("amount", strconv.FormatUint(p.Deposit, 10)))
	} else {
		if err := k.accounts.Credit(ctx.KV, proposer, p.Deposit); err != nil {
			return err
		}
		ctx.Emit("deposit_refunded", module.Attr("proposal", idStr), module.Attr("proposer", proposer.String()), module.Attr("amount", strconv.FormatUint(p.Deposit, 10)))
	}
	return k.put(ctx.KV, p)
}

func pairs(kv []string) []abci.EventAttribute {
	out := make([]abci.EventAttribute, 0, len(kv)/2)
	for i := 0; i+1 < len(kv); i += 2 {
		out = append(out, module.Attr(kv[i], kv[i+1]))
	}
	return out
}

// execute runs a passed proposal's actions in order in one write buffer over the block's
// state: when all succeed the buffer (and the actions' events) is written; when one fails
// nothing of any action is, and the error names the action.
func (k *Keeper) execute(ctx *module.Context, p *proposal) error {
	buf := store.NewCache(ctx.KV)
	ectx := &module.Context{KV: buf, ChainID: ctx.ChainID, Height: ctx.Height, Time: ctx.Time, BlockHash: ctx.BlockHash, Proposer: ctx.Proposer}
	origin := Origin{Proposal: p.ID, Proposer: keys.PublicKey(p.Proposer)}
	for i, a := range p.Actions {
		h, ok := k.actions[a.Type]
		if !ok {
			return fmt.Errorf("action %d: no module handles action type %q", i+1, a.Type)
		}
		if err := h.Execute(ectx, origin, a); err != nil {
			return fmt.Errorf("action %d (%s): %w", i+1, a.Type, err)
		}
	}
	if err := buf.Write(ctx.KV); err != nil {
		return err
	}
	for _, e := range ectx.Events() {
		ctx.Emit(e.Type, e.Attributes...)
	}
	return nil
}

// paramsAction is governance's own action, gov/params: the body is the new Params.
type paramsAction struct{ k *Keeper }

func (paramsAction) decode(a gov.Action) (gov.Params, error) {
	var p gov.Params
	if err := a.DecodeBody(&p); err != nil {
		return p, err
	}
	return p, p.Validate()
}

func (pa paramsAction) Validate(_ *module.Context, a gov.Action) error {
	_, err := pa.decode(a)
	return err
}

func (pa paramsAction) Execute(ctx *module.Context, _ Origin, a gov.Action) error {
	p, err := pa.decode(a)
	if err != nil {
		return err
	}
	ctx.Emit("gov_params", module.Attr("voting_period", strconv.FormatUint(p.VotingPeriod, 10)))
	return module.Put(ctx.KV, keyParams, p)
}

func (pa paramsAction) View(a gov.Action) (any, error) { return pa.decode(a) }
