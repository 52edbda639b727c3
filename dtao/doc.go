// Package dtao is the pure core of dynamic TAO: the per-subnet weighted constant-product
// pool ("Balancer") with its fee, limit prices and injection weight update; the block
// emission with its halving schedule; the split of the emission across subnets by EMA price
// (a replaceable ShareRule); TAO injection versus chain buy; the alpha emitted per subnet
// and the owner cut; the stake vector the epoch receives and the split of an epoch's
// emission into alpha payouts and root dividends; staking through the pool with limit
// prices and share-based stake accounting; and the subnet lock cost, pool seed and pruning
// choice. It follows subtensor at commit 14bc6f9f (research/dtao.md §1–§7) bit for bit in
// the same fixed-point types (U64F64, U96F32, I96F32 as raw bits, floored products,
// truncated quotients) and safe-bigmath's pow_ratio_scaled for the pool's powers.
//
// Like package yuma, the package does no I/O, keeps no store, reads no clock, uses no
// randomness and no floating point: every function is deterministic over its arguments.
// The only shared state is a small memo of logarithms inside the power routine, which
// holds values of a pure function and cannot change a result (TestLnMemoIsInvisible).
// Functions that "apply" a change take a pointer and mutate only what they are given;
// quotes run the same function on a copy. The chain modules (stake, subnets) hold the
// state and call these functions; docs/dtao.md describes the economics and what is left
// to wire.
package dtao
