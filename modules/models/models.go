// Package models holds the types of the model registry: the models the inference network
// serves, with what a participant needs to run one (Hugging Face repo and commit,
// quantisation, context, arguments, VRAM), what it costs and earns (price per token,
// throughput per Proof-of-Compute nonce) and the shape of the random transformer its
// Proof of Compute runs. No message writes the registry: its only writers are governance
// actions (models/add, models/update, models/params), which the keeper registers with the
// gov module, so nothing about a model changes without a passed vote. It imports no store.
package models

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/tessera-net/tessera/lm"
	"github.com/tessera-net/tessera/tx"
)

// Name is the module name.
const Name = "models"

// Governance action types.
const (
	ActionAdd    = "models/add"
	ActionUpdate = "models/update"
	ActionParams = "models/params"
)

// MaxModels bounds the registry (every epoch snapshots it).
const MaxModels = 256

// Bounds on a model's fields, against hostile input.
const (
	MaxIDLen      = 64
	MaxNameLen    = 128
	MaxVersionLen = 64
	MaxRepoLen    = 128
	MaxQuantLen   = 32
	MaxArgs       = 32
	MaxArgLen     = 256
	MaxContext    = 1 << 20
	MaxVRAMGB     = 1 << 16
)

// PoC is the shape of the random transformer a model's Proof of Compute runs (lm.Dims):
// PoC cost tracks the model.
type PoC struct {
	Layers  uint32 `cbor:"1,keyasint" json:"layers"`
	Width   uint32 `cbor:"2,keyasint" json:"width"`
	Heads   uint32 `cbor:"3,keyasint" json:"heads"`
	KVHeads uint32 `cbor:"4,keyasint" json:"kv_heads"`
	FFN     uint32 `cbor:"5,keyasint" json:"ffn"`
	Vocab   uint32 `cbor:"6,keyasint" json:"vocab"`
	SeqLen  uint32 `cbor:"7,keyasint" json:"seq_len"`
}

// Dims is the engine's shape of the PoC model.
func (p PoC) Dims() lm.Dims {
	return lm.Dims{Vocab: int(p.Vocab), Dim: int(p.Width), Layers: int(p.Layers), Heads: int(p.Heads),
		KVHeads: int(p.KVHeads), FFN: int(p.FFN), Context: int(p.SeqLen)}
}

// Validate checks the shape as the engine does (lm.Dims.Config and Config.Validate: the
// head count divides the width, the kv-head count divides the head count, …).
func (p PoC) Validate() error {
	const limit = 1 << 20 // every lm bound is at most this; it keeps the int conversions exact
	for _, f := range []struct {
		name string
		v    uint32
	}{{"layers", p.Layers}, {"width", p.Width}, {"heads", p.Heads}, {"kv_heads", p.KVHeads}, {"ffn", p.FFN}, {"vocab", p.Vocab}, {"seq_len", p.SeqLen}} {
		if f.v == 0 || f.v > limit {
			return tx.Errorf(tx.CodeInvalidMessage, "poc.%s is %d, want 1 to %d", f.name, f.v, limit)
		}
	}
	if _, err := p.Dims().Config(); err != nil {
		return tx.Errorf(tx.CodeInvalidMessage, "poc shape: %s", strings.TrimPrefix(err.Error(), lm.ErrModel.Error()+": "))
	}
	return nil
}

// Spec is a model as governance adds or updates it.
type Spec struct {
	ID                 string   `cbor:"1,keyasint" json:"id"`
	Name               string   `cbor:"2,keyasint" json:"name"`
	Version            string   `cbor:"3,keyasint" json:"version"`
	HFRepo             string   `cbor:"4,keyasint" json:"hf_repo"`
	HFCommit           string   `cbor:"5,keyasint" json:"hf_commit"`
	Quantization       string   `cbor:"6,keyasint" json:"quantization"`
	ContextSize        uint32   `cbor:"7,keyasint" json:"context_size"`
	KVCacheQuant       string   `cbor:"8,keyasint" json:"kv_cache_quantization"`
	Args               []string `cbor:"9,keyasint" json:"model_args"`
	VRAMGB             uint32   `cbor:"10,keyasint" json:"vram_gb"`
	ThroughputPerNonce uint64   `cbor:"11,keyasint" json:"throughput_per_nonce"`
	PricePerToken      uint64   `cbor:"12,keyasint" json:"price_per_token,string"` // smallest unit
	PoC                PoC      `cbor:"13,keyasint" json:"poc"`
	// ValidationThresholdPPM is the top-k log-probability similarity, in parts per
	// million, that an inference served by an external float backend must reach when a
	// validator re-scores it (Gonka's validation_threshold; 0: the MLNode's default,
	// 980000). Engine-served models are checked exactly and ignore it.
	ValidationThresholdPPM uint32 `cbor:"14,keyasint,omitempty" json:"validation_threshold_ppm,omitempty"`
}

