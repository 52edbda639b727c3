// Package api is the node's JSON HTTP API: accounts, balances, blocks, transactions,
// module queries and transaction submission, plus the Prometheus metrics endpoint. It
// reads through package client, so it serves from any node it can reach.
//
// Routes:
//
//	GET  /v1/status
//	GET  /v1/accounts/{address}      balance and nonce
//	GET  /v1/balances/{address}      balance only
//	GET  /v1/blocks/{height}         a height or "latest"
//	GET  /v1/txs/{hash}
//	POST /v1/txs                     {"tx": "<base64>", "wait": true|false}
//	GET  /v1/query/{path...}         an application query, e.g. /v1/query/accounts/params
//	GET  /metrics
//
// A URL path over MaxPathBytes or a query string over MaxQueryBytes is refused with 414
// before it is routed, and so before the node sees it.
package api

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	rpcclient "github.com/cometbft/cometbft/rpc/client"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/tessera-net/tessera/client"
	"github.com/tessera-net/tessera/keys"
	"github.com/tessera-net/tessera/tx"
)

// maxBody bounds request bodies: one transaction, base64-encoded, with room to spare.
const maxBody = 2 * tx.MaxTxBytes

// MaxPathBytes and MaxQueryBytes bound a request's URL path and its query string. The
// longest path of any route is well under MaxPathBytes, which is also the bound the
// application puts on a query's path (app.MaxQueryPath); the only query parameter is a
// height.
const (
	MaxPathBytes  = 1024
	MaxQueryBytes = 256
)

// ErrorBody is the JSON body of every error answer.
type ErrorBody struct {
	Error string `json:"error"`
	Code  uint32 `json:"code,omitempty"` // a transaction result code, when there is one
}

type server struct {
	c   *client.Client
	log *slog.Logger
}

// NewHandler returns the API's HTTP handler over a node's RPC client. gatherer serves
// /metrics (nil: no metrics endpoint).
func NewHandler(rpc rpcclient.Client, gatherer prometheus.Gatherer, log *slog.Logger) http.Handler {
	s := &server{c: client.New(rpc), log: log}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/status", s.status)
	mux.HandleFunc("GET /v1/accounts/{address}", s.account)
	mux.HandleFunc("GET /v1/balances/{address}", s.balance)
	mux.HandleFunc("GET /v1/blocks/{height}", s.block)
	mux.HandleFunc("GET /v1/txs/{hash}", s.tx)
	mux.HandleFunc("POST /v1/txs", s.submit)
	mux.HandleFunc("GET /v1/query/{path...}", s.query)
	if gatherer != nil {
		mux.Handle("GET /metrics", promhttp.HandlerFor(gatherer, promhttp.HandlerOpts{}))
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusNotFound, ErrorBody{Error: "no such endpoint: " + r.Method + " " + r.URL.Path})
	})
	return boundedURL(mux)
}

