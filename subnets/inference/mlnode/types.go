package mlnode

import (
	"encoding/json"
	"fmt"

	"github.com/tessera-net/tessera/modules/inference"
	"github.com/tessera-net/tessera/modules/models"
)

// The management API's routes, all on the management listener.
const (
	PathState             = "/api/v1/state"
	PathStop              = "/api/v1/stop"
	PathInferenceUp       = "/api/v1/inference/up"
	PathInferenceDown     = "/api/v1/inference/down"
	PathInferenceValidate = "/api/v1/inference/validate"
	PathPoCGenerate       = "/api/v1/poc/generate"
	PathPoCStatus         = "/api/v1/poc/status"
	PathPoCProofs         = "/api/v1/poc/proofs"
	PathPoCValidate       = "/api/v1/poc/validate"
)

// The MLNode's states.
const (
	StateStopped   = "STOPPED"   // no model serving, no PoC running
	StateInference = "INFERENCE" // a model serves on the inference listener
	StatePoC       = "POC"       // mining a PoC round; inference requests get 503 poc_in_progress
)

// The backends a model runs on.
const (
	BackendEngine = "engine" // Tessera's integer engine (a GGUF file or a random model)
	BackendOpenAI = "openai" // an OpenAI-compatible server the MLNode forwards to
)

// The PoC round states of PoCStatus.
const (
	PoCIdle       = "idle"       // no round of that epoch
	PoCGenerating = "generating" // mining
	PoCDone       = "done"       // mined; root and count are final
)

// State is GET /api/v1/state.
type State struct {
	State   string     `json:"state"`             // StateStopped, StateInference or StatePoC
	Model   string     `json:"model,omitempty"`   // the model loaded (kept through PoC)
	Backend string     `json:"backend,omitempty"` // BackendEngine or BackendOpenAI
	Args    []string   `json:"args,omitempty"`    // the merged model args it runs with
	PoC     *PoCStatus `json:"poc,omitempty"`     // the latest PoC round, if any
}

// InferenceUp is POST /api/v1/inference/up: load model (a configured id) with the
// epoch's model args (merged over the local ones with MergeArgs).
type InferenceUp struct {
	Model string   `json:"model"`
	Args  []string `json:"args,omitempty"`
}

// PoCJob is POST /api/v1/poc/generate: mine a round as participant.Mine does — nonces
// 0, 1, … up to Budget, on the PoC model of shape PoC seeded by Seed (the round's PoC
// seed), for (Hotkey, MLNode) — and keep its tree. Forge > 0 makes the node a cheater
// (participant.Forge).
type PoCJob struct {
	Epoch     uint64            `json:"epoch"`
	Seed      inference.Hash    `json:"seed"`
	Model     string            `json:"model,omitempty"` // the served model the round is for (informative)
	PoC       models.PoC        `json:"poc"`
	Threshold uint64            `json:"threshold,string"`
	Hotkey    inference.Account `json:"hotkey"`
	MLNode    string            `json:"mlnode"`
	Budget    uint64            `json:"budget"`
	Forge     uint64            `json:"forge,omitempty"`
}

// PoCStatus is GET /api/v1/poc/status?epoch=N.
type PoCStatus struct {
	Epoch uint64         `json:"epoch"`
	State string         `json:"state"` // PoCIdle, PoCGenerating or PoCDone
	Tried uint64         `json:"tried"` // nonces computed so far
	Valid uint64         `json:"valid"` // of which valid
	Root  inference.Hash `json:"root"`  // the tree's root once done (zero before)
	Count uint64         `json:"count"` // the tree's leaves once done (forged ones included)
}

// ProofsRequest is POST /api/v1/poc/proofs.
type ProofsRequest struct {
	Epoch  uint64   `json:"epoch"`
	Leaves []uint64 `json:"leaves"`
}

// ProofsResponse answers it: each leaf's poc.Proof in binary form (base64 in JSON), nil
// for a leaf the node cannot serve.
type ProofsResponse struct {
	Proofs [][]byte `json:"proofs"`
}

// NonceCheck is POST /api/v1/poc/validate: re-run another participant's nonces.
type NonceCheck struct {
	Seed      inference.Hash    `json:"seed"`
	PoC       models.PoC        `json:"poc"`
	Threshold uint64            `json:"threshold,string"`
	Hotkey    inference.Account `json:"hotkey"` // the participant who mined them
	MLNode    string            `json:"mlnode"` // its MLNode's id
	Nonces    []uint64          `json:"nonces"`
}

// NonceResults answers it: whether each nonce is valid.
type NonceResults struct {
	Valid []bool `json:"valid"`
}

// InferenceCheck is POST /api/v1/inference/validate: re-check an executor's
// completion. Request is the body as the executor ran it (seed and logprobs set),
// Response its non-streamed answer (with token_ids).
type InferenceCheck struct {
	Model    string          `json:"model"`
	Path     string          `json:"path"` // /v1/chat/completions or /v1/completions
	Request  json.RawMessage `json:"request"`
	Response json.RawMessage `json:"response"`
	// ThresholdPPM is the similarity an external backend's scoring must reach: the
	// model's validation_threshold_ppm from the epoch snapshot (0: the MLNode's
	// --similarity-threshold). Exact checks ignore it.
	ThresholdPPM uint64 `json:"threshold_ppm,omitempty"`
}

// CheckResult answers it. Exact is true for an engine model's replay (every token and
// log-probability compared), false for the similarity check of an external backend.
// Position is the first completion token that differs (-1: none). SimilarityPPM is 10^6
// for an exact match and Gonka's top-k similarity in parts per million otherwise.
type CheckResult struct {
	Valid         bool   `json:"valid"`
	Exact         bool   `json:"exact"`
	Position      int    `json:"position"`
	Reason        string `json:"reason,omitempty"`
	SimilarityPPM uint64 `json:"similarity_ppm"`
}

// Error is a refusal from an MLNode: the HTTP status and the OpenAI-style error's code
// and message ({"error":{"message","type","code"}}).
type Error struct {
	Status  int
	Code    string
	Message string
}

func (e *Error) Error() string {
	return fmt.Sprintf("mlnode: %d %s: %s", e.Status, e.Code, e.Message)
}
