package app

import (
	abci "github.com/cometbft/cometbft/abci/types"

	"github.com/tessera-net/tessera/module"
	"github.com/tessera-net/tessera/tx"
)

// mempoolQueryPrefix starts the query paths answered from the mempool's state.
const mempoolQueryPrefix = "mempool/"

// queryMempool answers "/mempool/<module>/<route>[/<arg>...]": the module query
// "<module>/<route>" run against the state CheckTx judges the next transaction by — the
// last committed block plus every transaction the mempool accepted since. So
// "/mempool/accounts/account/<address>" tells a client the account's next nonce counting
// its pending transactions, where "/accounts/account/<address>" counts committed ones only.
//
// Contract: only the latest state exists (a Height other than 0 is refused); the answer's
// height is the last committed one, the block the mempool state starts from. The mempool
// lock is held only to copy its pending writes, so a slow query never holds up CheckTx.
// Between a Commit and the end of CometBFT's recheck of the remaining transactions the
// state may count fewer of them: a nonce read then can be stale, and the transaction
// signed with it is refused with tx.CodeStaleNonce, never applied twice.
func (a *App) queryMempool(req *abci.RequestQuery, path string) (*abci.ResponseQuery, error) {
	if req.Height != 0 {
		return nil, tx.Errorf(tx.CodeInvalidMessage, "mempool queries read the latest state only; height %d was asked", req.Height)
	}
	a.checkMu.Lock()
	state, next := a.check.Clone(), a.checkHeight
	a.checkMu.Unlock()
	height := next - 1
	if next == 0 { // no Commit since the App was built: the check state is the latest version
		height, _ = a.store.LastCommit()
	}
	answer, err := a.route(path, module.QueryRequest{State: state, Height: height, Data: req.Data})
	if err != nil {
		return nil, err
	}
	return jsonAnswer(answer, height)
}
