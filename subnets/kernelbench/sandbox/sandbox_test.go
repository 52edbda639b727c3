//go:build linux

package sandbox_test

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tessera-net/tessera/subnets/kernelbench/sandbox"
)

// The test binary is its own payload: started in a sandbox with PAYLOAD=mode it does
// what the mode says and exits.
func TestMain(m *testing.M) {
	sandbox.Main()
	if mode := os.Getenv("PAYLOAD"); mode != "" {
		os.Exit(payload(mode))
	}
	code := m.Run()
	if payloadCopy != "" {
		os.RemoveAll(filepath.Dir(payloadCopy))
	}
	os.Exit(code)
}

func payload(mode string) int {
	switch mode {
	case "id":
		host, _ := os.Hostname()
		entries, _ := os.ReadDir("/")
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		fmt.Printf("uid=%d gid=%d pid=%d host=%s root=%s\n", os.Getuid(), os.Getgid(), os.Getpid(), host, strings.Join(names, ","))
	case "write":
		for _, p := range strings.Split(os.Getenv("TARGETS"), ",") {
			if err := os.WriteFile(p, []byte("x"), 0o644); err != nil {
				fmt.Printf("%s: refused\n", p)
			} else {
				fmt.Printf("%s: written\n", p)
			}
		}
	case "remount":
		// No capability is left to undo the mounts: remounting the root read-write,
		// unmounting the read-only binary or mounting a new file system all fail.
		for name, err := range map[string]error{
			"remount /":    syscall.Mount("", "/", "", syscall.MS_REMOUNT, ""),
			"unmount /bin": syscall.Unmount("/bin/payload", syscall.MNT_DETACH),
			"mount tmpfs":  syscall.Mount("tmpfs", "/tmp", "tmpfs", 0, ""),
			"setuid 0":     syscall.Setuid(0),
		} {
			if err == nil && !(name == "setuid 0" && os.Getuid() == 0) {
				fmt.Printf("%s: worked\n", name)
			}
		}
		fmt.Println("done")
	case "zero":
		f, err := os.Open("/dev/zero")
		if err == nil {
			var b [8]byte
			_, err = f.Read(b[:])
		}
		fmt.Println("zero:", err)
	case "net":
		c, err := net.DialTimeout("tcp", os.Getenv("ADDR"), 2*time.Second)
		if err != nil {
			fmt.Println("dial refused:", err)
			return 0
		}
		c.Write([]byte("escaped"))
		c.Close()
		fmt.Println("dial worked")
	case "fork":
		// Every process starts two more, without end.
		for {
			cmd := exec.Command("/bin/payload", os.Args[1:]...) // the marker goes down
			cmd.Env = []string{"PAYLOAD=fork"}
			if err := cmd.Start(); err != nil {
				time.Sleep(time.Millisecond)
			}
		}
	case "alloc":
		var keep [][]byte
		for len(keep) >= 0 {
			b := make([]byte, 64<<20)
			for i := range b {
				b[i] = 1
			}
			keep = append(keep, b)
		}
		fmt.Println(len(keep))
	case "sleep":
		time.Sleep(time.Hour)
	case "cpu":
		for x := 0; ; x++ {
			_ = x
		}
	}
	return 0
}

// payloadCopy is the test binary copied where the sandbox's uid can reach it.
var payloadCopy string

func spec(t *testing.T, mode string, env ...string) sandbox.Spec {
	if payloadCopy == "" {
		self, err := os.Executable()
		if err != nil {
			t.Fatal(err)
		}
		payloadCopy, err = sandbox.Reachable(self)
		if err != nil {
			t.Fatal(err)
		}
	}
	mounts := []sandbox.Mount{{Source: payloadCopy, Target: "/bin/payload"}}
	// The test binary may be linked dynamically (cgo's resolver): its libraries too.
	for _, lib := range []string{"/lib", "/lib64", "/usr/lib"} {
		if st, err := os.Lstat(lib); err == nil && st.IsDir() {
			mounts = append(mounts, sandbox.Mount{Source: lib, Target: lib})
		} else if err == nil && st.Mode()&os.ModeSymlink != 0 {
			if real, err := filepath.EvalSymlinks(lib); err == nil {
				mounts = append(mounts, sandbox.Mount{Source: real, Target: lib})
			}
		}
	}
	return sandbox.Spec{Path: "/bin/payload", Args: []string{"payload"}, Env: append([]string{"PAYLOAD=" + mode}, env...),
		Mounts: mounts,
		Limits: sandbox.Limits{Wall: 20 * time.Second, Processes: 64, AddressSpace: 4 << 30, Memory: 512 << 20, CPUSeconds: 30}}
}

func run(t *testing.T, s sandbox.Spec) (*sandbox.Result, string) {
	t.Helper()
	if err := sandbox.Available(); err != nil {
		t.Skipf("no sandbox here (user namespaces?): %v", err)
	}
	var out bytes.Buffer
	s.Stdout, s.Stderr = &out, &out
	r, err := sandbox.Run(context.Background(), s)
	if err != nil {
		t.Fatal(err)
	}
	if r.InitError != "" {
		t.Fatalf("init: %s", r.InitError)
	}
	for _, n := range r.Notes {
		t.Log("note:", n)
	}
	return r, out.String()
}

