// Package app is the Tessera state machine as a CometBFT ABCI 2.0 application: it decodes
// and checks transactions, routes their messages to the modules, keeps the merkleised
// state (one IAVL version per block, the app hash in every block), and answers queries.
//
// Concurrency: CometBFT calls the consensus connection (InitChain, FinalizeBlock, Commit),
// the mempool connection (CheckTx) and the query connection (Query, Info) from different
// goroutines. Block execution alone touches the working tree; CheckTx runs against its own
// write buffer over the last committed version; queries read committed versions.
//
// Query and Info are moreover safe for concurrent use with themselves: the node calls
// them without a lock, once per RPC or API request as it comes, so that one slow query
// holds up no other. They read only committed IAVL versions (immutable trees, which allow
// concurrent reads), the chain id (under its lock) and the routes fixed by New, so every
// module's queriers must be safe for concurrent use too; the chain's read only the state
// they are handed and what their keepers were built with. Every other method is called one
// at a time on its connection.
package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"sync"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"

	"github.com/tessera-net/tessera/module"
	"github.com/tessera-net/tessera/store"
	"github.com/tessera-net/tessera/tx"
)

// Version is the application's version, reported in Info.
const Version = "0.1.0"

// Codespace names the application in result codes.
const Codespace = "tessera"

var keyChainID = []byte("meta/chain_id")

// App is the ABCI application.
type App struct {
	abci.BaseApplication

	store   *store.Store
	log     *slog.Logger
	metrics *Metrics

	modules  []module.Module
	handlers map[string]module.Handler
	waivers  map[string]module.FeeWaiver        // message type → the module that may waive its fee
	routes   map[string]map[string]module.Route // module name → route → querier
	ante     module.AnteHandler

	chainMu sync.RWMutex
	chainID string

	// block execution (consensus connection only)
	block       *store.Cache
	blockHeight int64
	blockTime   time.Time // the time of the block being executed, handed to the mempool at Commit

	// mempool checking
	checkMu sync.Mutex
	check   *store.Cache
	// checkHeight and checkTime are the height of the block a checked transaction will
	// enter (the last committed height + 1) and the last committed block's time.
	// checkHeight 0: not known yet (no Commit since the App was built), taken from the
	// store on first use.
	checkHeight int64
	checkTime   time.Time

	verified *sigCache // signatures CheckTx already verified
}

// Options configure an App.
type Options struct {
	Logger  *slog.Logger
	Metrics *Metrics // nil: metrics are kept but not registered anywhere
	// Modules are the chain's modules, in the order their genesis, begin- and end-block
	// steps run. The chain's own set comes from its registry (package modules).
	Modules []module.Module
	// Ante runs before every transaction's message (nonce, fee); required.
	Ante module.AnteHandler
}

// New builds the application over an opened store.
func New(st *store.Store, opts Options) (*App, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Metrics == nil {
		opts.Metrics, _ = newMetrics() // counted, registered nowhere
	}
	if len(opts.Modules) == 0 {
		return nil, errors.New("app: no modules (Options.Modules); the chain's set is modules.Builtin()")
	}
	if opts.Ante == nil {
		return nil, errors.New("app: no ante handler (Options.Ante); the chain's is modules.Builtin().Ante")
	}
	a := &App{
		store:    st,
		log:      opts.Logger,
		metrics:  opts.Metrics,
		modules:  opts.Modules,
		handlers: map[string]module.Handler{},
		waivers:  map[string]module.FeeWaiver{},
		routes:   map[string]map[string]module.Route{},
		ante:     opts.Ante,
		verified: newSigCache(200_000),
	}
	for _, m := range a.modules {
		if _, dup := a.routes[m.Name()]; dup || m.Name() == "chain" || m.Name() == "store" || m.Name() == "mempool" {
			return nil, fmt.Errorf("module name %q is taken", m.Name())
		}
		a.routes[m.Name()] = m.Queries()
		for typ, h := range m.Handlers() {
			if _, dup := a.handlers[typ]; dup {
				return nil, fmt.Errorf("message type %q handled by two modules", typ)
			}
			a.handlers[typ] = h
			if w, ok := m.(module.FeeWaiver); ok {
				a.waivers[typ] = w
			}
		}
	}
	committed, err := st.Committed(0)
	if err != nil {
		return nil, err
	}
	if id, err := committed.Get(keyChainID); err != nil {
		return nil, fmt.Errorf("read chain id: %w", err)
	} else if id != nil {
		a.chainID = string(id)
	}
	a.check = store.NewCache(committed)
	return a, nil
}