func isIDChar(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-'
}

func checkWord(field, s string, max int) error {
	if len(s) == 0 || len(s) > max {
		return tx.Errorf(tx.CodeInvalidMessage, "%s is %d bytes, want 1 to %d", field, len(s), max)
	}
	for _, r := range s {
		if !isIDChar(r) {
			return tx.Errorf(tx.CodeInvalidMessage, "%s %q holds %q: only letters, digits, '.', '_' and '-'", field, s, r)
		}
	}
	return nil
}

func checkPrintable(field, s string, max int) error {
	if len(s) == 0 || len(s) > max {
		return tx.Errorf(tx.CodeInvalidMessage, "%s is %d bytes, want 1 to %d", field, len(s), max)
	}
	for _, r := range s {
		if r < 0x20 || r > 0x7e {
			return tx.Errorf(tx.CodeInvalidMessage, "%s holds %q: printable ASCII only", field, r)
		}
	}
	return nil
}

// ValidateID checks a model id: 1 to 64 letters, digits, '.', '_' or '-' (it is a query
// path segment, so no '/').
func ValidateID(id string) error { return checkWord("id", id, MaxIDLen) }

// Validate checks every field.
func (s *Spec) Validate() error {
	if err := ValidateID(s.ID); err != nil {
		return err
	}
	if err := checkPrintable("name", s.Name, MaxNameLen); err != nil {
		return err
	}
	if err := checkWord("version", s.Version, MaxVersionLen); err != nil {
		return err
	}
	owner, repo, ok := strings.Cut(s.HFRepo, "/")
	if !ok || len(s.HFRepo) > MaxRepoLen || checkWord("hf_repo", owner, MaxRepoLen) != nil || checkWord("hf_repo", repo, MaxRepoLen) != nil {
		return tx.Errorf(tx.CodeInvalidMessage, "hf_repo %.140q is not owner/name (letters, digits, '.', '_', '-'; at most %d bytes)", s.HFRepo, MaxRepoLen)
	}
	if len(s.HFCommit) != 40 || strings.Trim(s.HFCommit, "0123456789abcdef") != "" {
		return tx.Errorf(tx.CodeInvalidMessage, "hf_commit %.60q is not a 40-character lowercase hex commit hash", s.HFCommit)
	}
	if err := checkWord("quantization", s.Quantization, MaxQuantLen); err != nil {
		return err
	}
	if err := checkWord("kv_cache_quantization", s.KVCacheQuant, MaxQuantLen); err != nil {
		return err
	}
	if s.ContextSize == 0 || s.ContextSize > MaxContext {
		return tx.Errorf(tx.CodeInvalidMessage, "context_size %d is not in 1..%d", s.ContextSize, MaxContext)
	}
	if len(s.Args) > MaxArgs {
		return tx.Errorf(tx.CodeInvalidMessage, "model_args has %d entries, the limit is %d", len(s.Args), MaxArgs)
	}
	for i, a := range s.Args {
		if err := checkPrintable(fmt.Sprintf("model_args[%d]", i), a, MaxArgLen); err != nil {
			return err
		}
	}
	if s.VRAMGB == 0 || s.VRAMGB > MaxVRAMGB {
		return tx.Errorf(tx.CodeInvalidMessage, "vram_gb %d is not in 1..%d", s.VRAMGB, MaxVRAMGB)
	}
	if s.ThroughputPerNonce == 0 {
		return tx.Errorf(tx.CodeInvalidMessage, "throughput_per_nonce must be positive")
	}
	if s.ValidationThresholdPPM > 1_000_000 {
		return tx.Errorf(tx.CodeInvalidMessage, "validation_threshold_ppm %d is more than 1000000 (a similarity of 1)", s.ValidationThresholdPPM)
	}
	return s.PoC.Validate()
}

