package server

import (
	"encoding/json"
	"net/http"

	"github.com/tessera-net/tessera/internal/openai"
	"github.com/tessera-net/tessera/lm"
	"github.com/tessera-net/tessera/lm/tokenizer"
)

// ScoreRequest is the body of POST /v1/score, Tessera's extension: the log-probability
// of each token of a completion after a prompt, what a validator computes to check a
// miner's logprobs. The prompt is one of Prompt (text, tokenized as /v1/completions
// does), Messages (a chat, as /v1/chat/completions renders it) or PromptTokens; the
// completion one of CompletionTokens (exact: the token_ids a completion returned) or
// Completion (text, tokenized on its own without BOS, one leading space removed when
// the vocabulary adds a space prefix, so " Paris" is ▁Paris: not always the tokens the
// model generated).
type ScoreRequest struct {
	Model            *string           `json:"model"`
	Prompt           *string           `json:"prompt"`
	Messages         *[]openai.Message `json:"messages"`
	PromptTokens     *[]int64          `json:"prompt_tokens"`
	Completion       *string           `json:"completion"`
	CompletionTokens *[]int64          `json:"completion_tokens"`
	// TopLogprobs is how many of the most likely tokens to list at each position
	// (0 to 20).
	TopLogprobs int `json:"top_logprobs"`
}

// ScoreToken is one scored token: its id, text (as in a chat completion's logprobs),
// log-probability as a float and exactly, in Q16 (logprob = logprob_q16 / 65536).
type ScoreToken struct {
	ID          int32        `json:"id"`
	Token       string       `json:"token"`
	Bytes       []int        `json:"bytes"`
	Logprob     float64      `json:"logprob"`
	LogprobQ16  int32        `json:"logprob_q16"`
	TopLogprobs []ScoreToken `json:"top_logprobs,omitempty"`
}

// ScoreResponse is the answer of POST /v1/score (object "score"): the prompt's token
// ids, each completion token scored, and their sum.
type ScoreResponse struct {
	Object         string       `json:"object"`
	Model          string       `json:"model"`
	PromptTokenIDs []int32      `json:"prompt_token_ids"`
	Tokens         []ScoreToken `json:"tokens"`
	Logprob        float64      `json:"logprob"`
	LogprobQ16     int64        `json:"logprob_q16"`
	Usage          openai.Usage `json:"usage"`
}

// score answers POST /v1/score.
func (s *Server) score(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		openai.WriteError(w, openai.MethodNotAllowed(w, r, http.MethodPost))
		return
	}
	body, e := openai.ReadBody(w, r, s.o.MaxBodyBytes)
	if e != nil {
		openai.WriteError(w, e)
		return
	}
	prompt, completion, top, e := s.scoreJob(body)
	if e != nil {
		openai.WriteError(w, e)
		return
	}
	rec := recordOf(r.Context())
	rec.prompt = len(prompt)
	steps, err := s.m.Score(r.Context(), prompt, completion, top)
	if err != nil {
		if r.Context().Err() == nil {
			openai.WriteError(w, engineError(err))
		}
		return
	}
	s.met.tokens.WithLabelValues("scored").Add(float64(len(completion)))
	writeAny(w, NewScoreResponse(s.o.Name, s.tok, prompt, steps))
}

// NewScoreResponse is the score answer for model of completion steps after prompt.
func NewScoreResponse(model string, tok *tokenizer.Tokenizer, prompt []int32, steps []lm.Step) ScoreResponse {
	r := ScoreResponse{Object: "score", Model: model, PromptTokenIDs: prompt, Usage: openai.NewUsage(len(prompt), len(steps))}
	r.Tokens, r.LogprobQ16 = ScoreTokens(tok, steps)
	// Exact: the sum of at most 2^20 int32 values is below 2^51, which a float64 holds.
	r.Logprob = float64(r.LogprobQ16) / 65536
	return r
}

// scoreJob checks a score request.
func (s *Server) scoreJob(body []byte) (prompt, completion []int32, top int, e *openai.APIError) {
	var sr ScoreRequest
	if e := openai.DecodeBody(body, &sr); e != nil {
		return nil, nil, 0, e
	}
	if e := s.checkModel(sr.Model); e != nil {
		return nil, nil, 0, e
	}
	if sr.TopLogprobs < 0 || sr.TopLogprobs > lm.MaxTopLogprobs {
		return nil, nil, 0, openai.InvalidValue("top_logprobs", "%d is not in [0, %d].", sr.TopLogprobs, lm.MaxTopLogprobs)
	}
	given := 0
	for _, p := range []bool{sr.Prompt != nil, sr.Messages != nil, sr.PromptTokens != nil} {
		if p {
			given++
		}
	}
	if given != 1 {
		return nil, nil, 0, openai.Invalid("prompt", "invalid_value", "Give exactly one of 'prompt', 'messages' and 'prompt_tokens'.")
	}
	switch {
	case sr.PromptTokens != nil:
		prompt, e = s.checkIDs(*sr.PromptTokens, "prompt_tokens")
	case s.tok == nil:
		e = needVocab("prompt")
	case sr.Prompt != nil:
		prompt = EncodePrompt(s.tok, *sr.Prompt)
	default:
		if len(*sr.Messages) == 0 {
			e = openai.Invalid("messages", "empty_array", "Invalid 'messages': empty array. Expected an array with minimum length 1.")
		} else {
			prompt, e = s.chatPrompt(*sr.Messages)
		}
	}
	if e != nil {
		return nil, nil, 0, e
	}
	switch {
	case (sr.Completion == nil) == (sr.CompletionTokens == nil):
		return nil, nil, 0, openai.Invalid("completion", "invalid_value", "Give exactly one of 'completion' and 'completion_tokens'.")
	case sr.CompletionTokens != nil:
		completion, e = s.checkIDs(*sr.CompletionTokens, "completion_tokens")
	case s.tok == nil:
		e = needVocab("completion")
	default:
		completion = EncodeCompletion(s.tok, *sr.Completion)
	}
	if e != nil {
		return nil, nil, 0, e
	}
	switch c := s.m.Config.Context; {
	case len(prompt) == 0:
		return nil, nil, 0, openai.InvalidValue("prompt", "the prompt has no tokens.")
	case len(completion) == 0:
		return nil, nil, 0, openai.InvalidValue("completion", "the completion has no tokens.")
	case len(prompt)+len(completion) > c:
		return nil, nil, 0, openai.Invalid("completion", "context_length_exceeded",
			"This model's maximum context length is %d tokens. However, the prompt and completion have %d tokens (%d in the prompt, %d in the completion).",
			c, len(prompt)+len(completion), len(prompt), len(completion))
	}
	return prompt, completion, sr.TopLogprobs, nil
}

// writeAny answers 200 with v as JSON.
func writeAny(w http.ResponseWriter, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		openai.WriteError(w, openai.Errorf(http.StatusInternalServerError, openai.TypeServer, "", "", "encode the answer: %v", err))
		return
	}
	openai.WriteJSON(w, http.StatusOK, body)
}
