package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"

	"github.com/tessera-net/tessera/internal/openai"
	"github.com/tessera-net/tessera/lm"
	"github.com/tessera-net/tessera/lm/tokenizer"
)

// This file turns request bodies into checked jobs.

// MaxStops is how many stop strings a request may give, as OpenAI allows.
const MaxStops = 4

// maxStopBytes bounds one stop string.
const maxStopBytes = 256

// job is a completion request, checked.
type job struct {
	legacy       bool // /v1/completions: answered as text completions
	req          lm.Request
	stops        []string
	stream       bool
	includeUsage bool
	logprobs     bool // answer with logprobs (chat: logprobs true; legacy: logprobs given)
	tokenIDs     bool // return_token_ids
}

// checkModel accepts an absent or empty model (as llama.cpp does) or the server's.
func (s *Server) checkModel(model *string) *openai.APIError {
	if model != nil && *model != "" && *model != s.o.Name {
		return openai.ModelNotFound(*model)
	}
	return nil
}

// sampling checks what both completion endpoints share and fills j from it; the
// prompt is set after, by limits.
func (s *Server) sampling(sp *openai.Sampling, j *job) *openai.APIError {
	if e := s.checkModel(sp.Model); e != nil {
		return e
	}
	if sp.N != nil && *sp.N != 1 {
		return openai.InvalidValue("n", "this server returns one choice; n must be 1.")
	}
	if e := sp.CheckStream(); e != nil {
		return e
	}
	j.stream, j.includeUsage = sp.Streamed(), sp.IncludeUsage()
	temperature, topP, topK := 1.0, 1.0, 0
	if sp.Temperature != nil {
		temperature = *sp.Temperature
		if math.IsNaN(temperature) || temperature < 0 || temperature > 2 {
			return openai.InvalidValue("temperature", "%v is not in [0, 2].", temperature)
		}
	}
	if sp.TopP != nil {
		topP = *sp.TopP
		if math.IsNaN(topP) || topP < 0 || topP > 1 {
			return openai.InvalidValue("top_p", "%v is not in [0, 1].", topP)
		}
	}
	if sp.TopK != nil {
		topK = *sp.TopK
		if topK == -1 { // vLLM's "all tokens"
			topK = 0
		}
		if topK < 0 {
			return openai.InvalidValue("top_k", "%d is negative (0 or -1: no top-k filtering).", topK)
		}
	}
	var seed uint64
	if sp.Seed != nil {
		seed = uint64(*sp.Seed) // two's complement: -1 is 2^64-1
	}
	smp, err := lm.SamplingFromFloats(temperature, topP, topK, seed)
	if err != nil {
		return openai.Invalid("", "invalid_value", "Invalid sampling parameters: %v", err)
	}
	j.req.Sampling = smp
	if len(sp.Stop) > MaxStops {
		return openai.InvalidValue("stop", "%d sequences, at most %d.", len(sp.Stop), MaxStops)
	}
	for _, st := range sp.Stop {
		if st == "" || len(st) > maxStopBytes {
			return openai.InvalidValue("stop", "every stop sequence must be 1 to %d bytes.", maxStopBytes)
		}
	}
	j.stops = sp.Stop
	j.req.IgnoreEOS = sp.IgnoreEOS != nil && *sp.IgnoreEOS
	j.tokenIDs = sp.ReturnTokenIDs != nil && *sp.ReturnTokenIDs
	return nil
}

// limits sets the prompt and checks the token limit against the server's cap and the
// model's context. Without max_tokens the completion may take the rest of the context,
// up to the cap.
func (s *Server) limits(sp *openai.Sampling, j *job, prompt []int32, promptParam string) *openai.APIError {
	ctxLen := s.m.Config.Context
	if len(prompt) == 0 {
		return openai.InvalidValue(promptParam, "the prompt has no tokens.")
	}
	if len(prompt) >= ctxLen {
		return openai.Invalid(promptParam, "context_length_exceeded",
			"This model's maximum context length is %d tokens. However, your prompt has %d tokens, which leaves no room for a completion. Please reduce the length of the prompt.",
			ctxLen, len(prompt))
	}
	j.req.Prompt = prompt
	lim := sp.Limit()
	param := "max_tokens"
	if sp.MaxCompletionTokens != nil {
		param = "max_completion_tokens"
	}
	if lim == nil {
		j.req.MaxTokens = min(s.o.MaxTokens, ctxLen-len(prompt))
		return nil
	}
	switch n := *lim; {
	case n < 1:
		return openai.InvalidValue(param, "%d is less than 1.", n)
	case n > s.o.MaxTokens:
		return openai.InvalidValue(param, "%d is more than this server's limit of %d tokens.", n, s.o.MaxTokens)
	case len(prompt)+n > ctxLen:
		return openai.Invalid(param, "context_length_exceeded",
			"This model's maximum context length is %d tokens. However, you requested %d tokens (%d in the prompt, %d in the completion). Please reduce the length of the prompt or completion.",
			ctxLen, len(prompt)+n, len(prompt), n)
	}
	j.req.MaxTokens = *lim
	return nil
}

// needVocab is the error of a text request to a model without a vocabulary.
func needVocab(param string) *openai.APIError {
	return openai.Invalid(param, "invalid_value", "This model has no vocabulary: it takes prompts of token ids only (POST /v1/completions with a prompt of token ids).")
}

