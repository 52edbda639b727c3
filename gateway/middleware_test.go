package gateway

import (
	"context"
	"encoding/json"
	"github.com/tessera-net/tessera/internal/testutil"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/tessera-net/tessera/subnets/textgen"
)

func send(t *testing.T, method, url string, header map[string]string, body string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

// Every answer carries an x-request-id (the client's when sane) that its log line
// repeats; browsers get CORS for the configured origins only; a limited key sees its
// rate limit in x-ratelimit-* headers.
func TestGatewayRequestIDsCORSRateLimitsAndLogs(t *testing.T) {
	m := startMiner(t, "//M1", 1, builtin(t, textgen.BuiltinConfig{}))
	var logs testutil.SyncBuffer
	gw := startGateway(t, []*testMiner{m}, func(c *Config) {
		c.CORSOrigins = []string{"https://app.example"}
		c.Logger = slog.New(slog.NewJSONHandler(&logs, nil))
	})
	limited, lk, err := gw.Keys.Create(context.Background(), "limited", 60, 5)
	if err != nil {
		t.Fatal(err)
	}
	chat := gw.URL + "/v1/chat/completions"
	auth := map[string]string{"Authorization": "Bearer " + limited, "Content-Type": "application/json", "X-Request-Id": "client-42"}

	resp := send(t, http.MethodPost, chat, auth, chatBody(sortPrompt, ""))
	if resp.StatusCode != 200 || resp.Header.Get("X-Request-Id") != "client-42" {
		t.Fatalf("%d, request id %q", resp.StatusCode, resp.Header.Get("X-Request-Id"))
	}
	if l, r, z := resp.Header.Get("X-Ratelimit-Limit-Requests"), resp.Header.Get("X-Ratelimit-Remaining-Requests"), resp.Header.Get("X-Ratelimit-Reset-Requests"); l != "60" || r != "4" || z == "" || z == "0s" {
		t.Fatalf("rate limit headers %q %q %q", l, r, z)
	}
	for _, bad := range []string{"has space", strings.Repeat("x", 129), ""} {
		resp := send(t, http.MethodGet, gw.URL+"/nowhere", map[string]string{"X-Request-Id": bad}, "")
		if id := resp.Header.Get("X-Request-Id"); resp.StatusCode != 404 || !strings.HasPrefix(id, "req-") || len(id) != 28 {
			t.Fatalf("x-request-id %q for %q: got %q (%d)", bad, bad, id, resp.StatusCode)
		}
	}

	pre := map[string]string{"Origin": "https://app.example", "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization, content-type"}
	resp = send(t, http.MethodOptions, chat, pre, "")
	if h := resp.Header; resp.StatusCode != 204 || h.Get("Access-Control-Allow-Origin") != "https://app.example" ||
		!strings.Contains(h.Get("Access-Control-Allow-Methods"), "POST") || h.Get("Access-Control-Allow-Headers") != "authorization, content-type" {
		t.Fatalf("allowed preflight: %d %v", resp.StatusCode, resp.Header)
	}
	pre["Origin"] = "https://evil.example"
	if resp := send(t, http.MethodOptions, chat, pre, ""); resp.StatusCode != 403 || resp.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("foreign preflight: %d %v", resp.StatusCode, resp.Header)
	}
	auth["Origin"] = "https://app.example"
	resp = send(t, http.MethodPost, chat, auth, chatBody(sortPrompt, ""))
	if resp.Header.Get("Access-Control-Allow-Origin") != "https://app.example" || !strings.Contains(resp.Header.Get("Access-Control-Expose-Headers"), "X-Request-Id") {
		t.Fatalf("CORS on an answer: %v", resp.Header)
	}

	// One log line a request, the first with the key, the request id and the miner.
	var lines []map[string]any
	for line := range strings.Lines(logs.String()) {
		var rec map[string]any
		if json.Unmarshal([]byte(line), &rec) == nil && rec["msg"] == "request" {
			lines = append(lines, rec)
		}
	}
	if len(lines) != 7 {
		t.Fatalf("%d request log lines, want 7:\n%s", len(lines), logs.String())
	}
	first := lines[0]
	if first["method"] != "POST" || first["path"] != "/v1/chat/completions" || first["status"] != 200.0 || first["key_id"] != float64(lk.ID) ||
		first["request_id"] != "client-42" || first["miner_uid"] != float64(m.UID) || first["duration"] == nil {
		t.Fatalf("log line %v", first)
	}
	if lines[1]["status"] != 404.0 || lines[1]["miner_uid"] != -1.0 || lines[1]["key_id"] != 0.0 {
		t.Fatalf("log line %v", lines[1])
	}
}

// With no origins configured, no browser is admitted.
func TestGatewayCORSDefaultNone(t *testing.T) {
	gw := startGateway(t, nil, nil)
	resp := send(t, http.MethodOptions, gw.URL+"/v1/models", map[string]string{"Origin": "https://app.example", "Access-Control-Request-Method": "GET"}, "")
	if resp.StatusCode != 403 || resp.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("%d %v", resp.StatusCode, resp.Header)
	}
}
