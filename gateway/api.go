package gateway

import (
	"encoding/json"
	"errors"

	"github.com/tessera-net/tessera/internal/openai"
	"github.com/tessera-net/tessera/subnets/textgen"
)

// The request, answer and error shapes are OpenAI's, in package internal/openai, which
// the gateway shares with lm/server; this file checks requests against them and turns
// them into subnet requests.

// Model maps a model name clients ask for to the subnet that serves it.
type Model struct {
	// ID is the name in the "model" field of requests and in /v1/models.
	ID string `json:"id"`
	// Netuid is the text-generation subnet whose miners answer.
	Netuid uint16 `json:"netuid"`
	// Created is the Unix time /v1/models reports (0: the gateway's start).
	Created int64 `json:"created"`

	up      Upstream // the upstream that serves it (set in the gateway's catalog)
	ownedBy string   // its owned_by in /v1/models
}

// parsedRequest is a request checked against the models the gateway serves: the model
// (and so its upstream) and the request as the upstream gets it.
type parsedRequest struct {
	model Model
	Request
}

// maxTopLogprobs is the most top_logprobs a chat request may ask for (OpenAI's
// limit), and maxLegacyLogprobs the most a legacy completion's logprobs may be.
const (
	maxTopLogprobs    = 20
	maxLegacyLogprobs = 5
)

// parseChatRequest checks a request body against the models the gateway serves. The
// error is the OpenAI-style answer: 400 for malformed JSON, a missing or bad field, 404
// for an unknown model.
func parseChatRequest(body []byte, models map[string]Model) (parsedRequest, *openai.APIError) {
	var cr openai.ChatRequest
	if e := openai.DecodeBody(body, &cr); e != nil {
		return parsedRequest{}, e
	}
	m, e := modelOf(&cr.Sampling, models)
	if e != nil {
		return parsedRequest{}, e
	}
	if cr.Messages == nil {
		return parsedRequest{}, openai.Missing("messages")
	}
	if len(*cr.Messages) == 0 {
		return parsedRequest{}, openai.Invalid("messages", "empty_array", "Invalid 'messages': empty array. Expected an array with minimum length 1.")
	}
	msgs := make([]textgen.Message, len(*cr.Messages))
	for i, msg := range *cr.Messages {
		msgs[i] = textgen.Message{Role: msg.Role, Content: string(msg.Content)}
	}
	p, e := build(&cr.Sampling, m, msgs)
	if e != nil {
		return p, e
	}
	p.Logprobs = cr.Logprobs != nil && *cr.Logprobs
	if cr.TopLogprobs != nil {
		n := *cr.TopLogprobs
		if n < 0 || n > maxTopLogprobs {
			return parsedRequest{}, openai.InvalidValue("top_logprobs", "%d is not in [0, %d].", n, maxTopLogprobs)
		}
		if !p.Logprobs {
			return parsedRequest{}, openai.Invalid("top_logprobs", "invalid_value", "Invalid 'top_logprobs': 'logprobs' must be set to true when 'top_logprobs' is used.")
		}
		p.TopLogprobs = n
	}
	p.Body = body
	return p, nil
}

