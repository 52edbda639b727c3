package openai

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// Content is a message's content: a string, or an array of parts of which only text
// parts are accepted (joined with newlines), or null.
type Content string

// UnmarshalJSON reads a string, null, or an array of text parts.
func (c *Content) UnmarshalJSON(b []byte) error {
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
		*c = Content(s)
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
		*c = Content(strings.Join(texts, "\n"))
		return nil
	}
	return errors.New("content must be a string or an array of text parts")
}

// StopList is "stop": a string or an array of strings.
type StopList []string

// UnmarshalJSON reads a string, null, or an array of strings.
func (s *StopList) UnmarshalJSON(b []byte) error {
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
		*s = StopList{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return errors.New("stop must be a string or an array of strings")
	}
	*s = many
	return nil
}

// StreamOptions is "stream_options".
type StreamOptions struct {
	IncludeUsage bool `json:"include_usage"`
}

// Sampling is what the bodies of both completion endpoints share. Pointers are nil
// when the field is absent.
type Sampling struct {
	Model               *string        `json:"model"`
	MaxTokens           *int           `json:"max_tokens"`
	MaxCompletionTokens *int           `json:"max_completion_tokens"`
	Temperature         *float64       `json:"temperature"`
	TopP                *float64       `json:"top_p"`
	TopK                *int           `json:"top_k"` // an extension, as llama.cpp and vLLM take it
	Seed                *int64         `json:"seed"`
	Stop                StopList       `json:"stop"`
	N                   *int           `json:"n"`
	Stream              *bool          `json:"stream"`
	StreamOptions       *StreamOptions `json:"stream_options"`
	// ReturnTokenIDs asks for the prompt's and the completion's token ids (vLLM's
	// extension: prompt_token_ids in the answer, token_ids in each choice).
	ReturnTokenIDs *bool `json:"return_token_ids"`
	// IgnoreEOS keeps generating past the end-of-sequence token (vLLM's extension).
	IgnoreEOS *bool `json:"ignore_eos"`
}

// Streamed reports whether the request asks for a stream.
func (s *Sampling) Streamed() bool { return s.Stream != nil && *s.Stream }

// IncludeUsage reports whether a streamed request asks for the usage chunk.
func (s *Sampling) IncludeUsage() bool {
	return s.Streamed() && s.StreamOptions != nil && s.StreamOptions.IncludeUsage
}

// CheckStream refuses stream_options without stream, as OpenAI does.
func (s *Sampling) CheckStream() *APIError {
	if s.StreamOptions != nil && !s.Streamed() {
		return Invalid("stream_options", "invalid_value", "The 'stream_options' parameter is only allowed when 'stream' is enabled.")
	}
	return nil
}

// Limit is the completion's token limit: max_completion_tokens, else max_tokens; nil
// when neither is given.
func (s *Sampling) Limit() *int {
	if s.MaxCompletionTokens != nil {
		return s.MaxCompletionTokens
	}
	return s.MaxTokens
}

// Message is one message of a chat request.
type Message struct {
	Role    string  `json:"role"`
	Content Content `json:"content"`
}

// ChatRequest is the body of POST /v1/chat/completions.
type ChatRequest struct {
	Sampling
	Messages    *[]Message `json:"messages"`
	Logprobs    *bool      `json:"logprobs"`
	TopLogprobs *int       `json:"top_logprobs"`
}

// CompletionRequest is the body of POST /v1/completions (OpenAI's legacy endpoint).
// Prompt is kept raw: a string, an array of strings, an array of token ids or an array
// of arrays of them.
type CompletionRequest struct {
	Sampling
	Prompt   *json.RawMessage `json:"prompt"`
	Echo     bool             `json:"echo"`
	Suffix   *string          `json:"suffix"`
	Logprobs *int             `json:"logprobs"`
}

// ReadBody reads r's body, at most limit bytes: more is a 413, a body that cannot be
// read a 400.
func ReadBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, *APIError) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, Errorf(http.StatusRequestEntityTooLarge, TypeInvalidRequest, "request_too_large", "", "The request body exceeds %d bytes.", limit)
		}
		return nil, Invalid("", "", "Could not read the request body: %v", err)
	}
	return body, nil
}

// DecodeBody reads one JSON object into v; the error is the OpenAI-style 400.
func DecodeBody(body []byte, v any) *APIError {
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			f := jsonPath(te.Field)
			return Invalid(f, "invalid_type", "Invalid type for '%s': expected %s, got a JSON %s.", f, te.Type, te.Value)
		}
		return Invalid("", "invalid_json", "We could not parse the JSON body of your request: %v", err)
	}
	if dec.More() {
		return Invalid("", "invalid_json", "We could not parse the JSON body of your request: data after the JSON object.")
	}
	return nil
}

// jsonPath is an UnmarshalTypeError's field path without the Go names of embedded
// structs (Sampling.max_tokens is max_tokens): every JSON name here is lower case.
func jsonPath(field string) string {
	parts := strings.Split(field, ".")
	out := parts[:0]
	for _, p := range parts {
		if p != "" && 'A' <= p[0] && p[0] <= 'Z' {
			continue
		}
		out = append(out, p)
	}
	return strings.Join(out, ".")
}
