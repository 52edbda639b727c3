package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tessera-net/tessera/devnet"
	"github.com/tessera-net/tessera/keys"
	"github.com/tessera-net/tessera/subnets/inference/infdev"
	"github.com/tessera-net/tessera/subnets/inference/mlnode"
)

func TestInferenceAPIUsage(t *testing.T) {
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"inference-api", "--mlnode", "a=http://h:1,http://h:2,m"}, "--netuid is required"},
		{[]string{"inference-api", "--netuid", "1"}, "at least one --mlnode"},
		{[]string{"inference-api", "--netuid", "1", "--mlnode", "a=http://h:1"}, "want ID=MANAGEMENT_URL"},
		{[]string{"inference-api", "--netuid", "1", "--mlnode", "a=http://h:1,http://h:2,m,hardware=x"}, "hardware=TYPE:COUNT"},
	}
	for _, c := range cases {
		code, _, errs := runYuma(t, "", c.args...)
		if code != 2 || !strings.Contains(errs, c.want) {
			t.Errorf("%v: exit %d, %q; want 2 and %q", c.args, code, errs, c.want)
		}
	}
}

// The command against a devnet and a real MLNode: it prints its start line, serves
// its routes, and stops cleanly with its context.
func TestInferenceAPIServes(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a chain: skipped with -short")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	ext, err := infdev.New(infdev.Options{Participants: []infdev.Participant{}})
	if err != nil {
		t.Fatal(err)
	}
	d, err := devnet.Start(ctx, devnet.Options{BlockTime: 100 * time.Millisecond, Extensions: []devnet.Extension{ext}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Stop() })
	key, _ := keys.FromURI("//ApiNodeCmd")
	sp, _ := mlnode.ParseSpec("devnet-small=random:tiny")
	srv, err := mlnode.New(mlnode.Config{APINode: key.Public(), Models: []mlnode.Spec{sp}})
	if err != nil {
		t.Fatal(err)
	}
	lm, _ := net.Listen("tcp", "127.0.0.1:0")
	li, _ := net.Listen("tcp", "127.0.0.1:0")
	sctx, scancel := context.WithCancel(ctx)
	defer scancel()
	go srv.Serve(sctx, lm, li)
	t.Cleanup(srv.Close)

	rctx, rcancel := context.WithCancel(ctx)
	pr, pw := io.Pipe()
	done := make(chan int, 1)
	go func() {
		var errb strings.Builder
		code := run(rctx, []string{"inference-api", "-o", "json", "--node", d.Node.RPCAddress(), "--from-uri", "//ApiNodeCmd",
			"--netuid", strconv.Itoa(int(ext.Netuid())), "--log-level", "error",
			"--mlnode", "node-a=http://" + lm.Addr().String() + ",http://" + li.Addr().String() + ",devnet-small,hardware=cpu:1"},
			strings.NewReader(""), pw, &errb)
		pw.Close()
		if code != 0 {
			t.Errorf("exit %d: %s", code, errb.String())
		}
		done <- code
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	go io.Copy(io.Discard, pr)
	var start struct{ URL, Hotkey string }
	if err := json.Unmarshal([]byte(line), &start); err != nil || start.Hotkey != key.Public().String() || !strings.HasPrefix(start.URL, "http://127.0.0.1:") {
		t.Fatalf("start line %q: %v", line, err)
	}
	resp, err := http.Get(start.URL + "/v1/models")
	if err != nil {
		t.Fatal(err)
	}
	var ml struct {
		Object string `json:"object"`
	}
	json.NewDecoder(resp.Body).Decode(&ml)
	resp.Body.Close()
	if resp.StatusCode != 200 || ml.Object != "list" {
		t.Fatalf("/v1/models: %d %+v", resp.StatusCode, ml)
	}
	// The MLNode was brought up on its model (no group yet: its first).
	c := &mlnode.Client{Management: "http://" + lm.Addr().String(), Key: key}
	for i := 0; ; i++ {
		st, err := c.State(ctx)
		if err == nil && st.State == mlnode.StateInference && st.Model == "devnet-small" {
			break
		}
		if i > 100 {
			t.Fatalf("mlnode state %+v, %v", st, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	rcancel()
	if code := <-done; code != 0 {
		t.Fatalf("exit %d", code)
	}
}
