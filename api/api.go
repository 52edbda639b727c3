// Package api is the node's JSON HTTP API: accounts, balances, blocks, transactions,
// validators, module queries and transaction submission, a stream of the chain's events,
// plus the Prometheus metrics endpoint and, when given one, the explorer's web page. It
// reads through package client, so it serves from any node it can reach.
//
// Routes:
//
//	GET  /v1/status
//	GET  /v1/health
//	GET  /v1/accounts/{address}      balance and nonce
//	GET  /v1/accounts/{address}/txs  ?limit=N (1-100, default 20): the transactions the
//	                                 account signed or that transferred to it, newest first
//	GET  /v1/balances/{address}      balance only
//	GET  /v1/blocks                  ?limit=N (1-100, default 20)&before=H: recent blocks,
//	                                 newest first
//	GET  /v1/blocks/{height}         a height or "latest"
//	GET  /v1/validators              the consensus validator set
//	GET  /v1/txs/{hash}
//	POST /v1/txs                     {"tx": "<base64>", "wait": true|false}
//	GET  /v1/query/{path...}         an application query, e.g. /v1/query/accounts/params;
//	                                 an account's stake positions are stake/coldkey/{address},
//	                                 its registrations subnets/registrations/{address}
//	GET  /v1/events                  Server-Sent Events: "block" and "epoch" (see events.go)
//	GET  /v1/explorer/config         {"gateway_url", "chain_id"} for the explorer's page
//	GET  /metrics
//	GET  /, /explorer/...            the explorer (Options.Explorer), when set
//
// Every answer carries CORS headers for the origins Options.CORSOrigins admits, and a
// browser's preflight (OPTIONS with Access-Control-Request-Method) is answered 204 for
// them, 403 for any other origin.
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
	"strings"
	"sync/atomic"
	"time"

	rpcclient "github.com/cometbft/cometbft/rpc/client"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/tessera-net/tessera/client"
	"github.com/tessera-net/tessera/keys"
	"github.com/tessera-net/tessera/modules/accounts"
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

// ErrorBody is the JSON body of every error answer: what is wrong, and its code — the
// result code of a refused transaction or query, else the code of the kind of failure
// (invalid_message 10 for bad input, not_found 14, too_large 11, internal 12 when the
// node cannot answer). CodeName is the code's name (tx.Code's String).
type ErrorBody struct {
	Error    string `json:"error"`
	Code     uint32 `json:"code"`
	CodeName string `json:"code_name"`
}

// writeError answers an error with its status, code and message.
func writeError(w http.ResponseWriter, status int, code tx.Code, msg string) {
	writeJSON(w, status, ErrorBody{Error: msg, Code: uint32(code), CodeName: code.String()})
}

type server struct {
	c       *client.Client
	log     *slog.Logger
	events  *hub
	gateway atomic.Pointer[string] // the explorer's gateway URL
}

// Options configure the API's handler. The zero value serves the API alone.
type Options struct {
	// Metrics serves /metrics (nil: no metrics endpoint).
	Metrics prometheus.Gatherer
	// Logger receives the API's warnings (discarded when nil).
	Logger *slog.Logger
	// CORSOrigins are the origins a browser page may call the API from ("*": any); none
	// by default, which leaves only the API's own origin (the explorer it serves).
	CORSOrigins []string
	// Explorer, when set, serves every path outside /v1/ and /metrics: the explorer's
	// page at / and /explorer/.
	Explorer http.Handler
	// GatewayURL is the gateway the explorer's page shows the traffic of (its root URL;
	// "" for none); SetGatewayURL changes it.
	GatewayURL string
	// MaxStreams bounds the event streams (/v1/events) open at once (default 64); one
	// more is refused with 503.
	MaxStreams int
	// Heartbeat is the time between the comments that keep an idle event stream open
	// through proxies (default 15 s).
	Heartbeat time.Duration
}

// Handler is the API's HTTP handler.
type Handler struct {
	http.Handler
	s *server
}

// SetGatewayURL sets the gateway URL /v1/explorer/config reports (a trailing "/v1" or
// "/" is dropped: the page asks for <url>/v1/stats).
func (h *Handler) SetGatewayURL(u string) {
	u = strings.TrimSuffix(strings.TrimSuffix(u, "/"), "/v1")
	h.s.gateway.Store(&u)
}

// Close ends every event stream and drops the node subscription that fed them; the
// other routes keep serving. A server's shutdown should call it (http.Server's
// RegisterOnShutdown), since a stream never goes idle by itself.
func (h *Handler) Close() { h.s.events.close() }

