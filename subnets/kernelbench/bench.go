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
	// Beside is the hotkey whose submission was measured side by side with this one
	// (see Judge), empty when it was measured alone.
	Beside string
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
	return r.EvaluateSideBySide(ctx, []Candidate{{Repo: repoURL, Commit: commit, Target: target}})[0]
}

// Candidate is a submission to evaluate: repository and commit as revealed, and the
// miner's target length.
type Candidate struct {
	Repo, Commit string
	Target       int
}

// EvaluateSideBySide judges submissions under the same conditions: it fetches,
// checks and builds each, starts every harness, runs each one's warm-up, then takes
// the timed requests in turn — one for the first, one for the second, and so on, each
// repetition — so that a change in the machine's load (another process, a busy
// neighbour) falls on all of them alike. A judge uses it before a challenger takes
// first place: the leader's earlier time and the challenger's new one may have been
// taken under loads twice apart. The evaluations are in the candidates' order.
func (r *Runner) EvaluateSideBySide(ctx context.Context, cands []Candidate) []*Evaluation {
	evs := make([]*Evaluation, len(cands))
	var hs []*harness
	for i, c := range cands {
		evs[i] = &Evaluation{}
		b, ok := r.prepare(ctx, c, evs[i])
		if !ok {
			continue
		}
		defer b.remove()
		h, err := r.startHarness(ctx, b, evs[i])
		if err != nil {
			evs[i].fail("run", err)
			continue
		}
		hs = append(hs, h)
	}
	bm := r.Def.Benchmark
	for i := 0; i < bm.Warmup+bm.Repetitions; i++ {
		for _, h := range hs {
			if !h.failed() {
				h.measure(r, i >= bm.Warmup)
			}
		}
	}
	for _, h := range hs {
		h.finish()
	}
	return evs
}

// built is a submission fetched, checked and built: its checkout, its binary and the
// league it runs in.
type built struct {
	src, bin string
	league   League
	dirs     []string
}

func (b *built) remove() {
	for _, d := range b.dirs {
		os.RemoveAll(d)
	}
}

