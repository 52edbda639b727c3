// Package inference holds the types of the inference network's chain module: the
// participants of a subnet whose mechanism is "poc", the MLNodes each declares, the
// epoch's stages and the epoch group formed from each Proof of Compute, the PoC
// commitments and the validators' verdicts. It imports no store; the state and the
// rules are package keeper, the Proof-of-Compute maths package poc.
//
// The rules (docs/inference.md):
//   - A participant is a hotkey registered on a poc subnet. It declares its MLNodes with
//     a hardware diff (MsgMLNodes): every model id is checked against the governance
//     registry and the transaction is refused with the unknown ids listed; a node id is
//     unique per participant.
//   - Declarations take effect at the next PoC start (the roster) and so in the epoch
//     group formed from that PoC; nothing changes the group in force.
//   - The stages of each epoch (Schedule) follow from the models module's parameters.
//   - A commitment (MsgCommit) is a Merkle root and count of one rostered MLNode's valid
//     nonces, accepted from the block after PoC start until validation starts.
//   - A verdict (MsgVerdict) is a validator's result of re-running a participant's
//     sample, accepted from the block after validation starts until the group forms.
//     Its acceptance is the statistical test's, recomputed by the chain from the
//     counts, so a verdict cannot say "accept" over six failures out of 200.
//   - The group formed at the end of validation takes effect at the switch, after
//     model loading; the poc mechanism pays each tempo's emission by its weights.
package inference

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"strings"

	"github.com/tessera-net/tessera/modules/models"
	"github.com/tessera-net/tessera/tx"
)

// Name is the module name.
const Name = "inference"

// Mechanism is the incentive mechanism of an inference subnet.
const Mechanism = "poc"

// Message types.
const (
	MsgMLNodes = "inference/mlnodes"
	MsgCommit  = "inference/commit"
	MsgVerdict = "inference/verdict"
)

// Bounds against hostile input.
const (
	MaxMLNodes     = 32 // per participant
	MaxNodeIDLen   = 64
	MaxHostLen     = 253
	MaxHardware    = 16
	MaxHardwareLen = 64
	MaxNodeModels  = 16
	MaxVerdicts    = 256 // per message
	// MaxCount bounds a commitment's count: 2^40 valid nonces is far beyond what any
	// MLNode computes in a PoC window, and keeps every sum over a group exact.
	MaxCount = 1 << 40
)

// Hardware is one kind of device an MLNode has ("H100", 8).
type Hardware struct {
	Type  string `cbor:"1,keyasint" json:"type"`
	Count uint32 `cbor:"2,keyasint" json:"count"`
}

// MLNode is a machine a participant runs models on, as it declares it.
type MLNode struct {
	ID   string `cbor:"1,keyasint" json:"id"`
	Host string `cbor:"2,keyasint" json:"host"`
	// InferencePort serves inference, PoCPort the PoC control and proofs.
	InferencePort uint16     `cbor:"3,keyasint" json:"inference_port"`
	PoCPort       uint16     `cbor:"4,keyasint" json:"poc_port"`
	Hardware      []Hardware `cbor:"5,keyasint" json:"hardware"`
	// Models are the registry ids the node serves; the first is the one it mines PoC
	// for and serves first (PRE_POC_SLOT).
	Models []string `cbor:"6,keyasint" json:"models"`
}

func checkWord(field, s string, max int) error {
	if err := models.ValidateID(s); err != nil || len(s) > max {
		return tx.Errorf(tx.CodeInvalidMessage, "%s %.80q is not 1 to %d letters, digits, '.', '_' or '-'", field, s, max)
	}
	return nil
}

