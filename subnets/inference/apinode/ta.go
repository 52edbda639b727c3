package apinode

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/tessera-net/tessera/internal/openai"
	"github.com/tessera-net/tessera/modules/accounts"
	"github.com/tessera-net/tessera/modules/inference"
	"github.com/tessera-net/tessera/subnets/inference/signed"
	"github.com/tessera-net/tessera/tx"
)

// The headers of a TA's forward to an executor (besides the TA's own signature) and of
// the executor's answer.
const (
	HeaderUserAccount   = "X-Tessera-User-Account"
	HeaderUserTimestamp = "X-Tessera-User-Timestamp"
	HeaderUserSignature = "X-Tessera-User-Signature"
	HeaderInferenceID   = "X-Tessera-Inference-Id"
	HeaderSeed          = "X-Tessera-Seed"
	HeaderExecutor      = "X-Tessera-Executor"
)

// Per-message and fixed overheads of the prompt bound: a chat template adds a few
// tokens per message and around the conversation.
const (
	perMessageTokens = 8
	promptTokens     = 8
)

// Request is what the TA reads of a user's OpenAI-compatible body.
type Request struct {
	Model string
	// PromptTokens bounds the prompt's tokens: one per byte of its text (no tokenizer
	// makes more), plus 8 per message and 8.
	PromptTokens uint32
	// MaxTokens bounds the completion's tokens: max_completion_tokens or max_tokens,
	// else the model's context, times n and the prompts of a batched completion.
	MaxTokens uint32
	// Seed is the body's seed, if it sets one.
	Seed         *int64
	Stream       bool
	IncludeUsage bool // a stream ends with the usage chunk
}

// ParseRequest reads body, a request to path (PathChat or PathCompletions), and bounds
// its tokens for a model of context tokens (max_tokens defaults to it). Every refusal is
// the OpenAI-style 400 naming the field.
func ParseRequest(path string, body []byte, context func(model string) (uint32, bool)) (Request, *openai.APIError) {
	var s openai.Sampling
	var prompt uint64 = promptTokens
	var prompts uint64 = 1
	switch path {
	case PathChat:
		var req openai.ChatRequest
		if e := decode(body, &req); e != nil {
			return Request{}, e
		}
		s = req.Sampling
		if req.Messages == nil || len(*req.Messages) == 0 {
			return Request{}, openai.Missing("messages")
		}
		for _, m := range *req.Messages {
			prompt += uint64(len(m.Content)) + uint64(len(m.Role)) + perMessageTokens
		}
		if req.TopLogprobs != nil && (*req.TopLogprobs < 0 || *req.TopLogprobs > 20) {
			return Request{}, invalid("top_logprobs", "%d is not in 0..20", *req.TopLogprobs)
		}
	case PathCompletions:
		var req openai.CompletionRequest
		if e := decode(body, &req); e != nil {
			return Request{}, e
		}
		s = req.Sampling
		if req.Prompt == nil {
			return Request{}, openai.Missing("prompt")
		}
		p, n, err := promptBound(*req.Prompt)
		if err != nil {
			return Request{}, invalid("prompt", "%v", err)
		}
		prompt, prompts = p+promptTokens, max(n, 1)
		if req.Suffix != nil {
			prompt += uint64(len(*req.Suffix))
		}
		if req.Logprobs != nil && (*req.Logprobs < 0 || *req.Logprobs > 20) {
			return Request{}, invalid("logprobs", "%d is not in 0..20", *req.Logprobs)
		}
	default:
		return Request{}, openai.Errorf(http.StatusNotFound, openai.TypeInvalidRequest, "unknown_url", "", "%s is not an inference endpoint", path)
	}
	if e := s.CheckStream(); e != nil {
		return Request{}, e
	}
	if s.Model == nil || *s.Model == "" {
		return Request{}, openai.Missing("model")
	}
	ctx, ok := context(*s.Model)
	if !ok {
		return Request{}, openai.ModelNotFound(*s.Model)
	}
	completion := uint64(ctx)
	if l := s.Limit(); l != nil {
		if *l < 1 {
			return Request{}, invalid("max_tokens", "%d is not a positive number of tokens", *l)
		}
		completion = uint64(*l)
	}
	if s.N != nil {
		if *s.N < 1 || *s.N > 128 {
			return Request{}, invalid("n", "%d is not in 1..128", *s.N)
		}
		completion *= uint64(*s.N)
	}
	completion *= prompts
	if prompt > math.MaxUint32 || completion > math.MaxUint32 {
		return Request{}, invalid("max_tokens", "the request's tokens (%d prompt, %d completion) exceed 2^32", prompt, completion)
	}
	return Request{Model: *s.Model, PromptTokens: uint32(prompt), MaxTokens: uint32(completion), Seed: s.Seed, Stream: s.Streamed(), IncludeUsage: s.IncludeUsage()}, nil
}

