// Package keeper is the inference module's state and rules (its types are in package
// inference above): participants' MLNode declarations, each epoch's PoC round
// (roster, commitments, validators, verdicts), the epoch groups, the poc incentive
// mechanism that pays a subnet's emission by the group in force, and the paid
// inference records: escrow, checks, votes and executors' reputation (payments.go,
// docs/inference-payments.md).
//
// Every stage transition runs in the end block of the height Schedule names, for every
// subnet whose mechanism is poc, in netuid order; nothing reads a clock or iterates a
// map, so every node computes the same rounds and groups.
package keeper

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"

	"github.com/tessera-net/tessera/keys"
	"github.com/tessera-net/tessera/module"
	"github.com/tessera-net/tessera/modules/inference"
	"github.com/tessera-net/tessera/store"
	"github.com/tessera-net/tessera/tx"
)

var (
	prefixParticipant = []byte("inf/p/")   // netuid ‖ hotkey → participant
	prefixRound       = []byte("inf/r/")   // netuid ‖ epoch → inference.Round
	prefixCommit      = []byte("inf/c/")   // netuid ‖ epoch ‖ hotkey ‖ mlnode → commitment
	prefixJudgement   = []byte("inf/v/")   // netuid ‖ epoch ‖ validator ‖ participant → judgement
	prefixGroup       = []byte("inf/g/")   // netuid ‖ epoch → inference.Group
	prefixCurrent     = []byte("inf/cur/") // netuid → the epoch of the group in force (0: none)
	// prefixThroughput holds, per netuid ‖ epoch ‖ model, the tokens the model's
	// preserved nodes served during the epoch's PoC (POC_SLOT's real throughput): the
	// finished inference records started during the PoC add to it (payments.go).
	prefixThroughput = []byte("inf/tp/")
)

func u16(v uint16) []byte { return binary.BigEndian.AppendUint16(nil, v) }
func u64(v uint64) []byte { return binary.BigEndian.AppendUint64(nil, v) }

// participant is a hotkey's declaration on a subnet: its MLNodes in the order first
// added.
type participant struct {
	Nodes []inference.MLNode `cbor:"1,keyasint"`
}

// commitment is a stored inference/commit.
type commitment struct {
	Root   inference.Hash `cbor:"1,keyasint"`
	Count  uint64         `cbor:"2,keyasint"`
	Height uint64         `cbor:"3,keyasint"`
}

// judgement is a stored judgement of one validator on one participant.
type judgement struct {
	Sampled  uint32 `cbor:"1,keyasint"`
	Failures uint32 `cbor:"2,keyasint"`
	Accept   bool   `cbor:"3,keyasint"`
	Height   uint64 `cbor:"4,keyasint"`
}

// Keeper is the inference module.
type Keeper struct {
	subnets  SubnetKeeper
	stake    StakeKeeper
	models   ModelKeeper
	accounts AccountKeeper
	mech     *Mechanism
}

// New returns the module's keeper.
func New(sk SubnetKeeper, st StakeKeeper, mk ModelKeeper, ak AccountKeeper) *Keeper {
	k := &Keeper{subnets: sk, stake: st, models: mk, accounts: ak}
	k.mech = &Mechanism{k: k}
	return k
}

// Name implements module.Module.
func (*Keeper) Name() string { return inference.Name }

// InitGenesis implements module.Module: the genesis state is empty (an object is
// accepted and must have no fields).
func (*Keeper) InitGenesis(_ *module.Context, raw json.RawMessage) error {
	if len(raw) == 0 {
		return nil
	}
	var g inference.Genesis
	if err := strictJSON(raw, &g); err != nil {
		return fmt.Errorf("inference genesis: %w", err)
	}
	return nil
}

func participantKey(netuid uint16, hot keys.PublicKey) []byte {
	return module.Key(prefixParticipant, u16(netuid), hot[:])
}

func roundKey(netuid uint16, epoch uint64) []byte {
	return module.Key(prefixRound, u16(netuid), u64(epoch))
}
func groupKey(netuid uint16, epoch uint64) []byte {
	return module.Key(prefixGroup, u16(netuid), u64(epoch))
}

func throughputKey(netuid uint16, epoch uint64, model string) []byte {
	return module.Key(prefixThroughput, u16(netuid), u64(epoch), []byte(model))
}

func commitKey(netuid uint16, epoch uint64, hot inference.Account, node string) []byte {
	return module.Key(prefixCommit, u16(netuid), u64(epoch), hot[:], []byte(node))
}

func judgementKey(netuid uint16, epoch uint64, validator, participant inference.Account) []byte {
	return module.Key(prefixJudgement, u16(netuid), u64(epoch), validator[:], participant[:])
}

