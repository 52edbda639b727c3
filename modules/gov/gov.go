// Package gov holds the types of the chain's governance module: a staker proposes a list
// of typed actions with a deposit, coldkeys vote yes, no or abstain with the weight of the
// stake they hold, and at the end of the voting period the tally decides whether the
// actions run. Governance does not know the actions: the modules that own them register
// handlers (package keeper's ActionHandler), so "add a model" is the models module's
// business. It imports no store; the state and the rules are package keeper.
//
// The rules (docs/governance.md):
//   - A proposal is open for Params.VotingPeriod blocks after the block it is submitted in:
//     submitted at height h, it takes votes in blocks h..h+VotingPeriod and is tallied at
//     the end of block h+VotingPeriod, proposals ending in the same block in id order.
//   - The deposit (at least Params.MinDeposit) leaves the proposer's balance at submission.
//     It is refunded when the tally reaches the quorum, whatever the outcome (passed,
//     rejected, failed at execution), and burned when it does not: a proposal nobody cares
//     about costs its proposer the deposit.
//   - The weight of a vote is the stake the voting coldkey holds, on every hotkey together,
//     read at the tally (the end block), not when the vote was cast. A coldkey with no
//     stake is refused when it votes; one whose stake is gone by the tally counts zero.
//   - One vote per coldkey and proposal; a second vote replaces the first until the end.
//   - Quorum: (yes + no + abstain) · 65535 ≥ Quorum · (all stake), and some stake voted.
//     Threshold: yes · 65535 > Threshold · (yes + no).
//   - A passed proposal's actions run in order in one write buffer: all of them apply or,
//     when one fails, none does (the proposal is then "failed", with the reason).
package gov

import (
	"github.com/tessera-net/tessera/internal/safemath"
	"github.com/tessera-net/tessera/tx"
)

// Name is the module name.
const Name = "gov"

// Message types.
const (
	MsgSubmit = "gov/submit"
	MsgVote   = "gov/vote"
)

// ActionParams is the action type of governance's own parameters (the body is Params).
const ActionParams = "gov/params"

// Bounds on a proposal, against hostile input.
const (
	MaxTitleLen   = 140
	MaxSummaryLen = 4096
	MaxActions    = 16
	MaxActionType = 64
	MaxActionBody = 32 * 1024
)

// Option is a vote's choice.
type Option uint8

// The options. Their values are part of the protocol.
const (
	OptionYes     Option = 1
	OptionNo      Option = 2
	OptionAbstain Option = 3
)

// String names the option.
func (o Option) String() string {
	switch o {
	case OptionYes:
		return "yes"
	case OptionNo:
		return "no"
	case OptionAbstain:
		return "abstain"
	}
	return "invalid"
}

// ParseOption reads "yes", "no" or "abstain".
func ParseOption(s string) (Option, bool) {
	for _, o := range []Option{OptionYes, OptionNo, OptionAbstain} {
		if o.String() == s {
			return o, true
		}
	}
	return 0, false
}

// Status is where a proposal stands.
type Status uint8

// The statuses. Their values are part of the protocol.
const (
	StatusVoting   Status = 1 // open for votes
	StatusPassed   Status = 2 // passed and its actions applied; deposit refunded
	StatusRejected Status = 3 // quorum reached, threshold not; deposit refunded
	StatusNoQuorum Status = 4 // quorum not reached; deposit burned
	StatusFailed   Status = 5 // passed, but an action failed at execution: nothing applied; deposit refunded
)

// String names the status.
func (s Status) String() string {
	switch s {
	case StatusVoting:
		return "voting"
	case StatusPassed:
		return "passed"
	case StatusRejected:
		return "rejected"
	case StatusNoQuorum:
		return "no_quorum"
	case StatusFailed:
		return "failed"
	}
	return "unknown"
}

// Action is one typed change a proposal makes: a type the owning module registered
// ("models/add") and its canonical-CBOR body, exactly like a transaction's message.
type Action = tx.Msg

// Submit proposes Actions, paying Deposit.
type Submit struct {
	Title   string   `cbor:"1,keyasint"`
	Summary string   `cbor:"2,keyasint"`
	Deposit uint64   `cbor:"3,keyasint"`
	Actions []Action `cbor:"4,keyasint"`
}

// Vote casts (or replaces) the signer's vote on a proposal.
type Vote struct {
	Proposal uint64 `cbor:"1,keyasint"`
	Option   Option `cbor:"2,keyasint"`
}

// NewSubmit builds a gov/submit message.
func NewSubmit(title, summary string, deposit uint64, actions []Action) (tx.Msg, error) {
	return tx.NewMsg(MsgSubmit, Submit{Title: title, Summary: summary, Deposit: deposit, Actions: actions})
}

// NewVote builds a gov/vote message.
func NewVote(proposal uint64, option Option) (tx.Msg, error) {
	return tx.NewMsg(MsgVote, Vote{Proposal: proposal, Option: option})
}

