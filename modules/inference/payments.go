package inference

import (
	"crypto/sha256"
	"encoding/binary"
	"math/bits"

	"github.com/tessera-net/tessera/internal/safemath"
	"github.com/tessera-net/tessera/keys"
	"github.com/tessera-net/tessera/modules/models"
	"github.com/tessera-net/tessera/poc"
	"github.com/tessera-net/tessera/tx"
)

// Paid inference: the records of requests served by the inference network
// (docs/inference-payments.md). A transfer agent (TA: the participant whose API node a
// user's signed request reached) starts a record for it and holds its worst-case price
// in escrow; the executor finishes it with the tokens it served and the response's
// hash; validators check a sample of the finished records, and a failed check goes to a
// vote. A record's cost is paid to its executor once its check window closes, or
// refunded to the user when the record expires unfinished or is invalidated. Only
// hashes are on chain; the payloads stay with the API nodes.
//
// Every message is a batch of entries. The transaction fails only when it is
// malformed or its signer may not send it at all; an entry that breaks a rule is
// skipped and reported as an event "inference_refused" with the entry's id, a sentence
// (reason) and a word (code, one of the Refuse* constants).

// Message types of paid inference.
const (
	MsgStart    = "inference/start"
	MsgFinish   = "inference/finish"
	MsgValidate = "inference/validate"
	MsgVote     = "inference/vote"
)

// MaxEntries bounds the entries of one message (the transaction size limit applies too).
const MaxEntries = 1024

// The paths a record may name: the OpenAI-compatible endpoints an API node serves.
const (
	PathChat        = "/v1/chat/completions"
	PathCompletions = "/v1/completions"
)

// ValidPath reports whether p is a path a record may name.
func ValidPath(p string) bool { return p == PathChat || p == PathCompletions }

// The window a start entry's timestamp must fall in around the block time, in
// nanoseconds: at most TimestampPast old, at most TimestampAhead ahead (the window of
// package signed).
const (
	TimestampPast  int64 = 60e9
	TimestampAhead int64 = 30e9
)

// EscrowAccount holds the worst-case price of every record in progress. It is the
// SHA-256 of "tessera/inference/escrow", which is no point of the curve anybody knows
// the secret of: nobody can sign for it, only the inference module moves its funds.
var EscrowAccount = keys.PublicKey(sha256.Sum256([]byte("tessera/inference/escrow")))

// StartEntry is one inference a TA starts: the user's signed request as its digest
// (the signature covers RequestPayload("POST", Path, Timestamp, BodyHash)), the
// executor the TA chose, and the TA's bounds on the tokens, which fix the worst-case
// price held in escrow. The record's id is RequestID(Signature).
type StartEntry struct {
	User      Account `cbor:"1,keyasint" json:"user"`
	Model     string  `cbor:"2,keyasint" json:"model"`
	Path      string  `cbor:"3,keyasint" json:"path"`
	Timestamp int64   `cbor:"4,keyasint" json:"timestamp"` // Unix nanoseconds
	BodyHash  Hash    `cbor:"5,keyasint" json:"body_hash"`
	Signature []byte  `cbor:"6,keyasint" json:"signature"` // 64 bytes, the user's
	Executor  Account `cbor:"7,keyasint" json:"executor"`
	// PromptTokens is the TA's upper bound of the prompt's tokens, MaxTokens the most
	// completion tokens the request may produce.
	PromptTokens uint32 `cbor:"8,keyasint" json:"prompt_tokens"`
	MaxTokens    uint32 `cbor:"9,keyasint" json:"max_tokens"`
}

// ID is the record id of the entry: RequestID of the user's signature.
func (e *StartEntry) ID() Hash { return RequestID(e.Signature) }

// Start is the body of inference/start, signed by the TA: a participant registered on
// subnet Netuid.
type Start struct {
	Netuid  uint16       `cbor:"1,keyasint" json:"netuid"`
	Entries []StartEntry `cbor:"2,keyasint" json:"entries"`
}

// Validate checks the message's shape: 1 to MaxEntries entries, each signature 64
// bytes. The rules of each entry are the keeper's.
func (s *Start) Validate() error {
	if err := checkEntries(len(s.Entries)); err != nil {
		return err
	}
	for i := range s.Entries {
		if len(s.Entries[i].Signature) != 64 {
			return tx.Errorf(tx.CodeInvalidMessage, "entries[%d]: the signature is %d bytes, want 64", i, len(s.Entries[i].Signature))
		}
	}
	return nil
}

