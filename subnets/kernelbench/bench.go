package kernelbench

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/tessera-net/tessera/subnets/kernelbench/linattn"
	"github.com/tessera-net/tessera/subnets/kernelbench/sandbox"
)

// Runner builds and benchmarks submissions for one competition. It is safe for one
// evaluation at a time.
type Runner struct {
	Def *Definition
	// Work holds the runner's files: fetched repositories, checkouts, the build cache.
	Work string
	// GoRoot is the Go installation mounted read-only into the build sandbox (default:
	// `go env GOROOT`).
	GoRoot string
	// Log receives the runner's logs (discarded when nil).
	Log *slog.Logger

	once     sync.Once
	setupErr error
	base     []TreeEntry
}

// BuildFailed is a submission that does not build.
var errBuild = errors.New("build failed")

func (r *Runner) log() *slog.Logger {
	if r.Log == nil {
		return slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return r.Log
}

// Setup prepares the work directory (readable by the sandbox's uid, a build cache it
// owns), finds GOROOT and lists the target's tree; Evaluate calls it on first use.
func (r *Runner) Setup(ctx context.Context) error {
	r.once.Do(func() { r.setupErr = r.setup(ctx) })
	return r.setupErr
}

func (r *Runner) setup(ctx context.Context) error {
	if err := os.MkdirAll(r.Work, 0o755); err != nil {
		return err
	}
	if err := os.Chmod(r.Work, 0o755); err != nil {
		return err
	}
	uid, gid := sandbox.PayloadOwner()
	cache := filepath.Join(r.Work, "gocache")
	if err := os.MkdirAll(cache, 0o755); err != nil {
		return err
	}
	if uid >= 0 {
		if err := os.Chown(cache, uid, gid); err != nil {
			return fmt.Errorf("build cache: %w", err)
		}
	}
	if r.GoRoot == "" {
		out, err := exec.CommandContext(ctx, "go", "env", "GOROOT").Output()
		if err != nil {
			return fmt.Errorf("finding GOROOT (go env GOROOT): %w", err)
		}
		r.GoRoot = strings.TrimSpace(string(out))
	}
	// The target's tree: what submissions are compared with.
	f := r.Def.Fetch
	f.AllowFile, f.FileRoots = true, []string{"/"}
	if !strings.HasPrefix(r.Def.Target.Repo, "file://") {
		f = r.Def.Fetch
	}
	repo, err := FetchCommit(ctx, f, r.Work, r.Def.Target.Repo, r.Def.Target.Commit)
	if err != nil {
		return fmt.Errorf("the target repository: %w", err)
	}
	defer os.RemoveAll(repo.Dir)
	if r.base, err = repo.Tree(ctx); err != nil {
		return err
	}
	// Build the target once: the build cache then holds the standard library, and a
	// submission's build compiles only its own packages.
	src, err := os.MkdirTemp(r.Work, "src-*")
	if err != nil {
		return err
	}
	defer os.RemoveAll(src)
	os.Chmod(src, 0o755)
	if err := repo.Extract(ctx, src); err != nil {
		return fmt.Errorf("the target repository: %w", err)
	}
	t0 := time.Now()
	bin, blog, err := r.build(ctx, src)
	if bin != "" {
		os.RemoveAll(filepath.Dir(bin))
	}
	if err != nil {
		return fmt.Errorf("the target does not build: %w\n%s", err, blog)
	}
	r.log().Info("build cache warmed with the target", "took", time.Since(t0).Round(time.Millisecond))
	return nil
}

// Stages are the wall-clock times of an evaluation's steps.
type Stages struct {
	Fetch, Check, Build, Bench time.Duration
}

// Overhead is the time spent apart from the benchmark runs themselves.
func (s Stages) Overhead() time.Duration { return s.Fetch + s.Check + s.Build }

// Evaluation is the judge's verdict on one submission at one length.
type Evaluation struct {
	// ContentHash fingerprints the allowed directory (empty when the fetch failed).
	ContentHash string
	// Length is the sequence length run and League its league (zero when none applies).
	Length int
	League League
	// Times are the timed repetitions; Median their median.
	Times  []time.Duration
	Median time.Duration
	// TokensPerSec is Length / Median; Score is TokensPerSec × League.Multiplier.
	TokensPerSec float64
	Score        float64
	// RelErr is the largest relative difference from the reference seen.
	RelErr float64
	// OK is true when the submission passed every check and every run; Reason says
	// why not ("url", "fetch", "tree", "imports", "build", "run", "wrong", "league").
	OK      bool
	Reason  string
	Message string
	// Log is the tail of the build's or the harness's output.
	Log    string
	Notes  []string
	Stages Stages
}

func (e *Evaluation) fail(reason string, err error) *Evaluation {
	e.OK, e.Reason, e.Message = false, reason, err.Error()
	var re *RejectError
	if errors.As(err, &re) {
		e.Reason, e.Message = re.Reason, re.Msg
	}
	return e
}

// Evaluate judges a submission: repository and commit as revealed, and the miner's
// target length.
func (r *Runner) Evaluate(ctx context.Context, repoURL, commit string, target int) *Evaluation {
	ev := &Evaluation{}
	if err := r.Setup(ctx); err != nil {
		return ev.fail("setup", err)
	}
	league, ok := r.Def.LeagueFor(target)
	if !ok {
		return ev.fail("league", fmt.Errorf("target length %d is below the shortest league (%d)", target, r.Def.Leagues[0].Length))
	}
	ev.Length, ev.League = league.Length, league
	t0 := time.Now()
	repo, err := FetchCommit(ctx, r.Def.Fetch, r.Work, repoURL, commit)
	ev.Stages.Fetch = time.Since(t0)
	if err != nil {
		return ev.fail("fetch", err)
	}
	defer os.RemoveAll(repo.Dir)
	t0 = time.Now()
	src, err := r.checkout(ctx, repo)
	if src != "" {
		defer os.RemoveAll(src)
	}
	if err == nil {
		ev.ContentHash, err = ContentHash(r.Def, src)
	}
	ev.Stages.Check = time.Since(t0)
	if err != nil {
		return ev.fail("tree", err)
	}
	t0 = time.Now()
	bin, blog, err := r.Build(ctx, src)
	ev.Stages.Build = time.Since(t0)
	if bin != "" {
		defer os.RemoveAll(filepath.Dir(bin))
	}
	if err != nil {
		ev.Log = blog
		return ev.fail("build", err)
	}
	t0 = time.Now()
	r.Measure(ctx, src, bin, league, ev)
	ev.Stages.Bench = time.Since(t0)
	return ev
}

// checkout checks the tree and the imports and extracts the commit; it returns the
// directory even on error (for the caller to remove).
func (r *Runner) checkout(ctx context.Context, repo *Repo) (string, error) {
	tree, err := repo.Tree(ctx)
	if err != nil {
		return "", err
	}
	if err := CheckTree(r.Def, r.base, tree); err != nil {
		return "", err
	}
	src, err := os.MkdirTemp(r.Work, "src-*")
	if err != nil {
		return "", err
	}
	if err := os.Chmod(src, 0o755); err != nil {
		return src, err
	}
	if err := repo.Extract(ctx, src); err != nil {
		return src, err
	}
	return src, CheckImports(r.Def, src)
}

// tail keeps the last n bytes of what is written.
type tail struct {
	mu  sync.Mutex
	buf []byte
	n   int
}

func (t *tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	t.buf = append(t.buf, p...)
	if len(t.buf) > t.n {
		t.buf = t.buf[len(t.buf)-t.n:]
	}
	t.mu.Unlock()
	return len(p), nil
}

func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.buf)
}

