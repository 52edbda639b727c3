package e2e

import (
	"bufio"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// docs/subnet-tutorial.md run as a newcomer runs it, in a fresh copy of the tree: the
// shell block of "1. Start a devnet" in one terminal, the first of "6. Run it" (the
// arith miners and validator) in a second once the devnet prints its banner, and the
// next block of section 6 (the metagraph) in a third until incentive comes out as the
// tutorial says: Dave first, slow Ferdie second, wrong Eve nothing, at the tutorial's
// axons. The commands use the tutorial's fixed ports, so the run goes into a network
// namespace of its own where `unshare -rn` works; otherwise it needs those ports free.
func TestSubnetTutorial(t *testing.T) {
	needBinary(t)
	md, err := os.ReadFile("../docs/subnet-tutorial.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks := shellBlocks(string(md))
	if len(blocks["1"]) != 1 || len(blocks["6"]) != 2 {
		t.Fatalf("the tutorial's shell blocks changed: section 1 has %d, section 6 %d (want 1 and 2)", len(blocks["1"]), len(blocks["6"]))
	}
	dir := t.TempDir()
	clone := filepath.Join(dir, "tessera")
	copyTree(t, "..", clone)
	for name, body := range map[string]string{"devnet.sh": blocks["1"][0], "neurons.sh": blocks["6"][0], "check.sh": blocks["6"][1]} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// The terminals: the devnet, then (once it has printed its banner) the neurons,
	// then the metagraph every second, each output in its file.
	driver := `set -u
cd "$CLONE"
bash -e "$DIR/devnet.sh" > "$DIR/devnet.out" 2>&1 &
until grep -q "Press Ctrl-C" "$DIR/devnet.out"; do kill -0 $! 2>/dev/null || exit 1; sleep 0.5; done
bash -e "$DIR/neurons.sh" > "$DIR/neurons.out" 2>&1 &
while :; do bash -e "$DIR/check.sh" > "$DIR/check.tmp" 2>&1; mv "$DIR/check.tmp" "$DIR/check.out"; sleep 1; done
`
	cmd := tutorialShell(t, driver)
	cmd.Env = append(os.Environ(), "CLONE="+clone, "DIR="+dir)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	defer func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-done
		}
		if t.Failed() {
			for _, f := range []string{"devnet.out", "neurons.out", "check.out"} {
				b, _ := os.ReadFile(filepath.Join(dir, f))
				if len(b) > 5000 {
					b = b[len(b)-5000:]
				}
				t.Logf("%s:\n%s", f, b)
			}
		}
	}()

	// Builds in a fresh tree take a minute or two on a busy machine; the epochs then
	// take seconds. The ranking must hold over a few epochs (one every 2.2 s), and the
	// validator must set its weights without the chain refusing them.
	var last string
	var since time.Time
	for deadline := time.Now().Add(5 * time.Minute); ; time.Sleep(time.Second) {
		select {
		case err := <-done:
			done <- err
			t.Fatalf("a terminal's commands failed: %v", err)
		default:
		}
		out, _ := os.ReadFile(filepath.Join(dir, "check.out"))
		last = string(out)
		switch {
		case !tutorialRanking(last):
			since = time.Time{}
		case since.IsZero():
			since = time.Now()
		case time.Since(since) > 7*time.Second:
			log, _ := os.ReadFile(filepath.Join(dir, "neurons.out"))
			if !strings.Contains(string(log), `msg="weights set"`) || strings.Contains(string(log), "the chain refused") {
				t.Fatalf("the validator's weights: none set, or refused by the chain:\n%s", log)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("incentive did not come out as the tutorial says over a few epochs; last metagraph:\n%s", last)
		}
	}
}

// tutorialRanking reports whether a `tessera metagraph` table shows what the tutorial
// promises: Dave (uid 3) first, Ferdie (5) second but above 0, Eve (4) nothing, each at
// its arith axon (8091, 8092, 8093).
func tutorialRanking(table string) bool {
	inc, axon := map[int]float64{}, map[int]string{}
	col := map[string]int{}
	sc := bufio.NewScanner(strings.NewReader(table))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) > 0 && f[0] == "UID" {
			for i, name := range f {
				col[name] = i
			}
			continue
		}
		uid, err := strconv.Atoi(firstField(f))
		if err != nil || len(col) == 0 || len(f) <= col["AXON"] {
			continue
		}
		inc[uid], _ = strconv.ParseFloat(f[col["INCENTIVE"]], 64)
		axon[uid] = f[col["AXON"]]
	}
	for uid, port := range map[int]string{3: "8091", 4: "8092", 5: "8093"} {
		if axon[uid] != "127.0.0.1:"+port {
			return false
		}
	}
	return inc[3] > inc[5] && inc[5] > 0 && inc[4] == 0
}

func firstField(f []string) string {
	if len(f) == 0 {
		return ""
	}
	return f[0]
}

// shellBlocks returns the ```sh blocks of a markdown text by the number of the "## N."
// section they are in.
func shellBlocks(md string) map[string][]string {
	out := map[string][]string{}
	section := ""
	heading := regexp.MustCompile(`^## (\d+)\.`)
	var block *strings.Builder
	for line := range strings.Lines(md) {
		switch {
		case block != nil && strings.HasPrefix(line, "```"):
			out[section] = append(out[section], block.String())
			block = nil
		case block != nil:
			block.WriteString(line)
		case strings.TrimSpace(line) == "```sh":
			block = &strings.Builder{}
		default:
			if m := heading.FindStringSubmatch(line); m != nil {
				section = m[1]
			}
		}
	}
	return out
}

// copyTree copies the files git would put in a clone of the working tree (tracked, and
// untracked but not ignored) from src to dst.
func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	list, err := exec.Command("git", "-C", src, "ls-files", "-z", "--cached", "--others", "--exclude-standard").Output()
	if err != nil {
		t.Skipf("not a git checkout (%v): the tutorial runs in a fresh copy of one", err)
	}
	for _, f := range strings.Split(strings.TrimRight(string(list), "\x00"), "\x00") {
		b, err := os.ReadFile(filepath.Join(src, f))
		if os.IsNotExist(err) {
			continue // deleted in the working tree
		}
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dst, f)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dst, f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// tutorialShell runs script with bash in a network namespace of its own (loopback up)
// when unshare allows one; otherwise on this machine's loopback, where the tutorial's
// ports must be free.
func tutorialShell(t *testing.T, script string) *exec.Cmd {
	t.Helper()
	ip, err := exec.LookPath("ip")
	if err == nil {
		err = exec.Command("unshare", "-rn", ip, "link", "set", "lo", "up").Run()
	}
	if err == nil {
		return exec.Command("unshare", "-rn", "bash", "-c", ip+" link set lo up && "+script)
	}
	for _, port := range []int{26656, 26657, 26658, 26659, 8091, 8092, 8093} {
		l, lerr := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port))
		if lerr != nil {
			t.Skipf("no network namespace (%v) and the tutorial's port %d is busy: %v", err, port, lerr)
		}
		l.Close()
	}
	return exec.Command("bash", "-c", script)
}