// NewParamsAction builds a gov/params action.
func NewParamsAction(p Params) (Action, error) { return tx.NewMsg(ActionParams, p) }

// Params are governance's parameters; they change only by a passed gov/params action.
type Params struct {
	MinDeposit   uint64 `cbor:"1,keyasint" json:"min_deposit,string"` // smallest unit
	VotingPeriod uint64 `cbor:"2,keyasint" json:"voting_period"`      // blocks
	Quorum       uint16 `cbor:"3,keyasint" json:"quorum"`             // 65535ths of all stake that must vote
	Threshold    uint16 `cbor:"4,keyasint" json:"threshold"`          // yes must exceed this share (65535ths) of yes + no
}

// MaxVotingPeriod bounds the voting period (about a week of one-second blocks).
const MaxVotingPeriod = 1_000_000

// DefaultParams: a 100-token deposit, 50 blocks of voting, a third of the stake as
// quorum, and more than half of the yes and no votes to pass.
func DefaultParams() Params {
	return Params{MinDeposit: 100_000_000_000, VotingPeriod: 50, Quorum: 21_845, Threshold: 32_768}
}

// Validate checks the parameters.
func (p Params) Validate() error {
	switch {
	case p.MinDeposit == 0:
		return tx.Errorf(tx.CodeInvalidMessage, "min_deposit must be positive")
	case p.VotingPeriod == 0 || p.VotingPeriod > MaxVotingPeriod:
		return tx.Errorf(tx.CodeInvalidMessage, "voting_period %d is not in 1..%d blocks", p.VotingPeriod, MaxVotingPeriod)
	case p.Quorum == 0:
		return tx.Errorf(tx.CodeInvalidMessage, "quorum must be positive")
	case p.Threshold == 0:
		return tx.Errorf(tx.CodeInvalidMessage, "threshold must be positive")
	}
	return nil
}

// Genesis is the module's genesis state.
type Genesis struct {
	Params *Params `json:"params,omitempty"`
}

// Tally is a proposal's vote count, in stake (smallest unit).
type Tally struct {
	Yes     uint64 `cbor:"1,keyasint" json:"yes,string"`
	No      uint64 `cbor:"2,keyasint" json:"no,string"`
	Abstain uint64 `cbor:"3,keyasint" json:"abstain,string"`
	// Staked is all the stake on the chain when the tally was taken.
	Staked uint64 `cbor:"4,keyasint" json:"staked,string"`
}

// ActionView is an action in query answers: its type and its body, decoded by the
// owning module when it can (Value), else as bytes (Body, base64).
type ActionView struct {
	Type  string `json:"type"`
	Value any    `json:"value,omitempty"`
	Body  []byte `json:"body,omitempty"`
}

// ProposalView answers "proposal/<id>" and is one entry of "proposals".
type ProposalView struct {
	ID           uint64       `json:"id"`
	Proposer     string       `json:"proposer"`
	Title        string       `json:"title"`
	Summary      string       `json:"summary,omitempty"`
	Deposit      uint64       `json:"deposit,string"`
	Status       string       `json:"status"`
	SubmitHeight int64        `json:"submit_height"`
	VotingEnd    int64        `json:"voting_end"`
	Actions      []ActionView `json:"actions"`
	// Tally is the final count, once the proposal is closed.
	Tally *Tally `json:"tally,omitempty"`
	// Deposit outcome: "held" while voting, then "refunded" or "burned".
	DepositOutcome string `json:"deposit_outcome"`
	// Reason says why a failed proposal failed (the action and its error).
	Reason string `json:"reason,omitempty"`
}

// VoteView is one vote in the "votes/<id>" answer; Weight is the voter's stake now (the
// tally reads it again at the end).
type VoteView struct {
	Voter  string `json:"voter"`
	Option string `json:"option"`
	Weight uint64 `json:"weight,string"`
}

// TallyView answers "tally/<id>": the final tally of a closed proposal, or the count with
// today's stake of an open one.
type TallyView struct {
	Proposal uint64 `json:"proposal"`
	Status   string `json:"status"`
	Final    bool   `json:"final"`
	Tally
	QuorumReached    bool `json:"quorum_reached"`
	ThresholdReached bool `json:"threshold_reached"`
}

// Decide applies the quorum and threshold rules to a tally.
func Decide(p Params, t Tally) (quorum, threshold bool) {
	// Exact in 128 bits: sums of at most three uint64 stakes times factors ≤ 65535 (the
	// wrapping Mul64 cannot wrap here).
	u := func(v uint64) safemath.U128 { return safemath.U128{Lo: v} }
	voted := u(t.Yes).Add64(t.No).Add64(t.Abstain)
	quorum = !voted.IsZero() && !voted.Mul64(65535).Less(u(t.Staked).Mul64(uint64(p.Quorum)))
	threshold = u(t.Yes).Add64(t.No).Mul64(uint64(p.Threshold)).Less(u(t.Yes).Mul64(65535))
	return quorum, threshold
}