// ChainID returns the chain id recorded at genesis ("" before InitChain).
func (a *App) ChainID() string {
	a.chainMu.RLock()
	defer a.chainMu.RUnlock()
	return a.chainID
}

// Store returns the application's state store (for read-only use by queries).
func (a *App) Store() *store.Store { return a.store }

// Info reports the last committed height and app hash so CometBFT can replay what the
// application is missing after a restart. It is safe for concurrent use (see the package
// doc).
func (a *App) Info(context.Context, *abci.RequestInfo) (*abci.ResponseInfo, error) {
	v, h := a.store.LastCommit()
	resp := &abci.ResponseInfo{Data: "tessera", Version: Version, LastBlockHeight: v}
	if v > 0 {
		resp.LastBlockAppHash = h
	}
	return resp, nil
}

// InitChain writes the genesis state: the chain id and each module's part of app_state.
func (a *App) InitChain(_ context.Context, req *abci.RequestInitChain) (*abci.ResponseInitChain, error) {
	if req.InitialHeight > 1 {
		return nil, fmt.Errorf("initial height %d is not supported: a chain starts at height 1", req.InitialHeight)
	}
	states := map[string]json.RawMessage{}
	if len(req.AppStateBytes) > 0 {
		if err := json.Unmarshal(req.AppStateBytes, &states); err != nil {
			return nil, fmt.Errorf("genesis app_state is not a JSON object: %w", err)
		}
	}
	known := map[string]bool{}
	for _, m := range a.modules {
		known[m.Name()] = true
	}
	for name := range states {
		if !known[name] {
			return nil, fmt.Errorf("genesis app_state has a section %q that no module owns", name)
		}
	}
	// Nothing is committed before genesis, so the genesis buffer sits over the empty
	// committed view; a clone of it can then serve the mempool without touching the tree.
	empty, err := a.store.Committed(0)
	if err != nil {
		return nil, err
	}
	c := store.NewCache(empty)
	ctx := &module.Context{KV: c, ChainID: req.ChainId, Height: 0, Time: req.Time}
	if err := c.Set(keyChainID, []byte(req.ChainId)); err != nil {
		return nil, err
	}
	for _, m := range a.modules {
		if err := m.InitGenesis(ctx, states[m.Name()]); err != nil {
			return nil, fmt.Errorf("genesis of module %s: %w", m.Name(), err)
		}
	}
	// Until block 1 is committed the mempool checks against the genesis state.
	genesis := c.Clone()
	if err := c.Write(a.store.Working()); err != nil {
		return nil, fmt.Errorf("write genesis state: %w", err)
	}
	a.checkMu.Lock()
	a.check.Reset(genesis)
	a.checkMu.Unlock()
	a.chainMu.Lock()
	a.chainID = req.ChainId
	a.chainMu.Unlock()
	a.log.Info("genesis written", "chain_id", req.ChainId, "modules", len(a.modules))
	return &abci.ResponseInitChain{AppHash: a.store.WorkingHash()}, nil
}

// CheckTx decides whether a transaction may enter the mempool: it must decode, carry a
// valid signature for this chain, use the signer's next nonce (counting transactions
// already in the mempool), pay at least the minimum fee, and its message must succeed
// against the state as the mempool would leave it.
func (a *App) CheckTx(_ context.Context, req *abci.RequestCheckTx) (*abci.ResponseCheckTx, error) {
	t, err := tx.Decode(req.Tx)
	if err == nil && req.Type == abci.CheckTxType_New {
		// A recheck sees the same bytes again, so its signature is already known good.
		if err = t.VerifySignature(); err == nil {
			a.verified.add(t.Hash)
		}
	}
	if err == nil {
		err = a.checkStateful(t)
	}
	a.metrics.checked(err)
	if err != nil {
		return &abci.ResponseCheckTx{Code: uint32(tx.CodeOf(err)), Codespace: Codespace, Log: err.Error()}, nil
	}
	return &abci.ResponseCheckTx{Code: 0, GasWanted: 1}, nil
}