// Build builds the harness of the checkout src in the sandbox (no network, the Go
// installation and src read-only, the build cache and the output directory writable)
// and returns the binary.
func (r *Runner) Build(ctx context.Context, src string) (bin, log string, err error) {
	if err := r.Setup(ctx); err != nil {
		return "", "", err
	}
	return r.build(ctx, src)
}

func (r *Runner) build(ctx context.Context, src string) (bin, log string, err error) {
	out, err := os.MkdirTemp(r.Work, "bin-*")
	if err != nil {
		return "", "", err
	}
	bin = filepath.Join(out, "harness")
	if err := os.Chmod(out, 0o755); err != nil {
		return bin, "", err
	}
	if uid, gid := sandbox.PayloadOwner(); uid >= 0 {
		if err := os.Chown(out, uid, gid); err != nil {
			return bin, "", err
		}
	}
	l := r.Def.Limits
	buildLog := &tail{n: 8 << 10}
	limits := sandbox.Limits{Wall: time.Duration(l.BuildWallSeconds) * time.Second, CPUSeconds: l.CPUSeconds,
		AddressSpace: l.AddressSpaceMB << 20, Memory: l.MemoryMB << 20, Processes: max(l.Processes, 512), TmpSize: 256 << 20}
	if rt := r.Def.Target.Runtime; rt != nil {
		if len(rt.Build) == 0 {
			return bin, "", nil
		}
		mounts := append(rt.sandboxMounts(), sandbox.Mount{Source: src, Target: "/src"}, sandbox.Mount{Source: out, Target: "/out", Writable: true})
		res, err := sandbox.Run(ctx, sandbox.Spec{Path: rt.Build[0], Args: rt.Build, Env: append([]string{"HOME=/tmp", "TMPDIR=/tmp"}, rt.Env...),
			Dir: "/src", Mounts: mounts, Limits: limits, Stdout: buildLog, Stderr: buildLog})
		if err != nil {
			return bin, "", err
		}
		if err := res.Err(); err != nil {
			return bin, buildLog.String(), fmt.Errorf("%w: %v", errBuild, err)
		}
		return bin, buildLog.String(), nil
	}
	res, err := sandbox.Run(ctx, sandbox.Spec{
		Path: "/goroot/bin/go",
		Args: []string{"go", "build", "-trimpath", "-buildvcs=false", "-o", "/out/harness", r.Def.Target.Harness},
		Env: []string{"PATH=/goroot/bin", "GOROOT=/goroot", "GOCACHE=/cache", "GOPATH=/tmp/gopath", "HOME=/tmp", "TMPDIR=/tmp",
			"GOTOOLCHAIN=local", "GOPROXY=off", "GOSUMDB=off", "GOFLAGS=-mod=mod", "GOWORK=off", "CGO_ENABLED=0",
			"GOTELEMETRY=off", "GOENV=off"},
		Dir: "/src",
		Mounts: []sandbox.Mount{{Source: r.GoRoot, Target: "/goroot"}, {Source: src, Target: "/src"},
			{Source: filepath.Join(r.Work, "gocache"), Target: "/cache", Writable: true}, {Source: out, Target: "/out", Writable: true}},
		Limits: limits, Stdout: buildLog, Stderr: buildLog,
	})
	if err != nil {
		return bin, "", err
	}
	if err := res.Err(); err != nil {
		return bin, buildLog.String(), fmt.Errorf("%w: %v", errBuild, err)
	}
	return bin, buildLog.String(), nil
}