// Validate checks the node's fields (not its models' existence: that is the keeper's).
func (n *MLNode) Validate() error {
	if err := checkWord("mlnode id", n.ID, MaxNodeIDLen); err != nil {
		return err
	}
	if err := validHost(n.Host); err != nil {
		return tx.Errorf(tx.CodeInvalidMessage, "mlnode %s: %v", n.ID, err)
	}
	if n.InferencePort == 0 || n.PoCPort == 0 {
		return tx.Errorf(tx.CodeInvalidMessage, "mlnode %s: inference_port and poc_port must be set (1..65535)", n.ID)
	}
	if len(n.Hardware) > MaxHardware {
		return tx.Errorf(tx.CodeInvalidMessage, "mlnode %s: %d hardware entries, the limit is %d", n.ID, len(n.Hardware), MaxHardware)
	}
	for i, h := range n.Hardware {
		if h.Count == 0 {
			return tx.Errorf(tx.CodeInvalidMessage, "mlnode %s: hardware[%d] count must be positive", n.ID, i)
		}
		if err := checkWord(fmt.Sprintf("mlnode %s: hardware[%d] type", n.ID, i), h.Type, MaxHardwareLen); err != nil {
			return err
		}
	}
	if len(n.Models) == 0 || len(n.Models) > MaxNodeModels {
		return tx.Errorf(tx.CodeInvalidMessage, "mlnode %s: %d models, want 1 to %d", n.ID, len(n.Models), MaxNodeModels)
	}
	for i, m := range n.Models {
		if err := models.ValidateID(m); err != nil {
			return tx.Errorf(tx.CodeInvalidMessage, "mlnode %s: models[%d]: %v", n.ID, i, err)
		}
		for _, o := range n.Models[:i] {
			if o == m {
				return tx.Errorf(tx.CodeInvalidMessage, "mlnode %s: model %s is listed twice", n.ID, m)
			}
		}
	}
	return nil
}

// validHost accepts an IP address or a DNS name (letters, digits, '-', dots).
func validHost(h string) error {
	if h == "" || len(h) > MaxHostLen {
		return fmt.Errorf("host is %d bytes, want 1 to %d", len(h), MaxHostLen)
	}
	if net.ParseIP(h) != nil {
		return nil
	}
	for _, label := range strings.Split(h, ".") {
		if label == "" || len(label) > 63 || strings.HasPrefix(label, "-") || strings.HasSuffix(label, "-") {
			return fmt.Errorf("host %.80q is not an IP address or a DNS name", h)
		}
		for _, r := range label {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-') {
				return fmt.Errorf("host %.80q is not an IP address or a DNS name", h)
			}
		}
	}
	return nil
}

// HardwareDiff is the body of inference/mlnodes: the MLNodes to add or replace (by id)
// and the ids to remove, on subnet Netuid, for the signing hotkey. Removals apply
// first; the result keeps the order the nodes were first added in.
type HardwareDiff struct {
	Netuid uint16   `cbor:"1,keyasint" json:"netuid"`
	Add    []MLNode `cbor:"2,keyasint,omitempty" json:"add,omitempty"`
	Remove []string `cbor:"3,keyasint,omitempty" json:"remove,omitempty"`
}

// Validate checks the diff's own shape.
func (d *HardwareDiff) Validate() error {
	if len(d.Add) == 0 && len(d.Remove) == 0 {
		return tx.Errorf(tx.CodeInvalidMessage, "the diff adds and removes nothing")
	}
	if len(d.Add) > MaxMLNodes || len(d.Remove) > MaxMLNodes {
		return tx.Errorf(tx.CodeInvalidMessage, "a diff adds or removes at most %d MLNodes", MaxMLNodes)
	}
	seen := map[string]bool{}
	for i := range d.Add {
		if err := d.Add[i].Validate(); err != nil {
			return err
		}
		if seen[d.Add[i].ID] {
			return tx.Errorf(tx.CodeInvalidMessage, "mlnode %s appears twice in the diff", d.Add[i].ID)
		}
		seen[d.Add[i].ID] = true
	}
	for _, id := range d.Remove {
		if err := checkWord("removed mlnode id", id, MaxNodeIDLen); err != nil {
			return err
		}
		if seen[id] {
			return tx.Errorf(tx.CodeInvalidMessage, "mlnode %s appears twice in the diff", id)
		}
		seen[id] = true
	}
	return nil
}

// NewHardwareDiff builds an inference/mlnodes message.
func NewHardwareDiff(d HardwareDiff) (tx.Msg, error) {
	if err := d.Validate(); err != nil {
		return tx.Msg{}, err
	}
	return tx.NewMsg(MsgMLNodes, d)
}