// Params are the inference network's parameters that governance sets: the coverage
// bonus, the epoch's stage lengths, the validation sample, the Proof-of-Compute threshold,
// the uptime preservation bound and the throughput check. The inference module reads
// them at each stage transition (docs/inference.md).
type Params struct {
	// CoverageBonusPPM is the coverage bonus in parts per million of a participant's
	// weight (poc.Rewards): 100000 is 10 %.
	CoverageBonusPPM uint32 `cbor:"1,keyasint" json:"coverage_bonus_ppm"`
	EpochBlocks      uint64 `cbor:"2,keyasint" json:"epoch_blocks"`
	PoCBlocks        uint64 `cbor:"3,keyasint" json:"poc_blocks"`
	PoCExchange      uint64 `cbor:"4,keyasint" json:"poc_exchange_blocks"`
	ValidationBlocks uint64 `cbor:"5,keyasint" json:"validation_blocks"`
	ValidationXchg   uint64 `cbor:"6,keyasint" json:"validation_exchange_blocks"`
	LoadingBlocks    uint64 `cbor:"7,keyasint" json:"model_loading_blocks"`
	ValidationSample uint32 `cbor:"8,keyasint" json:"validation_sample"`
	// PoCThreshold is the distance under which a nonce counts: the hit rate is exactly
	// PoCThreshold / 2^64 (poc.Valid; 2^60, 1/16, by default).
	PoCThreshold uint64 `cbor:"9,keyasint" json:"poc_threshold,string"`
	// MaxPreservedEpochs bounds how many epochs in a row an MLNode may keep serving
	// through PoC on its previous weight (poc.SelectUptime).
	MaxPreservedEpochs uint32 `cbor:"10,keyasint" json:"max_preserved_epochs"`
	// ThroughputCheck scales a preserved MLNode's weight by its model's real POC_SLOT
	// throughput over the expected one, when the real one is lower (off by default).
	ThroughputCheck bool `cbor:"11,keyasint" json:"throughput_check"`

	// The paid inferences' parameters (docs/inference-payments.md). Each reads as its
	// default when 0 (the methods below), so that parameters written before they existed
	// keep their meaning.
	//
	// CheckBlocks is how many blocks after its finish a record waits for checks before
	// its cost is paid (default 10); ExpirationBlocks how many blocks after its start an
	// unfinished record is refunded (default 20); VoteBlocks how long, after the check
	// window, a vote on a reported record runs (default 10); InvalidLimit how many
	// invalidations within an epoch make an executor INVALID for it (default 2).
	CheckBlocks      uint64 `cbor:"12,keyasint,omitempty" json:"inference_check_blocks,omitempty"`
	ExpirationBlocks uint64 `cbor:"13,keyasint,omitempty" json:"inference_expiration_blocks,omitempty"`
	VoteBlocks       uint64 `cbor:"14,keyasint,omitempty" json:"inference_vote_blocks,omitempty"`
	InvalidLimit     uint32 `cbor:"15,keyasint,omitempty" json:"inference_invalid_limit,omitempty"`
	// ValidationMinPPM and ValidationMaxPPM bound the share of an executor's inferences
	// the validators check, in parts per million: the maximum for reputation 0, the
	// minimum for reputation 100 (defaults 100000 and 1000000).
	ValidationMinPPM uint32 `cbor:"16,keyasint,omitempty" json:"inference_validation_min_ppm,omitempty"`
	ValidationMaxPPM uint32 `cbor:"17,keyasint,omitempty" json:"inference_validation_max_ppm,omitempty"`
}

// Defaults of the paid inferences' parameters (a 0 in Params reads as these).
const (
	DefaultCheckBlocks      = 10
	DefaultExpirationBlocks = 20
	DefaultVoteBlocks       = 10
	DefaultInvalidLimit     = 2
	DefaultValidationMinPPM = 100_000
	DefaultValidationMaxPPM = 1_000_000
	// MaxPaymentBlocks bounds the check, expiration and vote windows.
	MaxPaymentBlocks = 10_000
)