// NewHandler returns the API's HTTP handler over a node's RPC client. An unknown path is
// 404, a known path with another method 405 with an Allow header; both with the JSON
// error body.
func NewHandler(rpc rpcclient.Client, o Options) *Handler {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.MaxStreams <= 0 {
		o.MaxStreams = DefaultMaxStreams
	}
	if o.Heartbeat <= 0 {
		o.Heartbeat = DefaultHeartbeat
	}
	s := &server{c: client.New(rpc), log: o.Logger, events: newHub(rpc, o.MaxStreams, o.Heartbeat, o.Logger)}
	h := &Handler{s: s}
	h.SetGatewayURL(o.GatewayURL)
	routes := []struct {
		method, path string
		h            http.Handler
	}{
		{"GET", "/v1/health", http.HandlerFunc(s.health)},
		{"GET", "/v1/status", http.HandlerFunc(s.status)},
		{"GET", "/v1/accounts/{address}", http.HandlerFunc(s.account)},
		{"GET", "/v1/accounts/{address}/txs", http.HandlerFunc(s.accountTxs)},
		{"GET", "/v1/balances/{address}", http.HandlerFunc(s.balance)},
		{"GET", "/v1/blocks", http.HandlerFunc(s.blocks)},
		{"GET", "/v1/blocks/{height}", http.HandlerFunc(s.block)},
		{"GET", "/v1/validators", http.HandlerFunc(s.validators)},
		{"GET", "/v1/txs/{hash}", http.HandlerFunc(s.tx)},
		{"POST", "/v1/txs", http.HandlerFunc(s.submit)},
		{"GET", "/v1/query/{path...}", http.HandlerFunc(s.query)},
		{"GET", "/v1/events", http.HandlerFunc(s.events.serve)},
		{"GET", "/v1/explorer/config", http.HandlerFunc(s.explorerConfig)},
	}
	if o.Metrics != nil {
		routes = append(routes, struct {
			method, path string
			h            http.Handler
		}{"GET", "/metrics", promhttp.HandlerFor(o.Metrics, promhttp.HandlerOpts{})})
	}
	mux, paths := http.NewServeMux(), http.NewServeMux() // paths: any method, to tell 405 from 404
	allow := map[string][]string{}
	for _, rt := range routes {
		mux.Handle(rt.method+" "+rt.path, rt.h)
		if _, seen := allow[rt.path]; !seen {
			paths.Handle(rt.path, http.NotFoundHandler())
		}
		allow[rt.path] = append(allow[rt.path], rt.method)
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if _, pattern := paths.Handler(r); pattern != "" {
			w.Header().Set("Allow", strings.Join(allow[pattern], ", "))
			writeError(w, http.StatusMethodNotAllowed, tx.CodeInvalidMessage, r.Method+" is not allowed on "+r.URL.Path+"; use "+strings.Join(allow[pattern], " or "))
			return
		}
		if o.Explorer != nil && !apiPath(r.URL.Path) {
			o.Explorer.ServeHTTP(w, r)
			return
		}
		writeError(w, http.StatusNotFound, tx.CodeNotFound, "no such endpoint: "+r.Method+" "+r.URL.Path)
	})
	h.Handler = cors(o.CORSOrigins, boundedURL(mux))
	return h
}

// apiPath reports whether a path is the API's (/v1/..., /metrics), never the explorer's.
func apiPath(p string) bool {
	return p == "/v1" || strings.HasPrefix(p, "/v1/") || p == "/metrics"
}

// Health is the answer of GET /v1/health.
type Health struct {
	Status     string `json:"status"`     // "ok"
	Height     int64  `json:"height"`     // the latest block the node stores
	AppHeight  int64  `json:"app_height"` // the latest block the application committed
	CatchingUp bool   `json:"catching_up"`
}

// health answers 200 when the node answers, is not catching up, and its application has
// committed a block; otherwise 503 with the reason (for load balancers and probes).
func (s *server) health(w http.ResponseWriter, r *http.Request) {
	st, err := s.c.Status(r.Context())
	if err != nil {
		writeError(w, http.StatusServiceUnavailable, tx.CodeInternal, "the node does not answer: "+err.Error())
		return
	}
	app, err := s.c.AppHeight(r.Context())
	if err != nil {
		writeError(w, http.StatusServiceUnavailable, tx.CodeInternal, "the application does not answer: "+err.Error())
		return
	}
	switch {
	case st.CatchingUp:
		writeError(w, http.StatusServiceUnavailable, tx.CodeInternal, "the node is catching up (at block "+strconv.FormatInt(st.Height, 10)+")")
	case app < 1:
		writeError(w, http.StatusServiceUnavailable, tx.CodeInternal, "the application has committed no block yet")
	default:
		writeJSON(w, http.StatusOK, Health{Status: "ok", Height: st.Height, AppHeight: app, CatchingUp: false})
	}
}