func (a *App) checkStateful(t *tx.Tx) error {
	if id := a.ChainID(); t.ChainID != id {
		return tx.Errorf(tx.CodeWrongChainID, "transaction is for chain %q, this is %q", t.ChainID, id)
	}
	a.checkMu.Lock()
	defer a.checkMu.Unlock()
	if a.checkHeight == 0 {
		// The check view was opened over the latest committed version (or the genesis
		// state, before any version is committed).
		last, _ := a.store.LastCommit()
		a.checkHeight = last + 1
	}
	c := store.NewCache(a.check)
	ctx := &module.Context{KV: c, ChainID: t.ChainID, Height: a.checkHeight, Time: a.checkTime, Check: true}
	if _, err := a.runTx(ctx, t); err != nil {
		return err
	}
	return c.Write(a.check)
}

// runTx applies the ante (nonce, fee) and then the message. paid reports whether the
// ante passed: then its writes (the fee paid, the nonce used) are in ctx.KV even when the
// message failed, whose own writes are dropped.
func (a *App) runTx(ctx *module.Context, t *tx.Tx) (paid bool, err error) {
	h, ok := a.handlers[t.Msg.Type]
	if !ok {
		return false, tx.Errorf(tx.CodeUnknownMessage, "no module handles message type %q", t.Msg.Type)
	}
	waived := false
	if w := a.waivers[t.Msg.Type]; w != nil {
		var err error
		if waived, err = w.WaivesFee(ctx.KV, t.SignerKey, t.Msg); err != nil {
			return false, err
		}
	}
	if err := a.ante(ctx.KV, t, waived); err != nil {
		return false, err
	}
	msgKV := store.NewCache(ctx.KV)
	mctx := *ctx
	mctx.KV = msgKV
	if err := h(&mctx, t.SignerKey, t.Msg); err != nil {
		return true, err
	}
	for _, e := range mctx.Events() {
		ctx.Emit(e.Type, e.Attributes...)
	}
	return true, msgKV.Write(ctx.KV)
}

// FinalizeBlock executes a decided block: the modules' start-of-block work, every
// transaction in order, then the modules' end-of-block work, and returns the results and
// the new app hash. Block events are the start's followed by the end's.
func (a *App) FinalizeBlock(_ context.Context, req *abci.RequestFinalizeBlock) (*abci.ResponseFinalizeBlock, error) {
	done := a.metrics.blockTimer()
	a.block = store.NewCache(a.store.Working())
	a.blockHeight, a.blockTime = req.Height, req.Time
	chainID := a.ChainID()

	ctx := blockContext(a.block, chainID, req)
	for _, m := range a.modules {
		if bb, ok := m.(module.BeginBlocker); ok {
			if err := bb.BeginBlock(ctx); err != nil {
				return nil, fmt.Errorf("start of block %d in module %s: %w", req.Height, m.Name(), err)
			}
		}
	}

	decoded := a.decodeAndVerify(req.Txs)
	results := make([]*abci.ExecTxResult, len(req.Txs))
	for i, d := range decoded {
		results[i] = a.deliver(chainID, req, d)
	}

	for _, m := range a.modules {
		if eb, ok := m.(module.EndBlocker); ok {
			if err := eb.EndBlock(ctx); err != nil {
				return nil, fmt.Errorf("end of block %d in module %s: %w", req.Height, m.Name(), err)
			}
		}
	}
	if err := a.block.Write(a.store.Working()); err != nil {
		return nil, fmt.Errorf("write block %d: %w", req.Height, err)
	}
	a.block = nil
	done(len(req.Txs))
	return &abci.ResponseFinalizeBlock{
		TxResults: results,
		Events:    ctx.Events(),
		AppHash:   a.store.WorkingHash(),
	}, nil
}

