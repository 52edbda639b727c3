package textgen

import (
	"fmt"
	"strings"

	"github.com/tessera-net/tessera/wire"
)

// Message is one message of a chat: a role ("system", "user", "assistant" or "tool")
// and its text.
type Message struct {
	Role    string `json:"role"`    // system, developer, user, assistant or tool
	Content string `json:"content"` // the message's text
}

// Usage counts the tokens of one completion.
type Usage struct {
	PromptTokens     int `json:"prompt_tokens"`     // tokens in the messages
	CompletionTokens int `json:"completion_tokens"` // tokens generated
	TotalTokens      int `json:"total_tokens"`      // the sum of both
}

// ChatCompletion is the synapse of the subnet: a chat to complete, with its sampling
// parameters, and (filled in by the miner) the completion and its token usage. The
// body hash, and so the dendrite's signature, covers the model, the messages and the
// sampling parameters, so nobody on the path can change what a miner is asked.
type ChatCompletion struct {
	wire.Base

	// Model is the model the caller asks for ("" lets the miner choose).
	Model string `json:"model"`
	// Messages is the chat so far; at least one.
	Messages []Message `json:"messages" wire:"required"`
	// MaxTokens bounds the completion (0: the miner's default).
	MaxTokens int `json:"max_tokens"`
	// Temperature and TopP are the sampling parameters (nil: the backend's default).
	Temperature *wire.Float `json:"temperature"`
	TopP        *wire.Float `json:"top_p"` // see Temperature
	// Seed asks for reproducible sampling (nil: none).
	Seed *int64 `json:"seed"`
	// Stop lists sequences at which generation stops.
	Stop []string `json:"stop"`

	// Completion is the generated text (filled in by the miner).
	Completion string `json:"completion"`
	// FinishReason is why generation stopped: "stop" or "length".
	FinishReason string `json:"finish_reason"`
	// Usage counts the tokens of the request and the completion.
	Usage Usage `json:"usage"`
	// BackendModel names the model that answered.
	BackendModel string `json:"backend_model"`
}

// RequiredHashFields makes the body hash cover the request: model, messages and
// sampling parameters.
func (ChatCompletion) RequiredHashFields() []string {
	return []string{"model", "messages", "max_tokens", "temperature", "top_p", "seed", "stop"}
}

// ChatCompletionStream is ChatCompletion answered as a stream: the miner sends one
// Server-Sent Event per StreamChunk, the last one with the finish reason and usage. The
// response's own fields stay empty.
type ChatCompletionStream struct {
	ChatCompletion
}

// StreamChunk is the data of one event of a ChatCompletionStream answer.
type StreamChunk struct {
	// Delta is the next piece of the completion.
	Delta string `json:"delta,omitempty"`
	// FinishReason is set on the last chunk.
	FinishReason string `json:"finish_reason,omitempty"`
	// Usage is set on the last chunk.
	Usage *Usage `json:"usage,omitempty"`
	// Model names the model that answered (on the last chunk).
	Model string `json:"model,omitempty"`
}

// Request is what a Backend is asked: the request fields of a ChatCompletion.
type Request struct {
	Model       string    // the model asked for ("": the backend's)
	Messages    []Message // the chat, at least one message
	MaxTokens   int       // the longest completion (0: the backend's default)
	Temperature *float64  // sampling temperature in [0, 2] (nil: default)
	TopP        *float64  // nucleus sampling in [0, 1] (nil: default)
	Seed        *int64    // seed for reproducible sampling (nil: none)
	Stop        []string  // sequences that end the completion
}

// Request returns the backend request the synapse carries.
func (c *ChatCompletion) Request() Request {
	r := Request{Model: c.Model, Messages: c.Messages, MaxTokens: c.MaxTokens, Seed: c.Seed, Stop: c.Stop}
	if c.Temperature != nil {
		t := float64(*c.Temperature)
		r.Temperature = &t
	}
	if c.TopP != nil {
		p := float64(*c.TopP)
		r.TopP = &p
	}
	return r
}

// NewChatCompletion makes the synapse for a backend request, with a timeout in
// seconds (0: wire.DefaultTimeout).
func NewChatCompletion(r Request, timeoutSeconds float64) *ChatCompletion {
	c := &ChatCompletion{Model: r.Model, Messages: r.Messages, MaxTokens: r.MaxTokens, Seed: r.Seed, Stop: r.Stop}
	c.Timeout = wire.Float(timeoutSeconds)
	if r.Temperature != nil {
		t := wire.Float(*r.Temperature)
		c.Temperature = &t
	}
	if r.TopP != nil {
		p := wire.Float(*r.TopP)
		c.TopP = &p
	}
	return c
}

// Limits on a request a miner accepts.
const (
	// MaxMessages bounds the messages of one request.
	MaxMessages = 1024
	// MaxStops bounds the stop sequences.
	MaxStops = 4
)

// ParamError is the error Validate returns: the request parameter at fault, as the
// chat-completions API names it ("messages", "messages[2].role", "max_tokens",
// "temperature", "top_p", "stop"), and what is wrong with it. Its text is
// "param: msg".
type ParamError struct {
	Param string
	Msg   string
}

func (e *ParamError) Error() string { return e.Param + ": " + e.Msg }

func paramErr(param, format string, args ...any) *ParamError {
	return &ParamError{Param: param, Msg: fmt.Sprintf(format, args...)}
}

// Validate checks a backend request: at least one message, known roles, sampling
// parameters in range. A refusal is a *ParamError naming the parameter.
func (r *Request) Validate() error {
	if len(r.Messages) == 0 {
		return paramErr("messages", "at least one message is required")
	}
	if len(r.Messages) > MaxMessages {
		return paramErr("messages", "%d messages, at most %d", len(r.Messages), MaxMessages)
	}
	for i, m := range r.Messages {
		switch m.Role {
		case "system", "user", "assistant", "tool", "developer":
		case "":
			return paramErr(fmt.Sprintf("messages[%d].role", i), "missing")
		default:
			return paramErr(fmt.Sprintf("messages[%d].role", i), "%q is not system, developer, user, assistant or tool", m.Role)
		}
	}
	if r.MaxTokens < 0 {
		return paramErr("max_tokens", "%d is negative", r.MaxTokens)
	}
	if t := r.Temperature; t != nil && !(*t >= 0 && *t <= 2) {
		return paramErr("temperature", "%v is not in [0, 2]", *t)
	}
	if p := r.TopP; p != nil && !(*p >= 0 && *p <= 1) {
		return paramErr("top_p", "%v is not in [0, 1]", *p)
	}
	if len(r.Stop) > MaxStops {
		return paramErr("stop", "%d sequences, at most %d", len(r.Stop), MaxStops)
	}
	return nil
}

// LastUser returns the content of the last user message ("" if there is none).
func (r *Request) LastUser() string {
	for i := len(r.Messages) - 1; i >= 0; i-- {
		if r.Messages[i].Role == "user" {
			return r.Messages[i].Content
		}
	}
	return ""
}

// CountTokens estimates the tokens of a text the way OpenAI's rule of thumb does
// (about four characters a token), but never fewer than its words: the built-in
// backend's count, and the count used when an HTTP backend reports none.
func CountTokens(s string) int {
	if s == "" {
		return 0
	}
	runes := 0
	for range s {
		runes++
	}
	return max((runes+3)/4, len(strings.Fields(s)))
}

// PromptTokens estimates the tokens of a chat: each message's content plus four tokens
// of framing, as chat templates add.
func PromptTokens(msgs []Message) int {
	n := 0
	for _, m := range msgs {
		n += CountTokens(m.Content) + 4
	}
	return n
}
