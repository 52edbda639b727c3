// Package pqueue is a bounded, blocking priority queue for AI work items.
//
// Items are popped highest priority first; items of equal priority come out
// in the order they were pushed (stable FIFO). The queue holds at most
// MaxSize items. What happens when it is full is chosen by [Policy]:
//
//   - [Reject] (the default): Push fails with [ErrFull] and the queue is
//     unchanged.
//   - [EvictLowest]: if the new item's priority is strictly higher than the
//     lowest priority in the queue, the lowest-priority item is removed (of
//     several with that priority, the most recently pushed one, so that
//     older equal-priority work keeps its place) and handed to OnEvict; the new
//     item is accepted. Otherwise Push fails with [ErrFull].
//
// Pop blocks until an item is available, the context is done, or the queue is
// closed and empty. Close rejects further pushes while letting consumers drain
// what is already queued.
//
// Both ends are O(log n): the queue keeps a max-heap for Pop and a min-heap
// for eviction over the same nodes, each node knowing its index in both.
//
// Every queue exports Prometheus metrics under tessera_sdk_pqueue_*, labelled
// with the queue's Name.
package pqueue
