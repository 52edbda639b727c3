package api_test

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	rpcclient "github.com/cometbft/cometbft/rpc/client"
	ctypes "github.com/cometbft/cometbft/rpc/core/types"

	"github.com/tessera-net/tessera/api"
	"github.com/tessera-net/tessera/client"
	"github.com/tessera-net/tessera/devnet"
	"github.com/tessera-net/tessera/keys"
	"github.com/tessera-net/tessera/modules/accounts"
	"github.com/tessera-net/tessera/tx"
)

// countingRPC is a node's RPC client that counts the event subscriptions made and
// dropped through it.
type countingRPC struct {
	rpcclient.Client
	subs, unsubs atomic.Int64
}

func (c *countingRPC) Subscribe(ctx context.Context, subscriber, query string, capacity ...int) (<-chan ctypes.ResultEvent, error) {
	out, err := c.Client.Subscribe(ctx, subscriber, query, capacity...)
	if err == nil {
		c.subs.Add(1)
	}
	return out, err
}

func (c *countingRPC) Unsubscribe(ctx context.Context, subscriber, query string) error {
	err := c.Client.Unsubscribe(ctx, subscriber, query)
	if err == nil {
		c.unsubs.Add(1)
	}
	return err
}

// active is the number of subscriptions open on the node.
func (c *countingRPC) active() int64 { return c.subs.Load() - c.unsubs.Load() }

// explorerPage stands for the explorer's handler: it names the path it served.
var explorerPage = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/html")
	io.WriteString(w, "explorer page at "+r.URL.Path)
})

const allowedOrigin = "https://explorer.example"

// sse is an open event stream, read line by line in the background.
type sse struct {
	resp  *http.Response
	lines chan string
}

// openEvents opens GET /v1/events and checks it is a stream.
func openEvents(t *testing.T, hc *http.Client, base string) *sse {
	t.Helper()
	resp, err := hc.Get(base + "/v1/events")
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		t.Fatalf("GET /v1/events: %d %s: %s", resp.StatusCode, resp.Header.Get("Content-Type"), b)
	}
	s := &sse{resp: resp, lines: make(chan string, 256)}
	go func() {
		defer close(s.lines)
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			s.lines <- sc.Text()
		}
	}()
	return s
}

// event waits up to timeout for the next event named name and returns its data; it
// fails the test when the stream ends or the time runs out first.
func (s *sse) event(t *testing.T, name string, timeout time.Duration) string {
	t.Helper()
	deadline := time.After(timeout)
	current := ""
	for {
		select {
		case line, ok := <-s.lines:
			if !ok {
				t.Fatalf("the stream ended before a %q event", name)
			}
			switch {
			case strings.HasPrefix(line, "event: "):
				current = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "data: ") && current == name:
				return strings.TrimPrefix(line, "data: ")
			}
		case <-deadline:
			t.Fatalf("no %q event within %s", name, timeout)
		}
	}
}

// line waits for the next line equal to want.
func (s *sse) line(t *testing.T, want string, timeout time.Duration) {
	t.Helper()
	deadline := time.After(timeout)
	for {
		select {
		case line, ok := <-s.lines:
			if !ok {
				t.Fatalf("the stream ended before %q", want)
			}
			if line == want {
				return
			}
		case <-deadline:
			t.Fatalf("no %q within %s", want, timeout)
		}
	}
}

func (s *sse) close() { s.resp.Body.Close() }

