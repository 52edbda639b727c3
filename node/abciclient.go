package node

import (
	"context"

	abcicli "github.com/cometbft/cometbft/abci/client"
	abci "github.com/cometbft/cometbft/abci/types"
	"github.com/cometbft/cometbft/proxy"
)

// concurrentQueries is the ABCI client creator of an application whose Query and Info are
// safe for concurrent use with each other and with every other ABCI method (the Tessera
// application is: see package app). Each connection CometBFT opens (consensus, mempool,
// query, snapshot) serialises its calls on a mutex of its own, as
// proxy.NewConnSyncLocalClientCreator's do, except Query and Info, which go straight to
// the application: CometBFT calls them once per RPC request (abci_query, abci_info), and a
// slow one must not hold up the others.
type concurrentQueries struct {
	app abci.Application
}

// newConcurrentQueries returns the client creator for app, whose Query and Info must be
// safe for concurrent use.
func newConcurrentQueries(app abci.Application) proxy.ClientCreator {
	return concurrentQueries{app: app}
}

// NewABCIClient implements proxy.ClientCreator.
func (c concurrentQueries) NewABCIClient() (abcicli.Client, error) {
	return unlockedQueries{Client: abcicli.NewLocalClient(nil, c.app), app: c.app}, nil
}

// unlockedQueries is a local client whose Query and Info skip the connection's mutex.
type unlockedQueries struct {
	abcicli.Client
	app abci.Application
}

// Query calls the application's Query without a lock.
func (u unlockedQueries) Query(ctx context.Context, req *abci.RequestQuery) (*abci.ResponseQuery, error) {
	return u.app.Query(ctx, req)
}

// Info calls the application's Info without a lock.
func (u unlockedQueries) Info(ctx context.Context, req *abci.RequestInfo) (*abci.ResponseInfo, error) {
	return u.app.Info(ctx, req)
}
