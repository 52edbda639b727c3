package apinode

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tessera-net/tessera/internal/openai"
	"github.com/tessera-net/tessera/modules/inference"
	"github.com/tessera-net/tessera/subnets/inference/mlnode"
	"github.com/tessera-net/tessera/tx"
)

// minTopLogprobs is the fewest alternatives per token an executor reports: what a
// validator of an external backend compares.
const minTopLogprobs = 5

// RunBody is the body an executor runs for a user's body to path: the user's fields
// with logprobs on, at least minTopLogprobs alternatives per token, the seed, the
// completion's token ids returned and no stream. It is a pure function of its inputs
// (the keys come out sorted), so a validator rebuilds it from the signed body and the
// seed.
func RunBody(path string, body []byte, seed int64) ([]byte, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(body, &m); err != nil || m == nil {
		return nil, fmt.Errorf("the body is not a JSON object: %v", err)
	}
	top := func(key string) int {
		var n int
		if raw, ok := m[key]; ok && json.Unmarshal(raw, &n) == nil && n > minTopLogprobs {
			return n
		}
		return minTopLogprobs
	}
	switch path {
	case PathChat:
		m["top_logprobs"] = json.RawMessage(strconv.Itoa(top("top_logprobs")))
		m["logprobs"] = json.RawMessage("true")
	case PathCompletions:
		m["logprobs"] = json.RawMessage(strconv.Itoa(top("logprobs")))
	default:
		return nil, fmt.Errorf("%s is not an inference endpoint", path)
	}
	m["seed"] = json.RawMessage(strconv.FormatInt(seed, 10))
	m["return_token_ids"] = json.RawMessage("true")
	delete(m, "stream")
	delete(m, "stream_options")
	return json.Marshal(m)
}

// Usage is the token counts of an OpenAI answer.
type Usage struct {
	PromptTokens     uint32 `json:"prompt_tokens"`
	CompletionTokens uint32 `json:"completion_tokens"`
}

// UsageOf reads an answer's usage.
func UsageOf(resp []byte) (Usage, error) {
	var a struct {
		Usage *Usage `json:"usage"`
	}
	if err := json.Unmarshal(resp, &a); err != nil {
		return Usage{}, fmt.Errorf("the answer is not JSON: %v", err)
	}
	if a.Usage == nil {
		return Usage{}, errors.New("the answer has no usage")
	}
	return *a.Usage, nil
}

// executor runs TAs' forwards on this participant's MLNodes and records their finishes.
type executor struct {
	n *Node

	mu       sync.Mutex
	busy     map[string]int       // MLNode → requests in flight
	down     map[string]time.Time // MLNode → when it last failed
	finishes map[inference.Hash]pendingFinish
}

type pendingFinish struct {
	e     inference.FinishEntry
	since uint64 // the height it was queued at
}

func newExecutor(n *Node) *executor {
	return &executor{n: n, busy: map[string]int{}, down: map[string]time.Time{}, finishes: map[inference.Hash]pendingFinish{}}
}

// downFor is how long a failed MLNode is passed over while others serve the model.
const downFor = 5 * time.Second

// pick orders the MLNodes serving model: least busy first, a node that failed in the
// last downFor after every other; ties keep the configured order.
func (x *executor) pick(model string) []MLNode {
	x.mu.Lock()
	defer x.mu.Unlock()
	now := x.n.now()
	var nodes []MLNode
	for _, m := range x.n.cfg.MLNodes {
		if serves(m, model) {
			nodes = append(nodes, m)
		}
	}
	recent := func(m MLNode) bool { t, ok := x.down[m.ID]; return ok && now.Sub(t) < downFor }
	slices.SortStableFunc(nodes, func(a, b MLNode) int {
		ra, rb := recent(a), recent(b)
		if ra != rb {
			if ra {
				return 1
			}
			return -1
		}
		return x.busy[a.ID] - x.busy[b.ID]
	})
	return nodes
}

func (x *executor) enter(id string) {
	x.mu.Lock()
	x.busy[id]++
	x.mu.Unlock()
}

func (x *executor) leave(id string, failed bool) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.busy[id]--
	if failed {
		x.down[id] = x.n.now()
	} else {
		delete(x.down, id)
	}
}

// job is a forward the executor accepted: the model, the body as run and its MLNodes,
// the first one confirmed live.
type job struct {
	fw    forward
	model string
	run   []byte
	nodes []MLNode
}