func checkEntries(n int) error {
	if n == 0 || n > MaxEntries {
		return tx.Errorf(tx.CodeInvalidMessage, "%d entries, want 1 to %d", n, MaxEntries)
	}
	return nil
}

// FinishEntry is one inference its executor finishes: the tokens it served and the
// SHA-256 of the response it returned.
type FinishEntry struct {
	ID               Hash   `cbor:"1,keyasint" json:"id"`
	PromptTokens     uint32 `cbor:"2,keyasint" json:"prompt_tokens"`
	CompletionTokens uint32 `cbor:"3,keyasint" json:"completion_tokens"`
	ResponseHash     Hash   `cbor:"4,keyasint" json:"response_hash"`
}

// Finish is the body of inference/finish, signed by the records' executor.
type Finish struct {
	Netuid  uint16        `cbor:"1,keyasint" json:"netuid"`
	Entries []FinishEntry `cbor:"2,keyasint" json:"entries"`
}

// Validate checks the message's shape.
func (f *Finish) Validate() error { return checkEntries(len(f.Entries)) }

// Check is one validator's result on one record: whether its re-run matched.
type Check struct {
	ID    Hash `cbor:"1,keyasint" json:"id"`
	Valid bool `cbor:"2,keyasint" json:"valid"`
}

// Validate is the body of inference/validate: a validator's first checks of finished
// records (a check of an invalid record opens a vote).
type Validate struct {
	Netuid  uint16  `cbor:"1,keyasint" json:"netuid"`
	Entries []Check `cbor:"2,keyasint" json:"entries"`
}

// Validate checks the message's shape.
func (v *Validate) Validate() error { return checkEntries(len(v.Entries)) }

// Vote is the body of inference/vote: validators' votes on records in voting.
type Vote struct {
	Netuid  uint16  `cbor:"1,keyasint" json:"netuid"`
	Entries []Check `cbor:"2,keyasint" json:"entries"`
}

// Validate checks the message's shape.
func (v *Vote) Validate() error { return checkEntries(len(v.Entries)) }

// NewStart builds an inference/start message.
func NewStart(s Start) (tx.Msg, error) {
	if err := s.Validate(); err != nil {
		return tx.Msg{}, err
	}
	return tx.NewMsg(MsgStart, s)
}

// NewFinish builds an inference/finish message.
func NewFinish(f Finish) (tx.Msg, error) {
	if err := f.Validate(); err != nil {
		return tx.Msg{}, err
	}
	return tx.NewMsg(MsgFinish, f)
}

// NewValidate builds an inference/validate message.
func NewValidate(v Validate) (tx.Msg, error) {
	if err := v.Validate(); err != nil {
		return tx.Msg{}, err
	}
	return tx.NewMsg(MsgValidate, v)
}

// NewVote builds an inference/vote message.
func NewVote(v Vote) (tx.Msg, error) {
	if err := v.Validate(); err != nil {
		return tx.Msg{}, err
	}
	return tx.NewMsg(MsgVote, v)
}

// The codes of an inference_refused event: why an entry was skipped.
const (
	RefuseNoGroup       = "no_group"           // the subnet has no group in force
	RefuseUnknownModel  = "unknown_model"      // no subgroup of the group in force serves the model
	RefuseBadPath       = "bad_path"           // the path is not one of the served endpoints
	RefuseNotEligible   = "not_eligible"       // the executor is not eligible for the model now
	RefuseBadSignature  = "bad_signature"      // the user's signature does not verify
	RefuseStale         = "stale_timestamp"    // the timestamp is older than TimestampPast
	RefuseFuture        = "future_timestamp"   // the timestamp is more than TimestampAhead ahead
	RefuseDuplicate     = "duplicate"          // the id was seen before
	RefuseFunds         = "insufficient_funds" // the user cannot pay the worst case
	RefuseOverflow      = "overflow"           // the worst case overflows
	RefuseNotFound      = "not_found"          // no record has the id
	RefuseWrongExecutor = "wrong_executor"     // the signer is not the record's executor
	RefuseWrongStatus   = "wrong_status"       // the record is not in the status the message needs
	RefuseTooManyTokens = "too_many_tokens"    // the completion is longer than max_tokens
	RefuseNotValidator  = "not_validator"      // the signer is no validator of the group in force
	RefuseIsExecutor    = "is_executor"        // the executor may not check its own record
	RefuseVoted         = "already_voted"      // the validator voted on the record already
)

