package stake_test

import (
	"math"
	"strconv"
	"testing"

	"github.com/tessera-net/tessera/module/scenario"
	"github.com/tessera-net/tessera/modules/stake"
	"github.com/tessera-net/tessera/tx"
)

// childMsgs are the child-key messages of the scenarios:
//
//	set_children hotkey=ACCOUNT netuid=N [c1=ACCOUNT p1=PROP … c6=ACCOUNT p6=PROP]
//	set_childkey_take hotkey=ACCOUNT netuid=N take=T   (T in 65535ths)
//
// PROP is a fraction or a percentage (stake.ParseProportion); no children revokes.
func childMsgs() scenario.MsgBuilders {
	return scenario.MsgBuilders{
		"set_children": func(a *scenario.Args) (tx.Msg, error) {
			hot, err := a.Account("hotkey")
			if err != nil {
				return tx.Msg{}, err
			}
			n, err := a.Uint("netuid", 16)
			if err != nil {
				return tx.Msg{}, err
			}
			var cs []stake.ChildEntry
			for i := 1; a.Has("c" + strconv.Itoa(i)); i++ {
				c, err := a.Account("c" + strconv.Itoa(i))
				if err != nil {
					return tx.Msg{}, err
				}
				ps, err := a.String("p" + strconv.Itoa(i))
				if err != nil {
					return tx.Msg{}, err
				}
				p, err := stake.ParseProportion(ps)
				if err != nil {
					return tx.Msg{}, err
				}
				cs = append(cs, stake.ChildEntry{Proportion: p, Hotkey: c[:]})
			}
			return stake.NewSetChildren(hot, uint16(n), cs)
		},
		"set_childkey_take": func(a *scenario.Args) (tx.Msg, error) {
			hot, err := a.Account("hotkey")
			if err != nil {
				return tx.Msg{}, err
			}
			n, err := a.Uint("netuid", 16)
			if err != nil {
				return tx.Msg{}, err
			}
			t, err := a.Uint("take", 16)
			if err != nil {
				return tx.Msg{}, err
			}
			return stake.NewSetChildkeyTake(hot, uint16(n), uint16(t))
		},
	}
}

func TestParseProportion(t *testing.T) {
	for _, c := range []struct {
		in   string
		want uint64
		ok   bool
	}{
		{"1", math.MaxUint64, true}, {"100%", math.MaxUint64, true}, {"0", 0, true},
		{"0.5", math.MaxUint64 / 2, true}, {"50%", math.MaxUint64 / 2, true}, {" 25% ", math.MaxUint64 / 4, true},
		{"1.01", 0, false}, {"-0.1", 0, false}, {"x", 0, false}, {"1/2", 0, false}, {"5e-1", 0, false}, {"101%", 0, false},
	} {
		got, err := stake.ParseProportion(c.in)
		if (err == nil) != c.ok || got != c.want {
			t.Errorf("ParseProportion(%q) = %d, %v; want %d (ok %v)", c.in, got, err, c.want, c.ok)
		}
	}
	if s := stake.FormatProportion(math.MaxUint64 / 2); s != "50.0000%" {
		t.Errorf("FormatProportion(½) = %s", s)
	}
	if s := stake.FormatProportion(math.MaxUint64); s != "100.0000%" {
		t.Errorf("FormatProportion(1) = %s", s)
	}
}