// prepare fetches, checks and builds a candidate, filling ev's league, content hash
// and stages; on failure it records why in ev, removes what it made and returns false.
func (r *Runner) prepare(ctx context.Context, c Candidate, ev *Evaluation) (*built, bool) {
	if err := r.Setup(ctx); err != nil {
		ev.fail("setup", err)
		return nil, false
	}
	league, ok := r.Def.LeagueFor(c.Target)
	if !ok {
		ev.fail("league", fmt.Errorf("target length %d is below the shortest league (%d)", c.Target, r.Def.Leagues[0].Length))
		return nil, false
	}
	ev.Length, ev.League = league.Length, league
	b := &built{league: league}
	t0 := time.Now()
	repo, err := FetchCommit(ctx, r.Def.Fetch, r.Work, c.Repo, c.Commit)
	ev.Stages.Fetch = time.Since(t0)
	if err != nil {
		ev.fail("fetch", err)
		return nil, false
	}
	defer os.RemoveAll(repo.Dir)
	t0 = time.Now()
	b.src, err = r.checkout(ctx, repo)
	if b.src != "" {
		b.dirs = append(b.dirs, b.src)
	}
	if err == nil {
		ev.ContentHash, err = ContentHash(r.Def, b.src)
	}
	ev.Stages.Check = time.Since(t0)
	if err != nil {
		b.remove()
		ev.fail("tree", err)
		return nil, false
	}
	t0 = time.Now()
	bin, blog, err := r.Build(ctx, b.src)
	ev.Stages.Build = time.Since(t0)
	if bin != "" {
		b.bin = bin
		b.dirs = append(b.dirs, filepath.Dir(bin))
	}
	if err != nil {
		b.remove()
		ev.Log = blog
		ev.fail("build", err)
		return nil, false
	}
	return b, true
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

// harness is one running harness of a measurement: its process, the requests it has
// answered and the first error. It runs in the sandbox at the league's length — the Go
// binary alone, or with a Runtime its Run command over the checkout and the build's
// output, all read-only; each request is on inputs drawn afresh from the system's random
// source and checked against the reference, and the validator times it from the first
// byte it sends to the last byte of the answer.
type harness struct {
	p      *sandbox.Proc
	shape  linattn.Shape
	league League
	stderr *tail
	ev     *Evaluation
	stop   func() bool
	runs   int
	err    error
	t0     time.Time
}

// startHarness starts b's harness in the sandbox under the definition's limits.
func (r *Runner) startHarness(ctx context.Context, b *built, ev *Evaluation) (*harness, error) {
	t0 := time.Now()
	bm, l := r.Def.Benchmark, r.Def.Limits
	stderr := &tail{n: 4 << 10}
	path, args, env := "/bin/harness", []string{"harness"}, []string{"HOME=/tmp", "TMPDIR=/tmp"}
	mounts := []sandbox.Mount{{Source: b.bin, Target: "/bin/harness"}}
	if rt := r.Def.Target.Runtime; rt != nil {
		path, args, env = rt.Run[0], rt.Run, append(env, rt.Env...)
		mounts = append(rt.sandboxMounts(), sandbox.Mount{Source: b.src, Target: "/src"}, sandbox.Mount{Source: filepath.Dir(b.bin), Target: "/out"})
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
		return nil, err
	}
	return &harness{p: p, shape: linattn.Shape{H: bm.Heads, L: b.league.Length, D: bm.Dim, Gamma: bm.Gamma}, league: b.league,
		stderr: stderr, ev: ev, stop: context.AfterFunc(ctx, p.Kill), t0: t0}, nil
}

func (h *harness) failed() bool { return h.err != nil }

// measure sends one request and checks the answer, recording its time when timed;
// the first error stops the harness's measurement.
func (h *harness) measure(r *Runner, timed bool) {
	h.runs++
	elapsed, err := h.request(r.Def.Benchmark.Tolerance)
	if err != nil {
		h.err = err
		return
	}
	if timed {
		h.ev.Times = append(h.ev.Times, elapsed)
	}
}

var errWrong = errors.New("wrong output")

// request sends a request on inputs drawn afresh and returns how long the answer took.
func (h *harness) request(tolerance float64) (time.Duration, error) {
	var seed [32]byte
	rand.Read(seed[:])
	in := linattn.Generate(seed, h.shape)
	ref := linattn.Reference(in)
	werr := make(chan error, 1)
	start := time.Now()
	go func() { werr <- linattn.WriteRequest(h.p.Stdin, in) }()
	out, err := linattn.ReadAnswer(h.p.Stdout, h.shape.N())
	elapsed := time.Since(start)
	i := h.runs
	if errors.Is(err, linattn.ErrBadAnswer) {
		return 0, fmt.Errorf("%w: run %d: %v (did the kernel write on standard output?)", errWrong, i, err)
	}
	if err != nil {
		return 0, fmt.Errorf("run %d: %w", i, err)
	}
	if err := <-werr; err != nil {
		return 0, fmt.Errorf("run %d: sending the request: %w", i, err)
	}
	rel, err := linattn.Compare(out, ref, tolerance)
	h.ev.RelErr = max(h.ev.RelErr, rel)
	if err != nil {
		return 0, fmt.Errorf("%w: run %d: %v", errWrong, i, err)
	}
	return elapsed, nil
}

// finish ends the harness (closing its input, killing it after an error) and fills
// the evaluation from its runs and the time since it started.
func (h *harness) finish() {
	defer h.stop()
	ev, runErr := h.ev, h.err
	h.p.Stdin.Close()
	if runErr != nil {
		h.p.Kill()
	}
	res := h.p.Wait()
	ev.Stages.Bench = time.Since(h.t0)
	ev.Notes = res.Notes
	ev.Log = h.stderr.String()
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
		ev.TokensPerSec = float64(h.league.Length) / ev.Median.Seconds()
		ev.Score = ev.TokensPerSec * h.league.Multiplier
	}
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