// The explorer's endpoints over a running one-validator chain with a subnet: a transfer
// sent through the mempool shows, decoded, in the recent blocks and in both accounts'
// transactions; the event stream brings new blocks and epochs; CORS, the stream bound,
// the subscription's cleanup, the explorer's mount and configuration.
func TestExplorerAPI(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	layout := devnet.NewSubnetLayout(1, 1, 3)
	d, err := devnet.Start(ctx, devnet.Options{BlockTime: 200 * time.Millisecond, Subnet: &layout})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = d.Stop() })
	rpc := &countingRPC{Client: d.Node.Client()}
	const maxStreams = 3
	s := serveWith(t, rpc, api.Options{CORSOrigins: []string{allowedOrigin}, Explorer: explorerPage,
		GatewayURL: "http://127.0.0.1:8080/v1", MaxStreams: maxStreams})
	chainID, err := d.Client.ChainID(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ferdie, err := keys.FromURI("//Ferdie")
	if err != nil {
		t.Fatal(err)
	}
	newcomer, err := keys.FromURI("//ExplorerNewcomer")
	if err != nil {
		t.Fatal(err)
	}

	t.Run("transfer through the mempool shows decoded", func(t *testing.T) {
		m, err := accounts.NewTransfer(newcomer.Public(), 1_234_567)
		if err != nil {
			t.Fatal(err)
		}
		raw, err := tx.Sign(ferdie, tx.Envelope{ChainID: chainID, Nonce: 0, Fee: 1000, Msg: m})
		if err != nil {
			t.Fatal(err)
		}
		var sr api.SubmitResponse
		s.post(t, "/v1/txs", submitBody(raw, false), 200, &sr) // into the mempool; no waiting
		checkTransfer := func(where string, tv client.TxView) {
			t.Helper()
			f := tv.Message.Fields
			if tv.Code != 0 || tv.Signer != ferdie.Public().String() || tv.Message.Type != accounts.MsgTransfer ||
				f["from"] != ferdie.Public().String() || f["to"] != newcomer.Public().String() || f["amount"] != "1234567" ||
				tv.Time == nil || tv.Time.IsZero() || tv.Fee != 1000 {
				t.Fatalf("%s: %+v", where, tv)
			}
		}
		var found *client.TxView
		for found == nil {
			var bl api.BlockList
			s.get(t, "/v1/blocks?limit=5", 200, &bl)
			for _, b := range bl.Blocks {
				for _, tv := range b.Txs {
					if tv.Hash == sr.Hash {
						found = &tv
						if !tv.Time.Equal(b.Time) {
							t.Fatalf("tx time %v, block time %v", tv.Time, b.Time)
						}
					}
				}
			}
			if found == nil {
				select {
				case <-ctx.Done():
					t.Fatal("the transfer never showed in /v1/blocks?limit=5")
				case <-time.After(100 * time.Millisecond):
				}
			}
		}
		checkTransfer("in /v1/blocks", *found)
		for _, who := range []*keys.Pair{ferdie, newcomer} {
			// An account's transactions come from CometBFT's indexer, which indexes a
			// block after it is committed, in its own goroutine: on a loaded machine a
			// moment after the block shows.
			var at api.AccountTxs
			for {
				s.get(t, "/v1/accounts/"+who.Public().String()+"/txs?limit=10", 200, &at)
				if len(at.Txs) > 0 || ctx.Err() != nil {
					break
				}
				time.Sleep(100 * time.Millisecond)
			}
			if at.Address != who.Public().String() || len(at.Txs) == 0 || at.Txs[0].Hash != sr.Hash {
				t.Fatalf("%s's transactions: %+v", at.Address, at)
			}
			checkTransfer("in /v1/accounts/"+at.Address+"/txs", at.Txs[0])
		}
		var tv client.TxView
		s.get(t, "/v1/txs/"+sr.Hash, 200, &tv)
		checkTransfer("in /v1/txs", tv)
		// The raw JSON: amounts are strings of the smallest unit, addresses SS58.
		body := string(s.do(t, "GET", "/v1/txs/"+sr.Hash, "", 200))
		if !strings.Contains(body, `"amount": "1234567"`) || !strings.Contains(body, `"to": "`+newcomer.Public().String()+`"`) {
			t.Fatalf("the transfer's JSON: %s", body)
		}
	})

	t.Run("account txs", func(t *testing.T) {
		// The subnet's owner signed the subnet's creation: the newest first, at most limit.
		alice := d.Accounts[0].Pair
		var at api.AccountTxs
		s.get(t, "/v1/accounts/"+alice.Public().Hex()+"/txs", 200, &at)
		if at.Address != alice.Public().String() || len(at.Txs) == 0 {
			t.Fatalf("alice: %+v", at)
		}
		for i := 1; i < len(at.Txs); i++ {
			if a, b := at.Txs[i-1], at.Txs[i]; a.Height < b.Height || (a.Height == b.Height && a.Index < b.Index) {
				t.Fatalf("not newest first: %d/%d before %d/%d", a.Height, a.Index, b.Height, b.Index)
			}
		}
		s.get(t, "/v1/accounts/"+alice.Public().String()+"/txs?limit=1", 200, &at)
		if len(at.Txs) != 1 {
			t.Fatalf("limit=1: %d txs", len(at.Txs))
		}
		stranger, _ := keys.FromURI("//NobodyEver")
		s.get(t, "/v1/accounts/"+stranger.Public().String()+"/txs", 200, &at)
		if len(at.Txs) != 0 || at.Txs == nil {
			t.Fatalf("an account without transactions: %+v", at)
		}
		s.fails(t, "GET", "/v1/accounts/not-an-address/txs", "", 400)
		for _, bad := range []string{"0", "101", "x", "-1"} {
			if eb := s.fails(t, "GET", "/v1/accounts/"+alice.Public().String()+"/txs?limit="+bad, "", 400); eb.CodeName != "invalid_message" || !strings.Contains(eb.Error, "limit must be an integer from 1 to 100") {
				t.Fatalf("limit=%s: %+v", bad, eb)
			}
		}
	})

	t.Run("blocks", func(t *testing.T) {
		if err := d.WaitHeight(ctx, api.DefaultListLimit+5); err != nil {
			t.Fatal(err)
		}
		var bl api.BlockList
		s.get(t, "/v1/blocks", 200, &bl)
		if len(bl.Blocks) != api.DefaultListLimit || bl.Blocks[0].Height != bl.Height {
			t.Fatalf("default list: %d blocks, first %d, height %d", len(bl.Blocks), bl.Blocks[0].Height, bl.Height)
		}
		for i, b := range bl.Blocks {
			if b.Height != bl.Height-int64(i) || b.Hash == "" || b.Proposer == "" || b.ChainID != devnet.ChainID || b.Time.IsZero() || b.NumTxs != len(b.Txs) {
				t.Fatalf("block %d of the list: %+v", i, b)
			}
			// The same block as /v1/blocks/{height} shows it.
			if i == 3 {
				var one client.BlockView
				s.get(t, "/v1/blocks/"+strconv.FormatInt(b.Height, 10), 200, &one)
				if one.Hash != b.Hash || one.Time != b.Time || one.AppHash != b.AppHash || one.LastBlockHash != b.LastBlockHash {
					t.Fatalf("list %+v, single %+v", b, one)
				}
			}
		}
		s.get(t, "/v1/blocks?limit=3&before=5", 200, &bl)
		if len(bl.Blocks) != 3 || bl.Blocks[0].Height != 4 || bl.Blocks[2].Height != 2 {
			t.Fatalf("before=5: %+v", bl.Blocks)
		}
		s.get(t, "/v1/blocks?limit=100&before=3", 200, &bl)
		if len(bl.Blocks) != 2 || bl.Blocks[1].Height != 1 {
			t.Fatalf("before=3: %d blocks", len(bl.Blocks))
		}
		for _, q := range []string{"limit=0", "limit=101", "limit=abc", "before=0", "before=-2", "before=x"} {
			if eb := s.fails(t, "GET", "/v1/blocks?"+q, "", 400); eb.Code != uint32(tx.CodeInvalidMessage) {
				t.Fatalf("%s: %+v", q, eb)
			}
		}
	})

	t.Run("validators", func(t *testing.T) {
		var vs client.ValidatorSet
		s.get(t, "/v1/validators", 200, &vs)
		if vs.Total != 1 || len(vs.Validators) != 1 || vs.Height < 1 {
			t.Fatalf("%+v", vs)
		}
		v := vs.Validators[0]
		st, err := d.Client.Status(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if v.Address != st.ValidatorAddr || v.VotingPower != 10 || vs.TotalVotingPower != 10 || v.PubKey.Type != "ed25519" || len(v.PubKey.Value) != 44 {
			t.Fatalf("%+v, node status %+v", v, st)
		}
		var b client.BlockView
		s.get(t, "/v1/blocks/latest", 200, &b)
		if b.Proposer != v.Address {
			t.Fatalf("the proposer %s is not the validator %s", b.Proposer, v.Address)
		}
	})

	t.Run("registrations", func(t *testing.T) {
		dave := d.Accounts[3].Pair
		var regs []map[string]any
		s.get(t, "/v1/query/subnets/registrations/"+dave.Public().String(), 200, &regs)
		if len(regs) != 1 || regs[0]["netuid"] != float64(1) || regs[0]["hotkey"] != dave.Public().String() {
			t.Fatalf("dave's registrations: %v", regs)
		}
	})

	t.Run("explorer config", func(t *testing.T) {
		var c api.ExplorerConfig
		s.get(t, "/v1/explorer/config", 200, &c)
		if c.GatewayURL != "http://127.0.0.1:8080" || c.ChainID != devnet.ChainID {
			t.Fatalf("%+v", c)
		}
	})

	t.Run("explorer mount", func(t *testing.T) {
		for _, p := range []string{"/", "/explorer/", "/explorer/assets/app.js", "/favicon.ico"} {
			resp, err := http.Get(s.base + p)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 || string(b) != "explorer page at "+p {
				t.Fatalf("GET %s: %d %s", p, resp.StatusCode, b)
			}
		}
		// The API's paths stay the API's.
		s.fails(t, "GET", "/v1/nothing", "", 404)
		s.fails(t, "GET", "/v1", "", 404)
		s.fails(t, "POST", "/v1/blocks", "", 405)
	})

	t.Run("cors", func(t *testing.T) {
		preflight := func(origin string) *http.Response {
			req, _ := http.NewRequest(http.MethodOptions, s.base+"/v1/blocks?limit=2", nil)
			req.Header.Set("Origin", origin)
			req.Header.Set("Access-Control-Request-Method", "GET")
			req.Header.Set("Access-Control-Request-Headers", "content-type")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			return resp
		}
		resp := preflight(allowedOrigin)
		h := resp.Header
		if resp.StatusCode != http.StatusNoContent || h.Get("Access-Control-Allow-Origin") != allowedOrigin ||
			!strings.Contains(h.Get("Access-Control-Allow-Methods"), "GET") || h.Get("Access-Control-Allow-Headers") != "content-type" ||
			h.Get("Access-Control-Max-Age") == "" || !strings.Contains(strings.Join(h.Values("Vary"), ","), "Origin") {
			t.Fatalf("preflight of an allowed origin: %d %v", resp.StatusCode, h)
		}
		resp = preflight("https://elsewhere.example")
		if resp.StatusCode != http.StatusForbidden || resp.Header.Get("Access-Control-Allow-Origin") != "" || resp.Header.Get("Access-Control-Allow-Methods") != "" {
			t.Fatalf("preflight of another origin: %d %v", resp.StatusCode, resp.Header)
		}
		for origin, want := range map[string]string{allowedOrigin: allowedOrigin, "https://elsewhere.example": ""} {
			req, _ := http.NewRequest(http.MethodGet, s.base+"/v1/status", nil)
			req.Header.Set("Origin", origin)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != 200 || resp.Header.Get("Access-Control-Allow-Origin") != want {
				t.Fatalf("GET from %s: %d, Allow-Origin %q", origin, resp.StatusCode, resp.Header.Get("Access-Control-Allow-Origin"))
			}
		}
		// Errors carry the header too, so that the page can show them.
		req, _ := http.NewRequest(http.MethodGet, s.base+"/v1/blocks/0", nil)
		req.Header.Set("Origin", allowedOrigin)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 400 || resp.Header.Get("Access-Control-Allow-Origin") != allowedOrigin {
			t.Fatalf("an error's CORS: %d %v", resp.StatusCode, resp.Header)
		}
		// Without a list, no origin is admitted.
		bare := serve(t, d.Node.Client(), nil)
		req, _ = http.NewRequest(http.MethodOptions, bare.base+"/v1/status", nil)
		req.Header.Set("Origin", allowedOrigin)
		req.Header.Set("Access-Control-Request-Method", "GET")
		if resp, err = http.DefaultClient.Do(req); err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden || resp.Header.Get("Access-Control-Allow-Origin") != "" {
			t.Fatalf("preflight without a list: %d %v", resp.StatusCode, resp.Header)
		}
	})

	t.Run("events", func(t *testing.T) {
		hc := &http.Client{Transport: &http.Transport{}}
		defer hc.CloseIdleConnections()
		st, err := d.Client.Status(ctx)
		if err != nil {
			t.Fatal(err)
		}
		ev := openEvents(t, hc, s.base)
		defer ev.close()
		ev.line(t, ": connected", 2*time.Second)
		var b api.BlockEvent
		if err := json.Unmarshal([]byte(ev.event(t, "block", 5*time.Second)), &b); err != nil {
			t.Fatal(err)
		}
		if b.Height <= st.Height || b.Hash == "" || b.Proposer != st.ValidatorAddr || b.Time.IsZero() {
			t.Fatalf("block event %+v after status at %d", b, st.Height)
		}
		var next api.BlockEvent
		if err := json.Unmarshal([]byte(ev.event(t, "block", 5*time.Second)), &next); err != nil || next.Height != b.Height+1 {
			t.Fatalf("the next block event %+v (%v) after %d", next, err, b.Height)
		}
		// Subnet 1 runs an epoch every 4 blocks (tempo 3).
		var ep api.EpochEvent
		if err := json.Unmarshal([]byte(ev.event(t, "epoch", 10*time.Second)), &ep); err != nil || ep.Netuid != 1 || ep.Height <= st.Height {
			t.Fatalf("epoch event %+v (%v)", ep, err)
		}
		if rpc.active() != 1 {
			t.Fatalf("%d subscriptions for one stream", rpc.active())
		}
	})

	t.Run("events bounded and cleaned up", func(t *testing.T) {
		hc := &http.Client{Transport: &http.Transport{}}
		waitIdle := func(what string) {
			t.Helper()
			for rpc.active() != 0 {
				select {
				case <-ctx.Done():
					t.Fatalf("%s: %d subscriptions still open", what, rpc.active())
				case <-time.After(10 * time.Millisecond):
				}
			}
		}
		waitIdle("before")
		hc.CloseIdleConnections()
		time.Sleep(100 * time.Millisecond)
		before := runtime.NumGoroutine()
		made := rpc.subs.Load()

		// At the bound, one more stream is refused with the error body.
		var open []*sse
		for range maxStreams {
			open = append(open, openEvents(t, hc, s.base))
		}
		for _, e := range open {
			e.line(t, ": connected", 2*time.Second)
		}
		if rpc.active() != 1 {
			t.Fatalf("%d streams hold %d subscriptions, want one shared", maxStreams, rpc.active())
		}
		resp, err := hc.Get(s.base + "/v1/events")
		if err != nil {
			t.Fatal(err)
		}
		var eb api.ErrorBody
		err = json.NewDecoder(resp.Body).Decode(&eb)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusServiceUnavailable || eb.CodeName != "rate_limited" || resp.Header.Get("Retry-After") == "" ||
			!strings.Contains(eb.Error, "3 event streams are open") {
			t.Fatalf("a stream beyond the bound: %d %+v %v", resp.StatusCode, eb, err)
		}
		// Every stream gets every block.
		for _, e := range open {
			e.event(t, "block", 5*time.Second)
		}
		for _, e := range open {
			e.close()
		}
		waitIdle("after the first streams")

		// Many streams opened and closed, some at once: no subscription and no goroutine
		// stays behind.
		const rounds = 20
		for r := 0; r < rounds; r++ {
			var wg sync.WaitGroup
			for range maxStreams {
				wg.Add(1)
				go func() {
					defer wg.Done()
					e := openEvents(t, hc, s.base)
					e.line(t, ": connected", 2*time.Second)
					e.close()
				}()
			}
			wg.Wait()
			waitIdle("round " + strconv.Itoa(r))
		}
		// One shared by the first streams, then at least one a round, each dropped when its
		// last stream left.
		if n := rpc.subs.Load() - made; n < rounds+1 || n > rounds*maxStreams+1 {
			t.Fatalf("%d subscriptions made for %d rounds", n, rounds)
		}
		hc.CloseIdleConnections()
		deadline := time.Now().Add(5 * time.Second)
		for runtime.NumGoroutine() > before+2 && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		if n := runtime.NumGoroutine(); n > before+2 {
			buf := make([]byte, 1<<20)
			t.Fatalf("%d goroutines after the streams closed, %d before:\n%s", n, before, buf[:runtime.Stack(buf, true)])
		}
	})

	t.Run("close ends the streams", func(t *testing.T) {
		h := api.NewHandler(rpc, api.Options{})
		srv := httptestServer(t, h)
		hc := &http.Client{Transport: &http.Transport{}}
		defer hc.CloseIdleConnections()
		e := openEvents(t, hc, srv)
		e.line(t, ": connected", 2*time.Second)
		h.Close()
		for range e.lines { // the stream ends
		}
		for rpc.active() != 0 {
			select {
			case <-ctx.Done():
				t.Fatal("the subscription outlived Close")
			case <-time.After(10 * time.Millisecond):
			}
		}
		resp, err := hc.Get(srv + "/v1/events")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusServiceUnavailable {
			t.Fatalf("a stream after Close: %d", resp.StatusCode)
		}
	})
}

// httptestServer serves h and returns its base URL.
func httptestServer(t *testing.T, h http.Handler) string {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL
}