func TestIdentityAndRoot(t *testing.T) {
	r, out := run(t, spec(t, "id"))
	if r.ExitCode != 0 {
		t.Fatalf("exit %d: %s", r.ExitCode, out)
	}
	t.Log(strings.TrimSpace(out))
	var uid, gid, pid int
	fmt.Sscanf(out, "uid=%d gid=%d pid=%d", &uid, &gid, &pid)
	if pid == 0 || pid > 64 || !strings.Contains(out, "host=sandbox") || !strings.Contains(out, "bin,dev,") || strings.Contains(out, "home") || strings.Contains(out, "etc") {
		t.Errorf("not in fresh namespaces with a minimal root: %s", out)
	}
	if os.Geteuid() == 0 && !strings.Contains(out, "uid=1000 gid=1000") {
		t.Errorf("the payload does not run as uid 1000: %s", out)
	}
}

// Writes outside the private /tmp fail: the root, the payload's own directory, and
// the host's paths (not even there).
func TestWritesOutsideTmpFail(t *testing.T) {
	host := filepath.Join(t.TempDir(), "escaped")
	_, out := run(t, spec(t, "write", "TARGETS=/x,/bin/y,/bin/payload,"+host+",/tmp/ok"))
	for _, want := range []string{"/x: refused", "/bin/y: refused", "/bin/payload: refused", host + ": refused", "/tmp/ok: written"} {
		if !strings.Contains(out, want) {
			t.Errorf("want %q in:\n%s", want, out)
		}
	}
	if _, err := os.Stat(host); err == nil {
		t.Error("the payload wrote to the host")
	}
}

func TestNoPrivilegeLeft(t *testing.T) {
	_, out := run(t, spec(t, "remount"))
	if strings.Contains(out, "worked") || !strings.Contains(out, "done") {
		t.Fatalf("the payload kept a privilege:\n%s", out)
	}
}

// A device node is usable only when bound as a device (a GPU's nodes for a runtime).
func TestDeviceNodes(t *testing.T) {
	for _, dev := range []bool{true, false} {
		s := spec(t, "zero")
		s.Mounts = append(s.Mounts, sandbox.Mount{Source: "/dev/zero", Target: "/dev/zero", Device: dev})
		_, out := run(t, s)
		if ok := strings.Contains(out, "zero: <nil>"); ok != dev {
			t.Errorf("device=%v: %s", dev, out)
		}
	}
}

func TestNoNetwork(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	got := make(chan struct{}, 1)
	go func() {
		if c, err := ln.Accept(); err == nil {
			got <- struct{}{}
			c.Close()
		}
	}()
	_, out := run(t, spec(t, "net", "ADDR="+ln.Addr().String()))
	if !strings.Contains(out, "dial refused") {
		t.Errorf("the payload reached the network: %s", out)
	}
	select {
	case <-got:
		t.Error("the host's listener got a connection from the sandbox")
	case <-time.After(100 * time.Millisecond):
	}
}

func TestWallClockKillsEverything(t *testing.T) {
	s := spec(t, "sleep")
	s.Limits.Wall = 500 * time.Millisecond
	start := time.Now()
	r, _ := run(t, s)
	if !r.WallKilled || time.Since(start) > 5*time.Second {
		t.Fatalf("not killed at the wall-clock limit: %+v", r)
	}
}

func TestForkBombIsContained(t *testing.T) {
	s := spec(t, "fork")
	marker := fmt.Sprintf("fork-bomb-%d", time.Now().UnixNano())
	s.Args = append(s.Args, marker)
	s.Limits.Wall = 3 * time.Second
	start := time.Now()
	r, _ := run(t, s)
	if r.ExitCode == 0 || time.Since(start) > 10*time.Second {
		t.Fatalf("fork bomb not contained: %+v", r)
	}
	// Nothing of it survives: no process with the bomb's marker is left.
	time.Sleep(200 * time.Millisecond)
	if n := countProcs(marker); n != 0 {
		t.Fatalf("%d processes of the fork bomb survive", n)
	}
}

func TestAllocationIsBounded(t *testing.T) {
	for _, lim := range []struct {
		name string
		l    sandbox.Limits
	}{
		{"address space", sandbox.Limits{AddressSpace: 1 << 30}},
		{"cgroup memory", sandbox.Limits{Memory: 256 << 20}},
	} {
		t.Run(lim.name, func(t *testing.T) {
			s := spec(t, "alloc")
			s.Limits = lim.l
			s.Limits.Wall = 8 * time.Second
			r, out := run(t, s)
			for _, n := range r.Notes {
				if lim.l.Memory > 0 && strings.Contains(n, "memory limit") {
					t.Skipf("no cgroup memory limit here: %s", n)
				}
			}
			if r.ExitCode == 0 || r.WallKilled {
				t.Fatalf("allocation not stopped by the limit: %+v %s", r, lastLine(out))
			}
			t.Logf("stopped: exit %d, %s", r.ExitCode, lastLine(out))
		})
	}
}

func TestCPUTimeLimit(t *testing.T) {
	s := spec(t, "cpu")
	s.Limits.CPUSeconds = 1
	r, _ := run(t, s)
	if r.WallKilled || r.ExitCode != 128+int(syscall.SIGKILL) && r.ExitCode != 128+int(syscall.SIGXCPU) {
		t.Fatalf("not stopped by RLIMIT_CPU: %+v", r)
	}
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

// countProcs counts the processes whose command line holds marker.
func countProcs(marker string) int {
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
