package main

import (
	"bufio"
	"bytes"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// runMainEnv makes the test binary run main instead of the tests: the tests below start
// it as the textgen command, in its own process.
const runMainEnv = "TEXTGEN_TEST_RUN_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(runMainEnv) == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// textgenCmd is the textgen command with args, in a process of its own.
func textgenCmd(t *testing.T, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), runMainEnv+"=1", "TEXTGEN_REFERENCE_KEY=", "TEXTGEN_BACKEND_KEY=")
	return cmd
}

// deadNode is a node address on loopback where nothing listens.
func deadNode(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return "tcp://" + addr
}

// startValidator starts `textgen validator` with extra args and returns once its log
// has a line containing want, with that line; the process is stopped with SIGTERM
// when the test ends.
func startValidator(t *testing.T, want string, extra ...string) string {
	t.Helper()
	args := append([]string{"validator", "--node", deadNode(t), "--netuid", "1", "--from-uri", "//Bob",
		"--state-dir", t.TempDir(), "--neuron.step_interval", "1h"}, extra...)
	cmd := textgenCmd(t, args...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
	})
	lines := make(chan string)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	var seen []string
	timeout := time.After(30 * time.Second)
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("textgen %q ended before logging %q; it logged:\n%s", args, want, strings.Join(seen, "\n"))
			}
			if strings.Contains(l, want) {
				go func() {
					for range lines {
					}
				}()
				return l
			}
			seen = append(seen, l)
		case <-timeout:
			t.Fatalf("textgen %q did not log %q in 30 s; it logged:\n%s", args, want, strings.Join(seen, "\n"))
		}
	}
}

// The validator binary takes its reference model from --reference.backend http
// --reference.url …, and then asks free prompts; without one it says at start that
// free prompts are off.
func TestValidatorBinaryReference(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, `{"error":{"message":"not asked in this test"}}`, http.StatusTeapot)
	}))
	t.Cleanup(srv.Close)
	line := startValidator(t, "free prompts are", "--reference.backend", "http", "--reference.url", srv.URL+"/v1",
		"--reference.model", "llama", "--reference.timeout", "20s")
	if !strings.Contains(line, "free prompts are on") || !strings.Contains(line, "reference=http") {
		t.Fatalf("with an http reference the validator logged %q", line)
	}
	line = startValidator(t, "free prompts are")
	if !strings.Contains(line, "free prompts are off: no reference model is configured") || !strings.Contains(line, "reference=builtin") {
		t.Fatalf("with the built-in reference the validator logged %q", line)
	}
}

// Bad combinations of the reference's flags are refused before anything starts, with
// an error that names the flags to fix.
func TestValidatorBinaryRefusesBadReference(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--reference.backend", "http"}, "--reference.backend http needs --reference.url"},
		{[]string{"--reference.backend", "http", "--reference.url", "localhost:8080"}, "--reference.backend http: textgen: backend URL \"localhost:8080\" is not an http(s) URL"},
		{[]string{"--reference.url", "http://127.0.0.1:8080/v1"}, "--reference.url is an option of an http backend, but --reference.backend is builtin; add --reference.backend http"},
		{[]string{"--reference.model", "llama"}, "--reference.model is an option of an http backend"},
		{[]string{"--reference.backend", "gpt"}, `--reference.backend "gpt": want builtin or http`},
		{[]string{"--kinds", "sort,free"}, "--kinds sort,free: textgen: free prompts need a reference model"},
	} {
		args := append([]string{"validator", "--node", deadNode(t), "--from-uri", "//Bob", "--state-dir", t.TempDir()}, tc.args...)
		var stderr bytes.Buffer
		cmd := textgenCmd(t, args...)
		cmd.Stderr = &stderr
		err := cmd.Run()
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.ExitCode() != 2 || !strings.Contains(stderr.String(), "textgen: "+tc.want) {
			t.Errorf("textgen %q: %v, stderr %q; want exit 2 and %q", tc.args, err, stderr.String(), tc.want)
		}
	}
}

// The help says plainly that the built-in backend is a test backend with no model.
func TestBinaryHelpNamesTheTestBackend(t *testing.T) {
	for _, role := range []string{"miner", "validator"} {
		out, _ := textgenCmd(t, role, "-h").CombinedOutput()
		if !strings.Contains(string(out), "builtin (a test backend with no language model") || !strings.Contains(string(out), "-reference.backend") {
			t.Fatalf("textgen %s -h:\n%s", role, out)
		}
	}
}
