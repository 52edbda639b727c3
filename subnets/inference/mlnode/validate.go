package mlnode

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"net/http"
	"slices"

	"github.com/tessera-net/tessera/lm"
	lmserver "github.com/tessera-net/tessera/lm/server"
)

// The completion paths an inference check takes.
const (
	PathChat       = "/v1/chat/completions"
	PathCompletion = "/v1/completions"
)

// answer is the part of a non-streamed completion answer a check reads.
type answer struct {
	Choices []struct {
		Message *struct {
			Content *string `json:"content"`
		} `json:"message"`
		Text         *string         `json:"text"`
		FinishReason *string         `json:"finish_reason"`
		TokenIDs     []int32         `json:"token_ids"`
		Logprobs     json.RawMessage `json:"logprobs"`
	} `json:"choices"`
	Usage *struct {
		PromptTokens     int `json:"prompt_tokens"`
		CompletionTokens int `json:"completion_tokens"`
	} `json:"usage"`
	PromptTokenIDs []int32 `json:"prompt_token_ids"`
}

// reported is one position's log-probabilities as an answer reports them.
type reported struct {
	token   string
	logprob float64
	top     []topEntry         // chat: in order
	topMap  map[string]float64 // legacy: by text
	legacy  bool
}

type topEntry struct {
	token   string
	logprob float64
}

// parseLogprobs reads a choice's logprobs: chat {"content":[{token,logprob,top_logprobs}]}
// or legacy {"tokens","token_logprobs","top_logprobs"}. Absent (null) gives nil.
func parseLogprobs(raw json.RawMessage, chat bool) ([]reported, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	if chat {
		var c struct {
			Content []struct {
				Token       string  `json:"token"`
				Logprob     float64 `json:"logprob"`
				TopLogprobs []struct {
					Token   string  `json:"token"`
					Logprob float64 `json:"logprob"`
				} `json:"top_logprobs"`
			} `json:"content"`
		}
		if err := json.Unmarshal(raw, &c); err != nil {
			return nil, fmt.Errorf("logprobs: %v", err)
		}
		out := make([]reported, len(c.Content))
		for i, t := range c.Content {
			out[i] = reported{token: t.Token, logprob: t.Logprob}
			for _, tt := range t.TopLogprobs {
				out[i].top = append(out[i].top, topEntry{tt.Token, tt.Logprob})
			}
		}
		return out, nil
	}
	var l struct {
		Tokens        []string             `json:"tokens"`
		TokenLogprobs []*float64           `json:"token_logprobs"`
		TopLogprobs   []map[string]float64 `json:"top_logprobs"`
	}
	if err := json.Unmarshal(raw, &l); err != nil {
		return nil, fmt.Errorf("logprobs: %v", err)
	}
	if len(l.TokenLogprobs) != len(l.Tokens) || (l.TopLogprobs != nil && len(l.TopLogprobs) != len(l.Tokens)) {
		return nil, fmt.Errorf("logprobs: %d tokens, %d token_logprobs, %d top_logprobs", len(l.Tokens), len(l.TokenLogprobs), len(l.TopLogprobs))
	}
	out := make([]reported, len(l.Tokens))
	for i, t := range l.Tokens {
		out[i] = reported{token: t, legacy: true}
		if l.TokenLogprobs[i] != nil {
			out[i].logprob = *l.TokenLogprobs[i]
		}
		if l.TopLogprobs != nil {
			out[i].topMap = l.TopLogprobs[i]
		}
	}
	return out, nil
}

// q16 is a reported log-probability as the engine's Q16 value; false when it is not
// exactly one (the engine reports v/65536, which a float64 holds exactly).
func q16(f float64) (int32, bool) {
	v := f * 65536
	if math.IsNaN(v) || v != math.Trunc(v) || v < math.MinInt32 || v > math.MaxInt32 {
		return 0, false
	}
	return int32(v), true
}

func (s *Server) handleValidate(w http.ResponseWriter, r *http.Request) {
	var ic InferenceCheck
	if !decode(w, r, &ic) {
		return
	}
	res, err := s.Check(r.Context(), ic)
	if err != nil {
		var ae *Error
		if errors.As(err, &ae) {
			apiError(w, ae.Status, ae.Code, "%s", ae.Message)
			return
		}
		apiError(w, http.StatusInternalServerError, "check_failed", "The check could not run: %v", err)
		return
	}
	writeJSON(w, http.StatusOK, res)
}

