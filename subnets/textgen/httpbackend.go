package textgen

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// HTTPConfig configures an HTTPBackend.
type HTTPConfig struct {
	// BaseURL is the server's OpenAI API root, e.g. "http://127.0.0.1:8080/v1"
	// (llama.cpp server), "http://127.0.0.1:8000/v1" (vLLM), "http://127.0.0.1:11434/v1"
	// (Ollama). Required.
	BaseURL string
	// Model is the model name sent to the server; the request's model when empty.
	Model string
	// APIKey is sent as a bearer token when set.
	APIKey string
	// Client makes the requests (default: a client with pooled connections and no
	// overall timeout; each request is bounded by its context).
	Client *http.Client
	// MaxResponseBytes bounds a non-streamed answer (default 16 MiB).
	MaxResponseBytes int64
	// Timeout bounds each request, from sending it to the answer's last byte (0: only
	// the caller's context bounds it). A request that runs out of it fails with an
	// error that wraps context.DeadlineExceeded.
	Timeout time.Duration
}

// HTTPBackend is a Backend in front of any server speaking OpenAI's chat-completions
// API: llama.cpp server, vLLM, Ollama, or OpenAI itself.
type HTTPBackend struct {
	cfg HTTPConfig
	url string
}

// NewHTTPBackend checks the configuration and makes the backend.
func NewHTTPBackend(cfg HTTPConfig) (*HTTPBackend, error) {
	u, err := url.Parse(cfg.BaseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("textgen: backend URL %q is not an http(s) URL with a host", cfg.BaseURL)
	}
	if cfg.Timeout < 0 {
		return nil, fmt.Errorf("textgen: backend timeout %v is negative", cfg.Timeout)
	}
	if cfg.Client == nil {
		cfg.Client = &http.Client{Transport: &http.Transport{
			MaxIdleConnsPerHost: 64, IdleConnTimeout: 90 * time.Second, ForceAttemptHTTP2: true,
		}}
	}
	if cfg.MaxResponseBytes <= 0 {
		cfg.MaxResponseBytes = 16 << 20
	}
	return &HTTPBackend{cfg: cfg, url: strings.TrimRight(cfg.BaseURL, "/") + "/chat/completions"}, nil
}

// The request and answer shapes of OpenAI's chat-completions API, the fields used here.
type (
	oaRequest struct {
		Model         string     `json:"model"`
		Messages      []Message  `json:"messages"`
		MaxTokens     int        `json:"max_tokens,omitempty"`
		Temperature   *float64   `json:"temperature,omitempty"`
		TopP          *float64   `json:"top_p,omitempty"`
		Seed          *int64     `json:"seed,omitempty"`
		Stop          []string   `json:"stop,omitempty"`
		Stream        bool       `json:"stream,omitempty"`
		StreamOptions *oaStrOpts `json:"stream_options,omitempty"`
	}
	oaStrOpts struct {
		IncludeUsage bool `json:"include_usage"`
	}
	oaAnswer struct {
		Model   string `json:"model"`
		Choices []struct {
			Message      struct{ Content string } `json:"message"`
			Delta        struct{ Content string } `json:"delta"`
			FinishReason *string                  `json:"finish_reason"`
		} `json:"choices"`
		Usage *Usage `json:"usage"`
		Error *struct {
			Message string `json:"message"`
		} `json:"error"`
	}
)

