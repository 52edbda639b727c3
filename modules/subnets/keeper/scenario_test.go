package keeper_test

import (
	"testing"

	"github.com/cockroachdb/datadriven"

	"github.com/tessera-net/tessera/module/scenario"
)

// TestScenarios runs the scenario files in testdata/ (see docs/scenarios.md); -rewrite
// writes the actual outputs into them.
func TestScenarios(t *testing.T) {
	datadriven.Walk(t, "testdata", func(t *testing.T, path string) {
		scenario.Run(t, path, scenario.AccountsMsgs(), scenario.StakeMsgs(), scenario.SubnetsMsgs())
	})
}
