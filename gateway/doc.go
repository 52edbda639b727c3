// Package gateway is Tessera's OpenAI-compatible API in front of the network: it takes
// POST /v1/chat/completions and /v1/completions (streamed and not) and GET /v1/models
// from ordinary OpenAI clients, and answers each request from one of two networks,
// each an Upstream: the best miners of a text-generation subnet, or the inference
// network's API nodes (InferenceUpstream). One /v1/models lists the models of both, and
// a request is routed by its model to whichever serves it.
//
// On the subnet, routing is the conditional computation of Bittensor's design: a
// request goes to one of the top k miners only, ranked by their merit (incentive on
// chain, or before the first epoch the validators' weights) and the latency and error
// rate the gateway observed (exponentially weighted moving averages), spread among the
// k in proportion to their scores. The gateway signs its queries as a dendrite (package
// wire). If a miner fails or times out before the first byte of its answer, the request
// fails over to the next miner in rank order; a miner that fails is cooled down
// (exponentially longer for each failure in a row) and ranked after the healthy ones.
//
// On the inference network each request is signed by the gateway's funded account
// (package subnets/inference/signed) and sent to an API node listing the model, failing
// over to the next before the first byte; the network holds the price in escrow and
// answers with every token's log-probability, of which the gateway returns what the
// caller asked for (logprobs, top_logprobs). When nothing can answer, the client gets a
// clean OpenAI-style error.
//
// Callers authenticate with API keys kept in an embedded SQLite database (pure Go,
// modernc.org/sqlite) that survives restarts: only a SHA-256 of each key is stored,
// each key has its own token-bucket rate limit, and its usage (requests, tokens,
// errors) is written to the database before each answer, in group commits, whichever
// network answered. Metrics are exported for Prometheus at /metrics.
//
// The pure parts — ranking and failover order (Rank, Weights, PlanWeighted, Plan, Stats.Observe), the token
// bucket, request parsing and error shapes — do no I/O and are table-tested. Miners come
// from a Source: ChainSource reads a subnet's metagraph through package client;
// StaticSource serves fixed lists (tests, private deployments). docs/gateway.md
// describes the API, the configuration and the measured overhead.
package gateway
