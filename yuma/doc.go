// Package yuma computes one Yuma Consensus epoch of a subnet as a pure function: the
// subnet's state (stake, validator permits, weights, bonds, hyperparameters) in, per-uid
// results (consensus, incentive, dividends, validator trust, new permits, emissions) and the
// new bonds out. It reproduces subtensor's epoch (pallets/subtensor/src/epoch; see
// docs/yuma.md "§1 Source, place and inputs" and "§2 What one epoch computes") bit for
// bit: every step in subtensor's order, in the same fixed-point types (I32F32 as Fixed,
// I64F64 for stake, I96F32 for emissions) with the same rounding (floored products,
// truncated quotients, saturation, substrate-fixed's exp series; docs/yuma.md "§4
// Fixed-point rounding"), so that each u16 output, stored bond and emission in the
// smallest unit equals the chain's.
//
// Epoch runs epoch_mechanism, the sparse epoch the chain executes; EpochDense runs
// epoch_dense_mechanism, subtensor's dense variant, which differs from it exactly where
// subtensor's does (see EpochDense). Both support the original Yuma bonds (EMA with the
// bonds penalty) and Yuma3 (liquid alpha, bonds as proportions).
//
// The package does no I/O, reads no clock, uses no randomness and no floating point in
// anything that yields a result; map iteration never reaches a result. A large epoch's
// walks may be split across goroutines (Workspace.Parts): the parts write disjoint
// outputs and what they share is summed in exact integers afterwards, so the results are
// the same bits for any number of parts and cores. On amd64 with AVX2 and BMI2 the
// innermost loops of the default path run in assembly (run.go, run_amd64.s), exact
// integer steps that give the same bits as the Go loops, which run elsewhere and with the
// purego build tag. The JSON form of a state (what `tessera yuma simulate` reads) lives
// in the yumajson subpackage.
package yuma
