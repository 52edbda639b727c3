// Package subnet is what a subnet builder writes to make a Tessera subnet with the SDK:
// a synapse type, a miner handler and a validator's query generator and scoring
// function (a Definition), plus the configuration both runtimes share (Config, read
// from flags and a JSON file, with the defaults of Bittensor's subnet template). The
// runtimes are in sdk/miner and sdk/validator.
//
// This is the SDK's subnet: the definition of a subnet's off-chain code. It is not one
// of the other packages named after subnets: modules/subnets is the chain module that
// keeps subnets on chain (creation, registration, weights, the Yuma Consensus epoch);
// subnets/ holds the built-in subnets written with this package (subnets/textgen); and
// devnet's SubnetLayout and SetupSubnet (devnet/subnet.go) create and populate a subnet
// on a local devnet.
package subnet

import (
	"context"
	"errors"
	"math/rand/v2"
	"time"

	"github.com/tessera-net/tessera/wire"
)

// Definition is a subnet: P is its synapse type (a pointer to a struct that embeds
// wire.Base).
type Definition[P wire.Synapse] struct {
	// Name names the subnet in logs and metrics.
	Name string
	// Handler answers the synapse on a miner: wire.Handle(func(ctx, call, *S) error).
	Handler wire.Handler
	// Routes are further synapses the miner answers, outside the validator's rounds
	// (a streaming variant for clients, say: wire.HandleStream). Optional.
	Routes []wire.Handler
	// Query makes a round's challenge on a validator; the same synapse goes to every
	// miner sampled in the round.
	Query func(ctx context.Context, r Round) (P, error)
	// Score judges a round's answers: one score in [0, 1] per response, in the same
	// order. Responses that failed (Err != nil) are passed too, so the function sees the
	// whole round (scoring them 0 is usual; values outside [0, 1] are clamped).
	Score func(ctx context.Context, query P, responses []Response[P]) ([]float64, error)
	// VersionKey is sent with the weights; it must be at least the subnet's
	// weights_version.
	VersionKey uint64
}

// Check reports what a Definition lacks.
func (d *Definition[P]) Check() error {
	var errs []error
	if d.Name == "" {
		errs = append(errs, errors.New("subnet definition has no Name"))
	}
	if d.Query == nil {
		errs = append(errs, errors.New("subnet definition has no Query function"))
	}
	if d.Score == nil {
		errs = append(errs, errors.New("subnet definition has no Score function"))
	}
	return errors.Join(errs...)
}

// Round is what a validator's Query function knows about the round it makes a challenge
// for.
type Round struct {
	// Step counts the validator's rounds, across restarts.
	Step uint64
	// Block is the chain's height when the round started.
	Block int64
	// Rand is the round's random source (seeded per validator and step).
	Rand *rand.Rand
	// Miners are the uids that will be queried.
	Miners []uint16
}

// Response is one miner's answer to a round's query.
type Response[P wire.Synapse] struct {
	UID    uint16 // the miner's uid
	Hotkey string // the miner's hotkey (SS58)
	// Synapse is the miner's answer, or the zero P when the call failed.
	Synapse P
	// Status is the HTTP status (200 on success) or the dendrite's code: 408 timeout,
	// 503 unreachable, 422 unreadable answer.
	Status  int
	Message string // the axon's or the dendrite's status message
	// Latency is the round trip as the validator measured it.
	Latency time.Duration
	// Err is nil exactly when the call succeeded.
	Err error
}

// OK reports whether the miner answered.
func (r Response[P]) OK() bool { return r.Err == nil }