// blockContext is the context of block req's execution over kv.
func blockContext(kv store.KV, chainID string, req *abci.RequestFinalizeBlock) *module.Context {
	return &module.Context{KV: kv, ChainID: chainID, Height: req.Height, Time: req.Time, BlockHash: req.Hash, Proposer: req.ProposerAddress}
}

type decodedTx struct {
	t   *tx.Tx
	err error
}

// decodeAndVerify decodes every transaction and checks its signature, spread over the
// CPUs: signature checks are the bulk of a block's cost and need no state. Signatures this
// node verified in CheckTx are not verified again.
func (a *App) decodeAndVerify(txs [][]byte) []decodedTx {
	out := make([]decodedTx, len(txs))
	workers := min(runtime.GOMAXPROCS(0), len(txs))
	var wg sync.WaitGroup
	next := make(chan int, len(txs))
	for i := range txs {
		next <- i
	}
	close(next)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				t, err := tx.Decode(txs[i])
				if err == nil && !a.verified.take(t.Hash) {
					err = t.VerifySignature()
				}
				out[i] = decodedTx{t, err}
			}
		}()
	}
	wg.Wait()
	return out
}

func (a *App) deliver(chainID string, req *abci.RequestFinalizeBlock, d decodedTx) *abci.ExecTxResult {
	fail := func(err error) *abci.ExecTxResult {
		a.metrics.delivered(err)
		r := &abci.ExecTxResult{Code: uint32(tx.CodeOf(err)), Codespace: Codespace, Log: err.Error()}
		if d.err == nil {
			// A failed transaction whose signature verified still names its signer, so
			// that the signer's transactions (tx.signer in the index) include it. Events
			// are not part of the results hash: this changes no consensus data.
			r.Events = []abci.Event{txEvent(d.t)}
		}
		return r
	}
	if d.err != nil {
		return fail(d.err)
	}
	if d.t.ChainID != chainID {
		return fail(tx.Errorf(tx.CodeWrongChainID, "transaction is for chain %q, this is %q", d.t.ChainID, chainID))
	}
	c := store.NewCache(a.block)
	ctx := blockContext(c, chainID, req)
	paid, err := a.runTx(ctx, d.t)
	if tx.CodeOf(err) == tx.CodeInternal {
		a.log.Error("transaction failed internally", "height", req.Height, "tx", fmt.Sprintf("%X", d.t.Hash), "err", err)
	}
	// Keep the ante's writes (fee, nonce) when only the message failed; drop everything
	// when the ante itself refused the transaction.
	if !paid {
		return fail(err)
	}
	if werr := c.Write(a.block); werr != nil {
		return fail(fmt.Errorf("write transaction state: %w", werr))
	}
	if err != nil {
		return fail(err)
	}
	a.metrics.delivered(nil)
	events := append([]abci.Event{txEvent(d.t)}, ctx.Events()...)
	return &abci.ExecTxResult{Code: 0, Events: events}
}

// txEvent is the "tx" event of every executed transaction: its signer and message type
// (indexed, so tx_search "tx.signer='<address>'" finds an account's transactions).
func txEvent(t *tx.Tx) abci.Event {
	return abci.Event{Type: "tx", Attributes: []abci.EventAttribute{
		module.Attr("signer", t.SignerKey.String()),
		module.Attr("type", t.Msg.Type),
	}}
}

// Commit saves the block's state as a new version and resets the mempool's view to it:
// transactions are then checked at the next height and this block's time.
func (a *App) Commit(context.Context, *abci.RequestCommit) (*abci.ResponseCommit, error) {
	_, version, err := a.store.Commit()
	if err != nil {
		return nil, err
	}
	committed, err := a.store.Committed(version)
	if err != nil {
		return nil, err
	}
	a.checkMu.Lock()
	a.check.Reset(committed)
	a.checkHeight, a.checkTime = version+1, a.blockTime
	a.checkMu.Unlock()
	a.metrics.height.Set(float64(version))
	return &abci.ResponseCommit{}, nil
}
