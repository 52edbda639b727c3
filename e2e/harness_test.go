package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tessera-net/tessera/client"
)

// binary is the tessera binary built once for the package's tests.
var binary string

func TestMain(m *testing.M) {
	flag.Parse()
	if testing.Short() {
		os.Exit(m.Run())
	}
	dir, err := os.MkdirTemp("", "tessera-e2e-bin-*")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "tessera")
	out, err := exec.Command("go", "build", "-o", binary, "github.com/tessera-net/tessera/cmd/tessera").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "build tessera: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func needBinary(t testing.TB) {
	t.Helper()
	if testing.Short() {
		t.Skip("end-to-end process test: skipped with -short")
	}
}

// binaryTest begins a test that runs the built binary: it skips the test under -short
// (needBinary) and returns the context for the test's processes and calls, which ends
// after within or when the test function returns, whichever is first (before the test's
// cleanups run, so a process started with it is gone by then).
func binaryTest(t testing.TB, within time.Duration) context.Context {
	t.Helper()
	needBinary(t)
	ctx, cancel := context.WithTimeout(t.Context(), within)
	t.Cleanup(cancel)
	return ctx
}

// tessera runs a short tessera command and returns its stdout.
func tessera(t *testing.T, args ...string) []byte {
	t.Helper()
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(binary, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("tessera %v: %v\n%s", args, err, stderr.String())
	}
	return stdout.Bytes()
}

// proc is a running node process.
type proc struct {
	t    *testing.T
	home string
	cmd  *exec.Cmd
	log  *os.File
	done chan error
}

func startNode(t *testing.T, home string) *proc {
	t.Helper()
	logf, err := os.OpenFile(filepath.Join(home, "node.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(binary, "node", "start", "--home", home, "--log-level", "info")
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &proc{t: t, home: home, cmd: cmd, log: logf, done: make(chan error, 1)}
	go func() { p.done <- cmd.Wait() }()
	t.Cleanup(func() { p.stop() })
	return p
}

// kill sends SIGKILL and waits for the process to be gone.
func (p *proc) kill() {
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
	p.done <- nil // keep stop() from blocking
}

// stop sends SIGTERM (then SIGKILL after 10 s) if the process still runs.
func (p *proc) stop() {
	select {
	case err := <-p.done:
		p.done <- err
		return
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-p.done:
		p.done <- err
	case <-time.After(10 * time.Second):
		_ = p.cmd.Process.Signal(syscall.SIGKILL)
		<-p.done
	}
	p.log.Close()
}

func (p *proc) dumpLog() {
	b, _ := os.ReadFile(filepath.Join(p.home, "node.log"))
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	p.t.Logf("log of %s:\n%s", p.home, b)
}

func dial(t *testing.T, rpc string) *client.Client {
	t.Helper()
	c, err := client.Dial(rpc)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// waitHeight waits until the node reports at least height h.
func waitHeight(ctx context.Context, t *testing.T, c *client.Client, h int64) int64 {
	t.Helper()
	for {
		s, err := c.Status(ctx)
		if err == nil && s.Height >= h {
			return s.Height
		}
		select {
		case <-ctx.Done():
			t.Fatalf("height %d not reached: %v (last error %v)", h, ctx.Err(), err)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// startDevnet runs `tessera devnet` with args on base..base+2 and returns its stdout; the
// process gets SIGTERM at the end of the test, and its log is shown if the test failed.
func startDevnet(ctx context.Context, t testing.TB, base int, args ...string) io.Reader {
	t.Helper()
	return startDevnetLog(ctx, t, base, filepath.Join(t.TempDir(), "devnet.log"), args...)
}

// startDevnetLog is startDevnet with the devnet's log (its stderr) written to logPath.
// The kernel league runs only where args name it (--league): its judge warms a Go build
// cache and benchmarks kernels, which the other tests need not wait for.
func startDevnetLog(ctx context.Context, t testing.TB, base int, logPath string, args ...string) io.Reader {
	t.Helper()
	if !slices.ContainsFunc(args, func(a string) bool { return strings.HasPrefix(a, "--league") }) {
		args = append(args, "--league=false")
	}
	dev := exec.CommandContext(ctx, binary, append([]string{"devnet", "--base-port", strconv.Itoa(base)}, args...)...)
	stdout, err := dev.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	logf, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	dev.Stderr = logf
	if err := dev.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = dev.Process.Signal(syscall.SIGTERM)
		_ = dev.Wait()
		logf.Close()
		if t.Failed() {
			b, _ := os.ReadFile(logPath)
			t.Logf("devnet log, its warnings and errors and its end:\n%s", logDigest(b, 80, 4000))
		}
	})
	return stdout
}

// readSummary decodes into info the JSON summary that `tessera devnet -o json` prints on
// stdout once it runs, then discards the rest of stdout in the background so that the
// devnet never blocks writing to it.
func readSummary(t testing.TB, stdout io.Reader, info any) {
	t.Helper()
	if err := json.NewDecoder(stdout).Decode(info); err != nil {
		t.Fatalf("devnet summary: %v", err)
	}
	go func() { _, _ = io.Copy(io.Discard, stdout) }()
}

// logDigest is what a failed test shows of a devnet's log: its last warnings and errors
// (at most lines of them, each cut at 600 bytes) and its last tail bytes.
func logDigest(b []byte, lines, tail int) string {
	var warns []string
	for _, l := range strings.Split(string(b), "\n") {
		if strings.Contains(l, "level=WARN") || strings.Contains(l, "level=ERROR") {
			if len(l) > 600 {
				l = l[:600] + "…"
			}
			warns = append(warns, l)
		}
	}
	all := len(warns)
	warns = warns[max(0, all-lines):]
	if len(b) > tail {
		b = b[len(b)-tail:]
	}
	return fmt.Sprintf("--- %d warnings and errors (the last %d):\n%s\n--- the end:\n%s", all, len(warns), strings.Join(warns, "\n"), b)
}
