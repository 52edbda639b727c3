// Package mlnode is the MLNode service of the inference network (docs/mlnode.md): the
// process on a compute machine that serves one model at a time — with Tessera's engine
// (a GGUF file or a random model) or by forwarding to an OpenAI-compatible backend
// (vLLM, llama.cpp's server, Ollama) — mines and re-runs Proof of Compute nonces with
// package poc, and re-checks other executors' completions: exactly, by replay, for
// engine models; by Gonka's top-k log-probability similarity for external backends.
//
// It has two listeners. The management API (/api/v1/…) drives it: state, stop,
// inference up/down with the epoch's model args, PoC generate/status/proofs/validate and
// inference validation. The inference listener serves the OpenAI-compatible routes of
// the model loaded. Both take only requests signed (package signed) by the one API node
// account the MLNode was started with; any other is refused, 401 (403 for another
// signer) with an OpenAI-style error whose code is the signed.Code, and has no effect.
//
// Client is the API node's side of the same API.
package mlnode
