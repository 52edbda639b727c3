package kernelbench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// Proposer proposes a change to the allowed directory: given the current best files
// (path relative to the repository → content) and the feedback on the last attempt
// ("" when it was not a failure), it returns the files to write (a changed subset) and
// a one-line description. ErrExhausted means it has nothing more to try.
type Proposer interface {
	Propose(ctx context.Context, best map[string]string, feedback string) (files map[string]string, what string, err error)
}

// ErrExhausted is a proposer with nothing left to try.
var ErrExhausted = errors.New("the proposer has nothing more to try")

// knobRE finds a tuning knob: "Name = 64 // knob: 4..512".
var knobRE = regexp.MustCompile(`(?m)^(\s*)([A-Za-z_][A-Za-z0-9_]*)(\s*=\s*)([0-9]+)(\s*//\s*knob:\s*([0-9]+)\.\.([0-9]+).*)$`)

// Knob is one tuning knob of the target.
type Knob struct {
	File     string
	Name     string
	Value    int
	Min, Max int
}

// FindKnobs lists the knobs in files, in file and line order.
func FindKnobs(files map[string]string) []Knob {
	var paths []string
	for p := range files {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	var out []Knob
	for _, p := range paths {
		for _, m := range knobRE.FindAllStringSubmatch(files[p], -1) {
			v, _ := strconv.Atoi(m[4])
			lo, _ := strconv.Atoi(m[6])
			hi, _ := strconv.Atoi(m[7])
			out = append(out, Knob{File: p, Name: m[2], Value: v, Min: lo, Max: hi})
		}
	}
	return out
}

// SetKnob returns content with knob name set to v.
func SetKnob(content, name string, v int) string {
	return knobRE.ReplaceAllStringFunc(content, func(line string) string {
		m := knobRE.FindStringSubmatch(line)
		if m[2] != name {
			return line
		}
		return m[1] + m[2] + m[3] + strconv.Itoa(v) + m[5]
	})
}

// KnobProposer searches the documented tuning knobs (the "// knob: MIN..MAX" lines):
// from the current best, each knob doubled and halved within its range, one at a time,
// every configuration tried once. It needs no model, so the loop runs on a devnet.
type KnobProposer struct {
	tried map[string]bool
}

// Propose implements Proposer.
func (p *KnobProposer) Propose(_ context.Context, best map[string]string, _ string) (map[string]string, string, error) {
	if p.tried == nil {
		p.tried = map[string]bool{}
	}
	knobs := FindKnobs(best)
	if len(knobs) == 0 {
		return nil, "", fmt.Errorf("%w: no knob (a line \"Name = 8 // knob: 1..64\") in the allowed directory", ErrExhausted)
	}
	key := func(ks []Knob) string {
		var b strings.Builder
		for _, k := range ks {
			fmt.Fprintf(&b, "%s=%d ", k.Name, k.Value)
		}
		return b.String()
	}
	p.tried[key(knobs)] = true
	for i, k := range knobs {
		for _, v := range []int{k.Value * 2, k.Value / 2} {
			if v < k.Min || v > k.Max || v == k.Value {
				continue
			}
			cand := append([]Knob(nil), knobs...)
			cand[i].Value = v
			if p.tried[key(cand)] {
				continue
			}
			p.tried[key(cand)] = true
			return map[string]string{k.File: SetKnob(best[k.File], k.Name, v)}, fmt.Sprintf("%s %d → %d", k.Name, k.Value, v), nil
		}
	}
	return nil, "", ErrExhausted
}

// OpenAIProposer asks a model behind an OpenAI-compatible chat completions endpoint
// (the Tessera gateway, `tessera lm serve`, or any other) for a new version of the
// kernel's files. The answer must hold each changed file as a fenced block whose info
// line names it: ```go file=kernel/kernel.go.
type OpenAIProposer struct {
	// Endpoint is the API's base URL ("http://127.0.0.1:8080/v1" or without /v1).
	Endpoint string
	Model    string
	APIKey   string
	// Rules describe the competition to the model (the allowed directory, the rules).
	Rules string
	// Client sends the requests (http.DefaultClient when nil).
	Client *http.Client
}

var fenceRE = regexp.MustCompile("(?s)```[a-z]*[ \t]+file=([^\\s`]+)[^\n]*\n(.*?)\n```")

// Propose implements Proposer.
func (p *OpenAIProposer) Propose(ctx context.Context, best map[string]string, feedback string) (map[string]string, string, error) {
	var paths []string
	for f := range best {
		paths = append(paths, f)
	}
	sort.Strings(paths)
	var user strings.Builder
	user.WriteString("The current files:\n\n")
	for _, f := range paths {
		fmt.Fprintf(&user, "```go file=%s\n%s\n```\n\n", f, strings.TrimRight(best[f], "\n"))
	}
	if feedback != "" {
		fmt.Fprintf(&user, "Your last change failed:\n%s\nFix it.\n", feedback)
	} else {
		user.WriteString("Make the kernel faster without changing its results. Reply with every file you change in full, each as a fenced block ```go file=PATH.\n")
	}
	body, _ := json.Marshal(map[string]any{
		"model": p.Model,
		"messages": []map[string]string{
			{"role": "system", "content": "You optimise a Go kernel for a benchmark competition. " + p.Rules},
			{"role": "user", "content": user.String()},
		},
		"temperature": 0.2,
	})
	url := strings.TrimSuffix(p.Endpoint, "/")
	if !strings.HasSuffix(url, "/v1") {
		url += "/v1"
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url+"/chat/completions", bytes.NewReader(body))
	if err != nil {
		return nil, "", err
	}
	req.Header.Set("Content-Type", "application/json")
	if p.APIKey != "" {
		req.Header.Set("Authorization", "Bearer "+p.APIKey)
	}
	c := p.Client
	if c == nil {
		c = http.DefaultClient
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, "", fmt.Errorf("the model: %w", err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if resp.StatusCode != http.StatusOK {
		return nil, "", fmt.Errorf("the model: %s: %.200s", resp.Status, raw)
	}
	var out struct {
		Choices []struct {
			Message struct {
				Content string `json:"content"`
			} `json:"message"`
		} `json:"choices"`
	}
	if err := json.Unmarshal(raw, &out); err != nil || len(out.Choices) == 0 {
		return nil, "", fmt.Errorf("the model's answer is not a chat completion: %.200s", raw)
	}
	files := map[string]string{}
	for _, m := range fenceRE.FindAllStringSubmatch(out.Choices[0].Message.Content, -1) {
		if _, ok := best[m[1]]; !ok && !strings.HasPrefix(m[1], firstDir(paths)) {
			continue // outside the allowed directory: the checks would refuse it anyway
		}
		files[m[1]] = m[2] + "\n"
	}
	if len(files) == 0 {
		return nil, "", errors.New("the model's answer holds no ```go file=PATH block")
	}
	return files, "model change", nil
}

func firstDir(paths []string) string {
	if len(paths) == 0 {
		return "\x00"
	}
	return strings.SplitN(paths[0], "/", 2)[0] + "/"
}

// MinerConfig configures Mine.
type MinerConfig struct {
	// Repo is the miner's working copy: a git clone of the target.
	Repo string
	// Definition is the competition definition's bytes.
	Definition []byte
	// Work is the local judge's directory.
	Work string
	// TargetLength is the length to compete at.
	TargetLength int
	// Iterations bounds the proposals; Retries the attempts to fix a failed one with
	// its error fed back.
	Iterations, Retries int
	Proposer            Proposer
	// Publish, when set, is called with each new best commit (it commits and reveals it
	// on chain).
	Publish func(ctx context.Context, commit string, ev *Evaluation) error
	Log     *slog.Logger
}

// MineResult is the loop's outcome.
type MineResult struct {
	Commit     string
	Evaluation *Evaluation
	Attempts   int
	Published  int
}

// Mine runs the miner's loop: judge the working copy as it is (the baseline), then
// repeatedly ask the proposer for a change, apply it, commit it and judge it locally
// with the validator's own checks and sandbox; a failure goes back to the proposer
// (at most Retries times a proposal); a change that beats the best by the competition's
// margin becomes the new best, and is published.
func Mine(ctx context.Context, cfg MinerConfig) (*MineResult, error) {
	def, err := DecodeDefinition(cfg.Definition)
	if err != nil {
		return nil, err
	}
	log := cfg.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	repo, err := filepath.Abs(cfg.Repo)
	if err != nil {
		return nil, err
	}
	// The local judge fetches the working copy itself, as a validator would.
	local := *def
	local.Fetch.AllowFile, local.Fetch.FileRoots = true, []string{filepath.Dir(repo)}
	runner := &Runner{Def: &local, Work: cfg.Work, Log: log}
	head, err := gitWork(ctx, repo, "rev-parse", "HEAD")
	if err != nil {
		return nil, err
	}
	res := &MineResult{Commit: strings.TrimSpace(string(head))}
	res.Evaluation = runner.Evaluate(ctx, "file://"+repo, res.Commit, cfg.TargetLength)
	if !res.Evaluation.OK {
		return res, fmt.Errorf("the working copy itself fails the judge's checks: %s: %s", res.Evaluation.Reason, res.Evaluation.Message)
	}
	log.Info("baseline", "commit", res.Commit, "score", int64(res.Evaluation.Score), "tokens_per_sec", int64(res.Evaluation.TokensPerSec))
	for it := 0; it < cfg.Iterations && ctx.Err() == nil; it++ {
		best, err := readAllowed(repo, def.Target.AllowedDir)
		if err != nil {
			return res, err
		}
		feedback := ""
		for try := 0; try <= cfg.Retries; try++ {
			files, what, err := cfg.Proposer.Propose(ctx, best, feedback)
			if errors.Is(err, ErrExhausted) {
				log.Info("the proposer has nothing more to try", "reason", err)
				return res, nil
			}
			if err != nil {
				feedback = err.Error()
				log.Warn("proposal failed", "err", err)
				continue
			}
			res.Attempts++
			commit, err := applyAndCommit(ctx, repo, files, what)
			if err != nil {
				return res, err
			}
			ev := runner.Evaluate(ctx, "file://"+repo, commit, cfg.TargetLength)
			log.Info("attempt", "change", what, "ok", ev.OK, "reason", ev.Reason, "score", int64(ev.Score), "best", int64(res.Evaluation.Score))
			if !ev.OK {
				feedback = fmt.Sprintf("%s: %s\n%s", ev.Reason, ev.Message, lastLines(ev.Log, 20))
				resetTo(ctx, repo, res.Commit)
				continue
			}
			if ev.Score > res.Evaluation.Score*(1+def.Margin) {
				res.Commit, res.Evaluation = commit, ev
				log.Info("new best", "commit", commit, "score", int64(ev.Score))
				if cfg.Publish != nil {
					if err := cfg.Publish(ctx, commit, ev); err != nil {
						return res, fmt.Errorf("publishing %s: %w", commit, err)
					}
					res.Published++
				}
			} else {
				resetTo(ctx, repo, res.Commit)
			}
			break
		}
	}
	return res, nil
}

func readAllowed(repo, dir string) (map[string]string, error) {
	out := map[string]string{}
	root := filepath.Join(repo, filepath.FromSlash(dir))
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		raw, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(repo, p)
		out[filepath.ToSlash(rel)] = string(raw)
		return nil
	})
	return out, err
}

func applyAndCommit(ctx context.Context, repo string, files map[string]string, what string) (string, error) {
	for p, content := range files {
		if !cleanRel(p) {
			return "", fmt.Errorf("the proposer named the path %q", p)
		}
		full := filepath.Join(repo, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			return "", err
		}
		if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
			return "", err
		}
	}
	return CommitAll(ctx, repo, "kernelbench mine: "+what)
}

func resetTo(ctx context.Context, repo, commit string) {
	gitWork(ctx, repo, "reset", "-q", "--hard", commit)
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
