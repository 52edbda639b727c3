package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tessera-net/tessera/keys"
	"github.com/tessera-net/tessera/subnets/inference/signed"
)

func gatewayCLI(t *testing.T, home string, args ...string) (string, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), append([]string{"--home", home}, args...), strings.NewReader(""), &out, &errb)
	return out.String(), errb.String(), code
}

func TestGatewayKeysCLI(t *testing.T) {
	home := t.TempDir()
	out, errs, code := gatewayCLI(t, home, "gateway", "keys", "create", "alice", "--rpm", "120", "-o", "json")
	if code != 0 {
		t.Fatalf("create: %d %s", code, errs)
	}
	var created struct {
		ID            int64   `json:"id"`
		Name          string  `json:"name"`
		Secret        string  `json:"secret"`
		RatePerMinute float64 `json:"rate_per_minute"`
		Burst         int     `json:"burst"`
	}
	if err := json.Unmarshal([]byte(out), &created); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if created.ID != 1 || created.Name != "alice" || !strings.HasPrefix(created.Secret, "tsk-") || created.RatePerMinute != 120 || created.Burst != 20 {
		t.Fatalf("created %+v", created)
	}
	if _, errs, code := gatewayCLI(t, home, "gateway", "keys", "create", "alice"); code != 1 || !strings.Contains(errs, "already exists") {
		t.Fatalf("duplicate name: %d %s", code, errs)
	}
	if out, _, code := gatewayCLI(t, home, "gateway", "keys", "create", "bob", "--rpm", "0"); code != 0 || !strings.Contains(out, "unlimited") || !strings.Contains(out, "tsk-") {
		t.Fatalf("create bob: %d %s", code, out)
	}
	if out, errs, code := gatewayCLI(t, home, "gateway", "keys", "revoke", "--id", "1"); code != 0 || !strings.Contains(out, `"alice" (id 1) revoked`) {
		t.Fatalf("revoke: %d %s %s", code, out, errs)
	}
	if _, errs, code := gatewayCLI(t, home, "gateway", "keys", "revoke", "--name", "alice"); code != 1 || !strings.Contains(errs, "already revoked") {
		t.Fatalf("revoke twice: %d %s", code, errs)
	}
	out, _, code = gatewayCLI(t, home, "gateway", "keys", "list")
	if code != 0 || !strings.Contains(out, "alice") || !strings.Contains(out, "revoked") || !strings.Contains(out, "bob") {
		t.Fatalf("list: %d %s", code, out)
	}
	if strings.Contains(out, created.Secret) {
		t.Fatal("list shows a secret")
	}
	// The database is where --db says.
	db := filepath.Join(t.TempDir(), "k.db")
	if _, errs, code := gatewayCLI(t, home, "gateway", "--db", db, "keys", "list", "-o", "json"); code != 0 {
		t.Fatalf("list --db: %s", errs)
	}
}

// A key named "1" is revoked by --name 1, not taken for the key with id 1; revoke
// insists on exactly one of --id and --name.
func TestGatewayKeysRevokeByIDOrName(t *testing.T) {
	home := t.TempDir()
	for _, name := range []string{"alice", "1"} { // ids 1 and 2
		if _, errs, code := gatewayCLI(t, home, "gateway", "keys", "create", name); code != 0 {
			t.Fatalf("create %s: %s", name, errs)
		}
	}
	status := func() map[string]bool {
		out, errs, code := gatewayCLI(t, home, "gateway", "keys", "list", "-o", "json")
		if code != 0 {
			t.Fatalf("list: %s", errs)
		}
		var keys []struct {
			Name      string  `json:"name"`
			RevokedAt *string `json:"revoked_at"`
		}
		if err := json.Unmarshal([]byte(out), &keys); err != nil {
			t.Fatalf("%v: %s", err, out)
		}
		revoked := map[string]bool{}
		for _, k := range keys {
			revoked[k.Name] = k.RevokedAt != nil
		}
		return revoked
	}
	if out, errs, code := gatewayCLI(t, home, "gateway", "keys", "revoke", "--name", "1"); code != 0 || !strings.Contains(out, `"1" (id 2) revoked`) {
		t.Fatalf("revoke --name 1: %d %s %s", code, out, errs)
	}
	if got := status(); !got["1"] || got["alice"] {
		t.Fatalf("after revoke --name 1: revoked %v, want only the key named 1", got)
	}
	if out, errs, code := gatewayCLI(t, home, "gateway", "keys", "revoke", "--id", "1"); code != 0 || !strings.Contains(out, `"alice" (id 1) revoked`) {
		t.Fatalf("revoke --id 1: %d %s %s", code, out, errs)
	}
	for _, args := range [][]string{{}, {"--id", "1", "--name", "alice"}, {"alice"}} {
		_, errs, code := gatewayCLI(t, home, append([]string{"gateway", "keys", "revoke"}, args...)...)
		if code != 2 || !(strings.Contains(errs, "exactly one of --id or --name") || strings.Contains(errs, "with --id or --name")) {
			t.Errorf("revoke %v: exit %d (%s), want 2 and a clear error", args, code, errs)
		}
	}
	if _, errs, code := gatewayCLI(t, home, "gateway", "keys", "revoke", "--id", "9"); code != 1 || !strings.Contains(errs, "no key with id 9") {
		t.Fatalf("revoke --id 9: %d %s", code, errs)
	}
}

