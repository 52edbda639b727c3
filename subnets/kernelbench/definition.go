// Package kernelbench is the kernel league: a subnet where miners optimise a kernel and
// validators ("judges") benchmark it — what QUASAR does, built so that its results can
// be trusted (docs/kernelbench.md). The pieces:
//
//   - Definition: the competition the subnet's owner publishes (target repository,
//     the directory miners may change, import rules, benchmark shape, league table,
//     payout, tolerance, margin, round length, limits), recorded on chain by its hash
//     (modules/league);
//   - Fetch and Check: a hardened git fetch of a submission at its pinned commit, the
//     check that only the allowed directory changed and that the import rules hold,
//     and the content hash that tells a copy from its original;
//   - Bench: the target's harness built and run in the sandbox (package sandbox) on
//     inputs the validator draws afresh for every run, the output compared with the
//     validator's reference (package linattn), timed by the validator, the median of
//     several repetitions;
//   - Rank and Shares: the league multiplier of the length actually run, one entry
//     per hotkey, copies behind their originals, a margin to dethrone the leader, the
//     payout to the top places and the rest to the owner's uid (burnt);
//   - Judge: the validator's loop, reading the chain's submissions and setting exact
//     weights (sdk/weights, sdk/metagraph), with results in SQLite served as a
//     leaderboard (Store, API);
//   - Miner: the miner's agent loop with a model behind an OpenAI-compatible endpoint
//     or the built-in proposer that searches the target's tuning knobs.
package kernelbench

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"path"
	"slices"
	"strings"

	"github.com/tessera-net/tessera/subnets/kernelbench/sandbox"
)

// DefinitionVersion is the version of the definition format this package reads.
const DefinitionVersion = 1

// Definition is a competition, as its JSON file says it.
type Definition struct {
	Version int    `json:"version"`
	Name    string `json:"name"`
	// Target is the repository miners fork and the part of it they may change.
	Target Target `json:"target"`
	// Fetch says which repositories a judge fetches.
	Fetch FetchRules `json:"fetch"`
	// Rules are the checks on the changed files.
	Rules Rules `json:"rules"`
	// Benchmark is the shape of the runs and how they are compared and timed.
	Benchmark Benchmark `json:"benchmark"`
	// Leagues are the sequence lengths that count and their multipliers, increasing.
	Leagues []League `json:"leagues"`
	// Payout is the share of each place, first place first; they sum to at most 1 and
	// the rest goes to the owner's uid.
	Payout []float64 `json:"payout"`
	// Margin is how much better than the leader a challenger must be to take first
	// place: its score must exceed leader × (1 + Margin).
	Margin float64 `json:"margin"`
	// RoundBlocks is the length of a judging round, in blocks.
	RoundBlocks int64 `json:"round_blocks"`
	// Limits bound the sandboxed build and runs.
	Limits RunLimits `json:"limits"`
}

// Target is the repository miners fork.
type Target struct {
	// Repo and Commit are the upstream repository and the commit submissions are
	// compared with.
	Repo   string `json:"repo"`
	Commit string `json:"commit"`
	// AllowedDir is the one directory (relative, slash-separated) a submission may change.
	AllowedDir string `json:"allowed_dir"`
	// Harness is the Go package (relative, "./harness") the judge builds and runs, or,
	// with a Runtime, the directory of the harness that Runtime builds and runs.
	Harness string `json:"harness"`
	// Runtime, when set, replaces the Go build and run: for a harness in another
	// language or on a GPU (see docs/kernelbench.md).
	Runtime *Runtime `json:"runtime,omitempty"`
}

// Runtime is how a harness that is not a Go package is built and run. Both run in the
// sandbox with the checkout read-only at /src; the build has /out writable, the runs see
// it read-only; Mounts add what the harness needs (an interpreter, a virtual
// environment, a CUDA toolkit, device nodes), read-only.
type Runtime struct {
	Mounts []RuntimeMount `json:"mounts,omitempty"`
	// Build is the build command (argv, an absolute path first); empty: no build.
	Build []string `json:"build,omitempty"`
	// Run is the harness command (argv, an absolute path first). It speaks the
	// harness protocol on its standard input and output.
	Run []string `json:"run"`
	// Env is added to both commands' environment ("NAME=value").
	Env []string `json:"env,omitempty"`
}

