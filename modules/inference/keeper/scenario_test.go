package keeper_test

import (
	"path/filepath"
	"testing"

	"github.com/cockroachdb/datadriven"

	"github.com/tessera-net/tessera/module/scenario"
)

func TestInferenceScenarios(t *testing.T) {
	tables := []scenario.MsgBuilders{scenario.AccountsMsgs(), scenario.StakeMsgs(), scenario.SubnetsMsgs(), scenario.GovMsgs(), scenario.InferenceMsgs()}
	datadriven.Walk(t, "testdata", func(t *testing.T, path string) {
		if filepath.Base(path) == "payments.txt" { // the paid inference's records, named by label
			runPayments(t, path, tables...)
			return
		}
		scenario.Run(t, path, tables...)
	})
}
