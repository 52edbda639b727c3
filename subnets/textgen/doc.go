// Package textgen is Tessera's text-generation subnet: the chat-completion synapse that
// validators and the gateway send to miners, the miner side (an axon handler in front
// of a Backend), and the validator side (a generator of tasks whose answers can be
// checked, a checker, and the scoring of a round with the SDK's multi-criteria scorer).
//
// A miner serves two routes on its axon: ChatCompletion (one answer) and
// ChatCompletionStream (Server-Sent Events, one StreamChunk per event). Its Backend is
// either an OpenAI-compatible HTTP server (llama.cpp server, vLLM, Ollama: HTTPBackend)
// or the built-in Builtin test backend, which needs no model: it answers the checkable
// tasks of this package exactly (arithmetic, sorting, string transformations, lookups in
// the bundled corpus) and free prompts with deterministic filler marked as such
// (TestBackendMarker), and can be made slow, wrong some of the time, or failing, from a
// seeded random source, so that a devnet shows miners being ranked.
//
// A validator draws tasks from a Generator, sends them to miners, and scores each
// answer: checkable tasks by exact comparison with the known answer (Check), free
// prompts by similarity to the answer of its own reference model (Similarity). A
// validator whose reference is the built-in test backend asks checkable tasks only
// (JudgesFreeText, DrawKinds). Score combines quality, latency, throughput and uptime
// into one score per miner, and WeightsU16 turns scores into the weights a validator
// sets on chain.
//
// The pure parts (tasks, checking, similarity, observations, weights) do no I/O and are
// table-tested; the I/O parts (backends, the miner handler, the validator's queries)
// take a context.Context on every blocking call. docs/textgen.md describes the subnet.
//
// This is one of the built-in subnets under subnets/: a subnet's off-chain code (its
// synapse, miner and validator), defined with the SDK's package sdk/subnet. The chain's
// side of every subnet (registration, weights, emission) is the module modules/subnets;
// subnets/textgen/textgendev runs this subnet on a devnet, whose subnet.go creates and
// populates the subnet on chain.
package textgen
