package openai

// The answer shapes of the chat-completions and completions APIs.

// Usage counts a request's tokens.
type Usage struct {
	PromptTokens     int `json:"prompt_tokens"`
	CompletionTokens int `json:"completion_tokens"`
	TotalTokens      int `json:"total_tokens"`
}

// NewUsage is the usage of prompt and completion tokens.
func NewUsage(prompt, completion int) Usage {
	return Usage{PromptTokens: prompt, CompletionTokens: completion, TotalTokens: prompt + completion}
}

// TopLogprob is one of the most likely tokens at a position of a chat completion.
type TopLogprob struct {
	Token   string  `json:"token"`
	Logprob float64 `json:"logprob"`
	Bytes   []int   `json:"bytes"` // the token's UTF-8 bytes (a token may hold part of a character)
}

// TokenLogprob is one token of a chat completion with its log-probability and the
// most likely tokens at its position.
type TokenLogprob struct {
	Token       string       `json:"token"`
	Logprob     float64      `json:"logprob"`
	Bytes       []int        `json:"bytes"`
	TopLogprobs []TopLogprob `json:"top_logprobs"`
}

// ChatLogprobs is a chat choice's "logprobs": {"content": [...], "refusal": null}.
type ChatLogprobs struct {
	Content []TokenLogprob `json:"content"`
	Refusal []TokenLogprob `json:"refusal"`
}

// CompletionLogprobs is a legacy completion choice's "logprobs": for each token its
// text, log-probability, the most likely tokens at its position (text to
// log-probability) and where it starts in the text.
type CompletionLogprobs struct {
	Tokens        []string             `json:"tokens"`
	TokenLogprobs []float64            `json:"token_logprobs"`
	TopLogprobs   []map[string]float64 `json:"top_logprobs"`
	TextOffset    []int                `json:"text_offset"`
}

// ChatMessage is the message of a chat completion's choice.
type ChatMessage struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

// ChatChoice is one choice of a chat completion.
type ChatChoice struct {
	Index        int           `json:"index"`
	Message      ChatMessage   `json:"message"`
	FinishReason string        `json:"finish_reason"`
	Logprobs     *ChatLogprobs `json:"logprobs"`
	TokenIDs     []int32       `json:"token_ids,omitempty"` // with return_token_ids
}

// ChatCompletion is a whole chat completion (object "chat.completion").
type ChatCompletion struct {
	ID                string       `json:"id"`
	Object            string       `json:"object"`
	Created           int64        `json:"created"`
	Model             string       `json:"model"`
	Choices           []ChatChoice `json:"choices"`
	Usage             Usage        `json:"usage"`
	SystemFingerprint string       `json:"system_fingerprint"`
	PromptTokenIDs    []int32      `json:"prompt_token_ids,omitempty"` // with return_token_ids
}

// ChunkDelta is what a chunk adds to a choice's message.
type ChunkDelta struct {
	Role    string  `json:"role,omitempty"`
	Content *string `json:"content,omitempty"`
}

// ChunkChoice is one choice of a chat completion chunk.
type ChunkChoice struct {
	Index        int           `json:"index"`
	Delta        ChunkDelta    `json:"delta"`
	FinishReason *string       `json:"finish_reason"`
	Logprobs     *ChatLogprobs `json:"logprobs"`
	TokenIDs     []int32       `json:"token_ids,omitempty"` // with return_token_ids
}

// ChatChunk is one event of a streamed chat completion (object
// "chat.completion.chunk"); the last, with stream_options.include_usage, has no
// choices and the usage.
type ChatChunk struct {
	ID                string        `json:"id"`
	Object            string        `json:"object"`
	Created           int64         `json:"created"`
	Model             string        `json:"model"`
	SystemFingerprint string        `json:"system_fingerprint"`
	Choices           []ChunkChoice `json:"choices"`
	Usage             *Usage        `json:"usage"`
	PromptTokenIDs    []int32       `json:"prompt_token_ids,omitempty"` // with return_token_ids, in the first chunk
}

// TextChoice is one choice of a legacy completion, whole or a chunk.
type TextChoice struct {
	Text         string              `json:"text"`
	Index        int                 `json:"index"`
	Logprobs     *CompletionLogprobs `json:"logprobs"`
	FinishReason *string             `json:"finish_reason"`
	TokenIDs     []int32             `json:"token_ids,omitempty"` // with return_token_ids
}

// TextCompletion is an answer of the legacy completions API, whole or a chunk (object
// "text_completion").
type TextCompletion struct {
	ID                string       `json:"id"`
	Object            string       `json:"object"`
	Created           int64        `json:"created"`
	Model             string       `json:"model"`
	Choices           []TextChoice `json:"choices"`
	Usage             *Usage       `json:"usage,omitempty"`
	SystemFingerprint string       `json:"system_fingerprint"`
	PromptTokenIDs    []int32      `json:"prompt_token_ids,omitempty"` // with return_token_ids
}

// ModelObject is one model of GET /v1/models (object "model").
type ModelObject struct {
	ID      string `json:"id"`
	Object  string `json:"object"`
	Created int64  `json:"created"`
	OwnedBy string `json:"owned_by"`
}

// ModelList is the answer of GET /v1/models (object "list").
type ModelList struct {
	Object string        `json:"object"`
	Data   []ModelObject `json:"data"`
}
