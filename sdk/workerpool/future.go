package workerpool

import "context"

// Future is the pending result of a task started with Go or TryGo.
type Future[T any] struct {
	done chan struct{}
	val  T
	err  error
}

func newFuture[T any]() *Future[T] { return &Future[T]{done: make(chan struct{})} }

// resolve is called exactly once, by the worker that ran or skipped the task.
func (f *Future[T]) resolve(v T, err error) {
	f.val, f.err = v, err
	close(f.done)
}

// Done is closed when the result is ready.
func (f *Future[T]) Done() <-chan struct{} { return f.done }

// Wait blocks until the task has finished and returns its result, or returns
// ctx.Err() if ctx ends first (the task keeps running).
func (f *Future[T]) Wait(ctx context.Context) (T, error) {
	select {
	case <-f.done:
		return f.val, f.err
	case <-ctx.Done():
		var zero T
		return zero, ctx.Err()
	}
}

func futureJob[T any](ctx context.Context, fn func(context.Context) (T, error)) (job, *Future[T]) {
	f := newFuture[T]()
	return job{
		ctx: ctx,
		run: func(ctx context.Context) error {
			v, err := fn(ctx)
			f.resolve(v, err)
			return err
		},
		fail: func(err error) {
			var zero T
			f.resolve(zero, err)
		},
	}, f
}

// Go queues fn on p, blocking while the queue is full, and returns a Future
// for its result. Errors are those of Pool.Submit. If fn panics, the Future
// resolves with a *PanicError.
func Go[T any](ctx context.Context, p *Pool, fn func(ctx context.Context) (T, error)) (*Future[T], error) {
	j, f := futureJob(ctx, fn)
	if err := p.enqueue(j, true); err != nil {
		return nil, err
	}
	return f, nil
}

// TryGo is Go that fails with ErrQueueFull instead of blocking.
func TryGo[T any](ctx context.Context, p *Pool, fn func(ctx context.Context) (T, error)) (*Future[T], error) {
	j, f := futureJob(ctx, fn)
	if err := p.enqueue(j, false); err != nil {
		return nil, err
	}
	return f, nil
}

// Do runs fn on p and waits for its result: Go followed by Future.Wait.
func Do[T any](ctx context.Context, p *Pool, fn func(ctx context.Context) (T, error)) (T, error) {
	f, err := Go(ctx, p, fn)
	if err != nil {
		var zero T
		return zero, err
	}
	return f.Wait(ctx)
}
