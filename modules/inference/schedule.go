package inference

import "github.com/tessera-net/tessera/modules/models"

// Stage names, in the order an epoch runs them (the seed's extended PoC cycle).
const (
	StagePoC                = "poc"                 // MLNodes mine nonces
	StagePoCExchange        = "poc_exchange"        // … and the last commitments arrive
	StageValidation         = "validation"          // validators re-run samples
	StageValidationExchange = "validation_exchange" // … and the last verdicts arrive
	StageModelLoading       = "model_loading"       // the next group is formed; nodes load its models
	StageInference          = "inference"           // the group in force serves until the next PoC
)

// Phase is where a height stands in the inference network's epochs. Epoch n ≥ 1 starts
// its PoC at height n·EpochBlocks; below EpochBlocks the chain is in epoch 0, which has
// no PoC (its group is the genesis one, empty unless genesis says otherwise).
//
// With P, X, V, VX and L the models parameters' stage lengths, epoch n's heights are:
//
//	PoCStart        = n·EpochBlocks            the block whose hash seeds the PoC
//	ValidationStart = PoCStart + P + X         the block whose hash seeds the samples
//	Formation       = ValidationStart + V + VX the next group is formed in its end block
//	Switch          = Formation + L            the new group takes effect in its end block
//	NextPoC         = PoCStart + EpochBlocks
//
// Commitments are accepted in PoCStart < h < ValidationStart, verdicts in
// ValidationStart < h < Formation.
type Phase struct {
	Height          uint64 `json:"height"`
	Epoch           uint64 `json:"epoch"`
	Stage           string `json:"stage"`
	PoCStart        uint64 `json:"poc_start"`
	ValidationStart uint64 `json:"validation_start"`
	Formation       uint64 `json:"formation"`
	Switch          uint64 `json:"switch"`
	NextPoC         uint64 `json:"next_poc"`
}

// Schedule places height h in the epochs of parameters p (p.Validate holds).
func Schedule(p models.Params, h uint64) Phase {
	n := h / p.EpochBlocks
	if n == 0 {
		return Phase{Height: h, Stage: StageInference, NextPoC: p.EpochBlocks}
	}
	return PhaseIn(p, n, n*p.EpochBlocks, h)
}

// PhaseIn places height h ≥ pocStart in epoch n whose PoC started at pocStart under
// parameters p: what a round that keeps its parameters sees.
func PhaseIn(p models.Params, n, pocStart, h uint64) Phase {
	ph := Phase{Height: h, Epoch: n, PoCStart: pocStart}
	ph.ValidationStart = ph.PoCStart + p.PoCBlocks + p.PoCExchange
	ph.Formation = ph.ValidationStart + p.ValidationBlocks + p.ValidationXchg
	ph.Switch = ph.Formation + p.LoadingBlocks
	ph.NextPoC = ph.PoCStart + p.EpochBlocks
	switch pos := h - ph.PoCStart; {
	case pos < p.PoCBlocks:
		ph.Stage = StagePoC
	case h < ph.ValidationStart:
		ph.Stage = StagePoCExchange
	case pos < p.PoCBlocks+p.PoCExchange+p.ValidationBlocks:
		ph.Stage = StageValidation
	case h < ph.Formation:
		ph.Stage = StageValidationExchange
	case h < ph.Switch:
		ph.Stage = StageModelLoading
	default:
		ph.Stage = StageInference
	}
	return ph
}

// CommitOpen reports whether a commitment for epoch ph.Epoch is accepted at ph.Height.
func (ph Phase) CommitOpen() bool {
	return ph.Epoch > 0 && ph.Height > ph.PoCStart && ph.Height < ph.ValidationStart
}

// VerdictOpen reports whether a verdict for epoch ph.Epoch is accepted at ph.Height.
func (ph Phase) VerdictOpen() bool {
	return ph.Epoch > 0 && ph.Height > ph.ValidationStart && ph.Height < ph.Formation
}
