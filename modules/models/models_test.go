package models

import (
	"encoding/json"
	"strings"
	"testing"
)

func tinySpec() Spec {
	return Spec{ID: "tiny-1", Name: "Tiny", Version: "1", HFRepo: "tessera/tiny", HFCommit: strings.Repeat("0", 40),
		Quantization: "int8", ContextSize: 256, KVCacheQuant: "int8", VRAMGB: 1, ThroughputPerNonce: 10,
		PoC: PoC{Layers: 2, Width: 64, Heads: 4, KVHeads: 2, FFN: 128, Vocab: 512, SeqLen: 256}}
}

func TestModelsSpecValidate(t *testing.T) {
	s := tinySpec()
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	if err := DefaultParams().Validate(); err != nil {
		t.Fatal(err)
	}
	for name, change := range map[string]func(*Spec){
		"uppercase commit": func(s *Spec) { s.HFCommit = strings.Repeat("A", 40) },
		"two slashes":      func(s *Spec) { s.HFRepo = "a/b/c" },
		"control in name":  func(s *Spec) { s.Name = "a\nb" },
		"long arg":         func(s *Spec) { s.Args = []string{strings.Repeat("x", MaxArgLen+1)} },
		"odd head dim":     func(s *Spec) { s.PoC.Width, s.PoC.Heads, s.PoC.KVHeads = 12, 4, 4 },
		"huge layers":      func(s *Spec) { s.PoC.Layers = 1 << 31 },
		"threshold over 1": func(s *Spec) { s.ValidationThresholdPPM = 1_000_001 },
	} {
		c := tinySpec()
		change(&c)
		if err := c.Validate(); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// FuzzModelsActionFromJSON feeds hostile JSON to what the CLI and the chain read: no
// panic, and whatever decodes and validates re-encodes.
func FuzzModelsActionFromJSON(f *testing.F) {
	b, _ := json.Marshal(Add{Model: tinySpec()})
	f.Add(string(b))
	f.Add(`{"model":{"id":"x","poc":{"heads":0}}}`)
	f.Fuzz(func(t *testing.T, body string) {
		m, ok, err := ActionFromJSON(ActionAdd, json.RawMessage(body))
		if !ok {
			t.Fatal("models/add not recognised")
		}
		if err != nil {
			return
		}
		var a Add
		if err := m.DecodeBody(&a); err != nil {
			t.Fatalf("own encoding does not decode: %v", err)
		}
		_ = a.Model.Validate()
	})
}