// prepare checks fw and finds a live MLNode serving its model (its state INFERENCE with
// the model up, asked now: a node killed or mining a moment ago is passed over): only
// then does the executor accept the request. No live MLNode is a 503 (the TA draws another executor); a body that cannot
// be run a 400.
func (x *executor) prepare(ctx context.Context, fw forward) (*job, *openai.APIError) {
	var s openai.Sampling
	if e := decode(fw.body, &s); e != nil {
		return nil, e
	}
	if s.Model == nil {
		return nil, openai.Missing("model")
	}
	model := *s.Model
	nodes := x.pick(model)
	if len(nodes) == 0 {
		return nil, openai.ModelNotFound(model)
	}
	run, err := RunBody(fw.path, fw.body, fw.seed)
	if err != nil {
		return nil, invalid("body", "%v", err)
	}
	var errs []string
	for i, m := range nodes {
		if err := x.probe(ctx, m, model); err != nil {
			errs = append(errs, fmt.Sprintf("%s: %v", m.ID, err))
			continue
		}
		// The live one first, then the others as failovers.
		order := append([]MLNode{m}, nodes[:i]...)
		return &job{fw: fw, model: model, run: run, nodes: append(order, nodes[i+1:]...)}, nil
	}
	return nil, unavailable("mlnodes_unavailable", "No MLNode of this executor serves model %s now: %s.", model, strings.Join(errs, "; "))
}

// probe confirms that m serves model now; a node that lost its model is brought up
// again at the next poll.
func (x *executor) probe(ctx context.Context, m MLNode, model string) error {
	st, err := m.Client.State(ctx)
	if err == nil && (st.State != mlnode.StateInference || st.Model != model) {
		if st.State == mlnode.StateStopped {
			x.n.forgetLoaded(m.ID)
		}
		err = fmt.Errorf("state %s, model %q", st.State, st.Model)
	}
	if err != nil {
		x.mu.Lock()
		x.down[m.ID] = x.n.now()
		x.mu.Unlock()
	}
	return err
}

// run is prepare then execute.
func (x *executor) run(ctx context.Context, fw forward) ([]byte, *openai.APIError) {
	j, e := x.prepare(ctx, fw)
	if e != nil {
		return nil, e
	}
	return x.execute(ctx, j)
}

// execute serves an accepted job on its MLNodes in order, keeps the payload and queues
// the finish; the answer is the MLNode's body. An MLNode that fails before answering
// (or answers 5xx) is passed over for the next; a 4xx is the request's fault and final.
func (x *executor) execute(ctx context.Context, j *job) ([]byte, *openai.APIError) {
	fw, model, run := j.fw, j.model, j.run
	var errs []string
	for _, m := range j.nodes {
		x.enter(m.ID)
		resp, err := m.Client.Forward(ctx, fw.path, run)
		if err != nil {
			x.leave(m.ID, true)
			errs = append(errs, fmt.Sprintf("%s: %v", m.ID, err))
			continue
		}
		data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
		resp.Body.Close()
		switch {
		case err != nil:
			x.leave(m.ID, true)
			errs = append(errs, fmt.Sprintf("%s: %v", m.ID, err))
			continue
		case resp.StatusCode >= 500:
			x.leave(m.ID, true)
			me := mlnode.ErrorOf(resp.StatusCode, data)
			if me.Code == "model_not_loaded" {
				x.n.forgetLoaded(m.ID) // restarted: the next poll brings it up again
			}
			errs = append(errs, fmt.Sprintf("%s: %v", m.ID, me))
			continue
		case resp.StatusCode != http.StatusOK:
			x.leave(m.ID, false)
			me := mlnode.ErrorOf(resp.StatusCode, data)
			return nil, openai.Errorf(resp.StatusCode, openai.TypeInvalidRequest, me.Code, "", "%s", me.Message)
		}
		x.leave(m.ID, false)
		u, err := UsageOf(data)
		if err != nil {
			return nil, openai.Errorf(http.StatusBadGateway, openai.TypeServer, "bad_backend", "", "mlnode %s: %v", m.ID, err)
		}
		rh := inference.Hash(sha256.Sum256(data))
		x.n.payload.put(&Payload{ID: fw.id, Model: model, Path: fw.path, Seed: fw.seed, Body: fw.body, Request: run, Response: data})
		x.queue(inference.FinishEntry{ID: fw.id, PromptTokens: u.PromptTokens, CompletionTokens: u.CompletionTokens, ResponseHash: rh})
		return data, nil
	}
	return nil, unavailable("mlnodes_unavailable", "No MLNode of this executor could serve model %s: %s.", model, strings.Join(errs, "; "))
}

func (x *executor) queue(e inference.FinishEntry) {
	h := x.n.current().height()
	x.mu.Lock()
	x.finishes[e.ID] = pendingFinish{e: e, since: h}
	x.mu.Unlock()
}

