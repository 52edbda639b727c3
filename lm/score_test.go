package lm

import (
	"context"
	"reflect"
	"testing"
)

// TestScoreReplaysGeneration: scoring a generated completion gives back exactly the
// log-probabilities and alternatives that generation reported, and changing one token
// changes that position's score.
func TestScoreReplaysGeneration(t *testing.T) {
	for _, m := range []*Model{randomModel(t, Options{Threads: 2}), loadFixture(t, Options{Threads: 2})} {
		s, err := SamplingFromFloats(1, 0.9, 0, 11)
		if err != nil {
			t.Fatal(err)
		}
		prompt := m.Tokenizer.Encode("Scoring replays what generation did", true)
		steps, _, err := m.Generate(context.Background(), Request{Prompt: prompt, MaxTokens: 70, Sampling: s,
			TopLogprobs: 5, IgnoreEOS: true}, nil)
		if err != nil {
			t.Fatal(err)
		}
		toks := make([]int32, len(steps))
		for i, st := range steps {
			toks[i] = st.ID
		}
		got, err := m.Score(context.Background(), prompt, toks, 5)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, steps) {
			t.Fatalf("scores differ from generation:\n got %v\nwant %v", got, steps)
		}
		j := len(toks) / 2
		toks[j] = (toks[j] + 1) % int32(m.Config.Vocab)
		changed, err := m.Score(context.Background(), prompt, toks, 5)
		if err != nil {
			t.Fatal(err)
		}
		if changed[j].Logprob == steps[j].Logprob {
			t.Fatalf("position %d: a different token scored the same %d", j, changed[j].Logprob)
		}
		if !reflect.DeepEqual(changed[:j], steps[:j]) {
			t.Fatalf("positions before %d changed", j)
		}
	}
}
