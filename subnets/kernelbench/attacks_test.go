package kernelbench_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tessera-net/tessera/subnets/kernelbench"
)

// permissive is the world's runner with no import rule, so that the sandbox alone must
// stop what a kernel does with os, net and os/exec.
func permissive(t *testing.T, w *world) *kernelbench.Runner {
	t.Helper()
	d := *w.def
	d.Rules.ForbiddenImports = nil
	d.Limits.RunWallSeconds = 4
	r := &kernelbench.Runner{Def: &d, Work: w.runner.Work}
	if err := r.Setup(context.Background()); err != nil {
		t.Fatal(err)
	}
	return r
}

func evalWith(t *testing.T, r *kernelbench.Runner, url, commit string) *kernelbench.Evaluation {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	start := time.Now()
	ev := r.Evaluate(ctx, url, commit, 2048)
	t.Logf("%s: ok=%v reason=%s: %s (tps %.0f, %v) notes=%v", filepath.Base(url), ev.OK, ev.Reason, ev.Message, ev.TokensPerSec, time.Since(start).Round(time.Millisecond), ev.Notes)
	return ev
}

// Attacks a kernel makes from inside the sandbox: each must fail — the submission
// scores nothing, or what it tried did not happen on the host.
func TestSandboxedAttacksFail(t *testing.T) {
	w := newWorld(t)
	r := permissive(t, w)
	hostFile := filepath.Join(w.root, "escaped.txt")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	conns := make(chan struct{}, 16)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns <- struct{}{}
			c.Close()
		}
	}()
	for _, a := range []struct {
		name    string
		imports string
		stmt    string
		extra   map[string]string
		reason  string // the evaluation must fail with this reason ("" when it may pass)
		check   func(t *testing.T, ev *kernelbench.Evaluation)
	}{
		{name: "returns zeros", stmt: "clear(o); return", reason: "wrong"},
		{name: "prints a fake score on stdout", imports: `"fmt"`, stmt: `fmt.Println("RESULT: 99999999999")`, reason: "wrong"},
		{name: "prints a fake score on stderr", imports: `"fmt"; "os"`, stmt: `fmt.Fprintln(os.Stderr, "RESULT: 99999999999 tokens/s")`,
			check: func(t *testing.T, ev *kernelbench.Evaluation) {
				if !strings.Contains(ev.Log, "RESULT") || ev.TokensPerSec > 1e9 {
					t.Errorf("the printed score counted: tps %v", ev.TokensPerSec)
				}
			}},
		{name: "caches results between runs", extra: map[string]string{"kernel/cache.go": `package kernel

var cached []float32

func init() { cache = func(o []float32, compute func()) {
	if cached != nil { copy(o, cached); return }
	compute()
	cached = append([]float32(nil), o...)
} }
`}, stmt: "if cache != nil { done := false; cache(o, func() { forward(q, k, v, o, H, L, D, gamma); done = true }); _ = done; return }", reason: "wrong"},
		{name: "opens a network connection", imports: `"net"; "time"`,
			stmt: fmt.Sprintf(`if c, err := net.DialTimeout("tcp", %q, time.Second); err == nil { c.Write([]byte("x")); c.Close() }`, ln.Addr().String()),
			check: func(t *testing.T, ev *kernelbench.Evaluation) {
				select {
				case <-conns:
					t.Error("the kernel reached the host's listener")
				case <-time.After(100 * time.Millisecond):
				}
			}},
		{name: "writes outside its directory", imports: `"os"`,
			stmt: fmt.Sprintf(`for _, p := range []string{%q, "/escaped", "/bin/escaped", "/bin/harness"} { os.WriteFile(p, []byte("x"), 0o644) }`, hostFile),
			check: func(t *testing.T, ev *kernelbench.Evaluation) {
				if _, err := os.Stat(hostFile); !errors.Is(err, os.ErrNotExist) {
					t.Error("the kernel wrote a file on the host")
				}
			}},
		{name: "forks without bound", imports: `"os"; "os/exec"`,
			stmt: fmt.Sprintf(`for { c := exec.Command("/bin/harness", %q); c.Env = os.Environ(); c.Start() }`, bombMarker), reason: "run",
			check: func(t *testing.T, ev *kernelbench.Evaluation) {
				time.Sleep(300 * time.Millisecond)
				if n := procsWith(bombMarker); n > 0 {
					t.Errorf("%d processes of the fork bomb survive", n)
				}
			}},
		{name: "allocates without bound", stmt: "var keep [][]float32; for len(keep) >= 0 { b := make([]float32, 16<<20); for i := range b { b[i] = 1 }; keep = append(keep, b) }", reason: "run"},
		{name: "sleeps forever", imports: `"time"`, stmt: "time.Sleep(time.Hour)", reason: "run", check: func(t *testing.T, ev *kernelbench.Evaluation) {
			if ev.Stages.Bench > 8*time.Second {
				t.Errorf("the run took %v, past the wall-clock limit", ev.Stages.Bench)
			}
		}},
	} {
		t.Run(a.name, func(t *testing.T) {
			files := map[string]string{"kernel/kernel.go": kernelWith(a.imports, a.stmt)}
			for p, c := range a.extra {
				files[p] = c
			}
			if a.name == "caches results between runs" {
				// The cache wraps the real computation, renamed forward.
				files["kernel/kernel.go"] = strings.Replace(kernelWith("", "if cache != nil { cache(o, func() { forward(q, k, v, o, H, L, D, gamma) }); return }\n\tforward(q, k, v, o, H, L, D, gamma)\n}\n\nvar cache func([]float32, func())\n\nfunc forward(q, k, v, o []float32, H, L, D int, gamma float32) {"),
					"import (\n\n", "import (\n", 1)
			}
			url, commit := w.miner(t, strings.ReplaceAll(a.name, " ", "-"), files)
			ev := evalWith(t, r, url, commit)
			if a.reason != "" && (ev.OK || ev.Reason != a.reason) {
				t.Errorf("want a %q failure, got ok=%v reason=%q: %s\n%s", a.reason, ev.OK, ev.Reason, ev.Message, ev.Log)
			}
			if a.check != nil {
				a.check(t, ev)
			}
		})
	}
}

