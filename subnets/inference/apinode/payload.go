package apinode

import (
	"encoding/hex"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"sync"

	"github.com/tessera-net/tessera/keys"
	"github.com/tessera-net/tessera/modules/inference"
)

// Payload is an executed inference as its executor keeps it off chain for the
// validators: the user's signed body (its SHA-256 is the record's body hash), the seed,
// the body as run (RunBody of the two) and the answer (its SHA-256 is the record's
// response hash). Body and Response are base64 in JSON, so their bytes survive.
type Payload struct {
	ID       inference.Hash  `json:"id"`
	Model    string          `json:"model"`
	Path     string          `json:"path"`
	Seed     int64           `json:"seed"`
	Body     []byte          `json:"body"`
	Request  json.RawMessage `json:"request"`
	Response []byte          `json:"response"`
}

// payloadStore keeps the last max payloads in memory and, with a directory, as files
// (one per id, removed with it), so that they survive a restart.
type payloadStore struct {
	dir string
	max int

	mu    sync.Mutex
	m     map[inference.Hash]*Payload
	order []inference.Hash // oldest first
}

func newPayloadStore(dir string, max int) *payloadStore {
	if dir != "" {
		_ = os.MkdirAll(dir, 0o700)
	}
	return &payloadStore{dir: dir, max: max, m: map[inference.Hash]*Payload{}}
}

func (s *payloadStore) file(id inference.Hash) string {
	return filepath.Join(s.dir, hex.EncodeToString(id[:])+".json")
}

func (s *payloadStore) put(p *Payload) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.m[p.ID]; !ok {
		s.order = append(s.order, p.ID)
	}
	s.m[p.ID] = p
	if s.dir != "" {
		if b, err := json.Marshal(p); err == nil {
			_ = os.WriteFile(s.file(p.ID), b, 0o600)
		}
	}
	for len(s.order) > s.max {
		old := s.order[0]
		s.order = s.order[1:]
		delete(s.m, old)
		if s.dir != "" {
			_ = os.Remove(s.file(old))
		}
	}
}

func (s *payloadStore) get(id inference.Hash) (*Payload, bool) {
	s.mu.Lock()
	p, ok := s.m[id]
	s.mu.Unlock()
	if ok || s.dir == "" {
		return p, ok
	}
	b, err := os.ReadFile(s.file(id))
	if err != nil {
		return nil, false
	}
	var fp Payload
	if json.Unmarshal(b, &fp) != nil || fp.ID != id {
		return nil, false
	}
	return &fp, true
}

// validatorSigner allows the validators of the group in force.
func (n *Node) validatorSigner(pub keys.PublicKey) bool {
	g := n.current().group()
	if g == nil {
		return false
	}
	for _, v := range g.Validators {
		if v.Hotkey == inference.Account(pub) {
			return true
		}
	}
	return false
}

// servePayload answers a validator's signed request for an inference's payload.
func (n *Node) servePayload(w http.ResponseWriter, r *http.Request) {
	if _, ok := n.readSigned(w, r, n.forwards, n.validatorSigner); !ok {
		return
	}
	raw, err := hex.DecodeString(r.PathValue("id"))
	if err != nil || len(raw) != 32 {
		writeError(w, invalid("id", "%q is not 64 hex digits", r.PathValue("id")))
		return
	}
	p, ok := n.payload.get(inference.Hash(raw))
	if !ok {
		writeError(w, notFound("payload_not_found", "This executor keeps no payload of inference %s.", r.PathValue("id")))
		return
	}
	writeJSON(w, http.StatusOK, p)
}
