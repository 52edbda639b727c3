package dtao

import "errors"

// This file holds the pure pieces of the epoch's inputs and payouts (dtao.md §3). The
// epoch itself is package yuma: yuma.EpochState takes the alpha stake (Stake), the root
// TAO stake (TaoStake) and TaoWeight and forms alpha + tao × tao_weight exactly as
// get_stake_weights_for_network; InheritedStake gives it the inherited amounts.

// MaxTempo is the longest an epoch can be deferred (BlocksSinceLastStep > 50_400 forces one).
const MaxTempo uint64 = 50_400

// EpochDue is should_run_epoch (run_coinbase.rs l.1085): tempo 0 never runs; otherwise an
// epoch runs when an owner-triggered epoch is due (pendingAt ≠ 0 and ≤ block), when more
// than MaxTempo blocks passed since the last step, or when block − lastEpoch ≥ tempo.
func EpochDue(block, lastEpoch uint64, tempo uint16, pendingAt, blocksSinceLastStep uint64) bool {
	if tempo == 0 {
		return false
	}
	return (pendingAt != 0 && pendingAt <= block) || blocksSinceLastStep > MaxTempo ||
		satSub(block, lastEpoch) >= uint64(tempo)
}

// InitialLastEpoch is init_new_network's LastEpochBlock = now − (netuid mod tempo): epochs
// of subnets with one tempo are staggered by netuid so they do not land in one block.
func InitialLastEpoch(now uint64, netuid, tempo uint16) uint64 {
	if tempo == 0 {
		return now
	}
	return satSub(now, uint64(netuid%tempo))
}

// LegacyEpochDue is the rule before the dynamic-tempo migration: an epoch at blocks where
// (block + netuid + 1) mod (tempo + 1) = 0.
func LegacyEpochDue(block uint64, netuid, tempo uint16) bool {
	if tempo == 0 {
		return false
	}
	return (block+uint64(netuid)+1)%(uint64(tempo)+1) == 0
}

// MaxEpochsPerBlock is the production MaxEpochsPerBlock: the others are deferred a block.
const MaxEpochsPerBlock = 2

// ScheduleEpochs picks, in netuid order, the due subnets whose epoch runs this block (at
// most limit); the rest of due are deferred to the next block.
func ScheduleEpochs(due []uint16, limit int) (run, deferred []uint16) {
	for _, n := range due {
		if len(run) < limit {
			run = append(run, n)
		} else {
			deferred = append(deferred, n)
		}
	}
	return run, deferred
}

// Proportion is a child or parent proportion, value/u64::MAX.
type Proportion uint64

// InheritedStake is the stake a hotkey brings to an epoch (get_inherited_for_hotkey_on_subnet
// for alpha, get_tao_inherited_for_hotkey_on_subnet for root stake, stake_utils.rs):
// own − Σ own·childProp + Σ parentStake_p·parentProp_p, each proportion /u64::MAX, in
// U96F32 as subtensor (saturating) and floored.
func InheritedStake(own uint64, childProps []Proportion, parentStakes []uint64, parentProps []Proportion) uint64 {
	o := U96F32FromInt(own)
	given := U96F32{}
	for _, p := range childProps {
		given = given.Add(o.Mul(propFix96(p)))
	}
	got := U96F32{}
	for i, s := range parentStakes {
		got = got.Add(U96F32FromInt(s).Mul(propFix96(parentProps[i])))
	}
	return o.Sub(given).Add(got).Floor()
}

// EpochEmission is what distribute_emission hands the epoch: server + validator + root.
func EpochEmission(pendingServer, pendingValidator, pendingRoot uint64) uint64 {
	return satAdd(satAdd(pendingServer, pendingValidator), pendingRoot)
}

// ValidatorPot is V_pot: the pending validator emission, plus the pending server emission
// when the epoch's total incentive is 0.
func ValidatorPot(pendingValidator, pendingServer, totalIncentive uint64) uint64 {
	if totalIncentive == 0 {
		return satAdd(pendingValidator, pendingServer)
	}
	return pendingValidator
}

// PayIncentives splits the epoch's incentives (server emission per uid, alpha): the uids
// of the owner's hotkeys (ownerAssociated) get nothing, their incentive is withheld
// (burned or recycled by the caller); everyone else is paid what the epoch computed.
// MinerBurned = withheld/total in U96F32.
func PayIncentives(incentive []uint64, ownerAssociated []bool) (paid []uint64, withheld uint64, minerBurned U96F32) {
	paid = make([]uint64, len(incentive))
	var total uint64
	for i, v := range incentive {
		total = satAdd(total, v)
		if i < len(ownerAssociated) && ownerAssociated[i] {
			withheld = satAdd(withheld, v)
			continue
		}
		paid[i] = v
	}
	return paid, withheld, Ratio96(withheld, total)
}

