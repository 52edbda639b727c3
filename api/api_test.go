package api_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	rpcclient "github.com/cometbft/cometbft/rpc/client"
	rpchttp "github.com/cometbft/cometbft/rpc/client/http"
	ctypes "github.com/cometbft/cometbft/rpc/core/types"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/tessera-net/tessera/api"
	"github.com/tessera-net/tessera/client"
	"github.com/tessera-net/tessera/devnet"
	"github.com/tessera-net/tessera/genesis"
	"github.com/tessera-net/tessera/keys"
	"github.com/tessera-net/tessera/modules/accounts"
	"github.com/tessera-net/tessera/tx"
)

// apiServer is the API's handler over an RPC client, served by httptest.
type apiServer struct{ base string }

func serve(t *testing.T, rpc rpcclient.Client, g prometheus.Gatherer) *apiServer {
	t.Helper()
	return serveWith(t, rpc, api.Options{Metrics: g})
}

// serveWith serves the API over rpc with options o.
func serveWith(t *testing.T, rpc rpcclient.Client, o api.Options) *apiServer {
	t.Helper()
	h := api.NewHandler(rpc, o)
	srv := httptest.NewServer(h)
	t.Cleanup(func() { h.Close(); srv.Close() })
	return &apiServer{base: srv.URL}
}

// do sends a request and checks the answer's status; it returns the body.
func (s *apiServer) do(t *testing.T, method, path, body string, wantStatus int) []byte {
	t.Helper()
	req, err := http.NewRequest(method, s.base+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != wantStatus {
		t.Fatalf("%s %s: status %d, want %d: %s", method, path, resp.StatusCode, wantStatus, data)
	}
	if path != "/metrics" || wantStatus != http.StatusOK {
		if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
			t.Fatalf("%s %s: Content-Type %q", method, path, ct)
		}
	}
	return data
}

// get answers GET path with wantStatus, decoded into out.
func (s *apiServer) get(t *testing.T, path string, wantStatus int, out any) {
	t.Helper()
	decode(t, s.do(t, http.MethodGet, path, "", wantStatus), out)
}

// post answers POST path with body with wantStatus, decoded into out.
func (s *apiServer) post(t *testing.T, path, body string, wantStatus int, out any) {
	t.Helper()
	decode(t, s.do(t, http.MethodPost, path, body, wantStatus), out)
}

// fails checks method path answers wantStatus with an error body, and returns it.
func (s *apiServer) fails(t *testing.T, method, path, body string, wantStatus int) api.ErrorBody {
	t.Helper()
	var eb api.ErrorBody
	decode(t, s.do(t, method, path, body, wantStatus), &eb)
	if eb.Error == "" {
		t.Fatalf("%s %s: an error body without a message", method, path)
	}
	return eb
}

// decode decodes data into out strictly: an error body has only "error", "code" and
// "code_name".
func decode(t *testing.T, data []byte, out any) {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(data))
	if _, ok := out.(*api.ErrorBody); ok {
		dec.DisallowUnknownFields()
	}
	if err := dec.Decode(out); err != nil {
		t.Fatalf("%s: %v", data, err)
	}
}

// submitBody is POST /v1/txs's body for raw.
func submitBody(raw []byte, wait bool) string {
	b, _ := json.Marshal(api.SubmitRequest{Tx: base64.StdEncoding.EncodeToString(raw), Wait: wait})
	return string(b)
}

