package subnets

import (
	"sort"

	"github.com/tessera-net/tessera/tx"
)

// hyperField describes one settable hyperparameter: its bounds and how it is stored.
type hyperField struct {
	min, max uint64
	get      func(h *Hyperparams) uint64
	set      func(h *Hyperparams, v uint64)
}

func boolField(p func(h *Hyperparams) *bool) hyperField {
	return hyperField{0, 1,
		func(h *Hyperparams) uint64 {
			if *p(h) {
				return 1
			}
			return 0
		},
		func(h *Hyperparams, v uint64) { *p(h) = v == 1 }}
}

func u16Field(lo, hi uint64, p func(h *Hyperparams) *uint16) hyperField {
	return hyperField{lo, hi, func(h *Hyperparams) uint64 { return uint64(*p(h)) }, func(h *Hyperparams, v uint64) { *p(h) = uint16(v) }}
}

func u64Field(lo, hi uint64, p func(h *Hyperparams) *uint64) hyperField {
	return hyperField{lo, hi, func(h *Hyperparams) uint64 { return *p(h) }, func(h *Hyperparams, v uint64) { *p(h) = v }}
}

// hyperFields are the settable hyperparameters by their JSON names, with their bounds.
var hyperFields = map[string]hyperField{
	"tempo":                         u16Field(1, 65535, func(h *Hyperparams) *uint16 { return &h.Tempo }),
	"kappa":                         u16Field(0, 65535, func(h *Hyperparams) *uint16 { return &h.Kappa }),
	"bonds_moving_average":          u64Field(0, 999_999, func(h *Hyperparams) *uint64 { return &h.BondsMovingAverage }),
	"bonds_penalty":                 u16Field(0, 65535, func(h *Hyperparams) *uint16 { return &h.BondsPenalty }),
	"liquid_alpha_enabled":          boolField(func(h *Hyperparams) *bool { return &h.LiquidAlpha }),
	"alpha_low":                     u16Field(0, 65535, func(h *Hyperparams) *uint16 { return &h.AlphaLow }),
	"alpha_high":                    u16Field(0, 65535, func(h *Hyperparams) *uint16 { return &h.AlphaHigh }),
	"yuma3_enabled":                 boolField(func(h *Hyperparams) *bool { return &h.Yuma3 }),
	"max_uids":                      u16Field(1, 4096, func(h *Hyperparams) *uint16 { return &h.MaxUIDs }),
	"max_validators":                u16Field(1, 4096, func(h *Hyperparams) *uint16 { return &h.MaxValidators }),
	"immunity_period":               u64Field(0, 1_000_000, func(h *Hyperparams) *uint64 { return &h.ImmunityPeriod }),
	"weights_rate_limit":            u64Field(0, 1_000_000, func(h *Hyperparams) *uint64 { return &h.WeightsRateLimit }),
	"min_allowed_weights":           u16Field(0, 4096, func(h *Hyperparams) *uint16 { return &h.MinAllowedWeights }),
	"max_weight_limit":              u16Field(1, 65535, func(h *Hyperparams) *uint16 { return &h.MaxWeightLimit }),
	"weights_version":               u64Field(0, 1<<63, func(h *Hyperparams) *uint64 { return &h.WeightsVersionKey }),
	"min_burn":                      u64Field(0, 1<<62, func(h *Hyperparams) *uint64 { return &h.MinBurn }),
	"max_burn":                      u64Field(0, 1<<62, func(h *Hyperparams) *uint64 { return &h.MaxBurn }),
	"target_regs_per_interval":      u16Field(1, 4096, func(h *Hyperparams) *uint16 { return &h.TargetRegsPerInterval }),
	"adjustment_interval":           u64Field(1, 1_000_000, func(h *Hyperparams) *uint64 { return &h.AdjustmentInterval }),
	"commit_reveal_weights_enabled": boolField(func(h *Hyperparams) *bool { return &h.CommitReveal }),
	"commit_reveal_period":          u64Field(0, 100, func(h *Hyperparams) *uint64 { return &h.RevealPeriod }),
	"stake_threshold":               u64Field(0, 1<<62, func(h *Hyperparams) *uint64 { return &h.StakeThreshold }),
	"serving_rate_limit":            u64Field(0, 1_000_000, func(h *Hyperparams) *uint64 { return &h.ServingRateLimit }),
	"activity_cutoff_factor_milli": {1000, 50_000,
		func(h *Hyperparams) uint64 { return uint64(h.ActivityCutoffFactorMilli) },
		func(h *Hyperparams, v uint64) { h.ActivityCutoffFactorMilli = uint32(v) }},
	"alpha_sigmoid_steepness": {0, 65535,
		func(h *Hyperparams) uint64 { return uint64(uint16(h.AlphaSigmoidSteepness)) },
		func(h *Hyperparams, v uint64) { h.AlphaSigmoidSteepness = int16(uint16(v)) }},
}

// HyperparamNames lists the settable hyperparameters in alphabetical order.
func HyperparamNames() []string {
	names := make([]string, 0, len(hyperFields))
	for n := range hyperFields {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// SetHyper sets one hyperparameter by name, checking its bounds and the relations between
// parameters (alpha_low ≤ alpha_high, min_burn ≤ max_burn, max_validators ≤ max_uids).
func SetHyper(h *Hyperparams, name string, v uint64) error {
	f, ok := hyperFields[name]
	if !ok {
		return tx.Errorf(tx.CodeInvalidMessage, "unknown hyperparameter %q; settable: %v", name, HyperparamNames())
	}
	if v < f.min || v > f.max {
		return tx.Errorf(tx.CodeInvalidMessage, "%s must be between %d and %d, got %d", name, f.min, f.max, v)
	}
	next := *h
	f.set(&next, v)
	switch {
	case next.AlphaLow > next.AlphaHigh:
		return tx.Errorf(tx.CodeInvalidMessage, "alpha_low (%d) must not exceed alpha_high (%d)", next.AlphaLow, next.AlphaHigh)
	case next.MinBurn > next.MaxBurn:
		return tx.Errorf(tx.CodeInvalidMessage, "min_burn (%d) must not exceed max_burn (%d)", next.MinBurn, next.MaxBurn)
	case next.MaxValidators > next.MaxUIDs:
		return tx.Errorf(tx.CodeInvalidMessage, "max_validators (%d) must not exceed max_uids (%d)", next.MaxValidators, next.MaxUIDs)
	}
	*h = next
	return nil
}

// GetHyper reads one hyperparameter by name.
func GetHyper(h *Hyperparams, name string) (uint64, bool) {
	f, ok := hyperFields[name]
	if !ok {
		return 0, false
	}
	return f.get(h), true
}
