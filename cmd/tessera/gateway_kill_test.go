package main

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestMain lets a test run this package's binary: with TESSERA_TEST_RUN_MAIN set the
// test binary is the tessera binary (its main, run), so a test can start it as a real
// process and kill it.
func TestMain(m *testing.M) {
	if os.Getenv("TESSERA_TEST_RUN_MAIN") == "1" {
		os.Exit(run(context.Background(), os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// A gateway process killed with SIGKILL right after answering loses none of the usage
// of the requests it answered: each is in the key database before its answer is sent.
func TestGatewayKilledLosesNoUsage(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a gateway process")
	}
	home := t.TempDir()
	out, errs, code := gatewayCLI(t, home, "gateway", "keys", "create", "alice", "--rpm", "0", "-o", "json")
	if code != 0 {
		t.Fatalf("create: %s", errs)
	}
	var key struct{ Secret string }
	json.Unmarshal([]byte(out), &key)

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	// No node answers: the gateway serves, with no miners, answering 503 — usage all
	// the same (a request and an error each).
	cmd := exec.Command(os.Args[0], "--home", home, "gateway", "serve", "--listen", addr, "--from-uri", "//Gateway",
		"--node", "tcp://127.0.0.1:1", "--refresh", "1h")
	cmd.Env = append(os.Environ(), "TESSERA_TEST_RUN_MAIN=1")
	logf, _ := os.Create(filepath.Join(t.TempDir(), "gateway.log"))
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	dumpLog := func() { data, _ := os.ReadFile(logf.Name()); t.Logf("gateway log:\n%s", data) }
	body := `{"model":"tessera-textgen","messages":[{"role":"user","content":"hi"}]}`
	ask := func() (int, error) {
		req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/v1/chat/completions", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+key.Secret)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0, err
		}
		resp.Body.Close()
		return resp.StatusCode, nil
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		if _, err := ask(); err == nil {
			break
		}
		if time.Now().After(deadline) {
			dumpLog()
			t.Fatal("the gateway never served")
		}
		time.Sleep(50 * time.Millisecond)
	}
	const n = 20
	for i := range n {
		if status, err := ask(); err != nil || status != http.StatusServiceUnavailable {
			dumpLog()
			t.Fatalf("request %d: %d %v", i, status, err)
		}
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()

	out, errs, code = gatewayCLI(t, home, "gateway", "keys", "list", "-o", "json")
	if code != 0 {
		t.Fatalf("list: %s", errs)
	}
	var keys []struct {
		Usage struct{ Requests, Errors int64 }
	}
	if err := json.Unmarshal([]byte(out), &keys); err != nil || len(keys) != 1 {
		t.Fatalf("%v: %s", err, out)
	}
	if u := keys[0].Usage; u.Requests != n+1 || u.Errors != n+1 {
		dumpLog()
		t.Fatalf("after SIGKILL the database holds %d requests, %d errors; the gateway answered %d", u.Requests, u.Errors, n+1)
	}
}
