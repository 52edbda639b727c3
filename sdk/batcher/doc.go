// Package batcher groups single requests into batches for a backend whose
// cost is dominated by a fixed per-call overhead, such as a GPU forward pass.
//
// Callers call [Batcher.Submit] with one item and get that item's result. A
// collector goroutine gathers items until the current target batch size is
// reached or MaxWait has passed since the batch's first item, then calls the
// user's [Func] with the whole batch. Up to MaxConcurrentBatches calls run at
// once; while they are all busy, items keep queueing, and the next batch is
// topped up from the queue just before it is dispatched, so a busy backend
// receives full batches.
//
// # Adaptive batch size
//
// When LatencyTarget is set, the target batch size follows an AIMD rule on the
// latency of each batch call:
//
//   - latency > LatencyTarget: target = max(MinBatchSize, floor(target × DecreaseFactor))
//   - latency ≤ LatencyTarget and the batch was full (size ≥ target):
//     target = min(MaxBatchSize, target + IncreaseStep)
//   - otherwise (a partial batch within target) the target is unchanged:
//     a batch smaller than the target says nothing about whether a larger
//     one would fit the target.
//
// Set LatencyTarget above the backend's fixed cost, or the target will sit
// at MinBatchSize.
//
// # Errors and cancellation
//
// An error from the batch function (or a panic in it, or a result slice of
// the wrong length) is delivered to every item of that batch. An item whose
// context is done before its batch is dispatched is dropped and never reaches
// the batch function; Submit returns the context's error at once. The batch
// function receives a context that is cancelled only when Close gives up
// waiting.
//
// Every batcher exports Prometheus metrics under tessera_sdk_batcher_*,
// labelled with the batcher's Name.
package batcher
