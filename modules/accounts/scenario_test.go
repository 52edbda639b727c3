package accounts_test

import (
	"testing"

	"github.com/tessera-net/tessera/module/scenario"
)

// TestScenarios runs the scenario files in testdata/ (see docs/scenarios.md); -rewrite
// writes the actual outputs into them.
func TestScenarios(t *testing.T) {
	scenario.Walk(t, "testdata", scenario.AccountsMsgs())
}