// RuntimeMount is a host path the runtime's commands see read-only at Target. A target
// under /dev/ binds a device node (the source must be one under /dev/ too), usable.
type RuntimeMount struct {
	Source string `json:"source"`
	Target string `json:"target"`
}

func (rt *Runtime) sandboxMounts() []sandbox.Mount {
	var out []sandbox.Mount
	for _, m := range rt.Mounts {
		out = append(out, sandbox.Mount{Source: m.Source, Target: m.Target, Device: strings.HasPrefix(m.Target, "/dev/")})
	}
	return out
}

// reservedTargets are the sandbox paths the judge mounts itself.
var reservedTargets = []string{"/src", "/out", "/tmp", "/dev/null", "/bin/harness"}

func (rt *Runtime) validate() error {
	absClean := func(p string) bool { return strings.HasPrefix(p, "/") && path.Clean(p) == p && p != "/" }
	for i, m := range rt.Mounts {
		f := fmt.Sprintf("target.runtime.mounts[%d]", i)
		if !absClean(m.Source) {
			return bad(f+".source", "%q is not a clean absolute path", m.Source)
		}
		if !absClean(m.Target) {
			return bad(f+".target", "%q is not a clean absolute path below /", m.Target)
		}
		if m.Target == "/dev" || strings.HasPrefix(m.Target, "/dev/") && !strings.HasPrefix(m.Source, "/dev/") {
			return bad(f+".target", "%q: only device nodes from /dev/ may be bound under /dev/", m.Target)
		}
		for _, r := range reservedTargets {
			if m.Target == r || strings.HasPrefix(m.Target, r+"/") || strings.HasPrefix(r, m.Target+"/") {
				return bad(f+".target", "%q overlaps %s, which the judge mounts", m.Target, r)
			}
		}
	}
	for name, argv := range map[string][]string{"build": rt.Build, "run": rt.Run} {
		if len(argv) > 0 && !absClean(argv[0]) {
			return bad("target.runtime."+name+"[0]", "%q is not an absolute path", argv[0])
		}
	}
	if len(rt.Run) == 0 {
		return bad("target.runtime.run", "is empty")
	}
	for i, e := range rt.Env {
		if k, _, ok := strings.Cut(e, "="); !ok || k == "" {
			return bad(fmt.Sprintf("target.runtime.env[%d]", i), "%q is not NAME=value", e)
		}
	}
	return nil
}

// FetchRules say what a judge fetches.
type FetchRules struct {
	// AllowedHosts are the hosts of https repositories ("github.com").
	AllowedHosts []string `json:"allowed_hosts"`
	// AllowFile allows file:// repositories below one of FileRoots (a devnet's).
	AllowFile bool     `json:"allow_file"`
	FileRoots []string `json:"file_roots,omitempty"`
	// MaxRepoBytes bounds the fetched repository; MaxFiles and MaxTreeBytes the tree.
	MaxRepoBytes   int64 `json:"max_repo_bytes"`
	MaxFiles       int   `json:"max_files"`
	MaxTreeBytes   int64 `json:"max_tree_bytes"`
	TimeoutSeconds int   `json:"timeout_seconds"`
}

// Rules are the checks on the changed files.
type Rules struct {
	// Extensions are the file name endings allowed in the allowed directory.
	Extensions []string `json:"extensions"`
	// ForbiddenImports may not be imported by files of the allowed directory; "p/..."
	// forbids p and everything below it.
	ForbiddenImports []string `json:"forbidden_imports"`
	// RequiredImports must each be imported by some file of the allowed directory.
	RequiredImports []string `json:"required_imports"`
	// ForbiddenDirectives may not appear in any comment ("//go:linkname").
	ForbiddenDirectives []string `json:"forbidden_directives"`
}

// Benchmark is the runs' shape and measurement.
type Benchmark struct {
	Heads int     `json:"heads"`
	Dim   int     `json:"dim"`
	Gamma float32 `json:"gamma"`
	// Tolerance is the largest difference from the reference, relative to the
	// reference's largest value.
	Tolerance float64 `json:"tolerance"`
	// Warmup runs are not timed; Repetitions are, and their median counts.
	Warmup      int `json:"warmup"`
	Repetitions int `json:"repetitions"`
}

