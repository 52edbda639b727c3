package apinode

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"

	"github.com/tessera-net/tessera/client"
	"github.com/tessera-net/tessera/internal/openai"
	"github.com/tessera-net/tessera/keys"
	"github.com/tessera-net/tessera/modules/inference"
	"github.com/tessera-net/tessera/subnets/inference/signed"
	"github.com/tessera-net/tessera/tx"
)

// The public routes.
const (
	PathModels           = "/v1/models"
	PathPricing          = "/v1/pricing"
	PathGovModels        = "/v1/governance/models"
	PathGovPricing       = "/v1/governance/pricing"
	PathParticipants     = "/v1/participants"
	PathEpochs           = "/v1/epochs/"
	PathChat             = "/v1/chat/completions"
	PathCompletions      = "/v1/completions"
	PathExecChat         = "/v1/executor/chat/completions"
	PathExecCompletions  = "/v1/executor/completions"
	PathInferences       = "/v1/inferences/" // {id}/payload
	PathHealth           = "/v1/health"
	executorPrefixLength = len("/v1/executor")
)

// Handler serves the API node's public routes (docs/inference-api.md).
func (n *Node) Handler() http.Handler {
	mux := http.NewServeMux()
	get := func(h http.HandlerFunc) http.HandlerFunc { return only(http.MethodGet, h) }
	post := func(h http.HandlerFunc) http.HandlerFunc { return only(http.MethodPost, h) }
	mux.HandleFunc(PathModels, get(n.serveModels))
	mux.HandleFunc(PathPricing, get(n.servePricing))
	mux.HandleFunc(PathGovModels, get(n.serveGovModels))
	mux.HandleFunc(PathGovPricing, get(n.serveGovPricing))
	mux.HandleFunc(PathParticipants, get(n.serveParticipants))
	mux.HandleFunc(PathEpochs+"{which}", get(n.serveEpoch))
	mux.HandleFunc(PathHealth, get(n.serveHealth))
	mux.HandleFunc(PathChat, post(n.serveTA))
	mux.HandleFunc(PathCompletions, post(n.serveTA))
	mux.HandleFunc(PathExecChat, post(n.serveExecutor))
	mux.HandleFunc(PathExecCompletions, post(n.serveExecutor))
	mux.HandleFunc(PathInferences+"{id}/payload", get(n.servePayload))
	mux.HandleFunc(PathProofs, post(n.serveProofs))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { writeError(w, openai.UnknownURL(r)) })
	return mux
}

func only(method string, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Method != method {
			writeError(w, openai.MethodNotAllowed(w, r, method))
			return
		}
		h(w, r)
	}
}

func writeError(w http.ResponseWriter, e *openai.APIError) { openai.WriteError(w, e) }

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		writeError(w, serverError("encode the answer: %v", err))
		return
	}
	openai.WriteJSON(w, status, b)
}

func invalid(param, format string, args ...any) *openai.APIError {
	return openai.InvalidValue(param, format, args...)
}

func serverError(format string, args ...any) *openai.APIError {
	return openai.Errorf(http.StatusInternalServerError, openai.TypeServer, "internal_error", "", format, args...)
}

func unavailable(code, format string, args ...any) *openai.APIError {
	return openai.Errorf(http.StatusServiceUnavailable, openai.TypeServer, code, "", format, args...)
}

func decode(body []byte, v any) *openai.APIError { return openai.DecodeBody(body, v) }

// signedError is a refused signature as an OpenAI-style error: 401, 403 for a signer not
// allowed, with the signed.Code as its code.
func signedError(e *signed.Error) *openai.APIError {
	status := http.StatusUnauthorized
	if e.Code == signed.CodeForbidden {
		status = http.StatusForbidden
	}
	return openai.Errorf(status, openai.TypeInvalidRequest, string(e.Code), "", "%s", e.Msg)
}

// readSigned reads r's body and verifies its signature with v and allow; a refusal is
// answered and ok is false.
func (n *Node) readSigned(w http.ResponseWriter, r *http.Request, v *signed.Verifier, allow func(keys.PublicKey) bool) ([]byte, bool) {
	body, e := openai.ReadBody(w, r, n.cfg.MaxBody)
	if e != nil {
		writeError(w, e)
		return nil, false
	}
	if _, se := v.Verify(r.Method, r.URL.Path, r.Header, body, allow); se != nil {
		writeError(w, signedError(se))
		return nil, false
	}
	return body, true
}

// registeredSigner allows the subnet's registered hotkeys.
func (n *Node) registeredSigner(pub keys.PublicKey) bool {
	_, ok := n.current().registered[inference.Account(pub)]
	return ok
}

// chainError is a failed chain query as an OpenAI-style error: a not-found is a 404, a
// malformed argument a 400, anything else a 502 (the node could not be read).
func chainError(err error) *openai.APIError {
	var qe *client.QueryError
	if errors.As(err, &qe) {
		switch qe.Code {
		case tx.CodeNotFound:
			return openai.Errorf(http.StatusNotFound, openai.TypeInvalidRequest, "not_found", "", "%s", qe.Log)
		case tx.CodeInvalidMessage:
			return openai.Errorf(http.StatusBadRequest, openai.TypeInvalidRequest, "invalid_value", "", "%s", qe.Log)
		}
	}
	var te *tx.Error
	if errors.As(err, &te) && te.Code == tx.CodeNotFound {
		return openai.Errorf(http.StatusNotFound, openai.TypeInvalidRequest, "not_found", "", "%s", te.Msg)
	}
	return openai.Errorf(http.StatusBadGateway, openai.TypeServer, "chain_unavailable", "", "the chain could not be read: %v", err)
}

// ClientChain is Chain over a node's client, sending as one hotkey: each message in a
// transaction of its own, all submitted before any is waited for (client.Signer.SendAll:
// a transaction the mempool dropped is given up after client.CommitWithin blocks).
type ClientChain struct {
	C *client.Client
	S *client.Signer
	// Log, when set, is told each entry of a committed batch that the chain refused (an
	// inference_refused event: a start whose executor was no longer eligible, a user
	// who could not pay, …): the transaction succeeds, the entry is recorded nowhere.
	Log *slog.Logger
}

// Query implements Chain.
func (c ClientChain) Query(ctx context.Context, path string, out any) error {
	_, err := c.C.Query(ctx, path, 0, out)
	return err
}

// Send implements Chain: it returns once every message is committed, or with the
// first refusal.
func (c ClientChain) Send(ctx context.Context, msgs ...tx.Msg) error {
	views, err := c.S.SendAll(ctx, msgs...)
	if c.Log != nil {
		for _, v := range views {
			logRefused(c.Log, v)
		}
	}
	return err
}

// logRefused logs the entries of v that the inference module refused.
func logRefused(log *slog.Logger, v *client.TxView) {
	for _, r := range v.Refusals() {
		log.Warn("the chain refused an entry", "id", r.ID, "code", r.Code, "reason", r.Reason, "tx", r.Tx, "height", r.Height)
	}
}

func notFound(code, format string, args ...any) *openai.APIError {
	return openai.Errorf(http.StatusNotFound, openai.TypeInvalidRequest, code, "", format, args...)
}
