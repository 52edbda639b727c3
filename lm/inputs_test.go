package lm

import (
	"errors"
	"reflect"
	"testing"
)

// Input vectors stand where embedding rows would: a token's own row gives the same bits
// as the token, logits and hidden states, in one Forward or two, mixed in a batch.
func TestInputsAreEmbeddingRows(t *testing.T) {
	m, err := Random(Presets["tiny"], [32]byte{5}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	toks := []int32{3, 77, 401, 9, 0, 511}
	rows := make([][]int32, len(toks))
	for i, tk := range toks {
		rows[i] = make([]int32, m.Config.Dim)
		m.embedRow(rows[i], tk)
	}
	for _, hidden := range []bool{false, true} {
		a, b := m.NewSequence(), m.NewSequence()
		items := []Item{{Seq: a, Tokens: toks, All: true, Hidden: hidden}, {Seq: b, Inputs: rows, All: true, Hidden: hidden}}
		if err := m.Forward(items); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(items[0].Logits, items[1].Logits) || !reflect.DeepEqual(items[0].States, items[1].States) {
			t.Fatalf("hidden %v: input rows differ from their tokens", hidden)
		}
		// And continued: tokens after inputs on the same sequence.
		more := []Item{{Seq: a, Tokens: []int32{42}}, {Seq: b, Tokens: []int32{42}}}
		if err := m.Forward(more); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(more[0].Logits, more[1].Logits) {
			t.Fatal("a token after input rows differs")
		}
	}
}

func TestInputsRefused(t *testing.T) {
	m, err := Random(Presets["tiny"], [32]byte{5}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	row := make([]int32, m.Config.Dim)
	big := make([]int32, m.Config.Dim)
	big[3] = MaxInput + 1
	for _, it := range []Item{
		{Tokens: []int32{1}, Inputs: [][]int32{row}},
		{Inputs: [][]int32{row[:5]}},
		{Inputs: [][]int32{row, big}},
	} {
		it.Seq = m.NewSequence()
		if err := m.Forward([]Item{it}); !errors.Is(err, ErrRequest) {
			t.Errorf("%d tokens, %d inputs: %v", len(it.Tokens), len(it.Inputs), err)
		}
	}
}
