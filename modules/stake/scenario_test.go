package stake_test

import (
	"testing"

	"github.com/tessera-net/tessera/keys"
	"github.com/tessera-net/tessera/module/scenario"
	"github.com/tessera-net/tessera/modules/stake"
	"github.com/tessera-net/tessera/tx"
)

// TestScenarios runs the scenario files in testdata/ (see docs/scenarios.md); -rewrite
// writes the actual outputs into them. Hotkeys come from the subnets messages.
func TestScenarios(t *testing.T) {
	scenario.Walk(t, "testdata", scenario.AccountsMsgs(), scenario.StakeMsgs(), scenario.SubnetsMsgs(), claimMsgs(), childMsgs())
}

// claimMsgs: "claim_root [netuids=N,N] [hotkey=ACCOUNT] [keep=true]" is stake/claim_root;
// "set_root_claim_type type=swap|keep|keep-subnets [netuids=N,N]" is
// stake/set_root_claim_type.
func claimMsgs() scenario.MsgBuilders {
	return scenario.MsgBuilders{"claim_root": func(a *scenario.Args) (tx.Msg, error) {
		var ns []uint16
		var err error
		if a.Has("netuids") {
			if ns, err = a.Uint16s("netuids"); err != nil {
				return tx.Msg{}, err
			}
		}
		var hot *keys.PublicKey
		if a.Has("hotkey") {
			h, err := a.Account("hotkey")
			if err != nil {
				return tx.Msg{}, err
			}
			hot = &h
		}
		keep := false
		if a.Has("keep") {
			k, err := a.String("keep")
			if err != nil {
				return tx.Msg{}, err
			}
			keep = k == "true"
		}
		return stake.NewClaimRoot(ns, keep, hot)
	}, "set_root_claim_type": func(a *scenario.Args) (tx.Msg, error) {
		name, err := a.String("type")
		if err != nil {
			return tx.Msg{}, err
		}
		typ, err := stake.ParseClaimType(name)
		if err != nil {
			return tx.Msg{}, err
		}
		var ns []uint16
		if a.Has("netuids") {
			if ns, err = a.Uint16s("netuids"); err != nil {
				return tx.Msg{}, err
			}
		}
		return stake.NewSetRootClaimType(typ, ns)
	}}
}
