// Package yumajson reads and writes the Yuma epoch state and results as JSON, in the format
// of docs/yuma.md "§9 The epoch-state JSON" that `tessera yuma simulate` uses. Decoding is strict: unknown
// fields, values outside their type's range, non-integers, and vectors whose length
// disagrees with n are rejected with a *yuma.FieldError naming the field (and index).
package yumajson

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"

	"github.com/tessera-net/tessera/yuma"
)

// State is one decoded epoch state: the epoch's inputs and the variant to run.
type State struct {
	yuma.EpochState
	// Sparse selects subtensor's sparse epoch_mechanism (the chain's path, the default);
	// false selects the dense variant.
	Sparse bool
}

// Defaults applied to optional fields: a new subnet's (docs/yuma.md "§3 Defaults").
const (
	DefaultKappa                 = 32_767
	DefaultBondsPenalty          = 65_535
	DefaultBondsMovingAverage    = 900_000
	DefaultAlphaLow              = 45_875
	DefaultAlphaHigh             = 58_982
	DefaultAlphaSigmoidSteepness = 1000
	DefaultMaxAllowedValidators  = 64
)

// fields lists every accepted field; others are rejected.
var fields = []string{
	"n", "current_block", "tempo", "activity_cutoff", "last_mechanism_step_block",
	"last_update", "block_at_registration", "stake", "tao_stake", "tao_weight_u64",
	"stake_threshold", "validator_permit", "max_allowed_validators", "owner_uid",
	"weights", "bonds", "kappa", "bonds_penalty", "bonds_moving_average", "yuma3",
	"liquid_alpha", "alpha_low", "alpha_high", "alpha_sigmoid_steepness",
	"commit_reveal_enabled", "commit_blocks", "rao_emission", "sparse",
}

// required are the fields without a default.
var required = []string{
	"n", "current_block", "tempo", "last_update", "block_at_registration", "stake",
	"validator_permit", "weights", "rao_emission",
}

func ferr(field, format string, args ...any) error {
	return &yuma.FieldError{Field: field, Msg: fmt.Sprintf(format, args...)}
}

// Read decodes one state from r (see Decode).
func Read(r io.Reader) (*State, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("reading epoch state: %w", err)
	}
	return Decode(data)
}