// promptBound is a completion prompt's byte (or token) count and how many prompts it
// holds: a string, an array of strings, an array of token ids or of arrays of them.
func promptBound(raw json.RawMessage) (uint64, uint64, error) {
	var one string
	if json.Unmarshal(raw, &one) == nil {
		return uint64(len(one)), 1, nil
	}
	var strs []string
	if json.Unmarshal(raw, &strs) == nil {
		var n uint64
		for _, s := range strs {
			n += uint64(len(s))
		}
		return n, uint64(len(strs)), nil
	}
	var ids []int64
	if json.Unmarshal(raw, &ids) == nil {
		return uint64(len(ids)), 1, nil
	}
	var batches [][]int64
	if json.Unmarshal(raw, &batches) == nil {
		var n uint64
		for _, b := range batches {
			n += uint64(len(b))
		}
		return n, uint64(len(batches)), nil
	}
	return 0, 0, fmt.Errorf("must be a string, an array of strings, an array of token ids or an array of arrays of them")
}

// Seed is the seed an inference runs with: the body's own when it sets one, else one
// drawn from the request's id (a non-negative int64), so that the run is reproducible
// by whoever knows the id.
func Seed(id inference.Hash, given *int64) int64 {
	if given != nil {
		return *given
	}
	h := sha256.Sum256(append([]byte("tessera/inference/seed"), id[:]...))
	return int64(binary.BigEndian.Uint64(h[:8]) >> 1)
}

// DrawSeed is the seed of attempt's executor draw for request id: SHA-256(id ‖
// attempt as 4 bytes big-endian).
func DrawSeed(id inference.Hash, attempt uint32) inference.Hash {
	b := make([]byte, 0, 36)
	b = append(b, id[:]...)
	b = binary.BigEndian.AppendUint32(b, attempt)
	return sha256.Sum256(b)
}

// Draw chooses attempt's executor among cands, leaving out those in failed:
// inference.Choose over the rest with DrawSeed(id, attempt).
func Draw(cands []inference.Candidate, id inference.Hash, attempt uint32, failed map[inference.Account]bool) (inference.Account, bool) {
	rest := cands
	if len(failed) > 0 {
		rest = make([]inference.Candidate, 0, len(cands))
		for _, c := range cands {
			if !failed[c.Hotkey] {
				rest = append(rest, c)
			}
		}
	}
	return inference.Choose(rest, DrawSeed(id, attempt))
}

// holds are the TA's worst cases of requests it forwarded whose start is not on chain
// yet, by user: the balance the chain shows has not paid them.
type holds struct {
	mu sync.Mutex
	m  map[inference.Account]uint64
}

// reserve holds amount for a user whose balance is balance, unless the balance minus
// what is held already is less; it returns what was held before.
func (h *holds) reserve(user inference.Account, balance, amount uint64) (uint64, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	held := h.m[user]
	if balance < held || balance-held < amount {
		return held, false
	}
	if h.m == nil {
		h.m = map[inference.Account]uint64{}
	}
	h.m[user] = held + amount
	return held, true
}

func (h *holds) release(user inference.Account, amount uint64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.m[user] <= amount {
		delete(h.m, user)
		return
	}
	h.m[user] -= amount
}