// Hash is a 32-byte digest, hex in JSON.
type Hash [32]byte

// MarshalJSON writes the hash as 64 hex digits.
func (h Hash) MarshalJSON() ([]byte, error) { return json.Marshal(hex.EncodeToString(h[:])) }

// UnmarshalJSON reads 64 hex digits.
func (h *Hash) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	raw, err := hex.DecodeString(s)
	if err != nil || len(raw) != 32 {
		return fmt.Errorf("%.80q is not 64 hex digits", s)
	}
	copy(h[:], raw)
	return nil
}

// Commit is the body of inference/commit: the Merkle root and count of one MLNode's
// valid nonces in epoch Epoch's PoC (poc.Commitment). A later commit for the same node
// in the window replaces the earlier one.
type Commit struct {
	Netuid uint16 `cbor:"1,keyasint" json:"netuid"`
	Epoch  uint64 `cbor:"2,keyasint" json:"epoch"`
	MLNode string `cbor:"3,keyasint" json:"mlnode"`
	Root   Hash   `cbor:"4,keyasint" json:"root"`
	Count  uint64 `cbor:"5,keyasint" json:"count"`
}

// Validate checks the commitment's shape.
func (c *Commit) Validate() error {
	if err := checkWord("mlnode", c.MLNode, MaxNodeIDLen); err != nil {
		return err
	}
	if c.Count == 0 || c.Count > MaxCount {
		return tx.Errorf(tx.CodeInvalidMessage, "count %d is not in 1..2^40 (commit nothing for a node without valid nonces)", c.Count)
	}
	return nil
}

// NewCommit builds an inference/commit message.
func NewCommit(c Commit) (tx.Msg, error) {
	if err := c.Validate(); err != nil {
		return tx.Msg{}, err
	}
	return tx.NewMsg(MsgCommit, c)
}

// Judgement is one validator's result for one participant: of Sampled indices drawn
// (poc.SampleIndices), Failures failed (unserved, a bad proof, or a re-run nonce that
// is not valid). The chain derives acceptance from the counts (poc.Test.Reject).
type Judgement struct {
	Participant []byte `cbor:"1,keyasint" json:"participant"` // hotkey, 32 bytes
	Sampled     uint32 `cbor:"2,keyasint" json:"sampled"`
	Failures    uint32 `cbor:"3,keyasint" json:"failures"`
}

// Verdict is the body of inference/verdict: a validator's judgements in epoch Epoch's
// validation. A later judgement of the same participant replaces the earlier one.
type Verdict struct {
	Netuid     uint16      `cbor:"1,keyasint" json:"netuid"`
	Epoch      uint64      `cbor:"2,keyasint" json:"epoch"`
	Judgements []Judgement `cbor:"3,keyasint" json:"judgements"`
}

// Validate checks the verdict's shape.
func (v *Verdict) Validate() error {
	if len(v.Judgements) == 0 || len(v.Judgements) > MaxVerdicts {
		return tx.Errorf(tx.CodeInvalidMessage, "%d judgements, want 1 to %d", len(v.Judgements), MaxVerdicts)
	}
	seen := map[string]bool{}
	for i, j := range v.Judgements {
		if len(j.Participant) != 32 {
			return tx.Errorf(tx.CodeInvalidMessage, "judgements[%d]: participant is %d bytes, want a 32-byte hotkey", i, len(j.Participant))
		}
		if j.Failures > j.Sampled {
			return tx.Errorf(tx.CodeInvalidMessage, "judgements[%d]: %d failures of %d sampled", i, j.Failures, j.Sampled)
		}
		if seen[string(j.Participant)] {
			return tx.Errorf(tx.CodeInvalidMessage, "judgements[%d]: the participant is judged twice", i)
		}
		seen[string(j.Participant)] = true
	}
	return nil
}

// NewVerdict builds an inference/verdict message.
func NewVerdict(v Verdict) (tx.Msg, error) {
	if err := v.Validate(); err != nil {
		return tx.Msg{}, err
	}
	return tx.NewMsg(MsgVerdict, v)
}
