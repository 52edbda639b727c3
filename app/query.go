package app

import (
	"context"
	"encoding/json"
	"errors"
	"sort"
	"strings"

	abci "github.com/cometbft/cometbft/abci/types"
	cmtcrypto "github.com/cometbft/cometbft/proto/tendermint/crypto"

	"github.com/tessera-net/tessera/module"
	"github.com/tessera-net/tessera/store"
	"github.com/tessera-net/tessera/tx"
)

// MaxQueryPath and MaxQueryData bound an ABCI query's path and data, in bytes: Query
// refuses a longer one with CodeTooLarge before doing anything else with it. Every route's
// path (a module, a route and arguments of at most module.MaxQueryArg bytes each) fits in
// MaxQueryPath; data is the key of a /store query, and module queries do not use it.
const (
	MaxQueryPath = 1024
	MaxQueryData = 1024
)

// Query answers ABCI queries. Paths:
//
//	/<module>/<path>   a module's query; the answer is JSON
//	/mempool/<module>/<path>  the same query against the mempool's state (app/mempool.go)
//	/store             the raw value of the key in Data, with an ICS-23 proof when Prove is set
//	/chain             the chain id and the committed height
//
// Height selects a committed version (0: the latest). A path over MaxQueryPath or data
// over MaxQueryData is refused (CodeTooLarge) first; a /store query without a key is
// refused (CodeInvalidMessage).
//
// Query reads committed versions only and is safe for concurrent use, with itself and with
// every other method (see the package doc): the node serves it without a lock.
func (a *App) Query(_ context.Context, req *abci.RequestQuery) (*abci.ResponseQuery, error) {
	if err := checkQuerySize(req); err != nil {
		return queryFailed(req, err), nil
	}
	path := strings.TrimPrefix(req.Path, "/")
	var resp *abci.ResponseQuery
	var err error
	switch mp, mempool := strings.CutPrefix(path, mempoolQueryPrefix); {
	case path == "store":
		resp, err = a.queryStore(req)
	case mempool:
		resp, err = a.queryMempool(req, mp)
	default:
		resp, err = a.queryJSON(path, req)
	}
	if err != nil {
		return queryFailed(req, err), nil
	}
	return resp, nil
}

// checkQuerySize refuses a path or data over its bound, naming the size and the bound.
func checkQuerySize(req *abci.RequestQuery) error {
	if len(req.Path) > MaxQueryPath {
		return tx.Errorf(tx.CodeTooLarge, "query path is %d bytes; at most %d", len(req.Path), MaxQueryPath)
	}
	if len(req.Data) > MaxQueryData {
		return tx.Errorf(tx.CodeTooLarge, "query data is %d bytes; at most %d", len(req.Data), MaxQueryData)
	}
	return nil
}

// queryFailed is the answer to a refused or failed query: its code (a missing version is
// CodeNotFound) and its message.
func queryFailed(req *abci.RequestQuery, err error) *abci.ResponseQuery {
	code := tx.CodeOf(err)
	if errors.Is(err, store.ErrVersionNotFound) {
		code = tx.CodeNotFound
	}
	return &abci.ResponseQuery{Code: uint32(code), Codespace: Codespace, Log: err.Error(), Height: req.Height}
}

// queryStore answers /store: the raw value under the key in Data, proved when asked.
func (a *App) queryStore(req *abci.RequestQuery) (*abci.ResponseQuery, error) {
	if len(req.Data) == 0 {
		return nil, tx.Errorf(tx.CodeInvalidMessage, "the /store query needs a key: give the raw key in the query's data (abci_query with path \"/store\" and data 0x<key in hex>)")
	}
	value, proof, version, err := a.store.Proof(req.Data, req.Height)
	if err != nil {
		return nil, err
	}
	resp := &abci.ResponseQuery{Key: req.Data, Value: value, Height: version}
	if req.Prove {
		pb, err := proof.Marshal()
		if err != nil {
			return nil, err
		}
		resp.ProofOps = &cmtcrypto.ProofOps{Ops: []cmtcrypto.ProofOp{{Type: "ics23:iavl", Key: req.Data, Data: pb}}}
	}
	return resp, nil
}

// queryJSON answers /chain and the module queries, as JSON.
func (a *App) queryJSON(path string, req *abci.RequestQuery) (*abci.ResponseQuery, error) {
	// The height first, then that version: a block committed in between must not make
	// the answer claim a height it is not from.
	height := req.Height
	if height == 0 {
		height, _ = a.store.LastCommit()
	}
	r, err := a.store.Committed(height)
	if err != nil {
		return nil, err
	}
	var answer any
	if path == "chain" {
		answer = map[string]any{"chain_id": a.ChainID(), "height": height}
	} else if answer, err = a.route(path, module.QueryRequest{State: r, Height: height, Data: req.Data}); err != nil {
		return nil, err
	}
	return jsonAnswer(answer, height)
}

// jsonAnswer is a query's answer served as JSON, from the given height.
func jsonAnswer(answer any, height int64) (*abci.ResponseQuery, error) {
	b, err := json.Marshal(answer)
	if err != nil {
		return nil, err
	}
	return &abci.ResponseQuery{Value: b, Height: height}, nil
}

// route finds the querier of "<module>/<route>[/<arg>...]" and runs it, after checking
// the number and the length of the arguments (so no module decodes an oversized one).
func (a *App) route(path string, q module.QueryRequest) (any, error) {
	parts := strings.Split(path, "/")
	routes, ok := a.routes[parts[0]]
	if !ok {
		return nil, tx.Errorf(tx.CodeNotFound, "no module %q to answer query %q", parts[0], path)
	}
	if len(parts) < 2 {
		return nil, tx.Errorf(tx.CodeNotFound, "query %q names no route of module %s; it answers %s", path, parts[0], routeList(parts[0], routes))
	}
	rt, ok := routes[parts[1]]
	if !ok {
		return nil, tx.Errorf(tx.CodeNotFound, "unknown %s query %q; it answers %s", parts[0], parts[1], routeList(parts[0], routes))
	}
	args := parts[2:]
	if len(args) != len(rt.Args) {
		return nil, tx.Errorf(tx.CodeInvalidMessage, "query %s takes %s", parts[0]+"/"+parts[1], usage(parts[0]+"/"+parts[1], rt.Args))
	}
	for i, arg := range args {
		if len(arg) > module.MaxQueryArg {
			return nil, tx.Errorf(tx.CodeInvalidMessage, "query argument <%s> is %d bytes; at most %d", rt.Args[i], len(arg), module.MaxQueryArg)
		}
	}
	q.Args = args
	return rt.Query(q)
}

func usage(route string, args []string) string {
	var b strings.Builder
	b.WriteString(route)
	for _, a := range args {
		b.WriteString("/<" + a + ">")
	}
	return b.String()
}

func routeList(name string, routes map[string]module.Route) string {
	out := make([]string, 0, len(routes))
	for r, rt := range routes {
		out = append(out, usage(name+"/"+r, rt.Args))
	}
	sort.Strings(out)
	return strings.Join(out, ", ")
}
