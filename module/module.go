// Package module defines what a state-machine module of the Tessera chain implements and
// what it is given: the block context, the message handler signature and events. Modules
// own their storage keys and talk to each other only through small interfaces.
package module

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"

	"github.com/tessera-net/tessera/keys"
	"github.com/tessera-net/tessera/store"
	"github.com/tessera-net/tessera/tx"
)

// Context is what a handler runs with: the state it may read and write, and the block.
//
// In a block (FinalizeBlock) Height, Time, BlockHash and Proposer describe that block.
// When a transaction is checked for the mempool (Check), Height is the height of the block
// it would enter (the last committed height + 1), Time the last committed block's time
// (zero until the node has executed a block since it started), and BlockHash and Proposer
// are nil: the block is not decided yet. At genesis Height is 0.
type Context struct {
	KV      store.KV
	ChainID string
	Height  int64
	Time    time.Time // the block's time: the only clock the state machine has
	// BlockHash is the hash of the block being executed (nil when checking or at genesis).
	BlockHash []byte
	// Proposer is the consensus address of the validator that proposed the block (nil
	// when checking or at genesis).
	Proposer []byte
	// Check is true when the transaction is being checked for the mempool rather than
	// executed in a block.
	Check  bool
	events []abci.Event
}

// Seed returns 32 bytes derived from domain, the chain id, the height and the block hash:
// SHA-256 of len(domain) ‖ domain ‖ len(chain id) ‖ chain id ‖ height ‖ block hash, the
// lengths and height big-endian uint64. Every node computes the same seed for the same
// block, and nobody can know it before the block is decided. A module passes its own
// domain (for example "subnets/epoch") so its seeds are independent of other modules'.
//
// It must not be used where a proposer gains from biasing it: the proposer chooses the
// block's contents and so can try many block hashes before proposing one, which is fine
// for tie-breaking or sampling but not for a lottery worth more than a block. Nor is it a
// secret: once the block is out everyone knows it. In CheckTx there is no block hash yet:
// the seed is then derived from an empty hash, predictable and different from the one the
// block will give, so a rule must not decide on it in CheckTx what it cannot re-decide in
// the block.
func (c *Context) Seed(domain string) [32]byte {
	h := sha256.New()
	var n [8]byte
	for _, part := range [][]byte{[]byte(domain), []byte(c.ChainID)} {
		binary.BigEndian.PutUint64(n[:], uint64(len(part)))
		h.Write(n[:])
		h.Write(part)
	}
	binary.BigEndian.PutUint64(n[:], uint64(c.Height))
	h.Write(n[:])
	h.Write(c.BlockHash)
	var out [32]byte
	h.Sum(out[:0])
	return out
}

// Emit records an event of the transaction or block being processed.
func (c *Context) Emit(typ string, attrs ...abci.EventAttribute) {
	c.events = append(c.events, abci.Event{Type: typ, Attributes: attrs})
}

// Events returns the events emitted so far.
func (c *Context) Events() []abci.Event { return c.events }

// ResetEvents drops the events emitted so far (for a failed transaction).
func (c *Context) ResetEvents() { c.events = nil }

// Attr builds an indexed event attribute.
func Attr(key, value string) abci.EventAttribute {
	return abci.EventAttribute{Key: key, Value: value, Index: true}
}

// Handler executes one message signed by signer. It returns a *tx.Error for a rejection.
type Handler func(ctx *Context, signer keys.PublicKey, msg tx.Msg) error

// Module is a part of the state machine.
type Module interface {
	// Name is the module's name, its key in the genesis app_state and its query path.
	Name() string
	// InitGenesis writes the module's genesis state (raw is nil when absent).
	InitGenesis(ctx *Context, raw json.RawMessage) error
	// Handlers maps each message type the module handles to its handler.
	Handlers() map[string]Handler
	// Queries maps each query route the module answers (the first path segment after
	// "/<module name>/") to its querier.
	Queries() map[string]Route
}

// QueryRequest is one query as a module's querier gets it.
type QueryRequest struct {
	State  store.Reader // the committed version asked for
	Height int64        // its height: what the answer is from
	// Args are the path's segments after the route's name: exactly as many as the
	// route declares, each at most MaxQueryArg bytes (the application checks both).
	Args []string
	Data []byte // the query's raw payload
}

// Querier answers one query route against committed state; the answer is served as JSON.
// Queries run concurrently with each other and with block execution (each against an
// immutable committed version), so a querier must be safe for concurrent use: it reads
// q.State and nothing the keeper mutates.
type Querier func(q QueryRequest) (any, error)

// Route is one query a module answers: the names of its path arguments (they appear in
// the error a wrong path gets, e.g. "metagraph/<netuid>") and its querier.
type Route struct {
	Args  []string
	Query Querier
}

// MaxQueryArg bounds one path argument of a query (an SS58 address is 48 characters,
// a hex public key 66): longer arguments are refused before any module decodes them.
const MaxQueryArg = 128

// AnteHandler is what every transaction passes before its message runs: the nonce, the
// fee. Its writes stay even when the message then fails. feeWaived is true when the
// message's module waives the fee (FeeWaiver): then the nonce is checked and used but
// nothing is charged, whatever fee the envelope offers.
type AnteHandler func(kv store.KV, t *tx.Tx, feeWaived bool) error

// FeeWaiver is implemented by modules some of whose messages pay no fee — subtensor's
// free neuron calls: a registered hotkey's serve_axon and weights. The application asks
// the module that handles the message before the ante step, against the same state.
//
// Contract: WaivesFee must be cheap and deterministic, and every message it waives must
// be bounded by a rule its handler enforces (a rate limit). A waived transaction that
// fails costs its signer nothing, so the bound must refuse it in CheckTx — where a
// refusal uses no nonce and never reaches a block — not only in the block.
type FeeWaiver interface {
	WaivesFee(r store.Reader, signer keys.PublicKey, msg tx.Msg) (bool, error)
}

// BeginBlocker is implemented by modules that act at the start of every block, before
// its transactions. An error halts the chain: it is for broken state, not for refusals.
type BeginBlocker interface {
	BeginBlock(ctx *Context) error
}

// EndBlocker is implemented by modules that act at the end of every block.
type EndBlocker interface {
	EndBlock(ctx *Context) error
}