// parseCompletionRequest checks a body of the legacy /v1/completions endpoint as
// parseChatRequest does a chat request: its prompt becomes the one user message. A
// prompt of token ids, more than one prompt, echo and suffix are refused (400).
func parseCompletionRequest(body []byte, models map[string]Model) (parsedRequest, *openai.APIError) {
	var cr openai.CompletionRequest
	if e := openai.DecodeBody(body, &cr); e != nil {
		return parsedRequest{}, e
	}
	m, e := modelOf(&cr.Sampling, models)
	if e != nil {
		return parsedRequest{}, e
	}
	if cr.Prompt == nil {
		return parsedRequest{}, openai.Missing("prompt")
	}
	var prompt string
	if err := json.Unmarshal(*cr.Prompt, &prompt); err != nil {
		var prompts []string
		if err := json.Unmarshal(*cr.Prompt, &prompts); err != nil || len(prompts) != 1 {
			return parsedRequest{}, openai.InvalidValue("prompt", "this gateway takes one prompt, a string (or an array of one string); token ids are not supported.")
		}
		prompt = prompts[0]
	}
	if cr.Echo || (cr.Suffix != nil && *cr.Suffix != "") {
		return parsedRequest{}, openai.Invalid("", "invalid_value", "Invalid request: 'echo' and 'suffix' are not supported.")
	}
	p, e := build(&cr.Sampling, m, []textgen.Message{{Role: "user", Content: prompt}})
	if e != nil {
		return p, e
	}
	if cr.Logprobs != nil {
		n := *cr.Logprobs
		if n < 0 || n > maxLegacyLogprobs {
			return parsedRequest{}, openai.InvalidValue("logprobs", "%d is not in [0, %d].", n, maxLegacyLogprobs)
		}
		p.Logprobs, p.TopLogprobs = true, n
	}
	p.Legacy, p.Body = true, body
	return p, nil
}

// modelOf checks the request's model.
func modelOf(s *openai.Sampling, models map[string]Model) (Model, *openai.APIError) {
	if s.Model == nil || *s.Model == "" {
		return Model{}, openai.Missing("model")
	}
	m, ok := models[*s.Model]
	if !ok {
		return Model{}, openai.ModelNotFound(*s.Model)
	}
	return m, nil
}

// build checks the sampling fields and makes the subnet request for model m and msgs.
func build(s *openai.Sampling, m Model, msgs []textgen.Message) (parsedRequest, *openai.APIError) {
	p := parsedRequest{model: m, Request: Request{Model: m.ID, Stream: s.Streamed(), IncludeUsage: s.IncludeUsage(),
		ReturnTokenIDs: s.ReturnTokenIDs != nil && *s.ReturnTokenIDs}}
	if e := s.CheckStream(); e != nil {
		return parsedRequest{}, e
	}
	if s.N != nil && *s.N != 1 {
		return parsedRequest{}, openai.InvalidValue("n", "this gateway returns one choice; n must be 1.")
	}
	p.Chat = textgen.Request{Model: m.ID, Messages: msgs, Temperature: s.Temperature, TopP: s.TopP, Seed: s.Seed, Stop: s.Stop}
	if lim := s.Limit(); lim != nil {
		p.Chat.MaxTokens = *lim
	}
	if err := p.Chat.Validate(); err != nil {
		var pe *textgen.ParamError
		if !errors.As(err, &pe) {
			return parsedRequest{}, openai.Invalid("", "invalid_value", "Invalid request: %v", err)
		}
		return parsedRequest{}, openai.InvalidValue(pe.Param, "%s", pe.Msg)
	}
	return p, nil
}

func usageOf(u textgen.Usage) openai.Usage {
	return openai.Usage{PromptTokens: u.PromptTokens, CompletionTokens: u.CompletionTokens, TotalTokens: u.TotalTokens}
}

// legacyChunk is chunk c of a chat stream as a chunk of the legacy completions API,
// or nil for the opening chunk that only names the role, which that API does not send.
func legacyChunk(c openai.ChatChunk) *openai.TextCompletion {
	out := &openai.TextCompletion{ID: c.ID, Object: "text_completion", Created: c.Created, Model: c.Model,
		SystemFingerprint: c.SystemFingerprint, Choices: []openai.TextChoice{}, Usage: c.Usage}
	for _, ch := range c.Choices {
		if ch.Delta.Role != "" {
			return nil
		}
		tc := openai.TextChoice{Index: ch.Index, FinishReason: ch.FinishReason}
		if ch.Delta.Content != nil {
			tc.Text = *ch.Delta.Content
		}
		out.Choices = append(out.Choices, tc)
	}
	return out
}