// Record statuses.
const (
	StatusStarted     = "started"     // escrowed, waiting for the executor
	StatusFinished    = "finished"    // finished, waiting for checks until its settle height
	StatusValidated   = "validated"   // checked valid (or a vote found it valid); paid at settle height
	StatusVoting      = "voting"      // a check found it invalid; the validators vote
	StatusInvalidated = "invalidated" // the vote found it invalid: refunded to the user
	StatusExpired     = "expired"     // not finished in time: refunded to the user
	StatusPaid        = "paid"        // its cost went to the executor
)

// Candidate is a participant an inference may be routed to, with its weight in the
// model.
type Candidate struct {
	Hotkey Account `json:"hotkey"`
	Weight uint64  `json:"weight"`
}

// Eligible lists the executors for model in group g: the members of the model's
// subgroup with a positive weight in the model (the sum of their MLNodes' weights that
// mine the model), in the group's member order. During PoC only MLNodes allocated
// POC_SLOT serve, so only their weights count. A nil group or an unserved model has
// none. (The chain also leaves out an executor made INVALID for the epoch: query
// inference/eligible for the list it applies.)
func Eligible(g *Group, model string, duringPoC bool) []Candidate {
	if g == nil {
		return nil
	}
	var sg *Subgroup
	for i := range g.Models {
		if g.Models[i].Model.ID == model {
			sg = &g.Models[i]
		}
	}
	if sg == nil {
		return nil
	}
	in := make(map[Account]bool, len(sg.Members))
	for _, a := range sg.Members {
		in[a] = true
	}
	var out []Candidate
	for _, m := range g.Members {
		if !in[m.Hotkey] || !m.Accepted {
			continue
		}
		var w uint64
		for _, n := range m.Nodes {
			if n.PoCModel != model || (duringPoC && n.Slot != poc.PoCSlot) {
				continue
			}
			w = satAdd(w, n.Weight)
		}
		if w > 0 {
			out = append(out, Candidate{Hotkey: m.Hotkey, Weight: w})
		}
	}
	return out
}

// DuringPoC reports whether round rd (a subnet's latest) is in progress: from its PoC
// start until its group takes effect (or it is abandoned). Meanwhile the MLNodes in
// PRE_POC_SLOT mine, validate and load the next group's models, and only those the
// round allocated POC_SLOT serve inference.
func DuringPoC(rd *Round) bool { return rd != nil && !rd.Switched && !rd.Abandoned }

// WithSlots returns a copy of group g in which each MLNode carries the slot round rd's
// roster gives it (PRE_POC_SLOT when the roster does not hold it): the allocation in
// force during rd's PoC, for Eligible(WithSlots(g, rd), model, true).
func WithSlots(g *Group, rd *Round) *Group {
	if g == nil {
		return nil
	}
	out := *g
	out.Members = make([]Member, len(g.Members))
	for i, m := range g.Members {
		m.Nodes = append([]GroupNode(nil), m.Nodes...)
		var rm *RosterMember
		if rd != nil {
			for j := range rd.Roster {
				if rd.Roster[j].Hotkey == m.Hotkey {
					rm = &rd.Roster[j]
				}
			}
		}
		for j := range m.Nodes {
			m.Nodes[j].Slot = poc.PrePoCSlot
			if rm == nil {
				continue
			}
			for _, rn := range rm.Nodes {
				if rn.ID == m.Nodes[j].ID {
					m.Nodes[j].Slot = rn.Slot
				}
			}
		}
		out.Members[i] = m
	}
	return &out
}

func satAdd(a, b uint64) uint64 {
	s, c := bits.Add64(a, b, 0)
	if c != 0 {
		return ^uint64(0)
	}
	return s
}