// The API over a running one-validator chain: every route, with good and bad input.
func TestAPI(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	d, err := devnet.Start(ctx, devnet.Options{BlockTime: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = d.Stop() })
	s := serve(t, d.Node.Client(), d.Node.Registry())
	alice, bob := d.Accounts[0].Pair, d.Accounts[1].Pair
	chainID, err := d.Client.ChainID(ctx)
	if err != nil {
		t.Fatal(err)
	}
	sign := func(t *testing.T, from *keys.Pair, nonce, amount uint64) []byte {
		t.Helper()
		m, err := accounts.NewTransfer(bob.Public(), amount)
		if err != nil {
			t.Fatal(err)
		}
		raw, err := tx.Sign(from, tx.Envelope{ChainID: chainID, Nonce: nonce, Fee: 1000, Msg: m})
		if err != nil {
			t.Fatal(err)
		}
		return raw
	}

	t.Run("status", func(t *testing.T) {
		var st client.Status
		s.get(t, "/v1/status", 200, &st)
		if st.ChainID != devnet.ChainID || st.Height < 1 || st.NodeID == "" {
			t.Fatalf("status: %+v", st)
		}
	})

	t.Run("accounts", func(t *testing.T) {
		var a accounts.AccountView
		s.get(t, "/v1/accounts/"+alice.Public().String(), 200, &a)
		if a.Address != alice.Public().String() || a.Balance != genesis.DevBalance {
			t.Fatalf("alice: %+v", a)
		}
		stranger, err := keys.FromURI("//NeverFunded")
		if err != nil {
			t.Fatal(err)
		}
		s.get(t, "/v1/accounts/"+stranger.Public().String(), 200, &a)
		if a.Balance != 0 || a.Nonce != 0 {
			t.Fatalf("an account never seen: %+v", a)
		}
		// The hex form of a key is an address too.
		s.get(t, "/v1/accounts/"+alice.Public().Hex(), 200, &a)
		if a.Balance != genesis.DevBalance {
			t.Fatalf("alice by hex: %+v", a)
		}
		for _, bad := range []string{"not-an-address", "5Grw", "0x1234"} {
			if eb := s.fails(t, "GET", "/v1/accounts/"+bad, "", 400); eb.Code != uint32(tx.CodeInvalidMessage) || eb.CodeName != "invalid_message" {
				t.Fatalf("%s: %+v", bad, eb)
			}
		}
	})

	t.Run("balances", func(t *testing.T) {
		// The balance is a JSON string: it can exceed 2^53.
		var raw map[string]any
		s.get(t, "/v1/balances/"+alice.Public().String(), 200, &raw)
		if raw["address"] != alice.Public().String() || raw["balance"] != strconv.FormatUint(genesis.DevBalance, 10) || len(raw) != 2 {
			t.Fatalf("alice's balance: %v", raw)
		}
		s.fails(t, "GET", "/v1/balances/not-an-address", "", 400)
	})

	t.Run("blocks", func(t *testing.T) {
		var b client.BlockView
		s.get(t, "/v1/blocks/1", 200, &b)
		if b.Height != 1 || b.ChainID != devnet.ChainID || b.Hash == "" || !b.ResultsReadable {
			t.Fatalf("block 1: %+v", b)
		}
		s.get(t, "/v1/blocks/latest", 200, &b)
		if b.Height < 1 {
			t.Fatalf("latest block: %+v", b)
		}
		for _, bad := range []string{"0", "-3", "abc", "1.5", "99999999999999999999"} {
			eb := s.fails(t, "GET", "/v1/blocks/"+bad, "", 400)
			if want := `height must be a positive integer or "latest", not "` + bad + `"`; eb.Error != want {
				t.Fatalf("%s: %q, want %q", bad, eb.Error, want)
			}
		}
		if eb := s.fails(t, "GET", "/v1/blocks/99999999", "", 404); eb.Code != uint32(tx.CodeNotFound) {
			t.Fatalf("beyond the tip: %+v", eb)
		}
	})

	t.Run("submit and txs", func(t *testing.T) {
		raw := sign(t, alice, 0, 5)
		var sr api.SubmitResponse
		s.post(t, "/v1/txs", submitBody(raw, true), 200, &sr)
		if sr.Hash == "" || sr.Result == nil || sr.Result.Code != 0 || sr.Result.Height == 0 || sr.Result.Hash != sr.Hash {
			t.Fatalf("submit and wait: %+v", sr)
		}
		var tv client.TxView
		s.get(t, "/v1/txs/"+sr.Hash, 200, &tv)
		if tv.MsgType != accounts.MsgTransfer || tv.Signer != alice.Public().String() || tv.Height != sr.Result.Height {
			t.Fatalf("tx: %+v", tv)
		}
		s.get(t, "/v1/txs/0x"+strings.ToLower(sr.Hash), 200, &tv)
		if tv.Hash != sr.Hash {
			t.Fatalf("tx by 0x-prefixed lower-case hash: %+v", tv)
		}

		// Without wait: the hash only.
		var quick map[string]any
		s.post(t, "/v1/txs", submitBody(sign(t, alice, 1, 5), false), 200, &quick)
		if _, ok := quick["result"]; ok || quick["hash"] == "" || len(quick) != 1 {
			t.Fatalf("submit without wait: %v", quick)
		}

		// Refusals carry the transaction result code.
		for _, tc := range []struct {
			name string
			raw  []byte
			code tx.Code
		}{
			{"replay", raw, tx.CodeConflict},
			{"stale nonce", sign(t, alice, 0, 6), tx.CodeStaleNonce},
			{"future nonce", sign(t, alice, 99, 5), tx.CodeFutureNonce},
			{"not a transaction", []byte{0, 0, 0}, tx.CodeMalformed},
		} {
			if eb := s.fails(t, "POST", "/v1/txs", submitBody(tc.raw, false), 422); tx.Code(eb.Code) != tc.code {
				t.Fatalf("%s: %+v, want code %s", tc.name, eb, tc.code)
			}
		}

		// Bad bodies are refused before the node sees them.
		for _, body := range []string{``, `{"tx": 5}`, `{"tx": "!!!"}`, `{"tx": ""}`, `{}`, `{"tx": "AAAA", "extra": 1}`, `[]`,
			`{"tx": "AAAA"} {"tx": "BBBB"}`, `{"tx": "AAAA"}}`, `{"tx": "AAAA"} junk`} {
			if eb := s.fails(t, "POST", "/v1/txs", body, 400); eb.Code != uint32(tx.CodeInvalidMessage) {
				t.Fatalf("%q: %+v", body, eb)
			}
		}
		s.fails(t, "POST", "/v1/txs", `{"tx": "`+strings.Repeat("A", 2*tx.MaxTxBytes)+`"}`, 413)

		s.fails(t, "GET", "/v1/txs/zz", "", 400)
		s.fails(t, "GET", "/v1/txs/"+strings.Repeat("ab", 31), "", 400)
		s.fails(t, "GET", "/v1/txs/"+strings.Repeat("ab", 32), "", 404)
	})

	t.Run("query", func(t *testing.T) {
		var p accounts.Params
		s.get(t, "/v1/query/accounts/params", 200, &p)
		if p.MinFee == 0 {
			t.Fatalf("params: %+v", p)
		}
		var old accounts.AccountView
		s.get(t, "/v1/query/accounts/account/"+alice.Public().Hex()+"?height=1", 200, &old)
		if old.Balance != genesis.DevBalance || old.Nonce != 0 {
			t.Fatalf("alice at height 1: %+v", old)
		}
		for _, bad := range []string{"abc", "-1", "1.5"} {
			if eb := s.fails(t, "GET", "/v1/query/accounts/params?height="+bad, "", 400); eb.Error != "height must be a non-negative integer" {
				t.Fatalf("height %s: %+v", bad, eb)
			}
		}
		if eb := s.fails(t, "GET", "/v1/query/nosuchmodule/x", "", 404); tx.Code(eb.Code) != tx.CodeNotFound {
			t.Fatalf("unknown module: %+v", eb)
		}
		if eb := s.fails(t, "GET", "/v1/query/accounts/account/not-a-key", "", 400); eb.Code == 0 {
			t.Fatalf("a refused query carries its code: %+v", eb)
		}
		// The longest path the API lets through reaches the application, which refuses
		// the over-long argument with its code.
		longest := "/v1/query/accounts/account/" + strings.Repeat("z", api.MaxPathBytes-len("/v1/query/accounts/account/"))
		if eb := s.fails(t, "GET", longest, "", 400); tx.Code(eb.Code) != tx.CodeInvalidMessage {
			t.Fatalf("a path at the bound: %+v", eb)
		}
	})

	t.Run("metrics", func(t *testing.T) {
		text := string(s.do(t, "GET", "/metrics", "", 200))
		for _, want := range []string{"tessera_app_deliver_tx_total", "go_goroutines"} {
			if !strings.Contains(text, want) {
				t.Fatalf("/metrics lacks %s", want)
			}
		}
		// Without a gatherer there is no metrics endpoint.
		bare := serve(t, d.Node.Client(), nil)
		bare.fails(t, "GET", "/metrics", "", 404)
	})

	t.Run("no such endpoint", func(t *testing.T) {
		for _, tc := range []struct{ method, path string }{
			{"GET", "/v1/nothing"},
			{"GET", "/"},
			{"GET", "/v1/accounts/"},
			{"GET", "/v1/txs/a/b"},
		} {
			eb := s.fails(t, tc.method, tc.path, "", 404)
			if want := "no such endpoint: " + tc.method + " " + tc.path; eb.Error != want || eb.Code != uint32(tx.CodeNotFound) {
				t.Fatalf("%+v, want %q", eb, want)
			}
		}
	})

	t.Run("wrong method", func(t *testing.T) {
		for _, tc := range []struct{ method, path, allow string }{
			{"POST", "/v1/status", "GET"},
			{"GET", "/v1/txs", "POST"},
			{"DELETE", "/v1/txs/" + strings.Repeat("ab", 32), "GET"},
			{"PUT", "/v1/query/accounts/params", "GET"},
		} {
			eb := s.fails(t, tc.method, tc.path, "", http.StatusMethodNotAllowed)
			if eb.Code != uint32(tx.CodeInvalidMessage) || !strings.Contains(eb.Error, tc.method+" is not allowed") || !strings.HasSuffix(eb.Error, "use "+tc.allow) {
				t.Fatalf("%s %s: %+v", tc.method, tc.path, eb)
			}
		}
	})

	t.Run("health", func(t *testing.T) {
		var h api.Health
		s.get(t, "/v1/health", http.StatusOK, &h)
		if h.Status != "ok" || h.AppHeight < 1 || h.Height < h.AppHeight || h.CatchingUp {
			t.Fatalf("%+v", h)
		}
	})
}

