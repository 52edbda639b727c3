package textgen

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Result is a backend's answer.
type Result struct {
	Text         string // the whole completion
	FinishReason string // "stop" or "length"
	Usage        Usage  // tokens of the request and the completion
	Model        string // the model that answered
}

// Backend generates completions. Implementations are safe for concurrent use.
type Backend interface {
	// Generate answers req. When emit is not nil the answer is streamed: each piece of
	// text is passed to emit as it is produced (an error from emit stops generation
	// and is returned), and Result.Text still holds the whole text. Generate returns
	// when ctx ends.
	Generate(ctx context.Context, req Request, emit func(delta string) error) (Result, error)
}

// ErrInjected is the error of a failure the built-in backend was configured to make.
var ErrInjected = errors.New("textgen: injected backend failure")

// BuiltinConfig configures the built-in backend. The zero value answers every task
// right, at once.
type BuiltinConfig struct {
	// Model is the name it answers as (default "tessera-builtin").
	Model string
	// Latency is waited before the first token; Jitter adds up to that much more,
	// drawn from the seeded source.
	Latency time.Duration
	Jitter  time.Duration // see Latency
	// TokensPerSecond paces the tokens after the first (0: no pacing).
	TokensPerSecond float64
	// WrongRate is the probability in [0,1] of a wrong answer; FailRate of failing
	// with ErrInjected before the first token.
	WrongRate float64
	FailRate  float64 // see WrongRate
	// Seed seeds the random source of jitter, wrong answers and failures.
	Seed uint64
	// MaxTokens is the completion limit when a request gives none (default 256).
	MaxTokens int
	// Corpus is the lookup corpus (default DefaultCorpus()).
	Corpus *Corpus
}

// Builtin is the test backend: it needs no model, solves the checkable tasks of this
// package (ParseTask) and answers free prompts with FreeText, canned filler that starts
// with TestBackendMarker. It is deterministic except for what its seeded source decides
// (jitter, wrong answers, failures). A validator whose reference is a Builtin draws
// checkable tasks only (JudgesFreeText).
type Builtin struct {
	cfg BuiltinConfig
	mu  sync.Mutex
	rng *rand.Rand
}

// NewBuiltin makes a built-in backend; out-of-range rates are an error.
func NewBuiltin(cfg BuiltinConfig) (*Builtin, error) {
	if !(cfg.WrongRate >= 0 && cfg.WrongRate <= 1) {
		return nil, fmt.Errorf("textgen: builtin WrongRate %v is not in [0,1]", cfg.WrongRate)
	}
	if !(cfg.FailRate >= 0 && cfg.FailRate <= 1) {
		return nil, fmt.Errorf("textgen: builtin FailRate %v is not in [0,1]", cfg.FailRate)
	}
	if cfg.Latency < 0 || cfg.Jitter < 0 || !(cfg.TokensPerSecond >= 0) {
		return nil, fmt.Errorf("textgen: builtin Latency, Jitter and TokensPerSecond must not be negative")
	}
	if cfg.Model == "" {
		cfg.Model = "tessera-builtin"
	}
	if cfg.MaxTokens <= 0 {
		cfg.MaxTokens = 256
	}
	if cfg.Corpus == nil {
		cfg.Corpus = DefaultCorpus()
	}
	return &Builtin{cfg: cfg, rng: rand.New(rand.NewPCG(cfg.Seed, cfg.Seed+1))}, nil
}

// Model returns the name the backend answers as.
func (b *Builtin) Model() string { return b.cfg.Model }

// CannedFreeText reports true: the built-in backend's free-text answers are filler, so
// it cannot be a validator's reference for free prompts (JudgesFreeText).
func (*Builtin) CannedFreeText() bool { return true }

// draw takes this call's random decisions at once, so one call holds the lock once.
func (b *Builtin) draw() (fail, wrong bool, jitter time.Duration, r uint64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	fail = b.cfg.FailRate > 0 && b.rng.Float64() < b.cfg.FailRate
	wrong = b.cfg.WrongRate > 0 && b.rng.Float64() < b.cfg.WrongRate
	if b.cfg.Jitter > 0 {
		jitter = time.Duration(b.rng.Int64N(int64(b.cfg.Jitter) + 1))
	}
	return fail, wrong, jitter, b.rng.Uint64()
}

// Answer is the built-in backend's right answer to a request: the answer of the task
// in the last user message, or FreeText for a free prompt.
func (b *Builtin) Answer(req Request) string {
	prompt := req.LastUser()
	t, ok := ParseTask(prompt, b.cfg.Corpus)
	switch {
	case t.Kind == Free:
		var seed int64
		if req.Seed != nil {
			seed = *req.Seed
		}
		return FreeText(prompt, seed, b.cfg.Corpus)
	case !ok:
		return "I cannot answer this task: its data are malformed."
	default:
		return t.Answer
	}
}