// chatJob checks a chat request: the messages are rendered with the model's chat
// template (with the assistant's generation prompt) and tokenized with special tokens
// parsed, BOS first when the vocabulary asks for it.
func (s *Server) chatJob(body []byte) (*job, *openai.APIError) {
	var cr openai.ChatRequest
	if e := openai.DecodeBody(body, &cr); e != nil {
		return nil, e
	}
	j := &job{}
	if e := s.sampling(&cr.Sampling, j); e != nil {
		return nil, e
	}
	if cr.Messages == nil {
		return nil, openai.Missing("messages")
	}
	if len(*cr.Messages) == 0 {
		return nil, openai.Invalid("messages", "empty_array", "Invalid 'messages': empty array. Expected an array with minimum length 1.")
	}
	if s.tok == nil {
		return nil, needVocab("messages")
	}
	j.logprobs = cr.Logprobs != nil && *cr.Logprobs
	if cr.TopLogprobs != nil {
		n := *cr.TopLogprobs
		if n < 0 || n > lm.MaxTopLogprobs {
			return nil, openai.InvalidValue("top_logprobs", "%d is not in [0, %d].", n, lm.MaxTopLogprobs)
		}
		if n > 0 && !j.logprobs {
			return nil, openai.InvalidValue("top_logprobs", "'logprobs' must be true to use 'top_logprobs'.")
		}
		j.req.TopLogprobs = n
	}
	prompt, e := s.chatPrompt(*cr.Messages)
	if e != nil {
		return nil, e
	}
	if e := s.limits(&cr.Sampling, j, prompt, "messages"); e != nil {
		return nil, e
	}
	return j, nil
}

// chatPrompt renders and tokenizes messages.
func (s *Server) chatPrompt(msgs []openai.Message) ([]int32, *openai.APIError) {
	tm := make([]tokenizer.Message, len(msgs))
	for i, m := range msgs {
		if m.Role == "" {
			return nil, openai.InvalidValue(fmt.Sprintf("messages[%d].role", i), "missing.")
		}
		tm[i] = tokenizer.Message{Role: m.Role, Content: string(m.Content)}
	}
	ids, err := EncodeChat(s.tok, tm)
	if err != nil {
		return nil, openai.InvalidValue("messages", "%v (the model's chat template is %s).", err, s.tok.TemplateName())
	}
	return ids, nil
}

// completionJob checks a legacy completion request. The prompt is a string (or an
// array of one string), tokenized as llama.cpp's server does (special tokens parsed,
// BOS first when the vocabulary asks for it), or token ids (an array of ids, or an
// array of one such array), used as they are.
func (s *Server) completionJob(body []byte) (*job, *openai.APIError) {
	var cr openai.CompletionRequest
	if e := openai.DecodeBody(body, &cr); e != nil {
		return nil, e
	}
	j := &job{legacy: true}
	if e := s.sampling(&cr.Sampling, j); e != nil {
		return nil, e
	}
	if cr.Prompt == nil {
		return nil, openai.Missing("prompt")
	}
	if cr.Echo || (cr.Suffix != nil && *cr.Suffix != "") {
		return nil, openai.Invalid("", "invalid_value", "Invalid request: 'echo' and 'suffix' are not supported.")
	}
	if cr.Logprobs != nil {
		n := *cr.Logprobs
		if n < 0 || n > lm.MaxTopLogprobs {
			return nil, openai.InvalidValue("logprobs", "%d is not in [0, %d].", n, lm.MaxTopLogprobs)
		}
		j.logprobs, j.req.TopLogprobs = true, n
	}
	prompt, e := s.promptOf(*cr.Prompt, "prompt")
	if e != nil {
		return nil, e
	}
	if e := s.limits(&cr.Sampling, j, prompt, "prompt"); e != nil {
		return nil, e
	}
	return j, nil
}

// promptOf reads a prompt: a string or an array of one string (tokenized), or token
// ids or an array of one array of them (checked against the vocabulary).
func (s *Server) promptOf(raw json.RawMessage, param string) ([]int32, *openai.APIError) {
	var text string
	if json.Unmarshal(raw, &text) == nil {
		if s.tok == nil {
			return nil, needVocab(param)
		}
		return EncodePrompt(s.tok, text), nil
	}
	var texts []string
	if json.Unmarshal(raw, &texts) == nil && len(texts) > 0 {
		if len(texts) != 1 {
			return nil, openai.InvalidValue(param, "this server takes one prompt, not %d.", len(texts))
		}
		if s.tok == nil {
			return nil, needVocab(param)
		}
		return EncodePrompt(s.tok, texts[0]), nil
	}
	var ids []int64
	if err := json.Unmarshal(raw, &ids); err != nil {
		var many [][]int64
		if json.Unmarshal(raw, &many) != nil || len(many) != 1 {
			return nil, openai.InvalidValue(param, "expected a string, an array of one string, an array of token ids or an array of one array of token ids.")
		}
		ids = many[0]
	}
	return s.checkIDs(ids, param)
}

// checkIDs checks token ids against the vocabulary.
func (s *Server) checkIDs(ids []int64, param string) ([]int32, *openai.APIError) {
	out := make([]int32, len(ids))
	for i, id := range ids {
		if id < 0 || id >= int64(s.m.Config.Vocab) {
			return nil, openai.InvalidValue(param, "token id %d at index %d is not in [0, %d).", id, i, s.m.Config.Vocab)
		}
		out[i] = int32(id)
	}
	return out, nil
}

// engineError is the answer to a failed generation that has sent nothing yet.
func engineError(err error) *openai.APIError {
	if errors.Is(err, lm.ErrClosed) {
		return openai.Errorf(http.StatusServiceUnavailable, openai.TypeServer, "unavailable", "", "The server is shutting down.")
	}
	if errors.Is(err, lm.ErrRequest) {
		return openai.Errorf(http.StatusBadRequest, openai.TypeInvalidRequest, "invalid_value", "", "Invalid request: %v", err)
	}
	return openai.Errorf(http.StatusInternalServerError, openai.TypeServer, "", "", "Generation failed: %v", err)
}