func orDefault[T uint32 | uint64](v, d T) T {
	if v == 0 {
		return d
	}
	return v
}

// InferenceCheckBlocks is CheckBlocks or its default.
func (p Params) InferenceCheckBlocks() uint64 { return orDefault(p.CheckBlocks, DefaultCheckBlocks) }

// InferenceExpirationBlocks is ExpirationBlocks or its default.
func (p Params) InferenceExpirationBlocks() uint64 {
	return orDefault(p.ExpirationBlocks, DefaultExpirationBlocks)
}

// InferenceVoteBlocks is VoteBlocks or its default.
func (p Params) InferenceVoteBlocks() uint64 { return orDefault(p.VoteBlocks, DefaultVoteBlocks) }

// InferenceInvalidLimit is InvalidLimit or its default.
func (p Params) InferenceInvalidLimit() uint32 { return orDefault(p.InvalidLimit, DefaultInvalidLimit) }

// InferenceValidationPPM is the validation share's bounds (ValidationMinPPM,
// ValidationMaxPPM) or their defaults.
func (p Params) InferenceValidationPPM() (minPPM, maxPPM uint32) {
	return orDefault(p.ValidationMinPPM, DefaultValidationMinPPM), orDefault(p.ValidationMaxPPM, DefaultValidationMaxPPM)
}

// DefaultParams: a 10% coverage bonus, 200-nonce validation samples, the 1/16 hit rate,
// one preserved epoch in a row, no throughput check, and stages that fit a 240-block
// epoch.
func DefaultParams() Params {
	return Params{CoverageBonusPPM: 100_000, EpochBlocks: 240, PoCBlocks: 20, PoCExchange: 5, ValidationBlocks: 20,
		ValidationXchg: 5, LoadingBlocks: 10, ValidationSample: 200, PoCThreshold: 1 << 60, MaxPreservedEpochs: 1}
}

// MaxEpochBlocks bounds the epoch length.
const MaxEpochBlocks = 1_000_000

// MaxCoverageBonusPPM bounds the coverage bonus: 1000 % (poc.MaxBonusPPM).
const MaxCoverageBonusPPM = 10_000_000

// Validate checks the parameters: every stage at least a block and together within the
// epoch, and every other value in its range.
func (p Params) Validate() error {
	if p.EpochBlocks == 0 || p.EpochBlocks > MaxEpochBlocks {
		return tx.Errorf(tx.CodeInvalidMessage, "epoch_blocks %d is not in 1..%d", p.EpochBlocks, MaxEpochBlocks)
	}
	sum := uint64(0)
	for _, f := range []struct {
		name string
		v    uint64
	}{{"poc_blocks", p.PoCBlocks}, {"poc_exchange_blocks", p.PoCExchange}, {"validation_blocks", p.ValidationBlocks},
		{"validation_exchange_blocks", p.ValidationXchg}, {"model_loading_blocks", p.LoadingBlocks}} {
		if f.v == 0 || f.v > p.EpochBlocks {
			return tx.Errorf(tx.CodeInvalidMessage, "%s %d is not in 1..%d (the epoch)", f.name, f.v, p.EpochBlocks)
		}
		sum += f.v
	}
	if sum > p.EpochBlocks {
		return tx.Errorf(tx.CodeInvalidMessage, "the stages take %d blocks, more than the epoch's %d", sum, p.EpochBlocks)
	}
	if p.ValidationSample == 0 || p.ValidationSample > 100_000 {
		return tx.Errorf(tx.CodeInvalidMessage, "validation_sample %d is not in 1..100000", p.ValidationSample)
	}
	if p.CoverageBonusPPM > MaxCoverageBonusPPM {
		return tx.Errorf(tx.CodeInvalidMessage, "coverage_bonus_ppm %d is over %d (1000 %%)", p.CoverageBonusPPM, MaxCoverageBonusPPM)
	}
	if p.PoCThreshold == 0 {
		return tx.Errorf(tx.CodeInvalidMessage, "poc_threshold must be positive (it is the hit rate times 2^64)")
	}
	for _, f := range []struct {
		name string
		v    uint64
	}{{"inference_check_blocks", p.CheckBlocks}, {"inference_expiration_blocks", p.ExpirationBlocks}, {"inference_vote_blocks", p.VoteBlocks}} {
		if f.v > MaxPaymentBlocks {
			return tx.Errorf(tx.CodeInvalidMessage, "%s %d is over %d", f.name, f.v, MaxPaymentBlocks)
		}
	}
	if p.InvalidLimit > 1_000_000 {
		return tx.Errorf(tx.CodeInvalidMessage, "inference_invalid_limit %d is over 1000000", p.InvalidLimit)
	}
	if lo, hi := p.InferenceValidationPPM(); hi > 1_000_000 || lo > hi {
		return tx.Errorf(tx.CodeInvalidMessage, "inference_validation_min_ppm %d and inference_validation_max_ppm %d: want min ≤ max ≤ 1000000 (0 reads as the default)", lo, hi)
	}
	if p.MaxPreservedEpochs > 1000 {
		return tx.Errorf(tx.CodeInvalidMessage, "max_preserved_epochs %d is over 1000", p.MaxPreservedEpochs)
	}
	return nil
}