// bombMarker is in the command line of every process the fork bomb starts.
var bombMarker = fmt.Sprintf("kernelbench-fork-bomb-%d", time.Now().UnixNano())

// procsWith counts the processes whose command line holds marker.
func procsWith(marker string) int {
	entries, _ := os.ReadDir("/proc")
	n := 0
	for _, e := range entries {
		if e.Name()[0] < '0' || e.Name()[0] > '9' {
			continue
		}
		if raw, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline")); err == nil && strings.Contains(string(raw), marker) {
			n++
		}
	}
	return n
}

// Attacks on the checks before anything runs: each is refused with its reason.
func TestCheckedAttacksFail(t *testing.T) {
	w := newWorld(t)
	for _, a := range []struct {
		name   string
		files  map[string]string
		reason string
	}{
		{"changes the harness", map[string]string{"harness/main.go": "package main\n\nfunc main() {}\n"}, "tree"},
		{"adds a file outside the allowed directory", map[string]string{"evil.go": "package evil\n"}, "tree"},
		{"removes a file outside the allowed directory", map[string]string{"README.md": ""}, "tree"},
		{"changes go.mod", map[string]string{"go.mod": "module x\n"}, "tree"},
		{"adds a binary object to the kernel", map[string]string{"kernel/blob.syso": "\x7fELF"}, "tree"},
		{"imports unsafe", map[string]string{"kernel/k2.go": "package kernel\n\nimport _ \"unsafe\"\n"}, "imports"},
		{"imports os/exec", map[string]string{"kernel/k2.go": "package kernel\n\nimport _ \"os/exec\"\n"}, "imports"},
		{"imports net/http", map[string]string{"kernel/k2.go": "package kernel\n\nimport _ \"net/http\"\n"}, "imports"},
		{"uses go:linkname", map[string]string{"kernel/k2.go": "package kernel\n\n//go:linkname nanotime runtime.nanotime\nfunc nanotime() int64\n"}, "imports"},
	} {
		t.Run(a.name, func(t *testing.T) {
			url, commit := w.miner(t, strings.ReplaceAll(a.name, " ", "-"), a.files)
			ev := evaluate(t, w, url, commit, 2048)
			if ev.OK || ev.Reason != a.reason {
				t.Fatalf("want a %q refusal, got ok=%v reason=%q: %s", a.reason, ev.OK, ev.Reason, ev.Message)
			}
		})
	}
}