// Measure runs the harness in the sandbox at the league's length — the Go binary bin
// alone, or with a Runtime its Run command over the checkout src and the build's output
// (bin's directory), all read-only: Warmup untimed and Repetitions timed requests, each
// on inputs drawn afresh from the system's random source and checked against the
// reference; the validator times each request from the first byte it sends to the last
// byte of the answer. It fills ev.
func (r *Runner) Measure(ctx context.Context, src, bin string, league League, ev *Evaluation) {
	b, l := r.Def.Benchmark, r.Def.Limits
	shape := linattn.Shape{H: b.Heads, L: league.Length, D: b.Dim, Gamma: b.Gamma}
	stderr := &tail{n: 4 << 10}
	path, args, env := "/bin/harness", []string{"harness"}, []string{"HOME=/tmp", "TMPDIR=/tmp"}
	mounts := []sandbox.Mount{{Source: bin, Target: "/bin/harness"}}
	if rt := r.Def.Target.Runtime; rt != nil {
		path, args, env = rt.Run[0], rt.Run, append(env, rt.Env...)
		mounts = append(rt.sandboxMounts(), sandbox.Mount{Source: src, Target: "/src"}, sandbox.Mount{Source: filepath.Dir(bin), Target: "/out"})
	}
	p, err := sandbox.Start(sandbox.Spec{
		Path: path, Args: args, Env: env, Dir: "/tmp",
		Mounts: mounts,
		Limits: sandbox.Limits{Wall: time.Duration(l.RunWallSeconds) * time.Second, CPUSeconds: l.CPUSeconds,
			AddressSpace: l.AddressSpaceMB << 20, Memory: l.MemoryMB << 20, Processes: l.Processes, TmpSize: 64 << 20,
			FileSize: 64 << 20, OpenFiles: 256},
		Stderr: stderr,
	})
	if err != nil {
		ev.fail("run", err)
		return
	}
	stop := context.AfterFunc(ctx, p.Kill)
	defer stop()
	runErr := r.requests(p, shape, ev)
	p.Stdin.Close()
	if runErr != nil {
		p.Kill()
	}
	res := p.Wait()
	ev.Notes = res.Notes
	ev.Log = stderr.String()
	switch {
	case runErr != nil && res.WallKilled:
		ev.fail("run", fmt.Errorf("%v (%v)", res.Err(), runErr))
	case runErr != nil && errors.Is(runErr, errWrong):
		ev.fail("wrong", runErr)
	case runErr != nil && res.Err() != nil && res.ExitCode != 128+9:
		ev.fail("run", fmt.Errorf("the harness %v: %v", res.Err(), runErr))
	case runErr != nil:
		ev.fail("run", runErr)
	default:
		ev.OK = true
		ev.Median = median(ev.Times)
		ev.TokensPerSec = float64(league.Length) / ev.Median.Seconds()
		ev.Score = ev.TokensPerSec * league.Multiplier
	}
}

