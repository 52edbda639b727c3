package keeper

import (
	"github.com/tessera-net/tessera/keys"
	"github.com/tessera-net/tessera/module"
	"github.com/tessera-net/tessera/modules/gov"
)

// Origin is the proposal an action runs for.
type Origin struct {
	Proposal uint64
	Proposer keys.PublicKey
}

// ActionHandler is what a module registers with governance for one action type it owns
// (modules.Builtin does the wiring). Validate runs when the proposal is submitted, against
// the state then (in CheckTx and in the block): an error refuses the proposal, and its
// code and message reach the proposer, prefixed with the action's position and type.
// Execute runs at the end of the voting period when the proposal passed, in a write
// buffer shared by the proposal's actions: an error discards every action's writes.
// Both must be deterministic; errors should be *tx.Error.
type ActionHandler interface {
	Validate(ctx *module.Context, a gov.Action) error
	Execute(ctx *module.Context, o Origin, a gov.Action) error
}

// ActionViewer is implemented by handlers that can show an action's body in query
// answers (it must be a pure function of the action: queries run concurrently).
type ActionViewer interface {
	View(a gov.Action) (any, error)
}
