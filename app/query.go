package app

import (
	"context"
	"encoding/json"
	"errors"
	"strings"

	abci "github.com/cometbft/cometbft/abci/types"
	cmtcrypto "github.com/cometbft/cometbft/proto/tendermint/crypto"

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
	r, err := a.store.Committed(req.Height)
	if err != nil {
		return fail(err)
	}
	height := req.Height
	if height == 0 {
		height, _ = a.store.LastCommit()
	}
	var answer any
	if path == "chain" {
		answer = map[string]any{"chain_id": a.ChainID(), "height": height}
	} else {
		name, rest, _ := strings.Cut(path, "/")
		var found bool
		for _, m := range a.modules {
			if m.Name() == name {
				found = true
				if answer, err = m.Query(r, rest, req.Data); err != nil {
					return fail(err)
				}
			}
		}
		if !found {
			return fail(tx.Errorf(tx.CodeNotFound, "no module %q to answer query %q", name, req.Path))
		}
	}
	b, err := json.Marshal(answer)
	if err != nil {
		return fail(err)
	}
	return &abci.ResponseQuery{Value: b, Height: height}, nil
}