// Repository URLs with path tricks, other schemes or hosts are refused before git runs.
func TestRepoURLTricksFail(t *testing.T) {
	w := newWorld(t)
	f := w.def.Fetch
	f.AllowedHosts = []string{"github.com"}
	outside, _ := os.MkdirTemp("", "kernelbench-outside-*")
	defer os.RemoveAll(outside)
	os.Symlink(outside, filepath.Join(w.root, "link-out"))
	for _, u := range []string{
		"file://" + w.root + "/../etc",
		"file://" + w.root + "/miners/../../etc",
		"file://" + w.root + "/./target",
		"file://" + w.root + "//target",
		"file://" + w.root + "/link-out",
		"file:///etc",
		"file://host" + w.root + "/target",
		"https://github.com/../../etc/passwd",
		"https://github.com/owner/repo/../../x",
		"https://github.com/owner/..",
		"https://github.com/owner/repo/extra",
		"https://github.com/owner%2f..%2f/repo",
		"https://evil.example/owner/repo",
		"https://github.com.evil.example/owner/repo",
		"https://github.com:8443/owner/repo",
		"https://user:pass@github.com/owner/repo",
		"https://github.com/owner/repo?ref=x",
		"https://github.com/owner/repo#x",
		"http://github.com/owner/repo",
		"ssh://git@github.com/owner/repo",
		"git@github.com:owner/repo",
		"ext::sh -c touch% /tmp/pwned",
		"--upload-pack=touch /tmp/pwned",
		"-uhttps://github.com/owner/repo",
		"https://github.com/owner/repo\n",
		"",
	} {
		if got, err := kernelbench.CheckRepoURL(f, u); err == nil {
			t.Errorf("%q was accepted as %q", u, got)
		}
	}
	for _, u := range []string{"https://github.com/owner/repo", "https://github.com/owner/repo.git", "file://" + w.target} {
		if _, err := kernelbench.CheckRepoURL(f, u); err != nil {
			t.Errorf("%q refused: %v", u, err)
		}
	}
	f.AllowFile = false
	if _, err := kernelbench.CheckRepoURL(f, "file://"+w.target); err == nil {
		t.Error("file:// accepted where the definition does not allow it")
	}
	// Through Evaluate too: refused with reason url.
	ev := evaluate(t, w, "file://"+w.root+"/../etc", w.commit, 2048)
	if ev.OK || ev.Reason != "url" {
		t.Fatalf("want a url refusal, got %+v", ev)
	}
}

// A copy of a submission, even reformatted and with comments changed, has the same
// content hash; a real change does not.
func TestContentHashFindsCopies(t *testing.T) {
	w := newWorld(t)
	raw, _ := os.ReadFile("target/kernel/kernel.go")
	reformatted := strings.ReplaceAll(strings.ReplaceAll(string(raw), "\t", "  "), "// Inside the chunk.", "// my own comment")
	hashOf := func(name string, files map[string]string) string {
		dir := filepath.Join(w.root, "hash", name)
		os.MkdirAll(filepath.Join(dir, "kernel"), 0o755)
		knobsRaw, _ := os.ReadFile("target/kernel/knobs.go")
		os.WriteFile(filepath.Join(dir, "kernel/knobs.go"), knobsRaw, 0o644)
		for p, c := range files {
			os.WriteFile(filepath.Join(dir, p), []byte(c), 0o644)
		}
		h, err := kernelbench.ContentHash(w.def, dir)
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
	a := hashOf("a", map[string]string{"kernel/kernel.go": string(raw)})
	b := hashOf("b", map[string]string{"kernel/kernel.go": reformatted})
	c := hashOf("c", map[string]string{"kernel/kernel.go": strings.Replace(string(raw), "pow[t-s] * dot", "dot * pow[t-s]", 1)})
	if a != b {
		t.Error("a reformatted copy has another content hash")
	}
	if a == c {
		t.Error("a real change has the same content hash")
	}
}
