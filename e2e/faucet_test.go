package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tessera-net/tessera/internal/testutil"
	"github.com/tessera-net/tessera/keys"
)

// The devnet's faucet, as a user and an attacker reach it: `tessera devnet fund` and a
// plain POST fund a new address; asking again at once is refused with a Retry-After;
// a garbage address is a 400; and a stream of new addresses runs into the global limit.
func TestDevnetFaucet(t *testing.T) {
	ctx := binaryTest(t, 2*time.Minute)
	base := testutil.FreePorts(t, 4)
	stdout := startDevnet(ctx, t, base, "--block-time", "200ms", "--chain-only", "--no-inference", "--quiet", "--log-level", "warn", "-o", "json")
	var info struct {
		RPC    string `json:"rpc"`
		Faucet string `json:"faucet"`
	}
	readSummary(t, stdout, &info)
	if want := fmt.Sprintf("http://127.0.0.1:%d/v1/faucet", base+3); info.Faucet != want {
		t.Fatalf("faucet %q in the summary, want %q", info.Faucet, want)
	}
	node := "--node=" + strings.TrimPrefix(info.RPC, "tcp://")
	addr := func(name string) string {
		p, err := keys.FromURI("//" + name)
		if err != nil {
			t.Fatal(err)
		}
		return p.Public().String()
	}
	balance := func(a string) string {
		var b map[string]string
		if err := json.Unmarshal(tessera(t, "query", "balance", a, node, "-o", "json"), &b); err != nil {
			t.Fatal(err)
		}
		return b["balance"]
	}
	post := func(body string) (int, string, http.Header) {
		req, _ := http.NewRequestWithContext(ctx, "POST", info.Faucet, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		var e struct {
			Error struct{ Code string } `json:"error"`
		}
		_ = json.Unmarshal(b, &e)
		return resp.StatusCode, e.Error.Code, resp.Header
	}

	// The CLI, then curl's way, each for a new address.
	var g struct {
		Address string `json:"address"`
		Amount  string `json:"amount"`
		Height  int64  `json:"height"`
	}
	if err := json.Unmarshal(tessera(t, "devnet", "fund", "--faucet", info.Faucet, addr("Zed"), "-o", "json"), &g); err != nil {
		t.Fatal(err)
	}
	if g.Address != addr("Zed") || g.Height == 0 || balance(addr("Zed")) != "100000000000" {
		t.Fatalf("fund answered %+v; balance %s", g, balance(addr("Zed")))
	}
	if code, _, _ := post(`{"address":"` + addr("Yan") + `"}`); code != 200 || balance(addr("Yan")) != "100000000000" {
		t.Fatalf("POST: %d, balance %s", code, balance(addr("Yan")))
	}

	// Again at once: refused by the address's limit, with a Retry-After; nothing sent.
	code, errCode, h := post(`{"address":"` + addr("Yan") + `"}`)
	if code != 429 || errCode != "address_rate_limited" || h.Get("Retry-After") == "" {
		t.Fatalf("a second request: %d %s, Retry-After %q", code, errCode, h.Get("Retry-After"))
	}
	if b := balance(addr("Yan")); b != "100000000000" {
		t.Fatalf("balance %s after a refused request", b)
	}
	for _, body := range []string{`{"address":"5notanaddress"}`, `not json`, `{}`} {
		if code, errCode, _ := post(body); code != 400 || errCode != "bad_request" {
			t.Fatalf("POST %s: %d %s", body, code, errCode)
		}
	}

	// New addresses one after the other: the global budget (10 at once, one more every
	// 3 s; two spent above) runs out.
	for i := 0; ; i++ {
		if i == 30 {
			t.Fatal("30 new addresses funded in a row: no global limit")
		}
		code, errCode, h := post(`{"address":"` + addr(fmt.Sprint("Sybil", i)) + `"}`)
		if code == 429 {
			if errCode != "global_rate_limited" || h.Get("Retry-After") == "" || i < 8 {
				t.Fatalf("request %d: %d %s, Retry-After %q", i, code, errCode, h.Get("Retry-After"))
			}
			break
		}
		if code != 200 {
			t.Fatalf("request %d: %d %s", i, code, errCode)
		}
	}
}
