package modelmgr_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/tessera-net/tessera/sdk/modelmgr"
)

// tokenizer is a stand-in for a real model: its "weights" are a vocabulary.
type tokenizer struct{ vocab []string }

func Example() {
	dir, err := os.MkdirTemp("", "models")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	weights := []byte("the quick brown fox")
	path := filepath.Join(dir, "tok-v1.bin")
	if err := os.WriteFile(path, weights, 0o600); err != nil {
		panic(err)
	}
	sum := sha256.Sum256(weights)

	mg, err := modelmgr.New(modelmgr.Config[*tokenizer]{
		Loader: func(ctx context.Context, a modelmgr.Artifact) (*tokenizer, error) {
			b, err := a.ReadAll() // already verified against the spec's SHA-256
			if err != nil {
				return nil, err
			}
			return &tokenizer{vocab: strings.Fields(string(b))}, nil
		},
		Unload:    func(s modelmgr.Spec, _ *tokenizer) { fmt.Println("unloaded", s) },
		MaxModels: 4,
	})
	if err != nil {
		panic(err)
	}
	err = mg.Register(modelmgr.Spec{
		ID: "tok", Version: "v1", Path: path, SHA256: hex.EncodeToString(sum[:]),
		Metadata: map[string]string{"kind": "tokenizer"},
	})
	if err != nil {
		panic(err)
	}

	ctx := context.Background()
	err = mg.Run(ctx, "tok", "v1", func(ctx context.Context, t *tokenizer) error {
		fmt.Println("vocabulary:", len(t.vocab))
		return nil
	})
	fmt.Println("run:", err)
	h, _ := mg.Health("tok", "v1")
	fmt.Println("healthy:", h.Healthy, "successes:", h.Successes, "latency tracked:", h.LatencyEWMA >= 0)

	// A tampered artifact is refused before the loader sees it.
	_ = os.WriteFile(path, []byte("the quick brown wolf"), 0o600)
	_ = mg.Unregister("tok", "v1") // drops the cached copy
	_ = mg.Register(modelmgr.Spec{ID: "tok", Version: "v1", Path: path, SHA256: hex.EncodeToString(sum[:])})
	_, err = mg.Load(ctx, "tok", "v1")
	fmt.Println(errors.Is(err, modelmgr.ErrChecksumMismatch))
	mg.Close()
	// Output:
	// vocabulary: 4
	// run: <nil>
	// healthy: true successes: 1 latency tracked: true
	// unloaded tok@v1
	// true
}
