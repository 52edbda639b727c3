package server

import (
	"github.com/tessera-net/tessera/internal/openai"
	"github.com/tessera-net/tessera/lm"
)

// Prepared is a completion request as the server runs it: what a validator needs to
// replay the completion exactly.
type Prepared struct {
	// Request is the engine's request: the prompt's tokens (rendered and tokenized as
	// the endpoint does), the token limit, the sampling (temperature, top-k, top-p and
	// seed, converted exactly), the top log-probabilities asked for and ignore_eos.
	Request lm.Request
	Stops   []string // the stop strings, whose first match ends the text
	Chat    bool     // /v1/chat/completions (else /v1/completions)
	// Logprobs is whether the answer carries log-probabilities; TokenIDs whether it
	// carries token_ids (return_token_ids); Stream whether it is streamed.
	Logprobs, TokenIDs, Stream bool
}

// Prepare checks a request body for path (/v1/chat/completions or /v1/completions)
// exactly as the endpoint does and returns what it would run, or the error it would
// answer (404 unknown_url for another path).
func (s *Server) Prepare(path string, body []byte) (Prepared, *openai.APIError) {
	var j *job
	var e *openai.APIError
	switch path {
	case "/v1/chat/completions":
		j, e = s.chatJob(body)
	case "/v1/completions":
		j, e = s.completionJob(body)
	default:
		return Prepared{}, openai.Errorf(404, openai.TypeInvalidRequest, "unknown_url", "", "Unknown completion path %s.", path)
	}
	if e != nil {
		return Prepared{}, e
	}
	return Prepared{Request: j.req, Stops: j.stops, Chat: !j.legacy, Logprobs: j.logprobs, TokenIDs: j.tokenIDs, Stream: j.stream}, nil
}

// Text is the text the endpoint answers for completion tokens ids of p — the tokens
// decoded as they stream (a character split across byte tokens whole, U+FFFD for a
// byte that cannot complete one), cut before the first stop string — and where a stop
// string matched: the index of the token that completed it (generation ends with that
// token, finish reason "stop"), len(ids) when only the end of the text completed it,
// -1 when none did. A model without a vocabulary gives "" and -1.
func (s *Server) Text(p Prepared, ids []int32) (text string, stopAt int) {
	d := newDecoder(s.tok, p.Stops)
	stopAt = -1
	for i, id := range ids {
		d.add(id)
		if d.stopped && stopAt < 0 {
			stopAt = i
		}
	}
	d.finish()
	if d.stopped && stopAt < 0 {
		stopAt = len(ids)
	}
	return d.text.String(), stopAt
}

// TokenText is TokenText with the server's vocabulary.
func (s *Server) TokenText(id int32) (string, []int) { return TokenText(s.tok, id) }

// Model is the engine's model the server answers with.
func (s *Server) Model() *lm.Model { return s.m }