// SplitDividends is calculate_dividend_distribution (run_coinbase.rs l.501–602): each
// receiver's dividend d_h is split by its own alpha and root stake, root_div = d·root·tw/
// (α + root·tw), alpha_div = d − root_div (U96F32); then the alpha pot is paid
// vPot·alpha_div_h/Σalpha_div and the root pot rootPot·root_div_h/Σroot_div (floored).
func SplitDividends(div, alphaStake, rootStake []uint64, taoWeight, vPot, rootPot uint64) (alphaPay, rootPay []uint64) {
	n := len(div)
	tw := TaoWeightFraction(taoWeight)
	ad := make([]U96F32, n)
	rd := make([]U96F32, n)
	var sa, sr U96F32
	for i := range div {
		d := U96F32FromInt(div[i])
		rt := U96F32FromInt(rootStake[i]).Mul(tw)
		den := U96F32FromInt(alphaStake[i]).Add(rt)
		rd[i] = d.Mul(rt).Div(den)
		ad[i] = d.Sub(rd[i])
		sa, sr = sa.Add(ad[i]), sr.Add(rd[i])
	}
	alphaPay = make([]uint64, n)
	rootPay = make([]uint64, n)
	va, vr := U96F32FromInt(vPot), U96F32FromInt(rootPot)
	for i := range div {
		alphaPay[i] = va.Mul(ad[i]).Div(sa).Floor()
		rootPay[i] = vr.Mul(rd[i]).Div(sr).Floor()
	}
	return alphaPay, rootPay
}

// Take splits amount into the validator's take (Delegates[h]/65535, floored) and the rest
// (to the nominators: HotkeyStake.Distribute, or root claimable).
func Take(amount uint64, take uint16) (toOwner, rest uint64) {
	t := Ratio96(uint64(take), 65535).Mul(U96F32FromInt(amount)).Floor()
	return t, amount - t
}

// Validator take bounds (MinDelegateTake 0, MaxDelegateTake 11_796 ≈ 18 %).
const (
	MinDelegateTake uint16 = 0
	MaxDelegateTake uint16 = 11_796
)

// ValidTake reports whether take is within the bounds a hotkey's owner may set.
func ValidTake(take uint16) bool { return take >= MinDelegateTake && take <= MaxDelegateTake }

// RootClaimRate is the increment of RootClaimable[h][n] for a root dividend x to a hotkey
// with root stake rootStake: x/rootStake in U96F32 (ok false when rootStake is 0 or x >
// rootStake, where subtensor stakes x to the hotkey's owner instead).
func RootClaimRate(x, rootStake uint64) (U96F32, bool) {
	if rootStake == 0 || x > rootStake {
		return U96F32{}, false
	}
	return Ratio96(x, rootStake), true
}

// RootOwed is rate·stake − claimed (floored, 0 if negative): what a coldkey with root stake
// stake under the hotkey may claim on one subnet.
func RootOwed(rate U96F32, stake, claimed uint64) uint64 {
	return satSub(rate.Mul(U96F32FromInt(stake)).Floor(), claimed)
}

// RootClaimMinimum is the amount below which an unforced claim is skipped.
const RootClaimMinimum uint64 = 500_000

// AdminFreezeWindow is subtensor's DefaultAdminFreezeWindow: the blocks before an epoch in
// which a subnet owner's admin operations wait, and how far ahead trigger_epoch schedules.
const AdminFreezeWindow uint64 = 10

// OwnerRateLimitTempos is subtensor's DefaultOwnerHyperparamRateLimit: an owner's
// rate-limited operation (trigger_epoch among them) at most once in this many tempos.
const OwnerRateLimitTempos uint64 = 2

// Errors of TriggerEpoch.
var (
	ErrTriggerPending     = errors.New("dtao: an epoch trigger is already pending")
	ErrAutoEpochImminent  = errors.New("dtao: the next epoch is due within the freeze window")
	ErrTriggerRateLimited = errors.New("dtao: the owner triggered an epoch less than the rate limit ago")
	ErrNoEpochs           = errors.New("dtao: a subnet of tempo 0 runs no epochs")
)

// TriggerEpoch is do_trigger_epoch's checks and schedule: an owner asks for the subnet's
// next epoch now. It is refused while a trigger is pending (pendingAt ≠ 0), when the next
// epoch on schedule (lastEpoch + tempo) is less than AdminFreezeWindow blocks away, and
// within OwnerRateLimitTempos tempos of the owner's last trigger (lastTrigger, 0 for
// none); otherwise the epoch fires at now + AdminFreezeWindow (EpochDue's pendingAt).
func TriggerEpoch(now, lastEpoch, pendingAt, lastTrigger uint64, tempo uint16) (firesAt uint64, err error) {
	switch {
	case tempo == 0:
		return 0, ErrNoEpochs
	case pendingAt != 0:
		return 0, ErrTriggerPending
	case satSub(lastEpoch+uint64(tempo), now) < AdminFreezeWindow:
		return 0, ErrAutoEpochImminent
	case lastTrigger != 0 && satSub(now, lastTrigger) < OwnerRateLimitTempos*uint64(tempo):
		return 0, ErrTriggerRateLimited
	}
	return now + AdminFreezeWindow, nil
}
