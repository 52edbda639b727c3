// Package workerpool runs tasks on a fixed number of goroutines fed by a
// bounded queue.
//
// A Pool has Workers goroutines and a queue of QueueSize slots. Submit blocks
// while the queue is full (until the caller's context is done); TrySubmit fails
// fast with [ErrQueueFull]. The generic helpers [Go], [TryGo] and [Do] run a
// function that returns a value and hand back its result through a [Future].
//
// A task receives the context it was submitted with. If that context is done
// before a worker picks the task up, the task is skipped and its Future
// resolves with the context's error. A panicking task does not take the pool
// down: the panic is recovered, counted, and reported as a [*PanicError] (to
// the Future, or to Config.OnPanic for plain Submit).
//
// Close stops intake and waits for every queued and running task to finish.
// If Close's own context ends first, the tasks still queued are skipped
// (their Futures resolve with [ErrClosed]) and Close returns; running tasks
// finish in the background and the workers exit when they do.
//
// Every pool exports Prometheus metrics under tessera_sdk_workerpool_*,
// labelled with the pool's Name.
package workerpool