// noGroup is the 503 of a request before the first epoch group is in force: nobody
// serves yet, and the answer says from when someone will.
func noGroup(v *view) *openai.APIError {
	ph := v.epoch.Phase
	when := fmt.Sprintf("the first PoC starts at block %d and its group serves a few blocks later", ph.NextPoC)
	if ph.Epoch > 0 && ph.Switch > ph.Height {
		when = fmt.Sprintf("the group formed from epoch %d's PoC serves from block %d", ph.Epoch, ph.Switch)
	}
	return openai.Errorf(http.StatusServiceUnavailable, openai.TypeServer, "no_group_in_force", "",
		"The inference network has no epoch group in force yet at block %d: %s. Try again then.", ph.Height, when)
}

// quotaError is the 402 of a user who cannot pay the worst case.
func quotaError(user inference.Account, balance, held, cost uint64, r Request, price uint64) *openai.APIError {
	return openai.Errorf(http.StatusPaymentRequired, "insufficient_quota", "insufficient_quota", "",
		"Account %s holds %s, of which %s is held for its requests in progress; this request may cost up to %s ((%d prompt + %d completion tokens) × %s per token).",
		user, accounts.FormatAmount(balance), accounts.FormatAmount(held), accounts.FormatAmount(cost), r.PromptTokens, r.MaxTokens, accounts.FormatAmount(price))
}

// serveTA is a user's signed request: checked, held, routed, forwarded, recorded.
func (n *Node) serveTA(w http.ResponseWriter, r *http.Request) {
	body, e := openai.ReadBody(w, r, n.cfg.MaxBody)
	if e != nil {
		writeError(w, e)
		return
	}
	// The signature first: nothing of an unsigned request is read or remembered.
	sr, se := signed.Parse(r.Header)
	if se != nil {
		writeError(w, signedError(se))
		return
	}
	v := n.awaitRound(r.Context(), n.current())
	if v.group() == nil {
		writeError(w, noGroup(v))
		return
	}
	req, e := ParseRequest(r.URL.Path, body, func(model string) (uint32, bool) {
		sg, ok := v.subgroup(model)
		if !ok {
			return 0, false
		}
		return sg.Model.ContextSize, true
	})
	if e != nil {
		// A malformed request is refused before its signature is spent: the user may fix it
		// and sign again.
		if se := n.users.Check(r.Method, r.URL.Path, sr, body, nil); se != nil {
			writeError(w, signedError(se))
			return
		}
		writeError(w, e)
		return
	}
	if se := n.users.Check(r.Method, r.URL.Path, sr, body, nil); se != nil {
		writeError(w, signedError(se))
		return
	}
	sg, _ := v.subgroup(req.Model)
	price := sg.Model.PricePerToken
	cost, err := inference.StartCost(req.PromptTokens, req.MaxTokens, price)
	if err != nil {
		writeError(w, invalid("max_tokens", "the worst case overflows: %v", err))
		return
	}
	user := inference.Account(sr.Account)
	var acct accounts.AccountView
	if err := n.cfg.Chain.Query(r.Context(), "/accounts/account/"+sr.Account.String(), &acct); err != nil {
		writeError(w, chainError(err))
		return
	}
	held, ok := n.holds.reserve(user, acct.Balance, cost)
	if !ok {
		writeError(w, quotaError(user, acct.Balance, held, cost, req, price))
		return
	}
	id := sr.ID()
	entry := inference.StartEntry{User: user, Model: req.Model, Path: r.URL.Path, Timestamp: sr.Timestamp, BodyHash: sha256.Sum256(body),
		Signature: sr.Signature, PromptTokens: req.PromptTokens, MaxTokens: req.MaxTokens}
	fw := forward{id: id, seed: Seed(id, req.Seed), path: r.URL.Path, body: body, user: sr}
	// The start is queued the moment an executor accepts (its answer's headers), so that
	// it reaches the chain within the timestamp window however long the model runs.
	accepted := false
	accept := func(exec inference.Account) {
		e := entry
		e.Executor = exec
		n.queueStart(e, cost)
		accepted = true
	}
	res, e := n.route(r.Context(), v, req.Model, fw, accept)
	if !accepted {
		n.holds.release(user, cost) // nothing was served: nothing is recorded
	}
	if e != nil {
		writeError(w, e)
		return
	}
	h := w.Header()
	h.Set(HeaderInferenceID, hex.EncodeToString(id[:]))
	h.Set(HeaderSeed, strconv.FormatInt(fw.seed, 10))
	h.Set(HeaderExecutor, res.executor.String())
	if req.Stream && res.status == http.StatusOK {
		events, err := StreamEvents(r.URL.Path, res.body, req.IncludeUsage)
		if err != nil {
			writeError(w, openai.Errorf(http.StatusBadGateway, openai.TypeServer, "bad_backend", "", "the executor's answer: %v", err))
			return
		}
		sse := openai.NewSSE(w)
		sse.Start()
		for _, ev := range events {
			if sse.Send(ev) != nil {
				return // the client is gone; the inference is recorded all the same
			}
		}
		_ = sse.Done()
		return
	}
	h.Set("Content-Type", res.contentType)
	openai.WriteJSON(w, res.status, res.body)
}

