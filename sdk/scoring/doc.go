// Package scoring turns validators' measurements of miners into scores in
// [0,1] by weighing four criteria — quality, latency, throughput and uptime —
// with weights the subnet chooses.
//
// Each criterion is first normalised to [0,1] across the miners of one
// round, then combined:
//
//	score = (wQ·q + wL·l + wT·t + wU·u) / (wQ + wL + wT + wU)
//
// # Normalisation
//
// Quality, by Config.Quality:
//
//   - Absolute (default): the validator's quality is already in [0,1] and is
//     used as is; a value outside [0,1] is an error.
//   - RelativeToBest: q / max(q) over the round (all zero → 0); quality must be ≥ 0.
//   - MinMax: (q − min) / (max − min); if every miner has the same quality,
//     each gets 1.
//
// Latency, lower is better, against a reference r: r is Config.LatencyTarget
// when set, otherwise the fastest responding miner's latency. A miner at or
// under r scores 1, a slower one r / latency (so twice the target scores
// 0.5). A latency of zero scores 1.
//
// Throughput, higher is better, against a reference r: Config.ThroughputTarget
// when set, otherwise the best responding miner's throughput. The score is
// min(1, throughput / r); if r is 0 every miner scores 0.
//
// Uptime is a fraction in [0,1] (the share of recent rounds or probes the
// miner answered) and is used as is.
//
// A miner marked Failed (it did not answer this round) scores 0 on quality,
// latency and throughput, keeps its uptime score, and is left out of the
// references of the others.
//
// Invalid input — NaN or infinite values, negative latency or throughput,
// out-of-range quality or uptime, duplicate IDs — is rejected with an error
// naming the miner and the field; nothing is scored. The computation is
// deterministic: the same round in the same order gives bit-identical scores.
//
// Every scorer exports Prometheus metrics under tessera_sdk_scoring_*,
// labelled with its Name.
package scoring
