// Package inference is the home of the inference network's off-chain parts (DESIGN.md
// §5); the chain module is modules/inference. Its packages:
//
//   - participant: a participant's Proof of Compute — mine each round on its MLNodes,
//     commit, serve the proofs validators sample, judge the others;
//   - infdev: the devnet's inference subnet, three participants in one process.
//
// docs/inference.md describes the network.
package inference
