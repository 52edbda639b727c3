package api

import (
	"net/http"
	"strconv"

	"github.com/tessera-net/tessera/client"
	"github.com/tessera-net/tessera/tx"
)

// This file holds the routes the explorer's page reads besides the API's first ones:
// recent blocks, the validator set, an account's transactions, the page's configuration.

// DefaultListLimit is how many blocks or transactions a list answers without ?limit=.
const DefaultListLimit = 20

// BlockList answers GET /v1/blocks.
type BlockList struct {
	Height int64              `json:"height"` // the node's latest block
	Blocks []client.BlockView `json:"blocks"` // newest first
}

// AccountTxs answers GET /v1/accounts/{address}/txs.
type AccountTxs struct {
	Address string          `json:"address"`
	Txs     []client.TxView `json:"txs"` // newest first
}

// ExplorerConfig answers GET /v1/explorer/config: what the explorer's page needs to know
// beyond the API.
type ExplorerConfig struct {
	// GatewayURL is the gateway's root URL ("" when the node knows none): its traffic is
	// at GatewayURL + "/v1/stats".
	GatewayURL string `json:"gateway_url"`
	ChainID    string `json:"chain_id"`
}

// intParam reads the integer query parameter name: def when it is absent, else an integer
// from lo to hi. It writes the error answer and returns false for anything else.
func intParam(w http.ResponseWriter, r *http.Request, name string, def, lo, hi int64) (int64, bool) {
	s := r.URL.Query().Get(name)
	if s == "" {
		return def, true
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil || v < lo || v > hi {
		writeError(w, http.StatusBadRequest, tx.CodeInvalidMessage, name+" must be an integer from "+strconv.FormatInt(lo, 10)+" to "+strconv.FormatInt(hi, 10)+", not "+strconv.Quote(s))
		return 0, false
	}
	return v, true
}

func (s *server) blocks(w http.ResponseWriter, r *http.Request) {
	limit, ok := intParam(w, r, "limit", DefaultListLimit, 1, client.MaxListed)
	if !ok {
		return
	}
	before, ok := intParam(w, r, "before", 0, 1, 1<<62)
	if !ok {
		return
	}
	bs, latest, err := s.c.Blocks(r.Context(), before, int(limit))
	if err != nil {
		s.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, BlockList{Height: latest, Blocks: bs})
}

func (s *server) validators(w http.ResponseWriter, r *http.Request) {
	vs, err := s.c.Validators(r.Context())
	if err != nil {
		s.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, vs)
}

func (s *server) accountTxs(w http.ResponseWriter, r *http.Request) {
	pub, ok := s.pubkey(w, r)
	if !ok {
		return
	}
	limit, ok := intParam(w, r, "limit", DefaultListLimit, 1, client.MaxListed)
	if !ok {
		return
	}
	txs, err := s.c.AccountTxs(r.Context(), pub, int(limit))
	if err != nil {
		s.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, AccountTxs{Address: pub.String(), Txs: txs})
}

func (s *server) explorerConfig(w http.ResponseWriter, r *http.Request) {
	st, err := s.c.Status(r.Context())
	if err != nil {
		s.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, ExplorerConfig{GatewayURL: *s.gateway.Load(), ChainID: st.ChainID})
}