// Check re-checks an executor's completion of model ic.Model: by exact replay for an
// engine model, by top-k similarity against the backend for an external one. An
// answer that breaks the protocol (no token_ids, a count that does not add up) is
// invalid; an error means the check could not run (unknown model, a backend down).
func (s *Server) Check(ctx context.Context, ic InferenceCheck) (CheckResult, error) {
	sp, ok := s.specs[ic.Model]
	if !ok {
		return CheckResult{}, &Error{Status: http.StatusNotFound, Code: "model_not_found",
			Message: fmt.Sprintf("the model '%s' is not configured on this MLNode", ic.Model)}
	}
	if ic.Path != PathChat && ic.Path != PathCompletion {
		return CheckResult{}, &Error{Status: http.StatusBadRequest, Code: "invalid_path",
			Message: fmt.Sprintf("path %q is neither %s nor %s", ic.Path, PathChat, PathCompletion)}
	}
	var a answer
	if err := json.Unmarshal(ic.Response, &a); err != nil {
		return invalid(-1, "the response is not a completion answer: %v", err), nil
	}
	if len(a.Choices) != 1 {
		return invalid(-1, "the response has %d choices, not 1", len(a.Choices)), nil
	}
	if len(a.Choices[0].TokenIDs) == 0 {
		return invalid(-1, "the response has no token_ids (the request must set return_token_ids)"), nil
	}
	if sp.URL != "" {
		return s.checkSimilar(ctx, sp, ic, &a)
	}
	sv, err := s.checkModel(sp)
	if err != nil {
		return CheckResult{}, err
	}
	defer s.releaseServed(sv)
	return checkExact(ctx, sv.srv, ic, &a)
}

func invalid(pos int, format string, args ...any) CheckResult {
	return CheckResult{Valid: false, Exact: true, Position: pos, Reason: fmt.Sprintf(format, args...)}
}

// checkModel is an engine model of sp to check with: the one up when it is sp, else
// one loaded for checks (the last such kept); release it after.
func (s *Server) checkModel(sp Spec) (*served, error) {
	s.mu.Lock()
	for _, sv := range []*served{s.serving, s.checker} {
		// A server with its own --max-tokens cap could refuse what another executor ran.
		if _, capped := argValue(sv.argsOrNil(), "--max-tokens"); sv != nil && sv.srv != nil && sv.spec.ID == sp.ID && !sv.dead && !capped {
			sv.refs++
			s.mu.Unlock()
			return sv, nil
		}
	}
	s.mu.Unlock()
	sv, err := s.load(context.Background(), sp, nil)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.checker != nil {
		s.retireLocked(s.checker)
	}
	s.checker = sv
	sv.refs++
	return sv, nil
}