// boundedURL refuses a request whose URL path or query string is over its bound with 414
// URI Too Long, naming the length and the bound, and hands the others to next.
func boundedURL(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n := len(r.URL.Path); n > MaxPathBytes {
			writeJSON(w, http.StatusRequestURITooLong, ErrorBody{Error: "request path is " + strconv.Itoa(n) + " bytes; at most " + strconv.Itoa(MaxPathBytes)})
			return
		}
		if n := len(r.URL.RawQuery); n > MaxQueryBytes {
			writeJSON(w, http.StatusRequestURITooLong, ErrorBody{Error: "query string is " + strconv.Itoa(n) + " bytes; at most " + strconv.Itoa(MaxQueryBytes)})
			return
		}
		next.ServeHTTP(w, r)
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

// fail maps an error to a status: not found, a refused transaction or query, a timeout,
// or an unreachable node.
func (s *server) fail(w http.ResponseWriter, err error) {
	var te *client.TxError
	var qe *client.QueryError
	switch {
	case errors.Is(err, client.ErrInvalidInput):
		writeJSON(w, http.StatusBadRequest, ErrorBody{Error: err.Error()})
	case errors.Is(err, client.ErrNotFound):
		writeJSON(w, http.StatusNotFound, ErrorBody{Error: err.Error()})
	case errors.As(err, &te):
		writeJSON(w, http.StatusUnprocessableEntity, ErrorBody{Error: err.Error(), Code: uint32(te.Code)})
	case errors.As(err, &qe):
		status := http.StatusBadRequest
		if qe.Code == tx.CodeNotFound {
			status = http.StatusNotFound
		}
		writeJSON(w, status, ErrorBody{Error: qe.Log, Code: uint32(qe.Code)})
	case errors.Is(err, context.DeadlineExceeded):
		writeJSON(w, http.StatusGatewayTimeout, ErrorBody{Error: err.Error()})
	default:
		s.log.Warn("API request failed", "err", err)
		writeJSON(w, http.StatusBadGateway, ErrorBody{Error: err.Error()})
	}
}

func (s *server) status(w http.ResponseWriter, r *http.Request) {
	st, err := s.c.Status(r.Context())
	if err != nil {
		s.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, st)
}

func (s *server) pubkey(w http.ResponseWriter, r *http.Request) (keys.PublicKey, bool) {
	pub, err := keys.ParsePublicKey(r.PathValue("address"))
	if err != nil {
		writeJSON(w, http.StatusBadRequest, ErrorBody{Error: err.Error()})
		return pub, false
	}
	return pub, true
}

func (s *server) account(w http.ResponseWriter, r *http.Request) {
	pub, ok := s.pubkey(w, r)
	if !ok {
		return
	}
	a, err := s.c.Account(r.Context(), pub)
	if err != nil {
		s.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, a)
}

// Balance is the answer of /v1/balances.
type Balance struct {
	Address string `json:"address"`
	Balance uint64 `json:"balance,string"`
}

func (s *server) balance(w http.ResponseWriter, r *http.Request) {
	pub, ok := s.pubkey(w, r)
	if !ok {
		return
	}
	a, err := s.c.Account(r.Context(), pub)
	if err != nil {
		s.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, Balance{Address: a.Address, Balance: a.Balance})
}

func (s *server) block(w http.ResponseWriter, r *http.Request) {
	var h int64
	if p := r.PathValue("height"); p != "latest" {
		var err error
		if h, err = strconv.ParseInt(p, 10, 64); err != nil || h <= 0 {
			writeJSON(w, http.StatusBadRequest, ErrorBody{Error: "height must be a positive integer or \"latest\", not " + strconv.Quote(p)})
			return
		}
	}
	b, err := s.c.Block(r.Context(), h)
	if err != nil {
		s.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, b)
}

func (s *server) tx(w http.ResponseWriter, r *http.Request) {
	t, err := s.c.Tx(r.Context(), r.PathValue("hash"))
	if err != nil {
		s.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, t)
}

// SubmitRequest is the body of POST /v1/txs.
type SubmitRequest struct {
	Tx   string `json:"tx"`   // the signed transaction, base64
	Wait bool   `json:"wait"` // wait until it is committed (up to 30 s)
}

// SubmitResponse answers POST /v1/txs.
type SubmitResponse struct {
	Hash   string         `json:"hash"`
	Result *client.TxView `json:"result,omitempty"`
}

// submitShape begins the answer to a body that is not one SubmitRequest.
const submitShape = "body must be {\"tx\": \"<base64>\", \"wait\": bool}: "

func (s *server) submit(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		writeJSON(w, http.StatusRequestEntityTooLarge, ErrorBody{Error: "request body too large or unreadable: " + err.Error()})
		return
	}
	var req SubmitRequest
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		writeJSON(w, http.StatusBadRequest, ErrorBody{Error: submitShape + err.Error()})
		return
	}
	if _, err := dec.Token(); err != io.EOF {
		writeJSON(w, http.StatusBadRequest, ErrorBody{Error: submitShape + "data after the JSON object"})
		return
	}
	raw, err := base64.StdEncoding.DecodeString(req.Tx)
	if err != nil || len(raw) == 0 {
		writeJSON(w, http.StatusBadRequest, ErrorBody{Error: "tx must be a non-empty base64 string"})
		return
	}
	hash, err := s.c.Broadcast(r.Context(), raw)
	if err != nil {
		s.fail(w, err)
		return
	}
	resp := SubmitResponse{Hash: hash}
	if req.Wait {
		ctx, cancel := context.WithTimeout(r.Context(), 30*time.Second)
		defer cancel()
		v, err := s.c.WaitTx(ctx, hash)
		if v == nil && err != nil {
			s.fail(w, err)
			return
		}
		resp.Result = v
	}
	writeJSON(w, http.StatusOK, resp)
}

// storeQueryHelp answers /v1/query/store: the raw store query takes its key as bytes,
// which an API path does not carry, and answers raw bytes, not JSON.
const storeQueryHelp = "the raw store query needs a key, which this API does not take: ask the node's CometBFT RPC, " +
	"abci_query with path \"/store\" and data 0x<key in hex> (and prove=true for an ICS-23 proof), " +
	"e.g. GET <rpc>/abci_query?path=\"/store\"&data=0x6d6574612f636861696e5f6964"

func (s *server) query(w http.ResponseWriter, r *http.Request) {
	if r.PathValue("path") == "store" {
		writeJSON(w, http.StatusBadRequest, ErrorBody{Error: storeQueryHelp})
		return
	}
	var h int64
	if hs := r.URL.Query().Get("height"); hs != "" {
		var err error
		if h, err = strconv.ParseInt(hs, 10, 64); err != nil || h < 0 {
			writeJSON(w, http.StatusBadRequest, ErrorBody{Error: "height must be a non-negative integer"})
			return
		}
	}
	var out json.RawMessage
	if _, err := s.c.Query(r.Context(), "/"+r.PathValue("path"), h, &out); err != nil {
		s.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}
