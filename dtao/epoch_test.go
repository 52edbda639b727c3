package dtao

import (
	"errors"
	"math"
	"testing"
)

func TestEpochScheduling(t *testing.T) {
	if EpochDue(100, 0, 0, 0, 0) {
		t.Error("tempo 0 runs")
	}
	if !EpochDue(360, 0, 360, 0, 0) || EpochDue(359, 0, 360, 0, 0) {
		t.Error("tempo")
	}
	if !EpochDue(10, 5, 360, 10, 0) || !EpochDue(10, 5, 360, 0, MaxTempo+1) {
		t.Error("triggered / forced")
	}
	// staggered: subnets 1..3 with tempo 360 registered at block 1000 run at 1360−netuid
	for n := uint16(1); n <= 3; n++ {
		last := InitialLastEpoch(1000, n, 360)
		if last != 1000-uint64(n) || !EpochDue(1360-uint64(n), last, 360, 0, 0) || EpochDue(1359-uint64(n), last, 360, 0, 0) {
			t.Errorf("netuid %d last %d", n, last)
		}
	}
	if !LegacyEpochDue(359, 1, 360) || LegacyEpochDue(360, 1, 360) {
		t.Error("legacy")
	}
	run, def := ScheduleEpochs([]uint16{1, 2, 3}, MaxEpochsPerBlock)
	if len(run) != 2 || len(def) != 1 || def[0] != 3 {
		t.Error(run, def)
	}
}

func TestInheritedStake(t *testing.T) {
	half := Proportion(math.MaxUint64 / 2)
	// gives half to a child, receives half of a 1000-rao parent
	got := InheritedStake(1000, []Proportion{half}, []uint64{1000}, []Proportion{half})
	if got < 999 || got > 1000 {
		t.Errorf("%d", got)
	}
	if got := InheritedStake(1000, nil, nil, nil); got != 1000 {
		t.Errorf("%d", got)
	}
	if got := InheritedStake(1000, []Proportion{math.MaxUint64}, nil, nil); got != 0 {
		t.Errorf("all to children: %d", got)
	}
}

func TestPayoutsAndTake(t *testing.T) {
	paid, withheld, mb := PayIncentives([]uint64{100, 300, 600}, []bool{false, true, false})
	if paid[1] != 0 || paid[0] != 100 || withheld != 300 || mb.Mul(U96F32FromInt(1000)).Floor() != 299 {
		t.Errorf("%v %d %v", paid, withheld, mb)
	}
	if ValidatorPot(10, 20, 0) != 30 || ValidatorPot(10, 20, 1) != 10 {
		t.Error("pot")
	}
	// tw = 1: a validator with equal alpha and root stake splits its dividend in half.
	a, r := SplitDividends([]uint64{100, 100}, []uint64{50, 100}, []uint64{50, 0}, math.MaxUint64, 1000, 1000)
	if r[1] != 0 || r[0] != 1000 || a[0]+a[1] > 1000 || a[1] < 2*a[0]-1 {
		t.Errorf("alpha %v root %v", a, r)
	}
	tk, rest := Take(1_000_000, DefaultOwnerCut)
	if tk != 179_995 || rest != 820_005 {
		t.Errorf("take %d %d", tk, rest)
	}
	if !ValidTake(MaxDelegateTake) || ValidTake(MaxDelegateTake+1) {
		t.Error("bounds")
	}
	rate, ok := RootClaimRate(1000, 1e6)
	if !ok || RootOwed(rate, 5e5, 100) != 399 {
		t.Errorf("claim %v %d", rate, RootOwed(rate, 5e5, 100))
	}
	if _, ok := RootClaimRate(10, 0); ok {
		t.Error("zero stake")
	}
}

// do_trigger_epoch: the epoch fires AdminFreezeWindow blocks on; refused while one is
// pending, when the scheduled epoch is nearer than the window, within two tempos of the
// last trigger, and on a subnet without epochs.
func TestTriggerEpoch(t *testing.T) {
	for _, c := range []struct {
		name                            string
		now, last, pending, lastTrigger uint64
		tempo                           uint16
		fires                           uint64
		err                             error
	}{
		{"fires a window on", 100, 90, 0, 0, 360, 110, nil},
		{"the scheduled epoch exactly a window away", 440, 90, 0, 0, 360, 450, nil},
		{"the scheduled epoch nearer than the window", 441, 90, 0, 0, 360, 0, ErrAutoEpochImminent},
		{"an overdue epoch", 500, 90, 0, 0, 360, 0, ErrAutoEpochImminent},
		{"one pending", 100, 90, 105, 0, 360, 0, ErrTriggerPending},
		{"within two tempos of the last trigger", 100 + 719, 800, 0, 100, 360, 0, ErrTriggerRateLimited},
		{"two tempos after it", 100 + 720, 800, 0, 100, 360, 830, nil},
		{"tempo 0", 100, 90, 0, 0, 0, 0, ErrNoEpochs},
	} {
		got, err := TriggerEpoch(c.now, c.last, c.pending, c.lastTrigger, c.tempo)
		if got != c.fires || !errors.Is(err, c.err) || (c.err == nil) != (err == nil) {
			t.Errorf("%s: %d %v, want %d %v", c.name, got, err, c.fires, c.err)
		}
	}
}
