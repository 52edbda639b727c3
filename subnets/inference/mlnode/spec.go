package mlnode

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/url"
	"strings"

	"github.com/tessera-net/tessera/lm"
)

// Spec is one model an MLNode may serve, as --model ID=WHAT configures it: a GGUF file
// (the engine), random:PRESET[:SEED] (the engine's random model of a shape, built in
// memory), or the base URL of an OpenAI-compatible backend (http(s)://HOST/v1).
type Spec struct {
	ID     string
	Path   string   // a GGUF file
	Random *lm.Dims // a random model's shape …
	Seed   [32]byte // … and seed
	URL    string   // an OpenAI-compatible backend, its base URL ending in /v1
}

// Backend is BackendEngine or BackendOpenAI.
func (s Spec) Backend() string {
	if s.URL != "" {
		return BackendOpenAI
	}
	return BackendEngine
}

// String is the spec as --model takes it.
func (s Spec) String() string {
	switch {
	case s.URL != "":
		return s.ID + "=" + s.URL
	case s.Random != nil:
		return fmt.Sprintf("%s=random:%s", s.ID, hex.EncodeToString(s.Seed[:8]))
	}
	return s.ID + "=" + s.Path
}

// ParseSpec reads ID=PATH.gguf, ID=random:PRESET[:SEED] (PRESET as `tessera lm random
// --dims` takes it: a preset name or vocab=…,dim=…; SEED 64 hex digits or any string,
// whose SHA-256 is the seed; default "tessera") or ID=http(s)://HOST[:PORT]/v1.
func ParseSpec(s string) (Spec, error) {
	id, what, ok := strings.Cut(s, "=")
	id = strings.TrimSpace(id)
	if !ok || id == "" || what == "" {
		return Spec{}, fmt.Errorf("model %q: want ID=FILE.gguf, ID=random:PRESET[:SEED] or ID=http(s)://HOST/v1", s)
	}
	sp := Spec{ID: id}
	switch {
	case strings.HasPrefix(what, "http://") || strings.HasPrefix(what, "https://"):
		u, err := url.Parse(what)
		if err != nil || u.Host == "" {
			return Spec{}, fmt.Errorf("model %s: %q is not a URL", id, what)
		}
		sp.URL = strings.TrimRight(what, "/")
		if !strings.HasSuffix(sp.URL, "/v1") {
			return Spec{}, fmt.Errorf("model %s: the backend URL %q must end in /v1 (its OpenAI API's base)", id, what)
		}
	case strings.HasPrefix(what, "random:"):
		rest := strings.TrimPrefix(what, "random:")
		dims, seed := rest, "tessera"
		// The seed follows the last colon; a dims list has no colon.
		if i := strings.LastIndex(rest, ":"); i >= 0 {
			dims, seed = rest[:i], rest[i+1:]
		}
		d, err := lm.ParseDims(dims)
		if err != nil {
			return Spec{}, fmt.Errorf("model %s: %w", id, err)
		}
		if _, err := d.Config(); err != nil {
			return Spec{}, fmt.Errorf("model %s: %w", id, err)
		}
		sp.Random, sp.Seed = &d, seedOf(seed)
	default:
		sp.Path = what
	}
	return sp, nil
}

// seedOf is `tessera lm random --seed`'s reading: 64 hex digits are the seed's bytes,
// any other string its SHA-256.
func seedOf(s string) [32]byte {
	var seed [32]byte
	if len(s) == 64 {
		if b, err := hex.DecodeString(s); err == nil {
			copy(seed[:], b)
			return seed
		}
	}
	return sha256.Sum256([]byte(s))
}

// load makes an engine model of the spec.
func (s Spec) load(threads int) (*lm.Model, error) {
	o := lm.Options{Threads: threads}
	if s.Random != nil {
		return lm.Random(*s.Random, s.Seed, o)
	}
	return lm.Load(s.Path, o)
}