// checkExact replays a completion on the engine: the request's prompt tokens, sampling
// and seed as lm/server runs them, the answer's token_ids; every token, log-probability
// and top entry, the text and the finish reason must be what the engine gives.
func checkExact(ctx context.Context, srv *lmserver.Server, ic InferenceCheck, a *answer) (CheckResult, error) {
	prep, e := srv.Prepare(ic.Path, ic.Request)
	if e != nil {
		return invalid(-1, "the engine refuses the request as the executor ran it: %s", e.Message), nil
	}
	ch := a.Choices[0]
	ids := ch.TokenIDs
	req := prep.Request
	m := srv.Model()
	if a.PromptTokenIDs != nil && !slices.Equal(a.PromptTokenIDs, req.Prompt) {
		return invalid(-1, "the response's prompt_token_ids are not the request's prompt tokens (%d reported, %d rendered)", len(a.PromptTokenIDs), len(req.Prompt)), nil
	}
	if len(ids) > req.MaxTokens {
		return invalid(req.MaxTokens, "%d tokens, more than the request's limit of %d", len(ids), req.MaxTokens), nil
	}
	for i, id := range ids {
		if id < 0 || int(id) >= m.Config.Vocab {
			return invalid(i, "token %d is %d, outside the vocabulary of %d", i, id, m.Config.Vocab), nil
		}
	}
	var rep []reported
	if prep.Logprobs {
		var err error
		if rep, err = parseLogprobs(ch.Logprobs, prep.Chat); err != nil {
			return invalid(-1, "%v", err), nil
		}
		if len(rep) != len(ids) {
			return invalid(min(len(rep), len(ids)), "%d logprobs for %d token_ids", len(rep), len(ids)), nil
		}
	}
	rr, err := m.Replay(ctx, req.Prompt, ids, req.Sampling, req.TopLogprobs, nil)
	if err != nil {
		if errors.Is(err, lm.ErrRequest) {
			return invalid(-1, "the completion cannot be replayed: %v", err), nil
		}
		return CheckResult{}, err
	}
	for j := range rep {
		if j >= len(rr.Steps) {
			break
		}
		if why := diffReported(srv, rr.Steps[j], rep[j]); why != "" {
			return invalid(j, "position %d: %s", j, why), nil
		}
	}
	if !rr.Match {
		return invalid(rr.Position, "%s", rr.Reason), nil
	}
	for j, id := range ids[:len(ids)-1] {
		if !req.IgnoreEOS && m.Tokenizer != nil && m.Tokenizer.IsEOG(id) {
			return invalid(j, "position %d is the end-of-sequence token, yet the completion goes on", j), nil
		}
	}
	text, stopAt := srv.Text(prep, ids)
	if stopAt >= 0 && stopAt < len(ids)-1 {
		return invalid(stopAt+1, "a stop string ends the text at token %d, yet the completion goes on", stopAt), nil
	}
	var got *string
	if prep.Chat && ch.Message != nil {
		got = ch.Message.Content
	} else if !prep.Chat {
		got = ch.Text
	}
	if got == nil || *got != text {
		return invalid(-1, "the answer's text is not the text of its tokens"), nil
	}
	last := ids[len(ids)-1]
	finish := lm.FinishLength
	if stopAt >= 0 || (!req.IgnoreEOS && m.Tokenizer != nil && m.Tokenizer.IsEOG(last)) {
		finish = lm.FinishStop
	} else if explicitLimit(ic.Request) && len(ids) < req.MaxTokens && len(req.Prompt)+len(ids) < m.Config.Context {
		// Without a limit in the request, the executor's server cap (a model arg) ended
		// it; with one, only that limit or the context may.
		return invalid(len(ids), "the completion ends after %d tokens with neither a stop nor its limit of %d", len(ids), req.MaxTokens), nil
	}
	if ch.FinishReason == nil || *ch.FinishReason != finish {
		return invalid(-1, "the finish reason is %s, the completion's is %q", strOr(ch.FinishReason), finish), nil
	}
	if a.Usage != nil && (a.Usage.CompletionTokens != len(ids) || a.Usage.PromptTokens != len(req.Prompt)) {
		return invalid(-1, "the usage says %d prompt and %d completion tokens; they are %d and %d",
			a.Usage.PromptTokens, a.Usage.CompletionTokens, len(req.Prompt), len(ids)), nil
	}
	return CheckResult{Valid: true, Exact: true, Position: -1, SimilarityPPM: 1e6}, nil
}

// explicitLimit reports whether a completion request sets max_tokens or
// max_completion_tokens.
func explicitLimit(body []byte) bool {
	var lim struct {
		MaxTokens           *int `json:"max_tokens"`
		MaxCompletionTokens *int `json:"max_completion_tokens"`
	}
	return json.Unmarshal(body, &lim) == nil && (lim.MaxTokens != nil || lim.MaxCompletionTokens != nil)
}

func (sv *served) argsOrNil() []string {
	if sv == nil {
		return nil
	}
	return sv.args
}

func strOr(p *string) string {
	if p == nil {
		return "absent"
	}
	return fmt.Sprintf("%q", *p)
}