// finishWait is how many blocks a finish waits for its start to reach the chain before
// it is dropped (the record expires unfinished meanwhile anyway).
const finishWait = 60

// flush submits the finishes whose starts are on chain, in id order; one whose record
// has moved on, or never came within finishWait blocks, is dropped, and one sent is
// dropped once its transaction commits.
func (x *executor) flush(ctx context.Context) error {
	x.mu.Lock()
	ids := make([]inference.Hash, 0, len(x.finishes))
	for id := range x.finishes {
		ids = append(ids, id)
	}
	x.mu.Unlock()
	slices.SortFunc(ids, func(a, b inference.Hash) int { return bytes.Compare(a[:], b[:]) })
	h := x.n.current().height()
	var ready []inference.FinishEntry
	for _, id := range ids {
		x.mu.Lock()
		pf := x.finishes[id]
		x.mu.Unlock()
		var rec inference.RecordView
		err := x.n.cfg.Chain.Query(ctx, "/inference/record/"+hex.EncodeToString(id[:]), &rec)
		switch {
		case err == nil && rec.Status == inference.StatusStarted:
			ready = append(ready, pf.e)
		case err == nil || h > pf.since+finishWait:
			x.drop(id)
		}
	}
	if len(ready) == 0 {
		return nil
	}
	var msgs []tx.Msg
	for _, c := range Chunks(ready, FinishBatch) {
		m, err := inference.NewFinish(inference.Finish{Netuid: x.n.cfg.Netuid, Entries: c})
		if err != nil {
			return err
		}
		msgs = append(msgs, m)
	}
	// A failed submission leaves its finishes queued: the next flush sends again those
	// whose records are still started.
	if err := x.n.cfg.Chain.Send(ctx, msgs...); err != nil {
		return err
	}
	for _, e := range ready {
		x.drop(e.ID)
	}
	return nil
}

func (x *executor) drop(id inference.Hash) {
	x.mu.Lock()
	delete(x.finishes, id)
	x.mu.Unlock()
}

// pendingFinishes is how many finishes wait for their starts.
func (x *executor) pendingFinishes() int {
	x.mu.Lock()
	defer x.mu.Unlock()
	return len(x.finishes)
}

// serveExecutor is a TA's forward: the TA's signature (a registered participant), the
// user's signature carried in the headers, then the run.
func (n *Node) serveExecutor(w http.ResponseWriter, r *http.Request) {
	body, ok := n.readSigned(w, r, n.forwards, n.registeredSigner)
	if !ok {
		return
	}
	userPath := "/v1" + r.URL.Path[executorPrefixLength:]
	ur, se := userRequest(r.Header)
	if se != nil {
		writeError(w, signedError(se))
		return
	}
	if se := n.execs.Check(http.MethodPost, userPath, ur, body, nil); se != nil {
		writeError(w, signedError(se))
		return
	}
	id := ur.ID()
	if got := r.Header.Get(HeaderInferenceID); got != hex.EncodeToString(id[:]) {
		writeError(w, invalid(HeaderInferenceID, "%q is not the id of the user's signature", got))
		return
	}
	seed, err := strconv.ParseInt(r.Header.Get(HeaderSeed), 10, 64)
	if err != nil {
		writeError(w, invalid(HeaderSeed, "%q is not an int64", r.Header.Get(HeaderSeed)))
		return
	}
	j, e := n.exec.prepare(r.Context(), forward{id: id, seed: seed, path: userPath, body: body, user: ur})
	if e != nil {
		writeError(w, e)
		return
	}
	// The chain refuses a start naming an executor not eligible for the model now: such a
	// request would be served unpaid. The TA draws another.
	if !n.eligible(j.model) {
		writeError(w, unavailable("not_eligible", "This participant is not an eligible executor of model %s now (during PoC only POC_SLOT MLNodes serve).", j.model))
		return
	}
	// Accepted: the headers go out now, so that the TA records the start while the
	// model runs (the chain takes a start within a minute of the user's timestamp). A
	// failure from here on is an error body under the 200; the record then expires
	// unfinished and the user is refunded.
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set(HeaderInferenceID, hex.EncodeToString(id[:]))
	h.Set(HeaderSeed, strconv.FormatInt(seed, 10))
	h.Set(HeaderExecutor, n.self.String())
	w.WriteHeader(http.StatusOK)
	_ = http.NewResponseController(w).Flush()
	res, e := n.exec.execute(r.Context(), j)
	if e != nil {
		res = openai.ErrorBody(e)
	}
	w.Write(res)
}

// eligible reports whether this participant is among model's executors now.
func (n *Node) eligible(model string) bool {
	for _, c := range n.current().candidates(model) {
		if c.Hotkey == n.self {
			return true
		}
	}
	return false
}