// Generate implements Backend.
func (b *Builtin) Generate(ctx context.Context, req Request, emit func(string) error) (Result, error) {
	if err := req.Validate(); err != nil {
		return Result{}, err
	}
	fail, wrong, jitter, r := b.draw()
	if err := sleep(ctx, b.cfg.Latency+jitter); err != nil {
		return Result{}, err
	}
	if fail {
		return Result{}, ErrInjected
	}
	text := b.Answer(req)
	if wrong {
		if t, _ := ParseTask(req.LastUser(), b.cfg.Corpus); t.Kind == Free {
			// A wrong free answer: other facts, which a similarity check notices (a
			// shuffle of the right words would not).
			other := req
			other.Seed = new(int64(r>>1) + 1)
			if req.Seed != nil {
				*other.Seed += *req.Seed
			}
			text = b.Answer(other)
		} else {
			text = Corrupt(text, r)
		}
	}
	limit := req.MaxTokens
	if limit <= 0 {
		limit = b.cfg.MaxTokens
	}
	pieces := splitTokens(text)
	finish := "stop"
	if len(pieces) > limit {
		pieces, finish = pieces[:limit], "length"
		text = strings.Join(pieces, "")
	}
	text, pieces, finish = applyStop(text, pieces, req.Stop, finish)
	var gap time.Duration
	if b.cfg.TokensPerSecond > 0 {
		gap = time.Duration(float64(time.Second) / b.cfg.TokensPerSecond)
	}
	// Token i is due at first + i·gap: pacing against the clock, not by sleeping a gap
	// after each token, keeps the rate right when timers fire late.
	first := time.Now()
	for i, p := range pieces {
		if i > 0 && gap > 0 {
			if err := sleep(ctx, time.Until(first.Add(time.Duration(i)*gap))); err != nil {
				return Result{}, err
			}
		}
		if emit != nil {
			if err := emit(p); err != nil {
				return Result{}, err
			}
		}
	}
	pt := PromptTokens(req.Messages)
	return Result{
		Text: text, FinishReason: finish, Model: b.cfg.Model,
		Usage: Usage{PromptTokens: pt, CompletionTokens: len(pieces), TotalTokens: pt + len(pieces)},
	}, nil
}

// applyStop cuts text at the first stop sequence.
func applyStop(text string, pieces []string, stops []string, finish string) (string, []string, string) {
	cut := -1
	for _, s := range stops {
		if s == "" {
			continue
		}
		if i := strings.Index(text, s); i >= 0 && (cut < 0 || i < cut) {
			cut = i
		}
	}
	if cut < 0 {
		return text, pieces, finish
	}
	text = text[:cut]
	return text, splitTokens(text), "stop"
}

// splitTokens cuts a text into the built-in backend's tokens: each word with the
// space before it.
func splitTokens(s string) []string {
	var out []string
	start := 0
	for i := 1; i < len(s); i++ {
		if s[i] == ' ' && s[i-1] != ' ' {
			out = append(out, s[start:i])
			start = i
		}
	}
	if start < len(s) {
		out = append(out, s[start:])
	}
	return out
}

// Corrupt returns a wrong variant of an answer, chosen by r: a number moved by 1 to 9,
// a list with two items swapped or one changed, a word with a letter changed. The
// result always differs from the answer.
func Corrupt(answer string, r uint64) string {
	if v, err := strconv.ParseInt(answer, 10, 64); err == nil {
		d := int64(r%9) + 1
		if r&(1<<8) != 0 {
			d = -d
		}
		return strconv.FormatInt(v+d, 10)
	}
	f := strings.Fields(answer)
	if len(f) > 1 {
		i := int(r % uint64(len(f)))
		j := (i + 1 + int((r>>8)%uint64(len(f)-1))) % len(f)
		if f[i] != f[j] {
			f[i], f[j] = f[j], f[i]
		} else {
			f[i] += "x"
		}
		return strings.Join(f, " ")
	}
	rs := []rune(answer)
	if len(rs) == 0 {
		return "?"
	}
	i := int(r % uint64(len(rs)))
	repl := 'a' + rune((r>>8)%26)
	if rs[i] == repl || rs[i] == repl-'a'+'A' {
		repl = 'a' + (repl-'a'+1)%26
	}
	rs[i] = repl
	out := string(rs)
	if strings.EqualFold(out, answer) {
		out += "x"
	}
	return out
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
