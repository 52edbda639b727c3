package inference

import (
	"encoding/json"

	"github.com/tessera-net/tessera/keys"
	"github.com/tessera-net/tessera/modules/models"
	"github.com/tessera-net/tessera/poc"
)

// Account is a hotkey: 32 bytes in state, SS58 in JSON.
type Account [32]byte

// MarshalJSON writes the SS58 address.
func (a Account) MarshalJSON() ([]byte, error) { return json.Marshal(keys.PublicKey(a).String()) }

// UnmarshalJSON reads an SS58 address or 0x-hex public key.
func (a *Account) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	p, err := keys.ParsePublicKey(s)
	if err != nil {
		return err
	}
	*a = Account(p)
	return nil
}

// String is the SS58 address.
func (a Account) String() string { return keys.PublicKey(a).String() }

// GroupNode is one MLNode of an epoch group: its roster entry (the declaration frozen
// at the PoC start it mined in, the slot it held through that PoC) and its outcome.
type GroupNode struct {
	RosterNode `cbor:"1,keyasint"`
	// PoCModel is the model whose PoC dimensions it mined with (its first model).
	PoCModel string `cbor:"2,keyasint" json:"poc_model"`
	// Committed is the count of its commitment (its claimed valid nonces), 0 for none.
	Committed uint64 `cbor:"3,keyasint" json:"committed"`
	Root      Hash   `cbor:"4,keyasint" json:"root"`
	// Weight is its weight in the group: Committed, or PrevWeight when preserved; 0
	// when the participant was not accepted.
	Weight uint64 `cbor:"5,keyasint" json:"weight"`
	// Throughput is its expected throughput: Weight × its model's throughput per nonce.
	Throughput uint64 `cbor:"6,keyasint" json:"throughput"`
}

// Member is one participant of an epoch group.
type Member struct {
	Hotkey Account     `cbor:"1,keyasint" json:"hotkey"`
	Nodes  []GroupNode `cbor:"2,keyasint" json:"mlnodes"`
	// Accepted: verdicts holding more than 2/3 of the validators' stake accepted its PoC.
	Accepted bool `cbor:"3,keyasint" json:"accepted"`
	// Accepting and Judged are the stake of the verdicts that accepted it and of every
	// validator (silence counts against).
	Accepting uint64 `cbor:"4,keyasint" json:"accepting_stake,string"`
	Judged    uint64 `cbor:"5,keyasint" json:"validator_stake,string"`
	Weight    uint64 `cbor:"6,keyasint" json:"weight"`
	// Covered: it has an MLNode of positive weight in every model subgroup; it earns the
	// coverage bonus.
	Covered bool `cbor:"7,keyasint" json:"covered"`
}

// Validator is a validator of an epoch's PoC: a participant of the round with stake,
// snapshotted at validation start with its stake as the subnet's epoch weighs it
// (alpha + root × tao_weight under dTAO).
type Validator struct {
	Hotkey Account `cbor:"1,keyasint" json:"hotkey"`
	Stake  uint64  `cbor:"2,keyasint" json:"stake,string"`
	// Voted: it sent at least one judgement in the round (set at formation); the
	// validators that voted share the validator half of the emission by stake.
	Voted bool `cbor:"3,keyasint" json:"voted"`
}

// Subgroup is one model of an epoch group: its parameters frozen at formation, the
// members serving it, and its throughput by slot (PRE_POC_SLOT, POC_SLOT).
type Subgroup struct {
	Model   models.Spec `cbor:"1,keyasint" json:"model"`
	Members []Account   `cbor:"2,keyasint" json:"members"`
	// ExpectedThroughput is, per slot, the expected throughput of the model's nodes
	// serving in it; RealThroughput the tokens recorded for the model's inferences
	// (zero until inference is recorded on chain).
	ExpectedThroughput [2]uint64 `cbor:"3,keyasint" json:"expected_throughput"`
	RealThroughput     [2]uint64 `cbor:"4,keyasint" json:"real_throughput"`
}

// Group is epoch Epoch's group, formed at the end of its validation: who serves which
// model, with what weight, until the next group takes effect.
type Group struct {
	Netuid uint16 `cbor:"1,keyasint" json:"netuid"`
	Epoch  uint64 `cbor:"2,keyasint" json:"epoch"`
	// PoCSeed and ValidationSeed are the hashes of the PoC-start and validation-start
	// blocks.
	PoCSeed        Hash        `cbor:"3,keyasint" json:"poc_seed"`
	ValidationSeed Hash        `cbor:"4,keyasint" json:"validation_seed"`
	Models         []Subgroup  `cbor:"5,keyasint" json:"models"`
	Members        []Member    `cbor:"6,keyasint" json:"members"`
	Validators     []Validator `cbor:"7,keyasint" json:"validators"`
	FormedAt       uint64      `cbor:"8,keyasint" json:"formed_at"`
	ActiveFrom     uint64      `cbor:"9,keyasint" json:"active_from"`
	TotalWeight    uint64      `cbor:"10,keyasint" json:"total_weight"`
	// CoverageBonusPPM is the bonus the group's rewards use, frozen at formation.
	CoverageBonusPPM uint32 `cbor:"11,keyasint" json:"coverage_bonus_ppm"`
}