// Decode parses and validates one epoch state. Optional fields take the defaults above;
// activity_cutoff defaults to max(1, 13889 × tempo / 1000), bonds to empty rows, yuma3 to
// true (what init_new_network sets for every new subnet), sparse to true. The returned state
// has passed yuma.EpochState.Validate.
func Decode(data []byte) (*State, error) {
	var raw map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(&raw); err != nil {
		return nil, fmt.Errorf("epoch state is not a JSON object: %w", err)
	}
	if dec.More() {
		return nil, fmt.Errorf("epoch state: unexpected data after the JSON object")
	}
	if raw == nil {
		return nil, fmt.Errorf("epoch state is not a JSON object")
	}
	known := make(map[string]bool, len(fields))
	for _, f := range fields {
		known[f] = true
	}
	// Report unknown fields in a fixed order (map order must not choose the error).
	for _, f := range sortedKeys(raw) {
		if !known[f] {
			return nil, ferr(f, "unknown field")
		}
	}
	for _, f := range required {
		if _, ok := raw[f]; !ok {
			return nil, ferr(f, "missing")
		}
	}

	p := parser{raw: raw}
	st := &State{Sparse: true}
	s := &st.EpochState
	n := p.uint("n", 0, yuma.MaxN)
	s.N = int(n)
	s.CurrentBlock = p.u64("current_block", 0)
	s.Tempo = uint16(p.uint("tempo", 0, math.MaxUint16))
	s.ActivityCutoff = p.u64("activity_cutoff", yuma.ActivityCutoffBlocks(yuma.DefaultActivityCutoffFactorMilli, s.Tempo))
	s.LastMechanismStepBlock = p.u64("last_mechanism_step_block", 0)
	s.LastUpdate = p.u64Vec("last_update", s.N, false)
	s.BlockAtRegistration = p.u64Vec("block_at_registration", s.N, false)
	s.Stake = p.u64Vec("stake", s.N, false)
	s.TaoStake = p.u64Vec("tao_stake", s.N, true)
	s.TaoWeight = p.u64("tao_weight_u64", 0)
	s.StakeThreshold = p.u64("stake_threshold", 0)
	s.ValidatorPermit = p.boolVec("validator_permit", s.N)
	s.MaxAllowedValidators = uint16(p.uintDefault("max_allowed_validators", 0, math.MaxUint16, DefaultMaxAllowedValidators))
	if v, ok := p.optionalUint("owner_uid", 0, math.MaxUint16); ok {
		s.HasOwner, s.OwnerUID = true, uint16(v)
	}
	s.Weights = p.matrix("weights", s.N, false)
	s.Bonds = p.matrix("bonds", s.N, true)
	s.Kappa = uint16(p.uintDefault("kappa", 0, math.MaxUint16, DefaultKappa))
	s.BondsPenalty = uint16(p.uintDefault("bonds_penalty", 0, math.MaxUint16, DefaultBondsPenalty))
	s.BondsMovingAverage = p.u64("bonds_moving_average", DefaultBondsMovingAverage)
	s.Yuma3 = p.boolean("yuma3", true)
	s.LiquidAlpha = p.boolean("liquid_alpha", false)
	s.AlphaLow = uint16(p.uintDefault("alpha_low", 0, math.MaxUint16, DefaultAlphaLow))
	s.AlphaHigh = uint16(p.uintDefault("alpha_high", 0, math.MaxUint16, DefaultAlphaHigh))
	s.AlphaSigmoidSteepness = int16(p.intDefault("alpha_sigmoid_steepness", math.MinInt16, math.MaxInt16, DefaultAlphaSigmoidSteepness))
	s.CommitRevealEnabled = p.boolean("commit_reveal_enabled", false)
	s.CommitBlocks = p.commitBlocks("commit_blocks", s.N)
	s.RaoEmission = p.u64("rao_emission", 0)
	st.Sparse = p.boolean("sparse", true)
	if p.err != nil {
		return nil, p.err
	}
	if err := s.Validate(); err != nil {
		return nil, err
	}
	return st, nil
}

func sortedKeys(m map[string]json.RawMessage) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	// insertion sort keeps this dependency-free and the maps are tiny
	for i := 1; i < len(keys); i++ {
		for j := i; j > 0 && keys[j] < keys[j-1]; j-- {
			keys[j], keys[j-1] = keys[j-1], keys[j]
		}
	}
	return keys
}

// parser decodes fields one by one, keeping the first error.
type parser struct {
	raw map[string]json.RawMessage
	err error
}

func (p *parser) fail(err error) {
	if p.err == nil {
		p.err = err
	}
}

func isNull(m json.RawMessage) bool { return string(bytes.TrimSpace(m)) == "null" }

// parseUint parses one JSON integer in [0, hi].
func parseUint(field string, m json.RawMessage, hi uint64) (uint64, error) {
	var num json.Number
	if !isNumber(m) || json.Unmarshal(m, &num) != nil {
		return 0, ferr(field, "want an integer, got %s", abbreviate(m))
	}
	v, err := strconv.ParseUint(num.String(), 10, 64)
	if err != nil || v > hi {
		return 0, ferr(field, "want an integer in [0, %d], got %s", hi, num.String())
	}
	return v, nil
}

// parseInt parses one JSON integer in [lo, hi].
func parseInt(field string, m json.RawMessage, lo, hi int64) (int64, error) {
	var num json.Number
	if !isNumber(m) || json.Unmarshal(m, &num) != nil {
		return 0, ferr(field, "want an integer, got %s", abbreviate(m))
	}
	v, err := strconv.ParseInt(num.String(), 10, 64)
	if err != nil || v < lo || v > hi {
		return 0, ferr(field, "want an integer in [%d, %d], got %s", lo, hi, num.String())
	}
	return v, nil
}

// isNumber reports whether m is a JSON number (json.Number would also accept a string).
func isNumber(m json.RawMessage) bool {
	t := bytes.TrimSpace(m)
	return len(t) > 0 && (t[0] == '-' || t[0] >= '0' && t[0] <= '9')
}