func TestGatewayServeUsageErrors(t *testing.T) {
	home := t.TempDir()
	for _, args := range [][]string{
		{"gateway", "serve", "--model", "nonetuid", "--from-uri", "//Alice"},
		{"gateway", "serve", "--model", "m=70000", "--from-uri", "//Alice"},
		{"gateway", "serve", "--from-uri", "not a uri"},
		{"gateway", "serve", "--inference-api", "http://127.0.0.1:1"},
		{"gateway", "serve", "--inference-key", "//Alice"},
		{"gateway", "serve", "--inference-api", "ftp://x", "--inference-key", "//Alice"},
		{"gateway", "serve", "--inference-api", "http://127.0.0.1:1", "--inference-key", "not a uri"},
	} {
		if _, errs, code := gatewayCLI(t, home, args...); code != 2 {
			t.Errorf("%v: exit %d (%s), want 2", args, code, errs)
		}
	}
}

// "gateway serve" with --inference-api and no --model serves the inference network
// alone: no chain node or hotkey, each request signed by the --inference-key account.
func TestGatewayServeInferenceNetwork(t *testing.T) {
	alice, _ := keys.FromURI("//Alice")
	v := signed.NewVerifier(nil)
	var accepted atomic.Int64
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/models", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `{"object":"list","data":[{"id":"net-model","object":"model","created":1,"owned_by":"x"}]}`)
	})
	mux.HandleFunc("POST /v1/chat/completions", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if _, e := v.Verify(r.Method, r.URL.Path, r.Header, body, func(p keys.PublicKey) bool { return p == alice.Public() }); e != nil {
			http.Error(w, `{"error":{"message":"`+e.Msg+`","type":"invalid_request_error","code":"`+string(e.Code)+`"}}`, http.StatusUnauthorized)
			return
		}
		accepted.Add(1)
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"id":"chatcmpl-1","object":"chat.completion","created":1,"model":"net-model","system_fingerprint":"fp",
"choices":[{"index":0,"message":{"role":"assistant","content":"hi"},"finish_reason":"stop",
"logprobs":{"content":[{"token":"hi","logprob":-0.5,"bytes":[104,105],"top_logprobs":[{"token":"hi","logprob":-0.5,"bytes":[104,105]},{"token":"yo","logprob":-1,"bytes":[121,111]}]}],"refusal":null}}],
"usage":{"prompt_tokens":3,"completion_tokens":1,"total_tokens":4}}`)
	})
	node := httptest.NewServer(mux)
	defer node.Close()

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	var errb bytes.Buffer
	go func() {
		done <- run(ctx, []string{"--home", t.TempDir(), "gateway", "serve", "--no-auth", "--listen", addr,
			"--inference-api", node.URL, "--inference-key", "//Alice"}, strings.NewReader(""), io.Discard, &errb)
	}()
	defer func() {
		cancel()
		if code := <-done; code != 0 {
			t.Errorf("gateway serve exited %d: %s", code, errb.String())
		}
	}()
	body := `{"model":"net-model","messages":[{"role":"user","content":"hi"}],"logprobs":true,"top_logprobs":1}`
	var resp *http.Response
	for deadline := time.Now().Add(20 * time.Second); ; {
		resp, err = http.Post("http://"+addr+"/v1/chat/completions", "application/json", strings.NewReader(body))
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the gateway never served: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	defer resp.Body.Close()
	var cc struct {
		Choices []struct {
			Message  struct{ Content string }
			Logprobs struct {
				Content []struct {
					Token       string
					TopLogprobs []struct{ Token string } `json:"top_logprobs"`
				}
			}
		}
	}
	if err := json.NewDecoder(resp.Body).Decode(&cc); err != nil || resp.StatusCode != 200 || len(cc.Choices) != 1 ||
		cc.Choices[0].Message.Content != "hi" || len(cc.Choices[0].Logprobs.Content[0].TopLogprobs) != 1 || accepted.Load() != 1 {
		t.Fatalf("%d %+v %v (accepted %d)", resp.StatusCode, cc, err, accepted.Load())
	}
}
