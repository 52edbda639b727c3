package node_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tessera-net/tessera/app"
	"github.com/tessera-net/tessera/devnet"
	"github.com/tessera-net/tessera/tx"
)

// hostileAddress is the "address" that stalled a node's reads for seconds: 400,000
// characters, base58 decoding of which costs the square of its length.
var hostileAddress = strings.Repeat("z", 400_000)

// endpoints are a running node's RPC and API, as http:// URLs.
type endpoints struct{ rpc, api string }

// hostile are the requests one attacker sends, each as large as it goes: the reported
// attack at the RPC and at the JSON API, and the costliest query the application accepts
// (a proved /store read of a key at the data bound). Each returns an error when the node
// does not answer as it should: a refusal, or for the accepted one an answer.
var hostile = map[string]func(ctx context.Context, hc *http.Client, e endpoints) error{
	"rpc-oversized": func(ctx context.Context, hc *http.Client, e endpoints) error {
		a, err := rpcQuery(ctx, hc, e.rpc, abciQuery{Path: "/accounts/account/" + hostileAddress})
		if err == nil && tx.Code(a.Result.Response.Code) != tx.CodeTooLarge {
			err = fmt.Errorf("abci_query of a 400,000-character path: %+v, want %s", a.Result.Response, tx.CodeTooLarge)
		}
		return err
	},
	"rpc-largest-accepted": func(ctx context.Context, hc *http.Client, e endpoints) error {
		_, err := rpcQuery(ctx, hc, e.rpc, abciQuery{Path: "/store", Data: strings.Repeat("ab", app.MaxQueryData), Prove: true})
		return err
	},
	"api-oversized": func(ctx context.Context, hc *http.Client, e endpoints) error {
		return getStatus(ctx, hc, e.api+"/v1/accounts/"+hostileAddress, http.StatusRequestURITooLong)
	},
}

// abciQuery is the params of CometBFT's abci_query JSON-RPC call (data in hex).
type abciQuery struct {
	Path  string `json:"path"`
	Data  string `json:"data"`
	Prove bool   `json:"prove"`
}

// abciAnswer is the part of abci_query's answer the tests read.
type abciAnswer struct {
	Result struct {
		Response struct {
			Code uint32 `json:"code"`
			Log  string `json:"log"`
		} `json:"response"`
	} `json:"result"`
	Error json.RawMessage `json:"error"`
}

// rpcQuery sends q to the RPC at rpc (an http:// URL) as a JSON-RPC POST.
func rpcQuery(ctx context.Context, hc *http.Client, rpc string, q abciQuery) (*abciAnswer, error) {
	body, err := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": 1, "method": "abci_query", "params": q})
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, rpc, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var a abciAnswer
	if err := json.NewDecoder(resp.Body).Decode(&a); err != nil {
		return nil, fmt.Errorf("abci_query answer (status %d): %w", resp.StatusCode, err)
	}
	if len(a.Error) > 0 && string(a.Error) != "null" {
		return nil, fmt.Errorf("abci_query: %s", a.Error)
	}
	return &a, nil
}

// startNode starts a one-validator devnet for tb, stopped at its end, and returns it with
// its endpoints.
func startNode(tb testing.TB) (*devnet.Devnet, endpoints) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	d, err := devnet.Start(ctx, devnet.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = d.Stop() })
	return d, endpoints{rpc: "http://" + strings.TrimPrefix(d.Node.RPCAddress(), "tcp://"), api: d.Node.APIAddress()}
}

// The reported attack is refused by its size, with its code, at the RPC and at the API.
func TestHostileQueryRefused(t *testing.T) {
	_, e := startNode(t)
	for _, name := range []string{"rpc-oversized", "api-oversized"} {
		if err := hostile[name](context.Background(), http.DefaultClient, e); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
}

// BenchmarkQueryFlood measures honest reads (GET /v1/accounts/<alice> on the JSON API)
// while one client floods the node with hostile requests, back to back, as fast as the
// node answers them. It reports the honest reads' p50 and p99 latency and the flood's
// rate; "none" is the same reads without a flood. Target: p99 under 50 ms.
func BenchmarkQueryFlood(b *testing.B) {
	d, e := startNode(b)
	honest := e.api + "/v1/accounts/" + d.Accounts[0].Pair.Public().String()
	for _, name := range []string{"none", "rpc-oversized", "rpc-largest-accepted", "api-oversized"} {
		b.Run("hostile="+name, func(b *testing.B) {
			var sent atomic.Int64
			stop := func() {}
			if h, ok := hostile[name]; ok {
				stop = flood(b, e, h, &sent)
			}
			lat := make([]time.Duration, 0, b.N)
			start := time.Now()
			for b.Loop() {
				t0 := time.Now()
				if err := getStatus(context.Background(), http.DefaultClient, honest, http.StatusOK); err != nil {
					b.Fatal(err)
				}
				lat = append(lat, time.Since(t0))
			}
			elapsed := time.Since(start)
			stop()
			slices.Sort(lat)
			b.ReportMetric(ms(lat[len(lat)/2]), "p50_ms")
			b.ReportMetric(ms(lat[len(lat)*99/100]), "p99_ms")
			b.ReportMetric(float64(sent.Load())/elapsed.Seconds(), "hostile/s")
		})
	}
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// flood sends hostile requests from one client, back to back, counting them in sent,
// until the returned stop is called. It returns once the first one was answered, so the
// flood is on when the measurement starts.
func flood(b *testing.B, e endpoints, send func(context.Context, *http.Client, endpoints) error, sent *atomic.Int64) (stop func()) {
	b.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1}}
	first := make(chan error, 1)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for ctx.Err() == nil {
			err := send(ctx, hc, e)
			if sent.Add(1) == 1 {
				first <- err
			}
			if err != nil && ctx.Err() == nil {
				b.Error(err)
				return
			}
		}
	}()
	if err := <-first; err != nil {
		cancel()
		b.Fatal(err)
	}
	return func() { cancel(); wg.Wait() }
}

// getStatus reads url and reports an error for any status but want.
func getStatus(ctx context.Context, hc *http.Client, url string, want int) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != want {
		return fmt.Errorf("GET %.60s…: status %d, want %d", url, resp.StatusCode, want)
	}
	return nil
}