// League is one sequence length and its multiplier.
type League struct {
	Length     int     `json:"length"`
	Multiplier float64 `json:"multiplier"`
}

// RunLimits bound the sandboxed build and runs.
type RunLimits struct {
	BuildWallSeconds int    `json:"build_wall_seconds"`
	RunWallSeconds   int    `json:"run_wall_seconds"`
	CPUSeconds       uint64 `json:"cpu_seconds"`
	AddressSpaceMB   uint64 `json:"address_space_mb"`
	MemoryMB         uint64 `json:"memory_mb"`
	Processes        uint64 `json:"processes"`
}

// DefaultLeagues is the league table of the QUASAR seed: 100k tokens → 0.5× up to 1M
// → 3.0×.
func DefaultLeagues() []League {
	return []League{{100_000, 0.5}, {200_000, 0.75}, {300_000, 1.0}, {400_000, 1.25}, {500_000, 1.5},
		{600_000, 1.75}, {700_000, 2.0}, {800_000, 2.25}, {900_000, 2.5}, {1_000_000, 3.0}}
}

// DefaultPayout is 50/30/15/5 % to the top four.
func DefaultPayout() []float64 { return []float64{0.50, 0.30, 0.15, 0.05} }

// DefaultForbiddenImports are the packages a kernel has no business importing:
// processes, the network, files, unsafe memory, reflection and the runtime's knobs.
func DefaultForbiddenImports() []string {
	return []string{"unsafe", "syscall", "os", "os/...", "net", "net/...", "plugin", "reflect", "runtime/debug",
		"runtime/pprof", "C", "golang.org/x/sys/...", "io/ioutil", "io/fs", "time", "embed"}
}

// NewDefinition is a definition with the defaults: the shipped target at repo and
// commit (directory kernel/, harness ./harness), https from github.com only, the
// default league table and payout, a 2 % margin, 4 heads of dimension 16, γ = 0.99,
// tolerance 1e-3, one warm-up and three timed repetitions.
func NewDefinition(repo, commit string) *Definition {
	return &Definition{Version: DefinitionVersion, Name: "linear-attention",
		Target: Target{Repo: repo, Commit: commit, AllowedDir: "kernel", Harness: "./harness"},
		Fetch: FetchRules{AllowedHosts: []string{"github.com"}, MaxRepoBytes: 64 << 20, MaxFiles: 2000,
			MaxTreeBytes: 32 << 20, TimeoutSeconds: 120},
		Rules: Rules{Extensions: []string{".go", ".s"}, ForbiddenImports: DefaultForbiddenImports(),
			ForbiddenDirectives: []string{"//go:linkname", "//go:embed", "//go:cgo_", "#cgo"}},
		Benchmark: Benchmark{Heads: 4, Dim: 16, Gamma: 0.99, Tolerance: 1e-3, Warmup: 1, Repetitions: 3},
		Leagues:   DefaultLeagues(), Payout: DefaultPayout(), Margin: 0.02, RoundBlocks: 20,
		Limits: RunLimits{BuildWallSeconds: 120, RunWallSeconds: 120, CPUSeconds: 300, AddressSpaceMB: 8192,
			MemoryMB: 2048, Processes: 256},
	}
}

// DecodeDefinition reads a definition strictly (unknown fields are errors) and
// validates it.
func DecodeDefinition(raw []byte) (*Definition, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	var d Definition
	if err := dec.Decode(&d); err != nil {
		return nil, fmt.Errorf("competition definition: %w", err)
	}
	if dec.More() {
		return nil, fmt.Errorf("competition definition: data after the JSON object")
	}
	if err := d.Validate(); err != nil {
		return nil, err
	}
	return &d, nil
}

// Hash is the SHA-256 of the definition file's bytes: what league/define records.
func Hash(raw []byte) string {
	h := sha256.Sum256(raw)
	return hex.EncodeToString(h[:])
}

func hashBytes(raw []byte) ([]byte, error) {
	h := sha256.Sum256(raw)
	return h[:], nil
}

// FieldError is a definition refused because of one field.
type FieldError struct {
	Field string // JSON path: "leagues[2].multiplier"
	Msg   string
}