// diffReported says how a reported position differs from the engine's step there.
func diffReported(srv *lmserver.Server, st lm.Step, r reported) string {
	text, _ := srv.TokenText(st.ID)
	if r.token != text {
		return fmt.Sprintf("the logprobs name token %q, the token is %q", r.token, text)
	}
	lp, ok := q16(r.logprob)
	if !ok || lp != st.Logprob {
		return fmt.Sprintf("token %q's log-probability is %v, reported %v", text, lmserver.Logprob(st.Logprob), r.logprob)
	}
	if r.legacy {
		want := make(map[string]float64, len(st.Top))
		for _, t := range st.Top {
			tt, _ := srv.TokenText(t.ID)
			if _, dup := want[tt]; !dup {
				want[tt] = lmserver.Logprob(t.Logprob)
			}
		}
		if len(st.Top) > 0 && !maps.Equal(want, r.topMap) {
			return fmt.Sprintf("the top log-probabilities are %v, reported %v", want, r.topMap)
		}
		return ""
	}
	if len(r.top) != len(st.Top) {
		return fmt.Sprintf("%d top log-probabilities, reported %d", len(st.Top), len(r.top))
	}
	for k, t := range st.Top {
		tt, _ := srv.TokenText(t.ID)
		if r.top[k].token != tt || r.top[k].logprob != lmserver.Logprob(t.Logprob) {
			return fmt.Sprintf("top %d is %q at %v, reported %q at %v", k, tt, lmserver.Logprob(t.Logprob), r.top[k].token, r.top[k].logprob)
		}
	}
	return ""
}

// checkSimilar is Gonka's check for an external backend: the backend scores the
// prompt and the executor's tokens (a legacy completion with echo and logprobs, as
// vLLM answers it) and, position by position over the executor's top-k entries,
//
//	posDist_j = Σ_k |a_k − b_k| / (|a_k| + |b_k| + 1) / 2        (Q16 log-probabilities)
//	similarity = 1 − Σ_j posDist_j / (max(100, n) · K)
//
// with a token missing from the backend's top counting 1/2, in integer parts per
// million; valid at or above the threshold.
func (s *Server) checkSimilar(ctx context.Context, sp Spec, ic InferenceCheck, a *answer) (CheckResult, error) {
	ch := a.Choices[0]
	ids := ch.TokenIDs
	if len(a.PromptTokenIDs) == 0 {
		return similar(false, -1, 0, "the response has no prompt_token_ids (the request must set return_token_ids)"), nil
	}
	rep, err := parseLogprobs(ch.Logprobs, ic.Path == PathChat)
	if err != nil {
		return similar(false, -1, 0, "%v", err), nil
	}
	if len(rep) != len(ids) {
		return similar(false, min(len(rep), len(ids)), 0, "%d logprobs for %d token_ids", len(rep), len(ids)), nil
	}
	k := 0
	for _, r := range rep {
		k = max(k, len(r.top), len(r.topMap))
	}
	if k == 0 {
		return similar(false, -1, 0, "the response has no top log-probabilities to compare"), nil
	}
	scored, err := s.score(ctx, sp, a.PromptTokenIDs, ids, k)
	if err != nil {
		return CheckResult{}, &Error{Status: http.StatusBadGateway, Code: "backend_unavailable", Message: err.Error()}
	}
	var total uint64
	first := -1
	for j, r := range rep {
		entries := r.top
		if r.legacy {
			for _, t := range slices.Sorted(maps.Keys(r.topMap)) {
				entries = append(entries, topEntry{t, r.topMap[t]})
			}
		}
		var pos uint64
		for _, e := range entries {
			b, ok := scored[j][e.token]
			if !ok {
				pos += 1e6 / 2
				continue
			}
			x, y := toQ16(e.logprob), toQ16(b)
			pos += uint64(absDiff(x, y)) * 1e6 / uint64(abs64(x)+abs64(y)+1) / 2
		}
		if pos > 0 && first < 0 {
			first = j
		}
		total += pos
	}
	den := uint64(max(100, len(ids)) * k)
	ppm := uint64(0)
	if d := total / den; d < 1e6 {
		ppm = 1e6 - d
	}
	threshold := s.cfg.SimilarityPPM
	if ic.ThresholdPPM > 0 {
		threshold = ic.ThresholdPPM
	}
	if ppm >= threshold {
		return similar(true, -1, ppm, ""), nil
	}
	return similar(false, first, ppm, "the top-k similarity is %d ppm, below the threshold of %d ppm", ppm, threshold), nil
}

