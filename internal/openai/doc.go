// Package openai holds the wire shapes of OpenAI's HTTP API that Tessera's servers speak
// (the gateway, package gateway, and the language-model server, package lm/server): the
// request bodies of /v1/chat/completions and /v1/completions, the answers (whole and as
// server-sent-event chunks, with their logprobs), model lists, and errors, with the
// helpers every such server needs the same way: reading a bounded body, decoding it
// into a request with OpenAI-style 400s, writing JSON answers and errors, a stream of
// server-sent events ending in "data: [DONE]", a request id, and a ResponseWriter that
// remembers its status.
//
// The shapes hold what Tessera's servers read or write; each server checks the fields
// it uses and says which it refuses. Fields an OpenAI client sends that a shape lacks
// are ignored, as OpenAI's own server does with unknown fields.
package openai
