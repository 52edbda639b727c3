package lm

import (
	"context"
	"errors"
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

// TestHiddenStates: Forward with Hidden gives the output norm's states (Dim values per
// wanted row) and no logits; batched with a logits item, both come out as they would alone.
func TestHiddenStates(t *testing.T) {
	m := randomModel(t, Options{Threads: 2})
	alone := []Item{{Seq: m.NewSequence(), Tokens: []int32{1, 7, 9}, Hidden: true, All: true}}
	if err := m.Forward(alone); err != nil {
		t.Fatal(err)
	}
	if len(alone[0].States) != 3 || len(alone[0].Logits) != 0 || len(alone[0].States[2]) != m.Config.Dim {
		t.Fatalf("%d states, %d logits", len(alone[0].States), len(alone[0].Logits))
	}
	mixed := []Item{{Seq: m.NewSequence(), Tokens: []int32{4, 4}}, {Seq: m.NewSequence(), Tokens: []int32{1, 7, 9}, Hidden: true, All: true}}
	if err := m.Forward(mixed); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(mixed[1].States, alone[0].States) || len(mixed[0].Logits) != 1 {
		t.Fatal("a batch changed the hidden states")
	}
	if reflect.DeepEqual(alone[0].States[1], alone[0].States[2]) {
		t.Fatal("two positions gave the same state")
	}
}

// TestRequestErrors: a request the model cannot take is refused with ErrRequest.
func TestRequestErrors(t *testing.T) {
	m := randomModel(t, Options{})
	ctx := context.Background()
	for name, err := range map[string]error{
		"empty prompt": func() error { _, _, err := m.Generate(ctx, Request{MaxTokens: 1}, nil); return err }(),
		"no tokens":    func() error { _, _, err := m.Generate(ctx, Request{Prompt: []int32{1}}, nil); return err }(),
		"top":          func() error { _, err := m.Score(ctx, []int32{1}, []int32{2}, 99); return err }(),
		"vocabulary":   m.Forward([]Item{{Seq: m.NewSequence(), Tokens: []int32{int32(m.Config.Vocab)}}}),
		"context":      m.Forward([]Item{{Seq: m.NewSequence(), Tokens: make([]int32, m.Config.Context+1)}}),
		"temperature":  func() error { _, err := SamplingFromFloats(-1, 1, 0, 0); return err }(),
	} {
		if !errors.Is(err, ErrRequest) {
			t.Errorf("%s: %v, want ErrRequest", name, err)
		}
	}
}