// Generate implements Backend.
func (h *HTTPBackend) Generate(ctx context.Context, req Request, emit func(string) error) (Result, error) {
	if err := req.Validate(); err != nil {
		return Result{}, err
	}
	if h.cfg.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, h.cfg.Timeout)
		defer cancel()
	}
	model := h.cfg.Model
	if model == "" {
		model = req.Model
	}
	body := oaRequest{Model: model, Messages: req.Messages, MaxTokens: req.MaxTokens,
		Temperature: req.Temperature, TopP: req.TopP, Seed: req.Seed, Stop: req.Stop, Stream: emit != nil}
	if emit != nil {
		body.StreamOptions = &oaStrOpts{IncludeUsage: true}
	}
	data, err := json.Marshal(body)
	if err != nil {
		return Result{}, fmt.Errorf("textgen: encode backend request: %w", err)
	}
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, h.url, bytes.NewReader(data))
	if err != nil {
		return Result{}, fmt.Errorf("textgen: backend request: %w", err)
	}
	hr.Header.Set("Content-Type", "application/json")
	if h.cfg.APIKey != "" {
		hr.Header.Set("Authorization", "Bearer "+h.cfg.APIKey)
	}
	resp, err := h.cfg.Client.Do(hr)
	if err != nil {
		return Result{}, fmt.Errorf("textgen: backend %s: %w", h.url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
		var a oaAnswer
		if json.Unmarshal(msg, &a) == nil && a.Error != nil {
			msg = []byte(a.Error.Message)
		}
		return Result{}, fmt.Errorf("textgen: backend %s answered %d: %s", h.url, resp.StatusCode, strings.TrimSpace(string(msg)))
	}
	var res Result
	if emit == nil {
		res, err = h.decode(resp.Body)
	} else {
		res, err = h.stream(resp.Body, emit)
	}
	if err != nil {
		return Result{}, err
	}
	if res.Model == "" {
		res.Model = model
	}
	if res.FinishReason == "" {
		res.FinishReason = "stop"
	}
	if res.Usage.TotalTokens == 0 {
		res.Usage.PromptTokens = PromptTokens(req.Messages)
		res.Usage.CompletionTokens = CountTokens(res.Text)
		res.Usage.TotalTokens = res.Usage.PromptTokens + res.Usage.CompletionTokens
	}
	return res, nil
}

func (h *HTTPBackend) decode(r io.Reader) (Result, error) {
	data, err := io.ReadAll(io.LimitReader(r, h.cfg.MaxResponseBytes+1))
	if err != nil {
		return Result{}, fmt.Errorf("textgen: backend %s: read answer: %w", h.url, err)
	}
	if int64(len(data)) > h.cfg.MaxResponseBytes {
		return Result{}, fmt.Errorf("textgen: backend %s: answer exceeds %d bytes", h.url, h.cfg.MaxResponseBytes)
	}
	var a oaAnswer
	if err := json.Unmarshal(data, &a); err != nil {
		return Result{}, fmt.Errorf("textgen: backend %s: answer is not a chat completion: %w", h.url, err)
	}
	if len(a.Choices) == 0 {
		return Result{}, fmt.Errorf("textgen: backend %s: answer has no choices", h.url)
	}
	res := Result{Text: a.Choices[0].Message.Content, Model: a.Model}
	if fr := a.Choices[0].FinishReason; fr != nil {
		res.FinishReason = *fr
	}
	if a.Usage != nil {
		res.Usage = *a.Usage
	}
	return res, nil
}

func (h *HTTPBackend) stream(r io.Reader, emit func(string) error) (Result, error) {
	var (
		res  Result
		text strings.Builder
		done bool
	)
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	for sc.Scan() {
		data, ok := bytes.CutPrefix(sc.Bytes(), []byte("data:"))
		if !ok {
			continue // blank separators, comments, other SSE fields
		}
		data = bytes.TrimSpace(data)
		if string(data) == "[DONE]" {
			done = true
			break
		}
		var a oaAnswer
		if err := json.Unmarshal(data, &a); err != nil {
			return Result{}, fmt.Errorf("textgen: backend %s: stream event is not a chunk: %w", h.url, err)
		}
		if a.Error != nil {
			return Result{}, fmt.Errorf("textgen: backend %s: stream failed: %s", h.url, a.Error.Message)
		}
		if a.Model != "" {
			res.Model = a.Model
		}
		if a.Usage != nil {
			res.Usage = *a.Usage
		}
		for _, c := range a.Choices {
			if c.Delta.Content != "" {
				text.WriteString(c.Delta.Content)
				if err := emit(c.Delta.Content); err != nil {
					return Result{}, err
				}
			}
			if c.FinishReason != nil && *c.FinishReason != "" {
				res.FinishReason = *c.FinishReason
			}
		}
	}
	if err := sc.Err(); err != nil {
		return Result{}, fmt.Errorf("textgen: backend %s: stream broken: %w", h.url, err)
	}
	if !done && res.FinishReason == "" {
		return Result{}, fmt.Errorf("textgen: backend %s: stream ended without [DONE]", h.url)
	}
	res.Text = text.String()
	return res, nil
}
