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

// Query answers ABCI queries. Paths:
//
//	/<module>/<path>   a module's query; the answer is JSON
//	/store             the raw value of the key in Data, with an ICS-23 proof when Prove is set
//	/chain             the chain id and the committed height
//
// Height selects a committed version (0: the latest).
func (a *App) Query(_ context.Context, req *abci.RequestQuery) (*abci.ResponseQuery, error) {
	fail := func(err error) (*abci.ResponseQuery, error) {
		code := tx.CodeOf(err)
		if errors.Is(err, store.ErrVersionNotFound) {
			code = tx.CodeNotFound
		}
		return &abci.ResponseQuery{Code: uint32(code), Codespace: Codespace, Log: err.Error(), Height: req.Height}, nil
	}
	path := strings.TrimPrefix(req.Path, "/")
	if path == "store" {
		value, proof, version, err := a.store.Proof(req.Data, req.Height)
		if err != nil {
			return fail(err)
		}
		resp := &abci.ResponseQuery{Key: req.Data, Value: value, Height: version}
		if req.Prove {
			pb, err := proof.Marshal()
			if err != nil {
				return fail(err)
			}
			resp.ProofOps = &cmtcrypto.ProofOps{Ops: []cmtcrypto.ProofOp{{Type: "ics23:iavl", Key: req.Data, Data: pb}}}
		}
		return resp, nil
	}
	if mp, ok := strings.CutPrefix(path, mempoolQueryPrefix); ok {
		return a.queryMempool(req, mp), nil
	}
	// The height first, then that version: a block committed in between must not make
	// the answer claim a height it is not from.
	height := req.Height
	if height == 0 {
		height, _ = a.store.LastCommit()
	}
	r, err := a.store.Committed(height)
	if err != nil {
		return fail(err)
	}
	var answer any
	if path == "chain" {
		answer = map[string]any{"chain_id": a.ChainID(), "height": height}
	} else if answer, err = a.route(path, module.QueryRequest{State: r, Height: height, Data: req.Data}); err != nil {
		return fail(err)
	}
	b, err := json.Marshal(answer)
	if err != nil {
		return fail(err)
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
