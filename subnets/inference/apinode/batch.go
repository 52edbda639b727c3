package apinode

import (
	"context"
	"errors"
	"sync"

	"github.com/tessera-net/tessera/client"
)

// StartBatch is how many start entries one inference/start message carries: the
// chain's limit is 1024 per message, but a transaction is at most 128 KiB and a start
// entry takes up to about 400 bytes with its model id and path.
const StartBatch = 256

// FinishBatch and CheckBatch are the entries per finish and validate/vote message
// (about 80 and 40 bytes each).
const (
	FinishBatch = 1024
	CheckBatch  = 1024
)

// Batcher queues entries and submits them in chunks of at most Size, each chunk as one
// message, when flushed. It is safe for concurrent use; Flush calls do not overlap.
type Batcher[T any] struct {
	size int
	send func(ctx context.Context, chunks [][]T) error

	mu      sync.Mutex
	pending []T
	flush   sync.Mutex
}

// NewBatcher returns a batcher of chunks of at most size entries (≥ 1) that send
// submits (all chunks of one flush at once).
func NewBatcher[T any](size int, send func(ctx context.Context, chunks [][]T) error) *Batcher[T] {
	return &Batcher[T]{size: max(size, 1), send: send}
}

// Add queues entries for the next flush.
func (b *Batcher[T]) Add(e ...T) {
	b.mu.Lock()
	b.pending = append(b.pending, e...)
	b.mu.Unlock()
}

// Len is the number of entries waiting.
func (b *Batcher[T]) Len() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.pending)
}

// Flush submits every entry queued so far. The batcher does not queue the entries of a
// failed submission again: send decides which to Add back (the chain judges each entry,
// so a resubmitted entry that had committed is refused as a duplicate).
func (b *Batcher[T]) Flush(ctx context.Context) error {
	b.flush.Lock()
	defer b.flush.Unlock()
	b.mu.Lock()
	all := b.pending
	b.pending = nil
	b.mu.Unlock()
	if len(all) == 0 {
		return nil
	}
	return b.send(ctx, Chunks(all, b.size))
}

// Chunks splits es into consecutive chunks of at most size (≥ 1) entries.
func Chunks[T any](es []T, size int) [][]T {
	if size < 1 {
		size = 1
	}
	var out [][]T
	for lo := 0; lo < len(es); lo += size {
		out = append(out, es[lo:min(lo+size, len(es))])
	}
	return out
}

// transient reports whether a submission failed on its way rather than by the chain's
// judgement (a *client.TxError): the node unreachable, or the transaction dropped from
// the mempool (client.ErrNotCommitted). Sent again, it may pass; a refusal would not.
func transient(ctx context.Context, err error) bool {
	var te *client.TxError
	return err != nil && ctx.Err() == nil && !errors.As(err, &te)
}
