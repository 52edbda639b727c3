package lm

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/tessera-net/tessera/lm/fixed"
)

// generated is a completion Generate made, with its sampling.
type generated struct {
	prompt []int32
	s      Sampling
	top    int
	steps  []Step
}

func (g generated) tokens() []int32 {
	out := make([]int32, len(g.steps))
	for i, st := range g.steps {
		out[i] = st.ID
	}
	return out
}

func generate(t testing.TB, m *Model, temp, topP float64, topK int, seed uint64, n, top int) generated {
	t.Helper()
	s, err := SamplingFromFloats(temp, topP, topK, seed)
	if err != nil {
		t.Fatal(err)
	}
	prompt := m.Tokenizer.Encode("Replay checks what generation did, token by token", true)
	steps, _, err := m.Generate(context.Background(), Request{Prompt: prompt, MaxTokens: n, Sampling: s, TopLogprobs: top, IgnoreEOS: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return generated{prompt, s, top, steps}
}

// TestReplay: a generated completion replays exactly, under every kind of sampling;
// a changed token, log-probability, top entry, seed or length fails at its position.
func TestReplay(t *testing.T) {
	ctx := context.Background()
	models := map[string]*Model{"random": randomModel(t, Options{Threads: 2})}
	for _, m := range models {
		for _, sp := range []struct {
			temp, topP float64
			topK       int
			seed       uint64
		}{{0, 1, 0, 0}, {1, 1, 0, 7}, {0.7, 0.9, 40, 1 << 60}, {1.3, 0.5, 0, 3}} {
			name := fmt.Sprintf("t=%v,p=%v,k=%d,seed=%d", sp.temp, sp.topP, sp.topK, sp.seed)
			t.Run(name, func(t *testing.T) {
				// 150 tokens: the replay crosses several prefill chunks.
				g := generate(t, m, sp.temp, sp.topP, sp.topK, sp.seed, 150, 5)
				toks := g.tokens()
				r, err := m.Replay(ctx, g.prompt, toks, g.s, g.top, g.steps)
				if err != nil {
					t.Fatal(err)
				}
				if !r.Match || r.Position != -1 || r.Reason != "" || len(r.Steps) != len(g.steps) {
					t.Fatalf("honest completion: match %v at %d (%s), %d steps", r.Match, r.Position, r.Reason, len(r.Steps))
				}
				for i := range g.steps {
					if diffStep(g.steps[i], r.Steps[i]) != "" {
						t.Fatalf("step %d recomputed differently", i)
					}
				}
				if r, _ := m.Replay(ctx, g.prompt, toks, g.s, g.top, nil); !r.Match {
					t.Fatalf("without reported steps: %s", r.Reason)
				}

				j := len(toks) / 3
				altered := slices.Clone(toks)
				altered[j] = (altered[j] + 1) % int32(m.Config.Vocab)
				rep := slices.Clone(g.steps)
				rep[j].ID = altered[j]
				r, err = m.Replay(ctx, g.prompt, altered, g.s, g.top, rep)
				if err != nil || r.Match || r.Position != j {
					t.Fatalf("one changed token: match %v at %d (%s), err %v; want a mismatch at %d", r.Match, r.Position, r.Reason, err, j)
				}

				cases := []struct {
					name string
					edit func([]Step) []Step
					at   int
				}{
					{"logprob", func(s []Step) []Step { s[j].Logprob--; return s }, j},
					{"top value", func(s []Step) []Step {
						s[j].Top = slices.Clone(s[j].Top)
						s[j].Top[4].Logprob++
						return s
					}, j},
					{"top length", func(s []Step) []Step { s[j].Top = s[j].Top[:4]; return s }, j},
					{"reported id", func(s []Step) []Step { s[j].ID = (s[j].ID + 1) % int32(m.Config.Vocab); return s }, j},
					{"short", func(s []Step) []Step { return s[:j] }, j},
					{"long", func(s []Step) []Step { return append(s, s[0]) }, len(toks)},
				}
				for _, c := range cases {
					rep := c.edit(slices.Clone(g.steps))
					r, err := m.Replay(ctx, g.prompt, toks, g.s, g.top, rep)
					if err != nil || r.Match || r.Position != c.at || r.Reason == "" {
						t.Errorf("%s: match %v at %d (%q), err %v; want a mismatch at %d", c.name, r.Match, r.Position, r.Reason, err, c.at)
					}
				}
				if sp.temp > 0 {
					other := g.s
					other.Seed++
					if r, _ := m.Replay(ctx, g.prompt, toks, other, g.top, g.steps); r.Match {
						t.Error("another seed replays the same completion")
					}
				}
			})
		}
	}
}

func TestReplayFixture(t *testing.T) {
	m := loadFixture(t, Options{Threads: 2})
	g := generate(t, m, 1, 0.95, 0, 42, 100, 5)
	r, err := m.Replay(context.Background(), g.prompt, g.tokens(), g.s, g.top, g.steps)
	if err != nil || !r.Match {
		t.Fatalf("the fixture's completion: match %v (%s), err %v", r.Match, r.Reason, err)
	}
}

func TestReplayRefuses(t *testing.T) {
	m := randomModel(t, Options{})
	ctx := context.Background()
	long := make([]int32, m.Config.Context)
	cases := []struct {
		name               string
		prompt, completion []int32
		top                int
	}{
		{"no prompt", nil, []int32{1}, 0},
		{"no completion", []int32{1}, nil, 0},
		{"top", []int32{1}, []int32{1}, MaxTopLogprobs + 1},
		{"context", long, []int32{1, 2}, 0},
		{"vocabulary", []int32{1}, []int32{int32(m.Config.Vocab)}, 0},
	}
	for _, c := range cases {
		if _, err := m.Replay(ctx, c.prompt, c.completion, Sampling{}, c.top, nil); !errors.Is(err, ErrRequest) {
			t.Errorf("%s: err %v, want ErrRequest", c.name, err)
		}
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := m.Replay(cctx, []int32{1, 2}, []int32{3}, Sampling{}, 0, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: err %v", err)
	}
}

// BenchmarkReplay256 is the validator's exact check of a 256-token completion (a
// 32-token prompt, temperature 1, top-5 log-probabilities): on the shared tiny llama
// (skipped when ../shared/models lacks it) and on the tiny random model. Run it on one
// core: go test -run - -bench Replay256 -cpu 1 ./lm (the target is under 50 ms). It also
// reports the process's CPU time per replay (cpu-ms/op), which a busy machine does not
// inflate as it does the wall time.
func BenchmarkReplay256(b *testing.B) {
	for _, name := range []string{"llama-2-tiny-random", "random-tiny"} {
		b.Run(name, func(b *testing.B) {
			var m *Model
			if name == "random-tiny" {
				d := Presets["tiny"]
				d.Context = 512 // room for the prompt and 256 tokens
				var err error
				if m, err = Random(d, testSeed, Options{Threads: 1}); err != nil {
					b.Fatal(err)
				}
				b.Cleanup(m.Close)
			} else {
				m = loadFixture(b, Options{Threads: 1})
			}
			s, _ := SamplingFromFloats(1, 1, 0, 9)
			prompt := make([]int32, 32)
			for i := range prompt {
				prompt[i] = int32(1 + (37*i)%(m.Config.Vocab-1))
			}
			n := min(256, m.Config.Context-len(prompt))
			steps, _, err := m.Generate(context.Background(), Request{Prompt: prompt, MaxTokens: n, Sampling: s, TopLogprobs: 5, IgnoreEOS: true}, nil)
			if err != nil {
				b.Fatal(err)
			}
			toks := make([]int32, len(steps))
			for i, st := range steps {
				toks[i] = st.ID
			}
			expTable() // built once per process, on the first replay
			b.ResetTimer()
			cpu := cpuTime()
			for b.Loop() {
				r, err := m.Replay(context.Background(), prompt, toks, s, 5, steps)
				if err != nil || !r.Match {
					b.Fatalf("replay: %v %s", err, r.Reason)
				}
			}
			b.ReportMetric(float64(len(toks)), "tokens")
			if c := cpuTime(); c > 0 {
				// On a machine shared with other work, the CPU time per replay is the
				// figure that compares with the target (wall time counts the waits).
				b.ReportMetric(float64(c-cpu)/1e6/float64(b.N), "cpu-ms/op")
			}
		})
	}
}

// TestPositionIsNext: the replay's per-position work draws exactly the token Next
// draws and computes exactly the step generation reports, over logits with many ties
// and every kind of sampling, step after step, whether the completion's token is the
// drawn one or not.
func TestPositionIsNext(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for trial := range 400 {
		n := 1 + rng.IntN(700)
		spread := 1 + rng.IntN(1<<(2+rng.IntN(22)))
		logits := make([]int32, n)
		for i := range logits {
			logits[i] = int32(rng.IntN(spread) - spread/2)
		}
		temp := []float64{0, 0.3, 1, 1.7, 1}[trial%5]
		topP := []float64{1, 0.9, 0.5, 0.05, 0, 0.99, 1}[trial%7]
		topK := []int{0, 0, n, n + 3, 5, 0}[trial%6]
		s, err := SamplingFromFloats(temp, topP, topK, uint64(trial))
		if err != nil {
			t.Fatal(err)
		}
		a, b := NewSampler(s), NewSampler(s)
		var rs replayScratch
		var ids []int
		top := trial % 6
		for k := range 20 {
			if k > 0 { // the next step's logits: a few moved
				for range 3 {
					logits[rng.IntN(n)] += int32(rng.IntN(spread+1) - spread/2)
				}
			}
			want := a.Next(logits)
			tok := want
			if rng.IntN(3) == 0 {
				tok = int32(rng.IntN(n))
			}
			st, got := rs.position(logits, tok, top, b)
			if got != want {
				t.Fatalf("trial %d step %d (n %d, %+v): Next %d, position %d", trial, k, n, s, want, got)
			}
			var ws Step
			ws, ids = step(logits, tok, top, ids)
			if diffStep(ws, st) != "" {
				t.Fatalf("trial %d step %d: step %+v, position %+v", trial, k, ws, st)
			}
		}
	}
}

func TestDivider(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for range 100000 {
		s := uint64(1<<30) + rng.Uint64N(1<<45)
		a := rng.Uint64N(1 << 61)
		if rng.IntN(4) == 0 {
			a = (a % 64) * s / 2 // near the halves
		}
		d := newDivider(s)
		q, r := a/s, a%s
		if r >= s-r {
			q++
		}
		if got := d.div(a); got != q {
			t.Fatalf("%d / %d: %d, want %d", a, s, got, q)
		}
	}
}

func TestExpTable(t *testing.T) {
	tab := expTable()
	if fixed.Exp(int32(-len(tab))) != 0 || fixed.Exp(int32(-len(tab)+1)) == 0 || tab[0] != 1<<30 {
		t.Fatalf("the table ends at %d", len(tab))
	}
	for _, d := range []int64{0, 1, 65536, int64(len(tab)) - 1, int64(len(tab)), 1 << 31, 1 << 32} {
		m, v := int32(5), int32(int64(5)-d)
		if int64(5)-d < math.MinInt32 {
			m, v = math.MaxInt32, int32(int64(math.MaxInt32)-d)
		}
		if got, want := expDiff(tab, m, v), fixed.Exp(fixed.Sat32(int64(v)-int64(m))); got != want {
			t.Fatalf("d %d: %d, want %d", d, got, want)
		}
	}
}

// BenchmarkPosition is the replay's work on one position of a 32000-token vocabulary,
// besides the forward pass, against generation's (step and Next). The replay's figure
// includes a Next of its own (drawing the honest token it checks): subtract
// generation's Next to compare.
func BenchmarkPosition(b *testing.B) {
	rng := rand.New(rand.NewPCG(3, 4))
	logits := make([]int32, 32000)
	for i := range logits {
		logits[i] = int32(rng.IntN(8<<16) - 4<<16)
	}
	expTable()
	for _, topP := range []float64{1, 0.95} {
		s, _ := SamplingFromFloats(1, topP, 0, 1)
		b.Run(fmt.Sprintf("top_p=%v/generation", topP), func(b *testing.B) {
			sm := NewSampler(s)
			var ids []int
			cpu := cpuTime()
			for b.Loop() {
				tok := sm.Next(logits)
				_, ids = step(logits, tok, 5, ids)
			}
			if c := cpuTime(); c > 0 {
				b.ReportMetric(float64(c-cpu)/1e3/float64(b.N), "cpu-µs/op")
			}
		})
		b.Run(fmt.Sprintf("top_p=%v/replay", topP), func(b *testing.B) {
			twin := NewSampler(s)
			toks := make([]int32, b.N) // the honest tokens, drawn before the timer
			for i := range toks {
				toks[i] = twin.Next(logits)
			}
			sm := NewSampler(s)
			var rs replayScratch
			b.ResetTimer()
			cpu := cpuTime()
			for i := 0; i < b.N; i++ {
				if _, got := rs.position(logits, toks[i], 5, sm); got != toks[i] {
					b.Fatal("the replay draws another token")
				}
			}
			if c := cpuTime(); c > 0 {
				b.ReportMetric(float64(c-cpu)/1e3/float64(b.N), "cpu-µs/op")
			}
		})
	}
}