var errWrong = errors.New("wrong output")

func (r *Runner) requests(p *sandbox.Proc, shape linattn.Shape, ev *Evaluation) error {
	b := r.Def.Benchmark
	for i := 0; i < b.Warmup+b.Repetitions; i++ {
		var seed [32]byte
		rand.Read(seed[:])
		in := linattn.Generate(seed, shape)
		ref := linattn.Reference(in)
		werr := make(chan error, 1)
		start := time.Now()
		go func() { werr <- linattn.WriteRequest(p.Stdin, in) }()
		out, err := linattn.ReadAnswer(p.Stdout, shape.N())
		elapsed := time.Since(start)
		if errors.Is(err, linattn.ErrBadAnswer) {
			return fmt.Errorf("%w: run %d: %v (did the kernel write on standard output?)", errWrong, i+1, err)
		}
		if err != nil {
			return fmt.Errorf("run %d: %w", i+1, err)
		}
		if err := <-werr; err != nil {
			return fmt.Errorf("run %d: sending the request: %w", i+1, err)
		}
		rel, err := linattn.Compare(out, ref, b.Tolerance)
		ev.RelErr = max(ev.RelErr, rel)
		if err != nil {
			return fmt.Errorf("%w: run %d: %v", errWrong, i+1, err)
		}
		if i >= b.Warmup {
			ev.Times = append(ev.Times, elapsed)
		}
	}
	return nil
}

func median(ts []time.Duration) time.Duration {
	s := slices.Clone(ts)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}