// Choose draws one candidate by weight: r = the big-endian first 8 bytes of seed
// modulo the total weight (in 128 bits), the candidate whose cumulative weight range
// holds r. It reports false when no candidate has weight.
func Choose(c []Candidate, seed Hash) (Account, bool) {
	var total safemath.U128
	for _, x := range c {
		total = total.Add(safemath.U128{Lo: x.Weight})
	}
	if total.IsZero() {
		return Account{}, false
	}
	r := binary.BigEndian.Uint64(seed[:8])
	if total.Hi == 0 {
		r %= total.Lo
	}
	var acc safemath.U128
	for _, x := range c {
		acc = acc.Add(safemath.U128{Lo: x.Weight})
		if (safemath.U128{Lo: r}).Less(acc) {
			return x.Hotkey, true
		}
	}
	return Account{}, false // unreachable: r < total
}

// MaxReputation is the reputation of an executor that served MaxReputationEpochs
// epochs in a row without an invalidation.
const (
	MaxReputation       = 100
	MaxReputationEpochs = 30
)

// Reputation is Gonka's reputation of an executor that served epochs epochs without an
// invalidation: min(100, epochs × 100 / 30).
func Reputation(epochs uint32) uint32 {
	if epochs >= MaxReputationEpochs {
		return MaxReputation
	}
	return epochs * MaxReputation / MaxReputationEpochs
}

// ValidationPPM is the probability, in parts per million, that one validator checks an
// inference of an executor of reputation rep: target × validatorStake / othersStake,
// target = min + (max − min) × (100 − rep) / 100 (p's ValidationMinPPM and
// ValidationMaxPPM), so that the validators together check about target of the
// executor's inferences. othersStake is the stake of every validator but the
// executor; 0 gives 0. It may exceed 10^6 (always check).
func ValidationPPM(reputation uint32, validatorStake, othersStake uint64, p models.Params) uint64 {
	if othersStake == 0 {
		return 0
	}
	lo, hi := p.InferenceValidationPPM()
	rep := uint64(min(reputation, MaxReputation))
	target := uint64(lo) + uint64(hi-lo)*(MaxReputation-rep)/MaxReputation
	return safemath.MulDiv(target, validatorStake, othersStake)
}

// ShouldValidate reports whether the validator with seed (its secret per-epoch seed)
// and stake validatorStake checks record id: the big-endian first 8 bytes of
// SHA-256(seed ‖ id) fall below ValidationPPM × 2^64 / 10^6. The draw is the
// validator's own: nobody else can predict which records it checks.
func ShouldValidate(seed, id Hash, reputation uint32, validatorStake, othersStake uint64, p models.Params) bool {
	ppm := ValidationPPM(reputation, validatorStake, othersStake, p)
	if ppm == 0 {
		return false
	}
	if ppm >= 1_000_000 {
		return true
	}
	h := sha256.New()
	h.Write(seed[:])
	h.Write(id[:])
	var d [32]byte
	h.Sum(d[:0])
	threshold, _ := bits.Div64(ppm, 0, 1_000_000) // ppm < 10^6: no overflow
	return binary.BigEndian.Uint64(d[:8]) < threshold
}

// StartCost is the worst-case price of an inference, held in escrow at its start:
// (promptTokens + maxTokens) × price, refused when it overflows 64 bits.
func StartCost(promptTokens, maxTokens uint32, price uint64) (uint64, error) {
	n := uint64(promptTokens) + uint64(maxTokens)
	hi, lo := bits.Mul64(n, price)
	if hi != 0 {
		return 0, tx.Errorf(tx.CodeInvalidAmount, "(%d + %d) tokens × %d per token overflows", promptTokens, maxTokens, price)
	}
	return lo, nil
}

// FinishCost is what a finished inference costs: (promptTokens + completionTokens) ×
// price, at most maxCost (the escrowed worst case).
func FinishCost(promptTokens, completionTokens uint32, price, maxCost uint64) uint64 {
	hi, lo := bits.Mul64(uint64(promptTokens)+uint64(completionTokens), price)
	if hi != 0 || lo > maxCost {
		return maxCost
	}
	return lo
}

// VoteView is one validator's vote on a record.
type VoteView struct {
	Validator Account `json:"validator"`
	Valid     bool    `json:"valid"`
	Stake     uint64  `json:"stake,string"`
	Height    uint64  `json:"height"`
}