// forward is one request as the TA sends it to an executor.
type forward struct {
	id   inference.Hash
	seed int64
	path string // the user's path
	body []byte
	user signed.Request
}

// answer is an executor's answer as the TA got it. Accepted: the executor took the
// request (its headers came with 200); what follows is final.
type answer struct {
	executor    inference.Account
	status      int
	contentType string
	body        []byte
	accepted    bool
}

// maxAttempts bounds the executors one request is offered to.
const maxAttempts = 8

// route draws an executor for model and forwards fw to it, drawing again past one that
// fails before accepting (unreachable, or a 5xx); an accepted request or a 4xx is
// final. accept is called once, with the executor that accepted.
func (n *Node) route(ctx context.Context, v *view, model string, fw forward, accept func(inference.Account)) (*answer, *openai.APIError) {
	cands := routable(v, model, pocLead(n.clock.blockInterval(), n.cfg.Poll, n.cfg.BatchEvery))
	failed := map[inference.Account]bool{}
	var last error
	for attempt := uint32(0); attempt < maxAttempts; attempt++ {
		exec, ok := Draw(cands, fw.id, attempt, failed)
		if !ok {
			break
		}
		res, err := n.forwardTo(ctx, v, exec, fw, accept)
		if err == nil && (res.accepted || res.status < 500) {
			return res, nil
		}
		if err == nil {
			err = fmt.Errorf("answered %d: %s", res.status, clip(res.body))
		}
		n.cfg.Log.Info("executor failed, drawing another", "executor", exec, "err", err)
		failed[exec], last = true, err
		if ctx.Err() != nil {
			break
		}
	}
	if len(cands) == 0 {
		return nil, unavailable("no_executor", "No participant serves model %s now.", model)
	}
	return nil, unavailable("executors_unavailable", "No executor of model %s could serve the request (%d tried; the last: %v).", model, len(failed), last)
}

func clip(b []byte) string {
	s := strings.TrimSpace(string(b))
	if len(s) > 200 {
		return s[:200] + "…"
	}
	return s
}

// forwardTo sends fw to executor exec: in process when it is this node, else to its API
// node's executor route, signed by the TA. When the executor accepts, accept(exec) is
// called before its answer is read.
func (n *Node) forwardTo(ctx context.Context, v *view, exec inference.Account, fw forward, accept func(inference.Account)) (*answer, error) {
	fail := func(e *openai.APIError, accepted bool) *answer {
		return &answer{executor: exec, status: e.Status, contentType: "application/json", body: openai.ErrorBody(e), accepted: accepted}
	}
	if exec == n.self {
		j, e := n.exec.prepare(ctx, fw)
		if e != nil {
			return fail(e, false), nil
		}
		accept(exec)
		res, e := n.exec.execute(ctx, j)
		if e != nil {
			return fail(e, true), nil
		}
		return &answer{executor: exec, status: http.StatusOK, contentType: "application/json", body: res, accepted: true}, nil
	}
	u, ok := v.url(exec)
	if !ok {
		return nil, fmt.Errorf("executor %s serves no API node on chain", exec)
	}
	path := "/v1/executor" + strings.TrimPrefix(fw.path, "/v1")
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(u, "/")+path, bytes.NewReader(fw.body))
	if err != nil {
		return nil, err
	}
	h := req.Header
	h.Set("Content-Type", "application/json")
	h.Set(HeaderUserAccount, fw.user.Account.String())
	h.Set(HeaderUserTimestamp, strconv.FormatInt(fw.user.Timestamp, 10))
	h.Set(HeaderUserSignature, hex.EncodeToString(fw.user.Signature))
	h.Set(HeaderInferenceID, hex.EncodeToString(fw.id[:]))
	h.Set(HeaderSeed, strconv.FormatInt(fw.seed, 10))
	signed.SignRequest(req, fw.body, n.cfg.Key, n.now())
	resp, err := n.cfg.HTTP.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	accepted := resp.StatusCode == http.StatusOK
	if accepted {
		accept(exec)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if err != nil {
		if accepted {
			return fail(openai.Errorf(http.StatusBadGateway, openai.TypeServer, "executor_failed", "", "the executor %s accepted the request and failed: %v", exec, err), true), nil
		}
		return nil, err
	}
	if accepted {
		if e := errorIn(data); e != nil {
			return fail(e, true), nil
		}
	}
	return &answer{executor: exec, status: resp.StatusCode, contentType: resp.Header.Get("Content-Type"), body: data, accepted: accepted}, nil
}

