package e2e

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tessera-net/tessera/internal/testutil"
)

// `tessera devnet` as a user runs it, and every command its banner prints run by a shell
// exactly as printed: the transfer, Bob's weights (while Bob's validator signs with the
// same key), the metagraph and the chat request to the gateway. And the JSON API's
// address given as --node is refused with a word on which port is which.
func TestDevnetCLIBannerCommandsWorkAsPrinted(t *testing.T) {
	needBinary(t)
	if _, err := exec.LookPath("sh"); err != nil {
		t.Skip("no sh to run the printed commands")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	base := testutil.FreePorts(t, 3)
	stdout := startDevnet(ctx, t, base, "--block-time", "200ms", "--tempo", "10", "--gateway", "127.0.0.1:0", "--quiet", "--log-level", "warn")
	commands := bannerCommands(t, stdout)
	if len(commands) < 4 {
		t.Fatalf("the banner printed %d commands, want the transfer, weights, metagraph and chat ones: %q", len(commands), commands)
	}

	// The printed commands find `tessera` on the PATH, and a home of their own.
	env := append(os.Environ(), "PATH="+filepath.Dir(binary)+":"+os.Getenv("PATH"), "HOME="+t.TempDir(), "TESSERA_NODE=")
	// Bob's weights again and again: his validator keeps signing with the same key.
	for _, line := range commands {
		if strings.HasPrefix(line, "tessera weights set ") {
			for range 5 {
				commands = append(commands, line)
			}
			break
		}
	}
	for _, line := range commands {
		if strings.HasPrefix(line, "curl ") {
			if _, err := exec.LookPath("curl"); err != nil {
				t.Logf("no curl: not running %s", line)
				continue
			}
			line = "curl -sS --fail-with-body " + strings.TrimPrefix(line, "curl ")
		}
		var out, errb bytes.Buffer
		sh := exec.CommandContext(ctx, "sh", "-c", line)
		sh.Env, sh.Stdout, sh.Stderr = env, &out, &errb
		if err := sh.Run(); err != nil {
			t.Errorf("%s\n  failed: %v\n  stdout: %s\n  stderr: %s", line, err, out.String(), errb.String())
			continue
		}
		t.Logf("%s\n  → %s", line, firstLine(out.String()))
	}

	// The JSON API's port where the RPC's belongs.
	api := "127.0.0.1:" + strconv.Itoa(base+2)
	var errb bytes.Buffer
	wrong := exec.CommandContext(ctx, binary, "query", "status", "--node", api)
	wrong.Stderr = &errb
	err := wrong.Run()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 2 || !strings.Contains(errb.String(), "26657") || !strings.Contains(errb.String(), "JSON API") {
		t.Fatalf("--node %s (the JSON API): %v, stderr %q; want exit 2 saying which port is the RPC", api, err, errb.String())
	}
}

// bannerCommands reads the devnet's banner up to "Press Ctrl-C" and returns each command
// it prints (what follows "tessera " or "curl " on a line, continuation lines joined),
// then drains the rest of stdout.
func bannerCommands(t *testing.T, stdout interface{ Read([]byte) (int, error) }) []string {
	t.Helper()
	sc := bufio.NewScanner(stdout)
	var cmds []string
	cont := false
	for sc.Scan() && !strings.Contains(sc.Text(), "Press Ctrl-C") {
		line := sc.Text()
		if cont {
			cmds[len(cmds)-1] += " " + strings.TrimSpace(strings.TrimSuffix(line, "\\"))
			cont = strings.HasSuffix(line, "\\")
			continue
		}
		for _, prog := range []string{"tessera ", "curl "} {
			if i := strings.Index(line, prog); i >= 0 && (i == 0 || line[i-1] == ' ') {
				cmds = append(cmds, strings.TrimSpace(strings.TrimSuffix(line[i:], "\\")))
				cont = strings.HasSuffix(line, "\\")
				break
			}
		}
	}
	go func() {
		for sc.Scan() {
		}
	}()
	return cmds
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}
