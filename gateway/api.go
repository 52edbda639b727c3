package gateway

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/tessera-net/tessera/subnets/textgen"
)

// APIError is an error in OpenAI's shape, with the HTTP status it is sent with:
//
//	{"error": {"message": …, "type": …, "param": …, "code": …}}
type APIError struct {
	Status  int     `json:"-"`       // the HTTP status it is sent with
	Message string  `json:"message"` // what went wrong, for people
	Type    string  `json:"type"`    // invalid_request_error, requests, server_error
	Param   *string `json:"param"`   // the request field at fault, or null
	Code    *string `json:"code"`    // a machine-readable code, or null
}

// Error returns the message.
func (e *APIError) Error() string { return fmt.Sprintf("%d %s: %s", e.Status, e.Type, e.Message) }

func strp(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// apiErr builds an APIError; empty param or code are sent as null.
func apiErr(status int, typ, code, param, format string, args ...any) *APIError {
	return &APIError{Status: status, Message: fmt.Sprintf(format, args...), Type: typ, Param: strp(param), Code: strp(code)}
}

func invalid(param, code, format string, args ...any) *APIError {
	return apiErr(http.StatusBadRequest, "invalid_request_error", code, param, format, args...)
}

// Model maps a model name clients ask for to the subnet that serves it.
type Model struct {
	// ID is the name in the "model" field of requests and in /v1/models.
	ID string `json:"id"`
	// Netuid is the text-generation subnet whose miners answer.
	Netuid uint16 `json:"netuid"`
	// Created is the Unix time /v1/models reports (0: the gateway's start).
	Created int64 `json:"created"`
}

// content is a message's content: a string, or an array of parts of which only text
// parts are accepted (joined with newlines), or null.
type content string

// UnmarshalJSON reads a string, null, or an array of text parts.
func (c *content) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) == 0 || string(b) == "null":
		*c = ""
		return nil
	case b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*c = content(s)
		return nil
	case b[0] == '[':
		var parts []struct {
			Type string  `json:"type"`
			Text *string `json:"text"`
		}
		if err := json.Unmarshal(b, &parts); err != nil {
			return err
		}
		texts := make([]string, 0, len(parts))
		for _, p := range parts {
			if p.Type != "text" || p.Text == nil {
				return fmt.Errorf("content part of type %q is not supported: only text parts are", p.Type)
			}
			texts = append(texts, *p.Text)
		}
		*c = content(strings.Join(texts, "\n"))
		return nil
	}
	return errors.New("content must be a string or an array of text parts")
}

// stopList is "stop": a string or an array of strings.
type stopList []string

// UnmarshalJSON reads a string, null, or an array of strings.
func (s *stopList) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case string(b) == "null":
		*s = nil
		return nil
	case len(b) > 0 && b[0] == '"':
		var one string
		if err := json.Unmarshal(b, &one); err != nil {
			return err
		}
		*s = stopList{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return errors.New("stop must be a string or an array of strings")
	}
	*s = many
	return nil
}

// sampling is what the bodies of both completion endpoints share.
type sampling struct {
	Model               *string  `json:"model"`
	MaxTokens           *int     `json:"max_tokens"`
	MaxCompletionTokens *int     `json:"max_completion_tokens"`
	Temperature         *float64 `json:"temperature"`
	TopP                *float64 `json:"top_p"`
	Seed                *int64   `json:"seed"`
	Stop                stopList `json:"stop"`
	N                   *int     `json:"n"`
	Stream              *bool    `json:"stream"`
	StreamOptions       *struct {
		IncludeUsage bool `json:"include_usage"`
	} `json:"stream_options"`
}

// chatRequest is the body of POST /v1/chat/completions, the fields the gateway uses.
type chatRequest struct {
	sampling
	Messages *[]struct {
		Role    string  `json:"role"`
		Content content `json:"content"`
	} `json:"messages"`
}

// completionRequest is the body of POST /v1/completions (OpenAI's legacy endpoint), the
// fields the gateway uses: the prompt is a string, or an array of one string.
type completionRequest struct {
	sampling
	Prompt *json.RawMessage `json:"prompt"`
	Echo   bool             `json:"echo"`
	Suffix *string          `json:"suffix"`
}

// parsedRequest is a chat request checked and turned into a subnet request.
type parsedRequest struct {
	model        Model
	req          textgen.Request
	stream       bool
	includeUsage bool
	legacy       bool // asked through /v1/completions: answered as text completions
}