func abbreviate(m json.RawMessage) string {
	s := string(bytes.TrimSpace(m))
	if len(s) > 40 {
		s = s[:40] + "…"
	}
	return s
}

func (p *parser) uint(field string, lo, hi uint64) uint64 {
	v, err := parseUint(field, p.raw[field], hi)
	if err != nil {
		p.fail(err)
		return 0
	}
	if v < lo {
		p.fail(ferr(field, "want at least %d, got %d", lo, v))
	}
	return v
}

func (p *parser) uintDefault(field string, lo, hi, def uint64) uint64 {
	if m, ok := p.raw[field]; !ok || isNull(m) {
		return def
	}
	return p.uint(field, lo, hi)
}

func (p *parser) optionalUint(field string, lo, hi uint64) (uint64, bool) {
	if m, ok := p.raw[field]; !ok || isNull(m) {
		return 0, false
	}
	return p.uint(field, lo, hi), true
}

func (p *parser) u64(field string, def uint64) uint64 {
	return p.uintDefault(field, 0, math.MaxUint64, def)
}

func (p *parser) intDefault(field string, lo, hi, def int64) int64 {
	m, ok := p.raw[field]
	if !ok || isNull(m) {
		return def
	}
	v, err := parseInt(field, m, lo, hi)
	if err != nil {
		p.fail(err)
	}
	return v
}

func (p *parser) boolean(field string, def bool) bool {
	m, ok := p.raw[field]
	if !ok || isNull(m) {
		return def
	}
	var b bool
	if err := json.Unmarshal(m, &b); err != nil {
		p.fail(ferr(field, "want true or false, got %s", abbreviate(m)))
	}
	return b
}

// array splits a JSON array field into its elements and checks its length against n.
func (p *parser) array(field string, n int, optional bool) ([]json.RawMessage, bool) {
	m, ok := p.raw[field]
	if !ok || isNull(m) {
		if !optional {
			p.fail(ferr(field, "missing"))
		}
		return nil, false
	}
	var elems []json.RawMessage
	if err := json.Unmarshal(m, &elems); err != nil {
		p.fail(ferr(field, "want an array, got %s", abbreviate(m)))
		return nil, false
	}
	if len(elems) != n {
		p.fail(ferr(field, "has %d entries, want n = %d", len(elems), n))
		return nil, false
	}
	return elems, true
}

func (p *parser) u64Vec(field string, n int, optional bool) []uint64 {
	elems, ok := p.array(field, n, optional)
	if !ok {
		return nil
	}
	out := make([]uint64, n)
	for i, e := range elems {
		v, err := parseUint(fmt.Sprintf("%s[%d]", field, i), e, math.MaxUint64)
		if err != nil {
			p.fail(err)
			return nil
		}
		out[i] = v
	}
	return out
}

func (p *parser) boolVec(field string, n int) []bool {
	elems, ok := p.array(field, n, false)
	if !ok {
		return nil
	}
	out := make([]bool, n)
	for i, e := range elems {
		if err := json.Unmarshal(e, &out[i]); err != nil {
			p.fail(ferr(fmt.Sprintf("%s[%d]", field, i), "want true or false, got %s", abbreviate(e)))
			return nil
		}
	}
	return out
}

func (p *parser) commitBlocks(field string, n int) []uint64 {
	elems, ok := p.array(field, n, true)
	if !ok {
		return nil
	}
	out := make([]uint64, n)
	for i, e := range elems {
		if isNull(e) {
			out[i] = yuma.NoCommit
			continue
		}
		v, err := parseUint(fmt.Sprintf("%s[%d]", field, i), e, math.MaxUint64)
		if err != nil {
			p.fail(err)
			return nil
		}
		out[i] = v
	}
	return out
}

