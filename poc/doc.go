// Package poc is the pure core of Tessera's Proof of Compute (the inference network's
// mechanism `poc`): what one nonce computes, how an MLNode commits to its valid nonces,
// how a validator samples and judges them, how weights become rewards with the
// coverage bonus, and which MLNodes keep serving inference through PoC. The chain's
// modules and the MLNode processes are built on it; docs/poc.md is the full
// specification with the figures.
//
// # The computation
//
// A PoC stage has a start block whose hash seeds everything (Seeds): the random
// transformer of the model's Dims (lm.Random, weights from
// SHA-256("tessera/poc/model/v1" ‖ blockHash)) and the 256-bit target vector
// SHA-256("tessera/poc/target/v1" ‖ blockHash). A nonce's input is SeqLen vectors
// of Width Q16 values drawn from ChaCha8 keyed by SHA-256("tessera/poc/input/v2" ‖
// participant ‖ MLNode id ‖ nonce) (Dims.Inputs), fed in place of token embeddings, so
// that no two nonces share a position's input; its output vector is the SHA-256 of the
// last position's final
// hidden state; its distance is the XOR distance of the output to the target, in the
// first 64 bits; it counts when the distance is under the threshold (Valid), which
// happens with probability exactly threshold/2^64 (1/16 by default). Runner computes
// nonces in batches through one lm Forward.
//
// # Commitments, sampling and the test
//
// An MLNode's valid nonces, sorted and distinct, are the leaves of a Merkle tree whose
// nodes carry their subtree's smallest and largest nonce (Tree); the chain stores only
// the root and the count (Commitment). A validator draws distinct indices
// (SampleIndices), fetches a Proof per index, verifies it (Commitment.Verify) and
// re-runs the nonce; the failures go through a binomial test computed exactly in
// rationals (Test); a participant counts when verdicts holding more than 2/3 of the
// validators' weight accept it (Accepted).
//
// # Rewards and uptime
//
// Rewards turns MLNode weights into shares of an epoch's emission with the coverage
// bonus, paying out the emission exactly; SelectUptime allocates POC_SLOT to the
// MLNodes that keep serving through PoC, deterministically from the block hash.
//
// # Random draws
//
// Every random choice is a ChaCha8 stream (math/rand/v2, as c2sp.org/chacha8rand
// specifies it) keyed by a domain-separated SHA-256 of its inputs: integers 8 bytes
// little-endian, strings preceded by their length in 4 bytes little-endian, keys and
// hashes as their 32 bytes. An integer uniform in [0, n) is drawn by taking the
// stream's next Uint64 u, rejecting it while u ≥ 2^64 − (2^64 mod n), and returning
// u mod n.
//
// # Purity
//
// The package does no I/O, reads no clock, and uses no floating point and no
// randomness other than the streams above; map iteration never reaches a result. The
// same inputs give the same bits on every machine, architecture, thread count and
// batch size (testdata/golden.json is checked in a second process without assembly and
// under arm64).
package poc
