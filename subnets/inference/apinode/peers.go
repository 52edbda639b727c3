package apinode

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/tessera-net/tessera/keys"
	"github.com/tessera-net/tessera/modules/inference"
	"github.com/tessera-net/tessera/subnets/inference/mlnode"
	"github.com/tessera-net/tessera/subnets/inference/participant"
	"github.com/tessera-net/tessera/subnets/inference/signed"
)

// PathProofs is the route other participants' validators fetch PoC proofs from.
const PathProofs = "/v1/poc/proofs"

// ProofsRequest is POST /v1/poc/proofs: the leaves of an epoch's trees, by MLNode.
type ProofsRequest struct {
	Epoch uint64                `json:"epoch"`
	Refs  []participant.LeafRef `json:"refs"`
}

// ProofsResponse answers it: each ref's poc.Proof in binary form (base64), null for a
// leaf not served.
type ProofsResponse struct {
	Proofs [][]byte `json:"proofs"`
}

// maxProofRefs bounds one proofs request (a validator samples a few hundred leaves).
const maxProofRefs = 4096

// Peers is participant.Peers over the other participants' API nodes: a participant's
// prover is its axon's URL on chain, asked with signed POSTs to /v1/poc/proofs.
type Peers struct{ node *Node }

// Prover implements participant.Peers.
func (p *Peers) Prover(hot inference.Account) (participant.Prover, bool) {
	if hot == p.node.self {
		return p.node.part, true
	}
	u, ok := p.node.current().url(hot)
	if !ok {
		return nil, false
	}
	return &HTTPProver{URL: u, Key: p.node.cfg.Key, HTTP: p.node.cfg.HTTP, Now: p.node.now}, true
}

// HTTPProver asks one API node for proofs.
type HTTPProver struct {
	URL  string
	Key  *keys.Pair
	HTTP *http.Client
	Now  func() time.Time
}

// Proofs implements participant.Prover.
func (h *HTTPProver) Proofs(ctx context.Context, epoch uint64, refs []participant.LeafRef) ([][]byte, error) {
	body, err := json.Marshal(ProofsRequest{Epoch: epoch, Refs: refs})
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(h.URL, "/")+PathProofs, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	signed.SignRequest(req, body, h.Key, h.Now())
	resp, err := h.HTTP.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, mlnode.ErrorOf(resp.StatusCode, data)
	}
	var out ProofsResponse
	if err := json.Unmarshal(data, &out); err != nil {
		return nil, fmt.Errorf("proofs from %s: %w", h.URL, err)
	}
	if len(out.Proofs) != len(refs) {
		return nil, fmt.Errorf("proofs from %s: %d answered for %d leaves", h.URL, len(out.Proofs), len(refs))
	}
	return out.Proofs, nil
}

// serveProofs answers a registered participant's signed proofs request from our
// MLNodes' trees.
func (n *Node) serveProofs(w http.ResponseWriter, r *http.Request) {
	body, ok := n.readSigned(w, r, n.forwards, n.registeredSigner)
	if !ok {
		return
	}
	var req ProofsRequest
	if e := decode(body, &req); e != nil {
		writeError(w, e)
		return
	}
	if len(req.Refs) > maxProofRefs {
		writeError(w, invalid("refs", "%d refs, at most %d in one request", len(req.Refs), maxProofRefs))
		return
	}
	proofs, err := n.part.Proofs(r.Context(), req.Epoch, req.Refs)
	if err != nil {
		writeError(w, serverError("proofs: %v", err))
		return
	}
	writeJSON(w, http.StatusOK, ProofsResponse{Proofs: proofs})
}
