package keeper_test

import (
	"testing"

	"github.com/tessera-net/tessera/module/scenario"
	"github.com/tessera-net/tessera/modules/subnets"
	"github.com/tessera-net/tessera/tx"
)

// TestScenarios runs the scenario files in testdata/ (see docs/scenarios.md); -rewrite
// writes the actual outputs into them.
func TestScenarios(t *testing.T) {
	scenario.Walk(t, "testdata", scenario.AccountsMsgs(), scenario.StakeMsgs(), scenario.SubnetsMsgs(), lockMsgs())
}

// lockMsgs: "create_capped hotkey=ACCOUNT max_lock=TOKENS" is a subnets/create refusing a
// lock cost above max_lock (what `tessera subnet create` sends).
func lockMsgs() scenario.MsgBuilders {
	return scenario.MsgBuilders{"create_capped": func(a *scenario.Args) (tx.Msg, error) {
		hot, err := a.Account("hotkey")
		if err != nil {
			return tx.Msg{}, err
		}
		maxLock, err := a.Amount("max_lock")
		if err != nil {
			return tx.Msg{}, err
		}
		return subnets.NewCreateMaxLock(hot, "", maxLock)
	}}
}