// errorIn reads an OpenAI-style error an executor wrote under its 200 (it failed after
// accepting), nil for an answer.
func errorIn(body []byte) *openai.APIError {
	var eb struct {
		Error *struct {
			Message string  `json:"message"`
			Type    string  `json:"type"`
			Code    *string `json:"code"`
		} `json:"error"`
	}
	if json.Unmarshal(body, &eb) != nil || eb.Error == nil {
		return nil
	}
	code := ""
	if eb.Error.Code != nil {
		code = *eb.Error.Code
	}
	return openai.Errorf(http.StatusBadGateway, openai.TypeServer, code, "", "the executor accepted the request and failed: %s", eb.Error.Message)
}

// maxResponse bounds an executor's answer.
const maxResponse = 16 << 20

// queueStart queues a served request's start for the next batch; its hold is released
// once the batch is on chain (the balance then shows it).
func (n *Node) queueStart(e inference.StartEntry, cost uint64) {
	n.mu.Lock()
	n.pendingCost[e.ID()] = cost
	n.mu.Unlock()
	n.starts.Add(e)
}

// sendStarts submits start chunks, then releases their holds. The entries of a
// submission that failed on its way (transient: the node unreachable, the transaction
// dropped from the mempool) are queued again, their holds kept, while the chain may still take them: a
// start that did commit is refused as a duplicate the second time, and one whose user
// timestamp has aged past resendBefore is let go (the user was served unrecorded).
func (n *Node) sendStarts(ctx context.Context, chunks [][]inference.StartEntry) error {
	err := n.submitStarts(ctx, chunks)
	now := n.now().UnixNano()
	var again []inference.StartEntry
	n.mu.Lock()
	for _, c := range chunks {
		for i := range c {
			if transient(ctx, err) && now-c[i].Timestamp < resendBefore {
				again = append(again, c[i])
				continue
			}
			id := c[i].ID()
			n.holds.release(c[i].User, n.pendingCost[id])
			delete(n.pendingCost, id)
		}
	}
	n.mu.Unlock()
	n.starts.Add(again...)
	return err
}

// resendBefore is how old a user's timestamp may be for its start to be sent again: the
// chain's window less the time a batch takes to reach a block.
const resendBefore = inference.TimestampPast - 15e9

func (n *Node) submitStarts(ctx context.Context, chunks [][]inference.StartEntry) error {
	msgs := make([]tx.Msg, 0, len(chunks))
	for _, c := range chunks {
		m, err := inference.NewStart(inference.Start{Netuid: n.cfg.Netuid, Entries: c})
		if err != nil {
			return err
		}
		msgs = append(msgs, m)
	}
	return n.cfg.Chain.Send(ctx, msgs...)
}

// userRequest rebuilds the user's signature data from a forward's headers.
func userRequest(h http.Header) (signed.Request, *signed.Error) {
	uh := http.Header{}
	uh.Set(signed.HeaderAccount, h.Get(HeaderUserAccount))
	uh.Set(signed.HeaderTimestamp, h.Get(HeaderUserTimestamp))
	uh.Set(signed.HeaderSignature, h.Get(HeaderUserSignature))
	return signed.Parse(uh)
}
