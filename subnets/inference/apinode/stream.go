package apinode

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/tessera-net/tessera/internal/openai"
)

// StreamEvents turns a whole answer to path into the events of its stream, as OpenAI
// streams them: for each choice a chunk per completion token (its text and its
// log-probabilities, from the answer's logprobs; one chunk of the whole text when the
// tokens do not spell it), then the choice's finish (with its token ids), then, with
// includeUsage, a last chunk without choices carrying the usage. The executor always
// runs a request whole — its answer is what the record's response hash covers and
// what validators re-check — so a streamed request gets its events once it is done.
func StreamEvents(path string, answer []byte, includeUsage bool) ([]any, error) {
	switch path {
	case PathChat:
		var c openai.ChatCompletion
		if err := json.Unmarshal(answer, &c); err != nil {
			return nil, fmt.Errorf("the answer is not a chat completion: %v", err)
		}
		chunk := func(choices []openai.ChunkChoice, u *openai.Usage) openai.ChatChunk {
			return openai.ChatChunk{ID: c.ID, Object: "chat.completion.chunk", Created: c.Created, Model: c.Model,
				SystemFingerprint: c.SystemFingerprint, Choices: choices, Usage: u}
		}
		var out []any
		for i, ch := range c.Choices {
			empty := ""
			first := chunk([]openai.ChunkChoice{{Index: ch.Index, Delta: openai.ChunkDelta{Role: "assistant", Content: &empty}}}, nil)
			if i == 0 {
				first.PromptTokenIDs = c.PromptTokenIDs
			}
			out = append(out, first)
			var toks []string
			if ch.Logprobs != nil {
				for _, t := range ch.Logprobs.Content {
					toks = append(toks, t.Token)
				}
			}
			if len(toks) > 0 && strings.Join(toks, "") == ch.Message.Content {
				for j, t := range ch.Logprobs.Content {
					text := toks[j]
					out = append(out, chunk([]openai.ChunkChoice{{Index: ch.Index, Delta: openai.ChunkDelta{Content: &text},
						Logprobs: &openai.ChatLogprobs{Content: []openai.TokenLogprob{t}, Refusal: []openai.TokenLogprob{}}}}, nil))
				}
			} else {
				text := ch.Message.Content
				out = append(out, chunk([]openai.ChunkChoice{{Index: ch.Index, Delta: openai.ChunkDelta{Content: &text}, Logprobs: ch.Logprobs}}, nil))
			}
			reason := ch.FinishReason
			out = append(out, chunk([]openai.ChunkChoice{{Index: ch.Index, FinishReason: &reason, TokenIDs: ch.TokenIDs}}, nil))
		}
		if includeUsage {
			u := c.Usage
			out = append(out, chunk([]openai.ChunkChoice{}, &u))
		}
		return out, nil
	case PathCompletions:
		var c openai.TextCompletion
		if err := json.Unmarshal(answer, &c); err != nil {
			return nil, fmt.Errorf("the answer is not a completion: %v", err)
		}
		chunk := func(choices []openai.TextChoice, u *openai.Usage) openai.TextCompletion {
			return openai.TextCompletion{ID: c.ID, Object: "text_completion", Created: c.Created, Model: c.Model,
				SystemFingerprint: c.SystemFingerprint, Choices: choices, Usage: u}
		}
		var out []any
		for _, ch := range c.Choices {
			lp := ch.Logprobs
			if lp != nil && len(lp.Tokens) > 0 && strings.Join(lp.Tokens, "") == ch.Text &&
				len(lp.TokenLogprobs) == len(lp.Tokens) && len(lp.TopLogprobs) == len(lp.Tokens) && len(lp.TextOffset) == len(lp.Tokens) {
				for j, t := range lp.Tokens {
					one := &openai.CompletionLogprobs{Tokens: []string{t}, TokenLogprobs: lp.TokenLogprobs[j : j+1],
						TopLogprobs: lp.TopLogprobs[j : j+1], TextOffset: lp.TextOffset[j : j+1]}
					out = append(out, chunk([]openai.TextChoice{{Text: t, Index: ch.Index, Logprobs: one}}, nil))
				}
			} else {
				out = append(out, chunk([]openai.TextChoice{{Text: ch.Text, Index: ch.Index, Logprobs: lp}}, nil))
			}
			out = append(out, chunk([]openai.TextChoice{{Index: ch.Index, FinishReason: ch.FinishReason, TokenIDs: ch.TokenIDs}}, nil))
		}
		if includeUsage && c.Usage != nil {
			out = append(out, chunk([]openai.TextChoice{}, c.Usage))
		}
		return out, nil
	}
	return nil, fmt.Errorf("%s is not an inference endpoint", path)
}