// Participant reads a hotkey's declared MLNodes on a subnet (nil when none).
func (k *Keeper) Participant(r store.Reader, netuid uint16, hot keys.PublicKey) ([]inference.MLNode, error) {
	var p participant
	_, err := module.Get(r, participantKey(netuid, hot), &p)
	return p.Nodes, err
}

// Round reads epoch's PoC round on a subnet.
func (k *Keeper) Round(r store.Reader, netuid uint16, epoch uint64) (*inference.Round, bool, error) {
	var rd inference.Round
	ok, err := module.Get(r, roundKey(netuid, epoch), &rd)
	if !ok || err != nil {
		return nil, false, err
	}
	return &rd, true, nil
}

// Group reads epoch's group on a subnet.
func (k *Keeper) Group(r store.Reader, netuid uint16, epoch uint64) (*inference.Group, bool, error) {
	var g inference.Group
	ok, err := module.Get(r, groupKey(netuid, epoch), &g)
	if !ok || err != nil {
		return nil, false, err
	}
	return &g, true, nil
}

// CurrentEpoch is the epoch of the group in force on a subnet (0: none yet).
func (k *Keeper) CurrentEpoch(r store.Reader, netuid uint16) (uint64, error) {
	return module.GetUint64(r, module.Key(prefixCurrent, u16(netuid)))
}

// Current reads the group in force on a subnet (nil before the first switch).
func (k *Keeper) Current(r store.Reader, netuid uint16) (*inference.Group, error) {
	e, err := k.CurrentEpoch(r, netuid)
	if err != nil || e == 0 {
		return nil, err
	}
	g, ok, err := k.Group(r, netuid, e)
	if err == nil && !ok {
		err = fmt.Errorf("inference: subnet %d's current group %d is missing", netuid, e)
	}
	return g, err
}

// Commitments lists epoch's commitments on a subnet, by participant then MLNode id.
func (k *Keeper) Commitments(r store.Reader, netuid uint16, epoch uint64) ([]inference.CommitmentView, error) {
	prefix := module.Key(prefixCommit, u16(netuid), u64(epoch))
	out := []inference.CommitmentView{}
	err := r.Iterate(prefix, func(key, val []byte) (bool, error) {
		var c commitment
		if err := tx.UnmarshalState(val, &c); err != nil {
			return false, err
		}
		rest := key[len(prefix):]
		v := inference.CommitmentView{MLNode: string(rest[32:]), Root: c.Root, Count: c.Count, Height: c.Height}
		copy(v.Participant[:], rest[:32])
		out = append(out, v)
		return true, nil
	})
	return out, err
}

// Judgements lists epoch's judgements on a subnet, by validator then participant.
func (k *Keeper) Judgements(r store.Reader, netuid uint16, epoch uint64) ([]inference.JudgementView, error) {
	prefix := module.Key(prefixJudgement, u16(netuid), u64(epoch))
	out := []inference.JudgementView{}
	err := r.Iterate(prefix, func(key, val []byte) (bool, error) {
		var j judgement
		if err := tx.UnmarshalState(val, &j); err != nil {
			return false, err
		}
		rest := key[len(prefix):]
		v := inference.JudgementView{Sampled: j.Sampled, Failures: j.Failures, Accept: j.Accept, Height: j.Height}
		copy(v.Validator[:], rest[:32])
		copy(v.Participant[:], rest[32:64])
		out = append(out, v)
		return true, nil
	})
	return out, err
}

func strictJSON(raw []byte, v any) error {
	d := json.NewDecoder(bytes.NewReader(raw))
	d.DisallowUnknownFields()
	return d.Decode(v)
}

// Dissolve deletes everything the module keeps for a dissolved subnet (the subnets
// keeper's dissolve hook): declarations, rounds, commitments, verdicts, groups, pointers
// and throughput, and the inference records (refunded to their users from escrow),
// executors' statistics and usage, so that a new subnet on the netuid starts with none.
func (k *Keeper) Dissolve(kv store.KV, netuid uint16) error {
	if err := k.dissolvePayments(kv, netuid); err != nil {
		return err
	}
	for _, p := range [][]byte{prefixParticipant, prefixRound, prefixCommit, prefixJudgement, prefixGroup, prefixThroughput} {
		if err := module.DeletePrefix(kv, module.Key(p, u16(netuid))); err != nil {
			return err
		}
	}
	for _, p := range [][]byte{prefixCurrent, prefixLastRound} {
		if err := kv.Delete(module.Key(p, u16(netuid))); err != nil {
			return err
		}
	}
	return nil
}
