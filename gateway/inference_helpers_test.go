package gateway

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/tessera-net/tessera/internal/openai"
	"github.com/tessera-net/tessera/keys"
	"github.com/tessera-net/tessera/lm"
	"github.com/tessera-net/tessera/lm/server"
	"github.com/tessera-net/tessera/subnets/inference/signed"
)

// A stand-in for the inference network's API node (package apinode runs the real one
// in the devnet's end-to-end test): it verifies each request's signature with
// signed.Verifier, admitting only the gateway's account, rewrites the body as an
// executor does (logprobs on, at least 5 top logprobs, a seed, token ids) and answers
// with the engine's OpenAI server on a random model, streamed or not, with the
// executor's headers.

var (
	engineOnce sync.Once
	engineSrv  *server.Server
	engineErr  error
)

// engineServer is an lm/server on the "tiny" random model named "tessera-tiny", made
// once for the package's tests.
func engineServer(t testing.TB) *server.Server {
	t.Helper()
	engineOnce.Do(func() {
		var m *lm.Model
		if m, engineErr = lm.Random(lm.Presets["tiny"], [32]byte{'g', 'w'}, lm.Options{Threads: 1}); engineErr != nil {
			return
		}
		engineSrv, engineErr = server.New(lm.NewEngine(m, 4), server.Options{Name: "tessera-tiny", MaxTokens: 64})
	})
	if engineErr != nil {
		t.Fatal(engineErr)
	}
	return engineSrv
}

type testAPINode struct {
	URL      string
	srv      *httptest.Server
	accepted atomic.Int64 // signed requests answered
	refused  atomic.Int64 // requests refused for their signature
	status   atomic.Int64 // when not 0, completions are answered with this status
	lastBody atomic.Pointer[[]byte]
}

// startAPINode serves backend (nil: the engine server) behind the signature check;
// only allowed may sign.
func startAPINode(t testing.TB, allowed keys.PublicKey, backend http.Handler) *testAPINode {
	t.Helper()
	if backend == nil {
		backend = engineServer(t)
	}
	n := &testAPINode{}
	v := signed.NewVerifier(nil)
	mux := http.NewServeMux()
	mux.Handle("GET /v1/models", backend)
	complete := func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		sr, e := v.Verify(r.Method, r.URL.Path, r.Header, body, func(p keys.PublicKey) bool { return p == allowed })
		if e != nil {
			n.refused.Add(1)
			status := http.StatusUnauthorized
			if e.Code == signed.CodeForbidden {
				status = http.StatusForbidden
			}
			openai.WriteError(w, openai.Errorf(status, openai.TypeInvalidRequest, string(e.Code), "", "%s", e.Msg))
			return
		}
		if s := n.status.Load(); s != 0 {
			openai.WriteError(w, openai.Errorf(int(s), openai.TypeServer, "test_status", "", "answered %d by the test", s))
			return
		}
		n.lastBody.Store(&body)
		var fields map[string]any
		if err := json.Unmarshal(body, &fields); err != nil {
			openai.WriteError(w, openai.Invalid("", "invalid_json", "%v", err))
			return
		}
		if r.URL.Path == "/v1/completions" {
			lp, _ := fields["logprobs"].(float64)
			fields["logprobs"] = max(lp, 5)
		} else {
			tl, _ := fields["top_logprobs"].(float64)
			fields["logprobs"], fields["top_logprobs"] = true, max(tl, 5)
		}
		if _, ok := fields["seed"]; !ok {
			fields["seed"] = float64(7)
		}
		fields["return_token_ids"] = true
		rewritten, _ := json.Marshal(fields)
		id := sr.ID()
		w.Header().Set("X-Tessera-Inference-Id", hex.EncodeToString(id[:]))
		w.Header().Set("X-Tessera-Seed", strconv.FormatFloat(fields["seed"].(float64), 'f', -1, 64))
		w.Header().Set("X-Tessera-Executor", "executor-of-"+r.Host)
		r2 := r.Clone(r.Context())
		r2.Body, r2.ContentLength = io.NopCloser(bytes.NewReader(rewritten)), int64(len(rewritten))
		n.accepted.Add(1)
		backend.ServeHTTP(w, r2)
	}
	mux.HandleFunc("POST /v1/chat/completions", complete)
	mux.HandleFunc("POST /v1/completions", complete)
	n.srv = httptest.NewServer(mux)
	t.Cleanup(n.srv.Close)
	n.URL = n.srv.URL
	return n
}

// inferenceUpstream is an upstream over nodes signed by //GatewayAccount, refreshed.
func inferenceUpstream(t testing.TB, tune func(*InferenceConfig), nodes ...string) *InferenceUpstream {
	t.Helper()
	key, _ := keys.FromURI("//GatewayAccount")
	cfg := InferenceConfig{APINodes: nodes, Key: key}
	if tune != nil {
		tune(&cfg)
	}
	u, err := NewInferenceUpstream(cfg)
	if err != nil {
		t.Fatal(err)
	}
	u.Refresh(t.Context())
	return u
}

// gatewayAccount is the account inferenceUpstream signs with.
func gatewayAccount() keys.PublicKey {
	key, _ := keys.FromURI("//GatewayAccount")
	return key.Public()
}