// With the node unreachable, reads are 502 Bad Gateway with an error body.
func TestAPINodeUnreachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	rpc, err := rpchttp.New("tcp://"+addr, "/websocket")
	if err != nil {
		t.Fatal(err)
	}
	s := serve(t, rpc, nil)
	alice, err := keys.FromURI("//Alice")
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/v1/status", "/v1/accounts/" + alice.Public().String(), "/v1/blocks/latest", "/v1/query/accounts/params"} {
		s.fails(t, "GET", path, "", 502)
	}
	s.fails(t, "POST", "/v1/txs", submitBody([]byte{1, 2, 3}, false), 502)
	// A probe learns it plainly: the node is not healthy.
	if eb := s.fails(t, "GET", "/v1/health", "", 503); eb.Code != uint32(tx.CodeInternal) || !strings.Contains(eb.Error, "does not answer") {
		t.Fatalf("health of an unreachable node: %+v", eb)
	}
}

// timingOut is a node whose status calls run out of time.
type timingOut struct{ rpcclient.Client }

func (timingOut) Status(context.Context) (*ctypes.ResultStatus, error) {
	return nil, context.DeadlineExceeded
}

// A node that does not answer in time is 504 Gateway Timeout.
func TestAPINodeTimeout(t *testing.T) {
	s := serve(t, timingOut{}, nil)
	if eb := s.fails(t, "GET", "/v1/status", "", 504); !strings.Contains(eb.Error, context.DeadlineExceeded.Error()) {
		t.Fatalf("%+v", eb)
	}
}