func similar(valid bool, pos int, ppm uint64, format string, args ...any) CheckResult {
	r := CheckResult{Valid: valid, Position: pos, SimilarityPPM: ppm}
	if format != "" {
		r.Reason = fmt.Sprintf(format, args...)
	}
	return r
}

func toQ16(f float64) int64 {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return math.MinInt32
	}
	return int64(math.Round(min(max(f, -32768), 32768) * 65536)) // |f| ≤ 2^15: no overflow below
}

func absDiff(a, b int64) int64 {
	if a > b {
		return a - b
	}
	return b - a
}

func abs64(a int64) int64 {
	if a < 0 {
		return -a
	}
	return a
}

// score asks a backend for the log-probabilities of completion after prompt: a legacy
// completion of prompt‖completion with echo, logprobs k, max_tokens 1, temperature 0
// (vLLM's scoring), or, when the backend refuses that, Tessera's POST /v1/score with the
// token ids (`tessera lm serve`). It returns, for each completion position, the
// backend's top-k by token text.
func (s *Server) score(ctx context.Context, sp Spec, prompt, completion []int32, k int) ([]map[string]float64, error) {
	all := append(slices.Clone(prompt), completion...)
	var echo struct {
		Choices []struct {
			Logprobs *struct {
				TopLogprobs []map[string]float64 `json:"top_logprobs"`
			} `json:"logprobs"`
		} `json:"choices"`
	}
	status, msg, err := s.post(ctx, sp.URL+"/completions", map[string]any{"model": sp.ID, "prompt": all, "max_tokens": 1,
		"echo": true, "logprobs": k, "temperature": 0}, &echo)
	if err != nil {
		return nil, fmt.Errorf("scoring on the backend of %s: %v", sp.ID, err)
	}
	if status == http.StatusOK {
		if len(echo.Choices) == 0 || echo.Choices[0].Logprobs == nil {
			return nil, fmt.Errorf("the backend of %s answers a scoring request without echoed logprobs", sp.ID)
		}
		top := echo.Choices[0].Logprobs.TopLogprobs
		if len(top) < len(all) {
			return nil, fmt.Errorf("the backend of %s echoed %d positions' logprobs for %d tokens", sp.ID, len(top), len(all))
		}
		return top[len(prompt):len(all)], nil
	}
	var sc lmserver.ScoreResponse
	status2, msg2, err := s.post(ctx, sp.URL+"/score", map[string]any{"model": sp.ID, "prompt_tokens": prompt,
		"completion_tokens": completion, "top_logprobs": k}, &sc)
	if err != nil {
		return nil, fmt.Errorf("scoring on the backend of %s: %v", sp.ID, err)
	}
	if status2 != http.StatusOK {
		return nil, fmt.Errorf("the backend of %s scores neither by echo (%d: %s) nor by /v1/score (%d: %s)", sp.ID, status, msg, status2, msg2)
	}
	if len(sc.Tokens) != len(completion) {
		return nil, fmt.Errorf("the backend of %s scored %d tokens of %d", sp.ID, len(sc.Tokens), len(completion))
	}
	out := make([]map[string]float64, len(sc.Tokens))
	for j, t := range sc.Tokens {
		out[j] = map[string]float64{}
		for _, tt := range t.TopLogprobs {
			if _, dup := out[j][tt.Token]; !dup {
				out[j][tt.Token] = tt.Logprob
			}
		}
	}
	return out, nil
}

// post sends a JSON body to a backend and decodes a 200 answer into out; another
// status comes back with its error message.
func (s *Server) post(ctx context.Context, url string, in, out any) (int, string, error) {
	body, _ := json.Marshal(in)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, "", err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := s.cfg.HTTP.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return 0, "", err
	}
	if resp.StatusCode != http.StatusOK {
		return resp.StatusCode, ErrorOf(resp.StatusCode, data).Message, nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return 0, "", fmt.Errorf("the answer of %s is not the expected JSON: %v", url, err)
	}
	return resp.StatusCode, "", nil
}