// matrix reads per-uid rows of [uid, u16] pairs. An absent optional matrix is n empty rows.
func (p *parser) matrix(field string, n int, optional bool) [][]yuma.Entry {
	elems, ok := p.array(field, n, optional)
	if !ok {
		if optional && p.err == nil {
			return make([][]yuma.Entry, n)
		}
		return nil
	}
	out := make([][]yuma.Entry, n)
	for i, e := range elems {
		var pairs []json.RawMessage
		if isNull(e) {
			continue
		}
		if err := json.Unmarshal(e, &pairs); err != nil {
			p.fail(ferr(fmt.Sprintf("%s[%d]", field, i), "want an array of [uid, value] pairs, got %s", abbreviate(e)))
			return nil
		}
		row := make([]yuma.Entry, len(pairs))
		for k, pr := range pairs {
			name := fmt.Sprintf("%s[%d][%d]", field, i, k)
			var kv []json.RawMessage
			if err := json.Unmarshal(pr, &kv); err != nil || len(kv) != 2 {
				p.fail(ferr(name, "want a [uid, value] pair, got %s", abbreviate(pr)))
				return nil
			}
			j, err := parseUint(name+"[0]", kv[0], math.MaxUint16)
			if err != nil {
				p.fail(err)
				return nil
			}
			v, err := parseUint(name+"[1]", kv[1], math.MaxUint16)
			if err != nil {
				p.fail(err)
				return nil
			}
			if int(j) >= n {
				p.fail(ferr(name, "uid %d out of range (n = %d)", j, n))
				return nil
			}
			row[k] = yuma.Entry{UID: uint16(j), Value: uint16(v)}
		}
		out[i] = row
	}
	return out
}

// Run runs the epoch variant the state selects.
func Run(st *State) (*yuma.EpochResult, error) { return runIn(new(yuma.Workspace), st) }

// runIn is Run with the sparse epoch's buffers in ws.
func runIn(ws *yuma.Workspace, st *State) (*yuma.EpochResult, error) {
	if st.Sparse {
		return ws.Epoch(&st.EpochState)
	}
	return yuma.EpochDense(&st.EpochState)
}

// Pair is a [uid, value] pair, encoded as a two-element JSON array.
type Pair [2]uint16

// Output is an epoch's results as JSON, with the field names of docs/yuma.md "§9 The
// epoch-state JSON".
type Output struct {
	CurrentBlock       uint64   `json:"current_block"`
	Active             []bool   `json:"active"`
	StakeWeight        []uint16 `json:"stake_weight"`
	Consensus          []uint16 `json:"consensus"`
	Incentive          []uint16 `json:"incentive"`
	Dividends          []uint16 `json:"dividends"`
	ValidatorTrust     []uint16 `json:"validator_trust"`
	NewValidatorPermit []bool   `json:"new_validator_permit"`
	ServerEmission     []uint64 `json:"server_emission"`
	ValidatorEmission  []uint64 `json:"validator_emission"`
	Emission           []uint64 `json:"emission"`
	Bonds              [][]Pair `json:"bonds"`
}

// NewOutput converts a result; currentBlock is the block the epoch ran at.
func NewOutput(r *yuma.EpochResult, currentBlock uint64) *Output {
	bonds := make([][]Pair, len(r.Bonds))
	for i, row := range r.Bonds {
		bonds[i] = make([]Pair, len(row))
		for k, e := range row {
			bonds[i][k] = Pair{e.UID, e.Value}
		}
	}
	return &Output{
		CurrentBlock:       currentBlock,
		Active:             r.Active,
		StakeWeight:        r.StakeWeight,
		Consensus:          r.Consensus,
		Incentive:          r.Incentive,
		Dividends:          r.Dividends,
		ValidatorTrust:     r.ValidatorTrust,
		NewValidatorPermit: r.NewValidatorPermit,
		ServerEmission:     r.ServerEmission,
		ValidatorEmission:  r.ValidatorEmission,
		Emission:           r.Emission,
		Bonds:              bonds,
	}
}

// Simulate runs epochs epochs from st, carrying permits and bonds forward between them
// (yuma.EpochState.Advance), and returns one Output per epoch. st is advanced in place.
func Simulate(st *State, epochs int) ([]*Output, error) {
	if epochs < 1 {
		return nil, fmt.Errorf("epochs must be at least 1, got %d", epochs)
	}
	outs := make([]*Output, 0, epochs)
	var ws yuma.Workspace // one set of buffers for every epoch
	for range epochs {
		r, err := runIn(&ws, st)
		if err != nil {
			return nil, err
		}
		outs = append(outs, NewOutput(r, st.CurrentBlock))
		st.Advance(r)
	}
	return outs, nil
}

