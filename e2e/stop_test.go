package e2e

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tessera-net/tessera/internal/testutil"
)

// A node stopped with SIGINT or SIGTERM exits 0 and logs no error on the way out.
func TestStoppedNodeLogsNoErrors(t *testing.T) {
	needBinary(t)
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			home, rpc := initNode(t, "stop-test")
			p := startNode(t, home)
			waitHeight(ctx, t, dial(t, rpc), 3)
			if err := p.signal(sig); err != nil {
				p.dumpLog()
				t.Fatalf("exit after %v: %v", sig, err)
			}
			for _, line := range errorLines(t, filepath.Join(home, "node.log")) {
				t.Errorf("logged on a clean stop: %s", line)
			}
		})
	}
}

// initNode inits a one-validator node home with 100 ms blocks on free ports and returns
// it with its RPC address.
func initNode(t *testing.T, chainID string) (home, rpc string) {
	t.Helper()
	home = filepath.Join(t.TempDir(), "node")
	base := testutil.FreePorts(t, 3)
	rpc = "127.0.0.1:" + strconv.Itoa(base+1)
	tessera(t, "node", "init", "--home", home, "--chain-id", chainID, "--dev-accounts", "--block-time", "100ms",
		"--p2p", "127.0.0.1:"+strconv.Itoa(base), "--rpc", rpc, "--api", "127.0.0.1:"+strconv.Itoa(base+2))
	return home, rpc
}

// signal sends sig and waits (up to 20 s) for the process to exit, returning how it did.
func (p *proc) signal(sig syscall.Signal) error {
	if err := p.cmd.Process.Signal(sig); err != nil {
		return err
	}
	select {
	case err := <-p.done:
		p.done <- err // keep stop() from blocking
		return err
	case <-time.After(20 * time.Second):
		p.kill()
		return context.DeadlineExceeded
	}
}

// errorLines returns the error-level lines of a node log (text or JSON format).
func errorLines(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if l := sc.Text(); strings.Contains(l, "level=ERROR") || strings.Contains(l, `"level":"ERROR"`) {
			out = append(out, l)
		}
	}
	return out
}