// warnings records the log records at WARN and above.
type warnings struct{ records *[]slog.Record }

func (w warnings) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelWarn }
func (w warnings) Handle(_ context.Context, r slog.Record) error {
	*w.records = append(*w.records, r)
	return nil
}
func (w warnings) WithAttrs([]slog.Attr) slog.Handler { return w }
func (w warnings) WithGroup(string) slog.Handler      { return w }

// noNode is a node the API must not ask: every call panics.
type noNode struct{ rpcclient.Client }

// Over-long URLs and the raw store query are refused by the API itself, with a 4xx, a
// clear error and no warning, before the node is asked.
func TestAPIRefusesBeforeAskingTheNode(t *testing.T) {
	var logged []slog.Record
	srv := httptest.NewServer(api.NewHandler(noNode{}, api.Options{Logger: slog.New(warnings{&logged})}))
	t.Cleanup(srv.Close)
	s := &apiServer{base: srv.URL}
	alice, err := keys.FromURI("//Alice")
	if err != nil {
		t.Fatal(err)
	}
	hostile := strings.Repeat("z", 400_000)
	for _, tc := range []struct {
		path   string
		status int
		want   string
	}{
		{"/v1/query/accounts/account/" + hostile, 414, "request path is 400027 bytes; at most 1024"},
		{"/v1/accounts/" + hostile, 414, "request path is 400013 bytes; at most 1024"},
		{"/v1/" + strings.Repeat("a", api.MaxPathBytes-3), 414, "request path is 1025 bytes; at most 1024"},
		{"/v1/query/accounts/params?height=" + strings.Repeat("9", api.MaxQueryBytes), 414, "query string is 263 bytes; at most 256"},
		{"/v1/balances/" + alice.Public().String() + "?x=" + hostile, 414, "query string is 400002 bytes; at most 256"},
		{"/v1/query/store", 400, "the raw store query needs a key"},
		{"/v1/query/store?height=3", 400, `abci_query with path "/store" and data 0x<key in hex>`},
	} {
		eb := s.fails(t, "GET", tc.path, "", tc.status)
		if !strings.Contains(eb.Error, tc.want) || eb.Code == 0 {
			t.Fatalf("GET %.60s…: %+v, want %q", tc.path, eb, tc.want)
		}
	}
	if len(logged) != 0 {
		t.Fatalf("refusals logged warnings: %v", logged)
	}
}