// boundedURL refuses a request whose URL path or query string is over its bound with 414
// URI Too Long, naming the length and the bound, and hands the others to next.
func boundedURL(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n := len(r.URL.Path); n > MaxPathBytes {
			writeError(w, http.StatusRequestURITooLong, tx.CodeTooLarge, "request path is "+strconv.Itoa(n)+" bytes; at most "+strconv.Itoa(MaxPathBytes))
			return
		}
		if n := len(r.URL.RawQuery); n > MaxQueryBytes {
			writeError(w, http.StatusRequestURITooLong, tx.CodeTooLarge, "query string is "+strconv.Itoa(n)+" bytes; at most "+strconv.Itoa(MaxQueryBytes))
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
		writeError(w, http.StatusBadRequest, tx.CodeInvalidMessage, err.Error())
	case errors.Is(err, client.ErrNotFound):
		writeError(w, http.StatusNotFound, tx.CodeNotFound, err.Error())
	case errors.As(err, &te):
		writeError(w, http.StatusUnprocessableEntity, te.Code, err.Error())
	case errors.As(err, &qe):
		status := http.StatusBadRequest
		if qe.Code == tx.CodeNotFound {
			status = http.StatusNotFound
		}
		writeError(w, status, qe.Code, qe.Log)
	case errors.Is(err, context.DeadlineExceeded):
		writeError(w, http.StatusGatewayTimeout, tx.CodeInternal, err.Error())
	default:
		s.log.Warn("API request failed", "err", err)
		writeError(w, http.StatusBadGateway, tx.CodeInternal, err.Error())
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
		writeError(w, http.StatusBadRequest, tx.CodeInvalidMessage, err.Error())
		return pub, false
	}
	return pub, true
}

// accountOf reads the account at the request's address, or writes the error answer (a
// malformed address, or the node's failure) and returns false.
func (s *server) accountOf(w http.ResponseWriter, r *http.Request) (*accounts.AccountView, bool) {
	pub, ok := s.pubkey(w, r)
	if !ok {
		return nil, false
	}
	a, err := s.c.Account(r.Context(), pub)
	if err != nil {
		s.fail(w, err)
		return nil, false
	}
	return a, true
}

func (s *server) account(w http.ResponseWriter, r *http.Request) {
	if a, ok := s.accountOf(w, r); ok {
		writeJSON(w, http.StatusOK, a)
	}
}

// Balance is the answer of /v1/balances.
type Balance struct {
	Address string `json:"address"`
	Balance uint64 `json:"balance,string"`
}

func (s *server) balance(w http.ResponseWriter, r *http.Request) {
	if a, ok := s.accountOf(w, r); ok {
		writeJSON(w, http.StatusOK, Balance{Address: a.Address, Balance: a.Balance})
	}
}

func (s *server) block(w http.ResponseWriter, r *http.Request) {
	var h int64
	if p := r.PathValue("height"); p != "latest" {
		var err error
		if h, err = strconv.ParseInt(p, 10, 64); err != nil || h <= 0 {
			writeError(w, http.StatusBadRequest, tx.CodeInvalidMessage, "height must be a positive integer or \"latest\", not "+strconv.Quote(p))
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
		writeError(w, http.StatusRequestEntityTooLarge, tx.CodeTooLarge, "request body too large or unreadable: "+err.Error())
		return
	}
	var req SubmitRequest
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		writeError(w, http.StatusBadRequest, tx.CodeInvalidMessage, submitShape+err.Error())
		return
	}
	if _, err := dec.Token(); err != io.EOF {
		writeError(w, http.StatusBadRequest, tx.CodeInvalidMessage, submitShape+"data after the JSON object")
		return
	}
	raw, err := base64.StdEncoding.DecodeString(req.Tx)
	if err != nil || len(raw) == 0 {
		writeError(w, http.StatusBadRequest, tx.CodeInvalidMessage, "tx must be a non-empty base64 string")
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
		writeError(w, http.StatusBadRequest, tx.CodeInvalidMessage, storeQueryHelp)
		return
	}
	var h int64
	if hs := r.URL.Query().Get("height"); hs != "" {
		var err error
		if h, err = strconv.ParseInt(hs, 10, 64); err != nil || h < 0 {
			writeError(w, http.StatusBadRequest, tx.CodeInvalidMessage, "height must be a non-negative integer")
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
