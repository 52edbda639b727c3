package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tessera-net/tessera/keys"
	"github.com/tessera-net/tessera/subnets/inference/mlnode"
)

// mlnode serve prints its URLs on one line, takes its API node's signed calls, refuses
// others, and exits 0 on SIGTERM.
func TestMLNodeServe(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the tessera binary")
	}
	api, _ := keys.FromURI("//Alice")
	cmd := exec.Command(os.Args[0], "mlnode", "serve", "--api-node", api.Public().String(), "--model", "tiny=random:tiny:cli",
		"--mgmt-addr", "127.0.0.1:0", "--inference-addr", "127.0.0.1:0", "--threads", "1", "-o", "json", "--log-level", "warn")
	cmd.Env = append(os.Environ(), "TESSERA_TEST_RUN_MAIN=1")
	stdout, _ := cmd.StdoutPipe()
	var errb bytes.Buffer
	cmd.Stderr = &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	line, err := bufio.NewReader(stdout).ReadString('\n')
	var info struct {
		Management string   `json:"management_url"`
		Inference  string   `json:"inference_url"`
		APINode    string   `json:"api_node"`
		Models     []string `json:"models"`
	}
	if err != nil || json.Unmarshal([]byte(line), &info) != nil || info.APINode != api.Public().String() || len(info.Models) != 1 {
		t.Fatalf("serve printed %q (%v); stderr %s", line, err, errb.String())
	}
	ctx := context.Background()
	c := &mlnode.Client{Management: info.Management, Inference: info.Inference, Key: api}
	if err := c.InferenceUp(ctx, "tiny", nil); err != nil {
		t.Fatal(err)
	}
	resp, err := c.Forward(ctx, "/v1/chat/completions", []byte(`{"messages":[{"role":"user","content":"hi"}],"max_tokens":5}`))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), `"chat.completion"`) {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	bob, _ := keys.FromURI("//Bob")
	if _, err := (&mlnode.Client{Management: info.Management, Key: bob}).State(ctx); err == nil || !strings.Contains(err.Error(), "forbidden_signer") {
		t.Fatalf("another signer: %v", err)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve exited with %v: %s", err, errb.String())
		}
	case <-time.After(15 * time.Second):
		t.Fatal("serve did not exit on SIGTERM")
	}
}

func TestMLNodeServeUsage(t *testing.T) {
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"mlnode", "serve", "--model", "a=random:tiny"}, "--api-node is required"},
		{[]string{"mlnode", "serve", "--api-node", "nope", "--model", "a=random:tiny"}, "--api-node"},
		{[]string{"mlnode", "serve", "--api-node", "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY"}, "--model is required"},
		{[]string{"mlnode", "serve", "--api-node", "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY", "--model", "a=http://x"}, "must end in /v1"},
	}
	for _, c := range cases {
		_, errs, code := lmCLI(t, c.args...)
		if code != 2 || !strings.Contains(errs, c.want) {
			t.Errorf("%v: exit %d, %q; want 2 and %q", c.args, code, errs, c.want)
		}
	}
}