// stateJSON is the encoded form of State, every field explicit.
type stateJSON struct {
	N                      int       `json:"n"`
	CurrentBlock           uint64    `json:"current_block"`
	Tempo                  uint16    `json:"tempo"`
	ActivityCutoff         uint64    `json:"activity_cutoff"`
	LastMechanismStepBlock uint64    `json:"last_mechanism_step_block"`
	LastUpdate             []uint64  `json:"last_update"`
	BlockAtRegistration    []uint64  `json:"block_at_registration"`
	Stake                  []uint64  `json:"stake"`
	TaoStake               []uint64  `json:"tao_stake,omitempty"`
	TaoWeight              uint64    `json:"tao_weight_u64"`
	StakeThreshold         uint64    `json:"stake_threshold"`
	ValidatorPermit        []bool    `json:"validator_permit"`
	MaxAllowedValidators   uint16    `json:"max_allowed_validators"`
	OwnerUID               *uint16   `json:"owner_uid"`
	Weights                [][]Pair  `json:"weights"`
	Bonds                  [][]Pair  `json:"bonds"`
	Kappa                  uint16    `json:"kappa"`
	BondsPenalty           uint16    `json:"bonds_penalty"`
	BondsMovingAverage     uint64    `json:"bonds_moving_average"`
	Yuma3                  bool      `json:"yuma3"`
	LiquidAlpha            bool      `json:"liquid_alpha"`
	AlphaLow               uint16    `json:"alpha_low"`
	AlphaHigh              uint16    `json:"alpha_high"`
	AlphaSigmoidSteepness  int16     `json:"alpha_sigmoid_steepness"`
	CommitRevealEnabled    bool      `json:"commit_reveal_enabled"`
	CommitBlocks           []*uint64 `json:"commit_blocks,omitempty"`
	RaoEmission            uint64    `json:"rao_emission"`
	Sparse                 bool      `json:"sparse"`
}

func pairs(m [][]yuma.Entry, n int) [][]Pair {
	out := make([][]Pair, n)
	for i := range out {
		out[i] = []Pair{}
		if i < len(m) {
			for _, e := range m[i] {
				out[i] = append(out[i], Pair{e.UID, e.Value})
			}
		}
	}
	return out
}

// MarshalState encodes st in the format Decode reads, with every field explicit (commit
// blocks without a commit as null), so that Decode(MarshalState(st)) equals st.
func MarshalState(st *State) ([]byte, error) {
	s := &st.EpochState
	j := stateJSON{
		N: s.N, CurrentBlock: s.CurrentBlock, Tempo: s.Tempo, ActivityCutoff: s.ActivityCutoff,
		LastMechanismStepBlock: s.LastMechanismStepBlock,
		LastUpdate:             s.LastUpdate, BlockAtRegistration: s.BlockAtRegistration,
		Stake: s.Stake, TaoStake: s.TaoStake, TaoWeight: s.TaoWeight, StakeThreshold: s.StakeThreshold,
		ValidatorPermit: s.ValidatorPermit, MaxAllowedValidators: s.MaxAllowedValidators,
		Weights: pairs(s.Weights, s.N), Bonds: pairs(s.Bonds, s.N),
		Kappa: s.Kappa, BondsPenalty: s.BondsPenalty, BondsMovingAverage: s.BondsMovingAverage,
		Yuma3: s.Yuma3, LiquidAlpha: s.LiquidAlpha, AlphaLow: s.AlphaLow, AlphaHigh: s.AlphaHigh,
		AlphaSigmoidSteepness: s.AlphaSigmoidSteepness, CommitRevealEnabled: s.CommitRevealEnabled,
		RaoEmission: s.RaoEmission, Sparse: st.Sparse,
	}
	if s.HasOwner {
		o := s.OwnerUID
		j.OwnerUID = &o
	}
	if s.CommitBlocks != nil {
		j.CommitBlocks = make([]*uint64, len(s.CommitBlocks))
		for i, b := range s.CommitBlocks {
			if b != yuma.NoCommit {
				v := b
				j.CommitBlocks[i] = &v
			}
		}
	}
	return json.MarshalIndent(j, "", "  ")
}