func (e *FieldError) Error() string {
	return "competition definition: " + e.Field + ": " + e.Msg
}

func bad(field, format string, args ...any) error {
	return &FieldError{Field: field, Msg: fmt.Sprintf(format, args...)}
}

func finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }

// cleanRel reports whether p is a clean relative slash path inside the repository.
func cleanRel(p string) bool {
	return p != "" && p != "." && !strings.HasPrefix(p, "/") && path.Clean(p) == p && !strings.HasPrefix(p, "../") &&
		p != ".." && !strings.Contains(p, "\\") && !slices.Contains(strings.Split(p, "/"), ".git")
}

// Validate checks every field; the error is a *FieldError naming the first bad one.
func (d *Definition) Validate() error {
	if d.Version != DefinitionVersion {
		return bad("version", "is %d; this judge reads version %d", d.Version, DefinitionVersion)
	}
	if d.Name == "" || len(d.Name) > 64 {
		return bad("name", "must be 1 to 64 bytes")
	}
	if d.Target.Repo == "" {
		return bad("target.repo", "is empty")
	}
	if !isCommitID(d.Target.Commit) {
		return bad("target.commit", "%q is not 40 lowercase hex digits", d.Target.Commit)
	}
	if !cleanRel(d.Target.AllowedDir) {
		return bad("target.allowed_dir", "%q is not a clean relative directory inside the repository", d.Target.AllowedDir)
	}
	if h, ok := strings.CutPrefix(d.Target.Harness, "./"); !ok || !cleanRel(h) || h == d.Target.AllowedDir || strings.HasPrefix(h, d.Target.AllowedDir+"/") {
		return bad("target.harness", "%q must be ./DIR, outside the allowed directory", d.Target.Harness)
	}
	if d.Target.Runtime != nil {
		if err := d.Target.Runtime.validate(); err != nil {
			return err
		}
	}
	f := d.Fetch
	for i, h := range f.AllowedHosts {
		if h == "" || strings.ContainsAny(h, "/:@ ") || strings.ToLower(h) != h {
			return bad(fmt.Sprintf("fetch.allowed_hosts[%d]", i), "%q is not a lowercase host name", h)
		}
	}
	if len(f.AllowedHosts) == 0 && !f.AllowFile {
		return bad("fetch.allowed_hosts", "is empty and allow_file is false: no repository could be fetched")
	}
	if f.AllowFile && len(f.FileRoots) == 0 {
		return bad("fetch.file_roots", "allow_file needs at least one root directory")
	}
	for i, r := range f.FileRoots {
		if !strings.HasPrefix(r, "/") || path.Clean(r) != r {
			return bad(fmt.Sprintf("fetch.file_roots[%d]", i), "%q is not a clean absolute path", r)
		}
	}
	switch {
	case f.MaxRepoBytes <= 0:
		return bad("fetch.max_repo_bytes", "must be positive")
	case f.MaxFiles <= 0:
		return bad("fetch.max_files", "must be positive")
	case f.MaxTreeBytes <= 0:
		return bad("fetch.max_tree_bytes", "must be positive")
	case f.TimeoutSeconds <= 0 || f.TimeoutSeconds > 3600:
		return bad("fetch.timeout_seconds", "must be 1 to 3600")
	}
	if len(d.Rules.Extensions) == 0 {
		return bad("rules.extensions", "is empty: no file could change")
	}
	for i, e := range d.Rules.Extensions {
		if !strings.HasPrefix(e, ".") || len(e) < 2 || strings.ContainsAny(e, "/ ") {
			return bad(fmt.Sprintf("rules.extensions[%d]", i), "%q is not a file name ending such as \".go\"", e)
		}
	}
	for i, p := range d.Rules.ForbiddenImports {
		if p == "" || strings.ContainsAny(p, " \"") {
			return bad(fmt.Sprintf("rules.forbidden_imports[%d]", i), "%q is not an import path", p)
		}
	}
	for i, p := range d.Rules.RequiredImports {
		if p == "" || strings.ContainsAny(p, " \"") || strings.HasSuffix(p, "/...") {
			return bad(fmt.Sprintf("rules.required_imports[%d]", i), "%q is not an import path", p)
		}
	}
	for i, p := range d.Rules.ForbiddenDirectives {
		if len(p) < 2 {
			return bad(fmt.Sprintf("rules.forbidden_directives[%d]", i), "%q is too short", p)
		}
	}
	b := d.Benchmark
	switch {
	case b.Heads <= 0 || b.Heads > 1024:
		return bad("benchmark.heads", "must be 1 to 1024")
	case b.Dim <= 0 || b.Dim > 1024:
		return bad("benchmark.dim", "must be 1 to 1024")
	case !(b.Gamma > 0 && b.Gamma <= 1):
		return bad("benchmark.gamma", "must be in (0, 1]")
	case !(b.Tolerance > 0 && b.Tolerance < 1):
		return bad("benchmark.tolerance", "must be in (0, 1)")
	case b.Warmup < 0 || b.Warmup > 100:
		return bad("benchmark.warmup", "must be 0 to 100")
	case b.Repetitions <= 0 || b.Repetitions > 100:
		return bad("benchmark.repetitions", "must be 1 to 100")
	}
	if len(d.Leagues) == 0 {
		return bad("leagues", "is empty")
	}
	for i, l := range d.Leagues {
		field := fmt.Sprintf("leagues[%d]", i)
		if l.Length <= 0 || l.Length > 1<<24 {
			return bad(field+".length", "%d is not in 1..%d", l.Length, 1<<24)
		}
		if i > 0 && l.Length <= d.Leagues[i-1].Length {
			return bad(field+".length", "%d does not increase (the previous is %d)", l.Length, d.Leagues[i-1].Length)
		}
		if !finite(l.Multiplier) || l.Multiplier <= 0 || l.Multiplier > 1000 {
			return bad(field+".multiplier", "%v is not in (0, 1000]", l.Multiplier)
		}
		if int64(l.Length)*int64(b.Heads)*int64(b.Dim) > 1<<28 {
			return bad(field+".length", "%d×%d heads×%d dims is more than 2^28 values a run", l.Length, b.Heads, b.Dim)
		}
	}
	if len(d.Payout) == 0 {
		return bad("payout", "is empty")
	}
	var sum float64
	for i, p := range d.Payout {
		if !finite(p) || p <= 0 || p > 1 {
			return bad(fmt.Sprintf("payout[%d]", i), "%v is not in (0, 1]", p)
		}
		if i > 0 && p > d.Payout[i-1] {
			return bad(fmt.Sprintf("payout[%d]", i), "%v is more than the place before it (%v)", p, d.Payout[i-1])
		}
		sum += p
	}
	if sum > 1+1e-9 {
		return bad("payout", "sums to %v, more than 1", sum)
	}
	if !finite(d.Margin) || d.Margin < 0 || d.Margin > 10 {
		return bad("margin", "%v is not in [0, 10]", d.Margin)
	}
	if d.RoundBlocks <= 0 || d.RoundBlocks > 1_000_000 {
		return bad("round_blocks", "must be 1 to 1000000")
	}
	l := d.Limits
	switch {
	case l.BuildWallSeconds <= 0 || l.BuildWallSeconds > 3600:
		return bad("limits.build_wall_seconds", "must be 1 to 3600")
	case l.RunWallSeconds <= 0 || l.RunWallSeconds > 3600:
		return bad("limits.run_wall_seconds", "must be 1 to 3600")
	case l.CPUSeconds == 0:
		return bad("limits.cpu_seconds", "must be positive")
	case l.AddressSpaceMB < 1024:
		return bad("limits.address_space_mb", "must be at least 1024 (the Go runtime reserves address space)")
	case l.MemoryMB == 0:
		return bad("limits.memory_mb", "must be positive")
	case l.Processes < 16:
		return bad("limits.processes", "must be at least 16 (threads count)")
	}
	return nil
}

// LeagueFor is the league a run of a miner's target length falls in: the longest
// league length not above it (ok is false below the shortest).
func (d *Definition) LeagueFor(target int) (League, bool) {
	var out League
	ok := false
	for _, l := range d.Leagues {
		if l.Length <= target {
			out, ok = l, true
		}
	}
	return out, ok
}

func isCommitID(s string) bool {
	if len(s) != 40 {
		return false
	}
	for _, c := range s {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}