// Add is the body of a models/add action: a new model.
type Add struct {
	Model Spec `cbor:"1,keyasint" json:"model"`
}

// Update is the body of a models/update action: the model Model.ID's new parameters, in
// full (every field is replaced; the id, creator and history stay).
type Update struct {
	Model Spec `cbor:"1,keyasint" json:"model"`
}

// SetParams is the body of a models/params action: the new parameters, in full.
type SetParams struct {
	Params Params `cbor:"1,keyasint" json:"params"`
}

// NewAddAction builds a models/add action.
func NewAddAction(s Spec) (tx.Msg, error) { return tx.NewMsg(ActionAdd, Add{Model: s}) }

// NewUpdateAction builds a models/update action.
func NewUpdateAction(s Spec) (tx.Msg, error) { return tx.NewMsg(ActionUpdate, Update{Model: s}) }

// NewParamsAction builds a models/params action.
func NewParamsAction(p Params) (tx.Msg, error) { return tx.NewMsg(ActionParams, SetParams{Params: p}) }

// ActionFromJSON builds an action of one of this module's types from its JSON body (what
// `tessera gov propose --action-file` reads): {"model": {...}} or {"params": {...}}.
// It reports false for a type that is not the module's.
func ActionFromJSON(typ string, body json.RawMessage) (tx.Msg, bool, error) {
	dec := func(v any) error {
		d := json.NewDecoder(strings.NewReader(string(body)))
		d.DisallowUnknownFields()
		if err := d.Decode(v); err != nil {
			return fmt.Errorf("%s: %w", typ, err)
		}
		return nil
	}
	switch typ {
	case ActionAdd:
		var a Add
		if err := dec(&a); err != nil {
			return tx.Msg{}, true, err
		}
		m, err := NewAddAction(a.Model)
		return m, true, err
	case ActionUpdate:
		var u Update
		if err := dec(&u); err != nil {
			return tx.Msg{}, true, err
		}
		m, err := NewUpdateAction(u.Model)
		return m, true, err
	case ActionParams:
		var p SetParams
		if err := dec(&p); err != nil {
			return tx.Msg{}, true, err
		}
		m, err := NewParamsAction(p.Params)
		return m, true, err
	}
	return tx.Msg{}, false, nil
}

// Genesis is the module's genesis state: the parameters and the initial models (their
// creator is empty: the genesis voted them in).
type Genesis struct {
	Params *Params `json:"params,omitempty"`
	Models []Spec  `json:"models,omitempty"`
}

// ModelView answers "model/<id>" and is one entry of "list".
type ModelView struct {
	Spec
	// Creator is the proposer of the proposal that added the model (empty for genesis).
	Creator string `json:"creator,omitempty"`
	// Proposal is the proposal that added it and LastProposal the one that last changed
	// it (0: the genesis).
	Proposal      uint64 `json:"proposal"`
	LastProposal  uint64 `json:"last_proposal"`
	AddedHeight   int64  `json:"added_height"`
	UpdatedHeight int64  `json:"updated_height"`
}

// PriceView is one entry of the "pricing" answer.
type PriceView struct {
	ID            string `json:"id"`
	PricePerToken uint64 `json:"price_per_token,string"`
}