// RecordView answers "inference/record/<hex id>": one inference record.
type RecordView struct {
	ID       Hash    `json:"id"`
	Netuid   uint16  `json:"netuid"`
	User     Account `json:"user"`
	TA       Account `json:"ta"`
	Executor Account `json:"executor"`
	Model    string  `json:"model"`
	Path     string  `json:"path"`
	// Epoch is the epoch of the group in force at its start.
	Epoch       uint64 `json:"epoch"`
	Timestamp   int64  `json:"timestamp"`
	StartHeight uint64 `json:"start_height"`
	// FinishHeight is 0 until finished; SettleHeight (finish + check blocks) is when
	// its cost is paid unless it is voting; ExpiryHeight when an unfinished one is
	// refunded; VoteDeadline the last block of its vote (0 unless voted on).
	FinishHeight     uint64     `json:"finish_height"`
	SettleHeight     uint64     `json:"settle_height"`
	ExpiryHeight     uint64     `json:"expiry_height"`
	VoteDeadline     uint64     `json:"vote_deadline,omitempty"`
	Status           string     `json:"status"`
	BodyHash         Hash       `json:"body_hash"`
	ResponseHash     Hash       `json:"response_hash"`
	MaxPromptTokens  uint32     `json:"max_prompt_tokens"`
	MaxTokens        uint32     `json:"max_tokens"`
	PromptTokens     uint32     `json:"prompt_tokens"`
	CompletionTokens uint32     `json:"completion_tokens"`
	MaxCost          uint64     `json:"max_cost,string"`
	Cost             uint64     `json:"cost,string"`
	Price            uint64     `json:"price,string"`
	DuringPoC        bool       `json:"during_poc"`
	Validator        *Account   `json:"validator,omitempty"` // who checked it first
	Votes            []VoteView `json:"votes,omitempty"`
	// InvalidStake is the stake of the votes for invalid (the reporter's included),
	// VoterStake the stake of every voter (the validators but the executor).
	InvalidStake uint64 `json:"invalid_stake,string"`
	VoterStake   uint64 `json:"voter_stake,string"`
}

// ExecutorView answers "inference/executor/<netuid>/<hotkey>" and is one entry of
// "inference/executors/<netuid>": an executor's record of service and reputation.
type ExecutorView struct {
	Hotkey Account `json:"hotkey"`
	// Reputation is Reputation(Epochs); Epochs the epochs served in a row without an
	// invalidation.
	Reputation uint32 `json:"reputation"`
	Epochs     uint32 `json:"epochs"`
	// LastEpoch is the last epoch it served in (counted once in Epochs).
	LastEpoch   uint64 `json:"last_epoch"`
	Served      uint64 `json:"served"`
	Validated   uint64 `json:"validated"`
	Invalidated uint64 `json:"invalidated"`
	Missed      uint64 `json:"missed"`
	// EpochInvalid counts its invalidations in the epoch of the group in force;
	// Status is StatusActive, or StatusInvalid once that reaches the limit (it is paid
	// no weight for the epoch and routed nothing until the next group).
	EpochInvalid uint32 `json:"epoch_invalid"`
	Status       string `json:"status"`
}

// Executor statuses.
const (
	ExecutorActive  = "active"
	ExecutorInvalid = "invalid"
)

// ModelUsage is one model's usage in an epoch.
type ModelUsage struct {
	Model            string `json:"model"`
	Requests         uint64 `json:"requests"`
	PromptTokens     uint64 `json:"prompt_tokens"`
	CompletionTokens uint64 `json:"completion_tokens"`
	// Refunds counts records refunded in full (expired or invalidated), Invalidated
	// those invalidated; Paid is the total of costs paid to executors.
	Refunds     uint64 `json:"refunds"`
	Invalidated uint64 `json:"invalidated"`
	Paid        uint64 `json:"paid,string"`
}

// UsageView answers "inference/usage/<netuid>/<epoch>": the usage per model, in id
// order, of the records started in the epoch.
type UsageView struct {
	Netuid uint16       `json:"netuid"`
	Epoch  uint64       `json:"epoch"`
	Models []ModelUsage `json:"models"`
}

// EligibleView answers "inference/eligible/<netuid>/<model>": the executors a TA may
// choose now, as the chain checks them.
type EligibleView struct {
	Epoch      uint64      `json:"epoch"`
	DuringPoC  bool        `json:"during_poc"`
	Price      uint64      `json:"price,string"`
	Candidates []Candidate `json:"candidates"`
}
