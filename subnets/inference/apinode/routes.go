package apinode

import (
	"fmt"
	"net/http"
	"strconv"

	"github.com/tessera-net/tessera/modules/inference"
	"github.com/tessera-net/tessera/modules/models"
)

// ModelInfo is one model of GET /v1/models: OpenAI's model object with the epoch
// snapshot's terms.
type ModelInfo struct {
	ID            string `json:"id"`
	Object        string `json:"object"` // "model"
	Created       int64  `json:"created"`
	OwnedBy       string `json:"owned_by"`
	Name          string `json:"name,omitempty"`
	ContextSize   uint32 `json:"context_size"`
	PricePerToken uint64 `json:"price_per_token,string"`
	// Epoch is the group the terms are frozen in; Executors its members serving the
	// model.
	Epoch     uint64 `json:"epoch"`
	Executors int    `json:"executors"`
}

// ModelList is GET /v1/models.
type ModelList struct {
	Object string      `json:"object"` // "list"
	Data   []ModelInfo `json:"data"`
}

// Models are the models of the group in force, as GET /v1/models lists them.
func (n *Node) Models() ModelList {
	out := ModelList{Object: "list", Data: []ModelInfo{}}
	g := n.current().group()
	if g == nil {
		return out
	}
	for _, sg := range g.Models {
		out.Data = append(out.Data, ModelInfo{ID: sg.Model.ID, Object: "model", OwnedBy: "tessera-inference", Name: sg.Model.Name,
			ContextSize: sg.Model.ContextSize, PricePerToken: sg.Model.PricePerToken, Epoch: g.Epoch, Executors: len(sg.Members)})
	}
	return out
}

func (n *Node) serveModels(w http.ResponseWriter, r *http.Request) {
	if !n.current().ok {
		if _, err := n.refresh(r.Context()); err != nil {
			writeError(w, chainError(err))
			return
		}
	}
	writeJSON(w, http.StatusOK, n.Models())
}

// query answers a chain query's JSON as it comes.
func (n *Node) query(w http.ResponseWriter, r *http.Request, path string, out any) {
	if err := n.cfg.Chain.Query(r.Context(), path, out); err != nil {
		writeError(w, chainError(err))
		return
	}
	writeJSON(w, http.StatusOK, out)
}

func (n *Node) servePricing(w http.ResponseWriter, r *http.Request) {
	var out []models.PriceView
	n.query(w, r, fmt.Sprintf("/inference/pricing/%d", n.cfg.Netuid), &out)
}

func (n *Node) serveGovModels(w http.ResponseWriter, r *http.Request) {
	var out []models.Spec
	n.query(w, r, "/models/list", &out)
}

func (n *Node) serveGovPricing(w http.ResponseWriter, r *http.Request) {
	var out []models.PriceView
	n.query(w, r, "/models/pricing", &out)
}

// ParticipantInfo is one participant of GET /v1/participants: its declaration and where
// its API node serves.
type ParticipantInfo struct {
	inference.ParticipantView
	APIURL string `json:"api_url,omitempty"`
	// Executor is its record of service and reputation (absent before it served).
	Executor *inference.ExecutorView `json:"executor,omitempty"`
}

func (n *Node) serveParticipants(w http.ResponseWriter, r *http.Request) {
	var ps []inference.ParticipantView
	if err := n.cfg.Chain.Query(r.Context(), fmt.Sprintf("/inference/participants/%d", n.cfg.Netuid), &ps); err != nil {
		writeError(w, chainError(err))
		return
	}
	var exs []inference.ExecutorView
	_ = n.cfg.Chain.Query(r.Context(), fmt.Sprintf("/inference/executors/%d", n.cfg.Netuid), &exs) // none on a chain without records
	v := n.current()
	out := make([]ParticipantInfo, 0, len(ps))
	for _, p := range ps {
		u, _ := v.url(p.Hotkey)
		pi := ParticipantInfo{ParticipantView: p, APIURL: u}
		for i := range exs {
			if exs[i].Hotkey == p.Hotkey {
				pi.Executor = &exs[i]
			}
		}
		out = append(out, pi)
	}
	writeJSON(w, http.StatusOK, out)
}

// EpochInfo is GET /v1/epochs/{n|current|latest}: where the chain stands and the group
// asked for (current: the group in force; latest: the newest formed, waiting for its
// switch or in force; n: epoch n's group).
type EpochInfo struct {
	Phase inference.Phase  `json:"phase"`
	Group *inference.Group `json:"group"`
	Round *inference.Round `json:"round,omitempty"`
}

func (n *Node) serveEpoch(w http.ResponseWriter, r *http.Request) {
	var ev inference.EpochView
	if err := n.cfg.Chain.Query(r.Context(), fmt.Sprintf("/inference/epoch/%d", n.cfg.Netuid), &ev); err != nil {
		writeError(w, chainError(err))
		return
	}
	out := EpochInfo{Phase: ev.Phase}
	switch which := r.PathValue("which"); which {
	case "current":
		out.Group = ev.Current
	case "latest":
		out.Group, out.Round = ev.Current, ev.Round
		if ev.Upcoming != nil {
			out.Group = ev.Upcoming
		}
	default:
		e, err := strconv.ParseUint(which, 10, 64)
		if err != nil {
			writeError(w, invalid("epoch", "%q is not an epoch number, current or latest", which))
			return
		}
		var g inference.Group
		if err := n.cfg.Chain.Query(r.Context(), fmt.Sprintf("/inference/group/%d/%d", n.cfg.Netuid, e), &g); err != nil {
			writeError(w, chainError(err))
			return
		}
		out.Group = &g
	}
	writeJSON(w, http.StatusOK, out)
}

// Health is GET /v1/health.
type Health struct {
	Hotkey inference.Account `json:"hotkey"`
	Netuid uint16            `json:"netuid"`
	Height uint64            `json:"height"`
	Epoch  uint64            `json:"epoch"`
	Stage  string            `json:"stage"`
}

func (n *Node) serveHealth(w http.ResponseWriter, _ *http.Request) {
	v := n.current()
	writeJSON(w, http.StatusOK, Health{Hotkey: n.self, Netuid: n.cfg.Netuid, Height: v.height(), Epoch: v.epoch.Phase.Epoch, Stage: v.epoch.Phase.Stage})
}
