// Package server is an OpenAI-compatible HTTP server over an lm.Engine: the same
// requests the OpenAI API takes (through any OpenAI client, or a textgen miner's http
// backend) answered by Tessera's deterministic engine, plus POST /v1/score, which a
// validator runs to check a completion's log-probabilities.
//
// Endpoints:
//
//	GET  /v1/models, /v1/models/{id}  the one model (owned_by "tessera-lm")
//	POST /v1/chat/completions         messages → the model's chat template (ApplyChat with
//	                                  the generation prompt) → EncodeSpecial, BOS per the
//	                                  vocabulary
//	POST /v1/completions              prompt: a string (or an array of one), tokenized with
//	                                  special tokens parsed and BOS per the vocabulary, or
//	                                  token ids (an array, or an array of one array), as is
//	POST /v1/score                    Tessera's extension: see ScoreRequest
//	GET  /v1/health                   {"status":"ok","model",…,"context",…}
//	GET  /metrics                     when Options.Registerer is a prometheus.Gatherer
//
// Both completion endpoints answer whole or streamed (server-sent events, "data:
// [DONE]" last; stream_options.include_usage adds a chunk with the usage and no
// choices). They take:
//
//   - model: absent, "" or the server's name (Options.Name); another is a 404.
//   - max_tokens or max_completion_tokens (the latter wins): 1 to Options.MaxTokens, and
//     prompt plus completion within the model's context (a 400 with the code
//     context_length_exceeded otherwise). Absent: the rest of the context, up to
//     Options.MaxTokens.
//   - temperature (default 1, 0 to 2; 0 is greedy), top_p (default 1, 0 to 1; 0 and 1
//     keep every token), top_k (an extension, as llama.cpp and vLLM take it; default 0,
//     and 0 or -1 keep every token), seed (default 0; an int64, used as its 64 bits:
//     -1 is 2^64-1): converted exactly by lm.SamplingFromFloats. The same model, prompt,
//     parameters and seed give the same tokens on every machine, alone or batched with
//     other requests.
//   - stop: a string or up to 4 (1 to 256 bytes each). The text is cut before the first
//     stop string that appears in it, as OpenAI does, and the finish reason is "stop";
//     a stream holds back the text that could begin a stop string until the next token
//     shows whether it does, so no part of one is ever sent.
//   - logprobs: chat, a bool, with top_logprobs 0 to 20 (needs logprobs true); legacy,
//     an int 0 to 20, the number of top tokens. Log-probabilities are the engine's Q16
//     values as floats, exactly v/65536, of the model's distribution at temperature 1
//     before top-k/top-p (what a validator recomputes), the top tokens by logit
//     descending, then id ascending.
//   - n: absent or 1. echo and suffix (legacy) are refused.
//   - return_token_ids (vLLM's extension): the answer carries prompt_token_ids and each
//     choice its token_ids (in a stream, each chunk the ids of its tokens).
//   - ignore_eos (vLLM's extension): generate past the end-of-sequence token.
//
// A completion's tokens are every token the model generated: the end-of-sequence token
// when the model stopped itself, and the tokens up to the one in which a stop string
// completed. usage.completion_tokens counts them, and logprobs and token_ids list them.
// A token appears in logprobs as its text (the tokenizer's Piece), as "bytes:\xNN…"
// when that is not valid UTF-8 (a byte token holding part of a character), with its
// bytes; a control token, which adds no text (such as EOS), as its vocabulary text
// ("</s>") with null bytes. The message text is valid UTF-8: a byte that cannot
// complete a character becomes U+FFFD (tokenizer.Stream). Legacy text_offset[i] counts
// the characters (code points) of the text before token i, each byte of a character not
// yet complete counted as one (as it would appear had the completion ended there).
//
// Errors are OpenAI's shape, {"error": {"message", "type", "param", "code"}}: 400 for a
// bad body or parameter (the param names it), 404 for an unknown model or path, 405
// with Allow for a wrong method, 413 for a body over Options.MaxBodyBytes, 503 while
// the engine shuts down. A client that goes away cancels its generation. A model
// without a vocabulary takes token-id prompts only (its text and token strings are
// empty).
//
// Each request gets an x-request-id (the client's when sane) and one Info log line:
// method, path, status, duration, request_id, prompt and completion tokens, finish
// reason ("cancelled" when the client left). Metrics: tessera_lm_requests_total{
// endpoint, status}, tessera_lm_request_duration_seconds{endpoint},
// tessera_lm_tokens_total{kind=prompt|completion|scored},
// tessera_lm_tokens_per_second (each completion's tokens over the time from its
// request's arrival to its last token) and tessera_lm_requests_in_flight.
//
// The request and answer shapes are package internal/openai's, which the gateway
// shares.
package server