// decodeBody reads one JSON object into v; the error is the OpenAI-style 400.
func decodeBody(body []byte, v any) *APIError {
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			return invalid(te.Field, "invalid_type", "Invalid type for '%s': expected %s, got a JSON %s.", te.Field, te.Type, te.Value)
		}
		return invalid("", "invalid_json", "We could not parse the JSON body of your request: %v", err)
	}
	if dec.More() {
		return invalid("", "invalid_json", "We could not parse the JSON body of your request: data after the JSON object.")
	}
	return nil
}

// parseChatRequest checks a request body against the models the gateway serves. The
// error is the OpenAI-style answer: 400 for malformed JSON, a missing or bad field, 404
// for an unknown model.
func parseChatRequest(body []byte, models map[string]Model) (parsedRequest, *APIError) {
	var cr chatRequest
	if e := decodeBody(body, &cr); e != nil {
		return parsedRequest{}, e
	}
	m, e := cr.model(models)
	if e != nil {
		return parsedRequest{}, e
	}
	if cr.Messages == nil {
		return parsedRequest{}, invalid("messages", "missing_required_parameter", "Missing required parameter: 'messages'.")
	}
	if len(*cr.Messages) == 0 {
		return parsedRequest{}, invalid("messages", "empty_array", "Invalid 'messages': empty array. Expected an array with minimum length 1.")
	}
	msgs := make([]textgen.Message, len(*cr.Messages))
	for i, msg := range *cr.Messages {
		msgs[i] = textgen.Message{Role: msg.Role, Content: string(msg.Content)}
	}
	return cr.build(m, msgs)
}

// parseCompletionRequest checks a body of the legacy /v1/completions endpoint as
// parseChatRequest does a chat request: its prompt becomes the one user message. A
// prompt of token ids, more than one prompt, echo and suffix are refused (400).
func parseCompletionRequest(body []byte, models map[string]Model) (parsedRequest, *APIError) {
	var cr completionRequest
	if e := decodeBody(body, &cr); e != nil {
		return parsedRequest{}, e
	}
	m, e := cr.model(models)
	if e != nil {
		return parsedRequest{}, e
	}
	if cr.Prompt == nil {
		return parsedRequest{}, invalid("prompt", "missing_required_parameter", "Missing required parameter: 'prompt'.")
	}
	var prompt string
	if err := json.Unmarshal(*cr.Prompt, &prompt); err != nil {
		var prompts []string
		if err := json.Unmarshal(*cr.Prompt, &prompts); err != nil || len(prompts) != 1 {
			return parsedRequest{}, invalid("prompt", "invalid_value", "Invalid 'prompt': this gateway takes one prompt, a string (or an array of one string); token ids are not supported.")
		}
		prompt = prompts[0]
	}
	if cr.Echo || (cr.Suffix != nil && *cr.Suffix != "") {
		return parsedRequest{}, invalid("", "invalid_value", "Invalid request: 'echo' and 'suffix' are not supported.")
	}
	p, e := cr.build(m, []textgen.Message{{Role: "user", Content: prompt}})
	p.legacy = true
	return p, e
}

// model checks the request's model.
func (s *sampling) model(models map[string]Model) (Model, *APIError) {
	if s.Model == nil || *s.Model == "" {
		return Model{}, invalid("model", "missing_required_parameter", "Missing required parameter: 'model'.")
	}
	m, ok := models[*s.Model]
	if !ok {
		return Model{}, apiErr(http.StatusNotFound, "invalid_request_error", "model_not_found", "model",
			"The model '%s' does not exist or you do not have access to it.", *s.Model)
	}
	return m, nil
}

