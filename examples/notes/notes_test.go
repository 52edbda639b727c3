package notes_test

import (
	"testing"

	"github.com/tessera-net/tessera/examples/notes"
	"github.com/tessera-net/tessera/module"
	"github.com/tessera-net/tessera/module/scenario"
	"github.com/tessera-net/tessera/modules"
	"github.com/tessera-net/tessera/tx"
)

// postMsgs are the scenario words of the notes module: "post text=...".
func postMsgs() scenario.MsgBuilders {
	return scenario.MsgBuilders{"post": func(a *scenario.Args) (tx.Msg, error) {
		text, err := a.String("text")
		if err != nil {
			return tx.Msg{}, err
		}
		return notes.NewPost(text)
	}}
}

// TestScenarios runs testdata/*.txt on the built-in chain with the notes module added,
// wired to the accounts keeper as the registry would wire it.
func TestScenarios(t *testing.T) {
	chain := scenario.NewAppWith(func(set *modules.Set) module.Module {
		return notes.New(set.Accounts, 1_000_000_000) // one token a note
	})
	scenario.RunOn(t, "testdata/notes.txt", chain, scenario.AccountsMsgs(), postMsgs())
}