// RosterNode is an MLNode in a PoC's roster: its declaration at PoC start, the slot the
// uptime selection gave it, and what it carries over from the group in force.
type RosterNode struct {
	MLNode     `cbor:"1,keyasint"`
	Slot       poc.Slot `cbor:"2,keyasint" json:"slot"`
	Preserved  uint32   `cbor:"3,keyasint" json:"preserved_epochs"`
	PrevWeight uint64   `cbor:"4,keyasint" json:"prev_weight"`
}

// RosterMember is a participant in a PoC's roster.
type RosterMember struct {
	Hotkey Account      `cbor:"1,keyasint" json:"hotkey"`
	Nodes  []RosterNode `cbor:"2,keyasint" json:"mlnodes"`
}

// PoCModel is a model's PoC as a roster fixes it at PoC start.
type PoCModel struct {
	ID  string     `cbor:"1,keyasint" json:"id"`
	PoC models.PoC `cbor:"2,keyasint" json:"poc"`
}

// Round is epoch Epoch's PoC in progress: the roster (who may commit, with which slot),
// the PoC's models, the seeds and parameters, the validators once validation starts.
type Round struct {
	Netuid  uint16 `cbor:"1,keyasint" json:"netuid"`
	Epoch   uint64 `cbor:"2,keyasint" json:"epoch"`
	PoCSeed Hash   `cbor:"3,keyasint" json:"poc_seed"`
	// Params are the inference parameters in force at PoC start: the round keeps them
	// (its heights, threshold, sample, bonus, preservation bound), so a vote during the
	// round takes effect at the next PoC start.
	Params models.Params  `cbor:"4,keyasint" json:"params"`
	Models []PoCModel     `cbor:"5,keyasint" json:"models"`
	Roster []RosterMember `cbor:"6,keyasint" json:"roster"`
	// The round's heights, fixed at PoC start from the parameters then in force (a
	// parameter change takes effect at the next PoC start).
	PoCStart        uint64 `cbor:"7,keyasint" json:"poc_start"`
	ValidationStart uint64 `cbor:"8,keyasint" json:"validation_start"`
	Formation       uint64 `cbor:"9,keyasint" json:"formation"`
	Switch          uint64 `cbor:"10,keyasint" json:"switch"`
	// Set at validation start.
	Validated      bool        `cbor:"11,keyasint" json:"validated"`
	ValidationSeed Hash        `cbor:"12,keyasint" json:"validation_seed"`
	Validators     []Validator `cbor:"13,keyasint" json:"validators"`
	Formed         bool        `cbor:"14,keyasint" json:"formed"`
	Switched       bool        `cbor:"15,keyasint" json:"switched"`
	// Abandoned: the next PoC started before this round formed its group (the epoch
	// length was shortened by governance); it formed nothing.
	Abandoned bool `cbor:"16,keyasint" json:"abandoned"`
}

// Model returns the PoC model id's dimensions in the round.
func (r *Round) Model(id string) (models.PoC, bool) {
	for _, m := range r.Models {
		if m.ID == id {
			return m.PoC, true
		}
	}
	return models.PoC{}, false
}

// CommitmentView is one stored commitment.
type CommitmentView struct {
	Participant Account `json:"participant"`
	MLNode      string  `json:"mlnode"`
	Root        Hash    `json:"root"`
	Count       uint64  `json:"count"`
	Height      uint64  `json:"height"`
}

// JudgementView is one stored judgement.
type JudgementView struct {
	Validator   Account `json:"validator"`
	Participant Account `json:"participant"`
	Sampled     uint32  `json:"sampled"`
	Failures    uint32  `json:"failures"`
	Accept      bool    `json:"accept"`
	Height      uint64  `json:"height"`
}

// ParticipantView answers "participants/<netuid>": a hotkey and its declared MLNodes (the
// live declaration, which takes effect at the next PoC start).
type ParticipantView struct {
	Hotkey Account  `json:"hotkey"`
	UID    uint16   `json:"uid"`
	Nodes  []MLNode `json:"mlnodes"`
}

// EpochView answers "epoch/<netuid>": where the chain stands, the group in force, the
// group formed and waiting for the switch (if any) and the PoC round in progress.
type EpochView struct {
	Phase    Phase  `json:"phase"`
	Params   any    `json:"params"`
	Current  *Group `json:"current"`
	Upcoming *Group `json:"upcoming,omitempty"`
	Round    *Round `json:"round,omitempty"`
}

// Genesis is the module's genesis state: nothing yet (participants register and
// declare their MLNodes by transaction).
type Genesis struct{}
