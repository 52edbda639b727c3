package e2e

import (
	"bufio"
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tessera-net/tessera/internal/testutil"
)

// `tessera devnet` serves what the explorer's page reads: the node's API names the
// devnet's gateway in /v1/explorer/config; the gateway's /v1/stats answers the page the
// node serves (its origin admitted) and an origin given with --api.cors-origins, and
// counts a chat request with its miner; the API streams new blocks and admits the
// origin given for a preflight.
func TestDevnetExplorerBackend(t *testing.T) {
	ctx := binaryTest(t, 3*time.Minute)
	const elsewhere = "https://explorer.example"
	stdout := startDevnetLog(ctx, t, testutil.FreePorts(t, 4), filepath.Join(t.TempDir(), "devnet.log"),
		"-o", "json", "--block-time", "200ms", "--tempo", "10", "--quiet", "--log-level", "warn", "--api.cors-origins", elsewhere)
	var info struct {
		API     string `json:"api"`
		Gateway struct {
			URL    string `json:"url"`
			APIKey string `json:"api_key"`
			Model  string `json:"model"`
		} `json:"gateway"`
	}
	readSummary(t, stdout, &info)

	get := func(url, origin string, out any) *http.Response {
		t.Helper()
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if origin != "" {
			req.Header.Set("Origin", origin)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		data, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 {
			t.Fatalf("GET %s: %d %s", url, resp.StatusCode, data)
		}
		if out != nil {
			if err := json.Unmarshal(data, out); err != nil {
				t.Fatalf("GET %s: %s: %v", url, data, err)
			}
		}
		return resp
	}

	var cfg struct {
		GatewayURL string `json:"gateway_url"`
		ChainID    string `json:"chain_id"`
	}
	get(info.API+"/v1/explorer/config", "", &cfg)
	if cfg.GatewayURL == "" || cfg.GatewayURL+"/v1" != info.Gateway.URL || cfg.ChainID != "tessera-devnet" {
		t.Fatalf("explorer config %+v, gateway %s", cfg, info.Gateway.URL)
	}

	// A chat request, then the stats: counted, with the miner that answered.
	body := `{"model":"` + info.Gateway.Model + `","messages":[{"role":"user","content":"Compute the value of this expression and answer with the number only: 2 + 3"}]}`
	testutil.Eventually(t, time.Minute, "a chat answer through the gateway", func() (bool, string) {
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, info.Gateway.URL+"/chat/completions", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+info.Gateway.APIKey)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return false, err.Error()
		}
		data, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp.StatusCode == 200, resp.Status + " " + string(data)
	})
	var stats struct {
		RequestsTotal uint64 `json:"requests_total"`
		PerMiner      []struct {
			Hotkey string `json:"hotkey"`
			Share  float64
		} `json:"per_miner"`
	}
	for _, origin := range []string{info.API, strings.Replace(info.API, "127.0.0.1", "localhost", 1), elsewhere} {
		resp := get(cfg.GatewayURL+"/v1/stats", origin, &stats)
		if got := resp.Header.Get("Access-Control-Allow-Origin"); got != origin {
			t.Fatalf("the gateway's stats from %s: Access-Control-Allow-Origin %q", origin, got)
		}
	}
	if stats.RequestsTotal == 0 || len(stats.PerMiner) == 0 || stats.PerMiner[0].Hotkey == "" {
		t.Fatalf("stats after a chat request: %+v", stats)
	}

	// The node's API admits the origin given, for a preflight and a read.
	req, _ := http.NewRequestWithContext(ctx, http.MethodOptions, info.API+"/v1/blocks?limit=5", nil)
	req.Header.Set("Origin", elsewhere)
	req.Header.Set("Access-Control-Request-Method", "GET")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent || resp.Header.Get("Access-Control-Allow-Origin") != elsewhere {
		t.Fatalf("API preflight from %s: %d %v", elsewhere, resp.StatusCode, resp.Header)
	}
	var blocks struct {
		Blocks []struct {
			Height int64 `json:"height"`
		} `json:"blocks"`
	}
	if resp := get(info.API+"/v1/blocks?limit=5", elsewhere, &blocks); len(blocks.Blocks) != 5 || resp.Header.Get("Access-Control-Allow-Origin") != elsewhere {
		t.Fatalf("blocks: %+v %v", blocks, resp.Header)
	}

	// A new block arrives on the event stream within a few seconds.
	sreq, _ := http.NewRequestWithContext(ctx, http.MethodGet, info.API+"/v1/events", nil)
	sresp, err := http.DefaultClient.Do(sreq)
	if err != nil {
		t.Fatal(err)
	}
	defer sresp.Body.Close()
	got := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(sresp.Body)
		for sc.Scan() {
			if strings.HasPrefix(sc.Text(), "event: block") {
				got <- sc.Text()
				return
			}
		}
	}()
	select {
	case <-got:
	case <-time.After(5 * time.Second):
		t.Fatal("no block event within 5 s")
	}
}