// build checks the sampling fields and makes the subnet request for model m and msgs.
func (s *sampling) build(m Model, msgs []textgen.Message) (parsedRequest, *APIError) {
	p := parsedRequest{model: m, stream: s.Stream != nil && *s.Stream}
	p.includeUsage = p.stream && s.StreamOptions != nil && s.StreamOptions.IncludeUsage
	if s.StreamOptions != nil && !p.stream {
		return parsedRequest{}, invalid("stream_options", "invalid_value", "The 'stream_options' parameter is only allowed when 'stream' is enabled.")
	}
	if s.N != nil && *s.N != 1 {
		return parsedRequest{}, invalid("n", "invalid_value", "Invalid 'n': this gateway returns one choice; n must be 1.")
	}
	p.req = textgen.Request{Model: m.ID, Messages: msgs, Temperature: s.Temperature, TopP: s.TopP, Seed: s.Seed, Stop: s.Stop}
	switch {
	case s.MaxCompletionTokens != nil:
		p.req.MaxTokens = *s.MaxCompletionTokens
	case s.MaxTokens != nil:
		p.req.MaxTokens = *s.MaxTokens
	}
	if err := p.req.Validate(); err != nil {
		var pe *textgen.ParamError
		if !errors.As(err, &pe) {
			return parsedRequest{}, invalid("", "invalid_value", "Invalid request: %v", err)
		}
		return parsedRequest{}, invalid(pe.Param, "invalid_value", "Invalid '%s': %s", pe.Param, pe.Msg)
	}
	return p, nil
}

// The answer shapes of the chat-completions API.
type (
	respMessage struct {
		Role    string `json:"role"`
		Content string `json:"content"`
	}
	respChoice struct {
		Index        int         `json:"index"`
		Message      respMessage `json:"message"`
		FinishReason string      `json:"finish_reason"`
		Logprobs     *struct{}   `json:"logprobs"`
	}
	respUsage struct {
		PromptTokens     int `json:"prompt_tokens"`
		CompletionTokens int `json:"completion_tokens"`
		TotalTokens      int `json:"total_tokens"`
	}
	chatResponse struct {
		ID                string       `json:"id"`
		Object            string       `json:"object"`
		Created           int64        `json:"created"`
		Model             string       `json:"model"`
		Choices           []respChoice `json:"choices"`
		Usage             respUsage    `json:"usage"`
		SystemFingerprint string       `json:"system_fingerprint"`
	}
	chunkDelta struct {
		Role    string  `json:"role,omitempty"`
		Content *string `json:"content,omitempty"`
	}
	chunkChoice struct {
		Index        int        `json:"index"`
		Delta        chunkDelta `json:"delta"`
		FinishReason *string    `json:"finish_reason"`
		Logprobs     *struct{}  `json:"logprobs"`
	}
	chatChunk struct {
		ID                string        `json:"id"`
		Object            string        `json:"object"`
		Created           int64         `json:"created"`
		Model             string        `json:"model"`
		SystemFingerprint string        `json:"system_fingerprint"`
		Choices           []chunkChoice `json:"choices"`
		Usage             *respUsage    `json:"usage"`
	}
	textChoice struct {
		Text         string    `json:"text"`
		Index        int       `json:"index"`
		Logprobs     *struct{} `json:"logprobs"`
		FinishReason *string   `json:"finish_reason"`
	}
	// textCompletion is an answer of the legacy completions API, whole or a chunk.
	textCompletion struct {
		ID                string       `json:"id"`
		Object            string       `json:"object"`
		Created           int64        `json:"created"`
		Model             string       `json:"model"`
		Choices           []textChoice `json:"choices"`
		Usage             *respUsage   `json:"usage,omitempty"`
		SystemFingerprint string       `json:"system_fingerprint"`
	}
	modelObject struct {
		ID      string `json:"id"`
		Object  string `json:"object"`
		Created int64  `json:"created"`
		OwnedBy string `json:"owned_by"`
	}
	modelList struct {
		Object string        `json:"object"`
		Data   []modelObject `json:"data"`
	}
)

func usageOf(u textgen.Usage) respUsage {
	return respUsage{PromptTokens: u.PromptTokens, CompletionTokens: u.CompletionTokens, TotalTokens: u.TotalTokens}
}

// legacyChunk is chunk c of a chat stream as a chunk of the legacy completions API,
// or nil for the opening chunk that only names the role, which that API does not send.
func legacyChunk(c chatChunk) *textCompletion {
	out := &textCompletion{ID: c.ID, Object: "text_completion", Created: c.Created, Model: c.Model,
		SystemFingerprint: c.SystemFingerprint, Choices: []textChoice{}, Usage: c.Usage}
	for _, ch := range c.Choices {
		if ch.Delta.Role != "" {
			return nil
		}
		tc := textChoice{Index: ch.Index, FinishReason: ch.FinishReason}
		if ch.Delta.Content != nil {
			tc.Text = *ch.Delta.Content
		}
		out.Choices = append(out.Choices, tc)
	}
	return out
}
