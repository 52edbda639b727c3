package keeper_test

import (
	"testing"

	"github.com/tessera-net/tessera/module/scenario"
)

func TestInferenceScenarios(t *testing.T) {
	scenario.Walk(t, "testdata", scenario.AccountsMsgs(), scenario.StakeMsgs(), scenario.SubnetsMsgs(), scenario.GovMsgs(), scenario.InferenceMsgs())
}
