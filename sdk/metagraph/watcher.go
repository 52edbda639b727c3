package metagraph

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// Watcher keeps the latest metagraph of a subnet for concurrent readers (a miner's
// blacklist and priority hooks): it resyncs every Every blocks, checking the chain's
// height every Poll. A failed sync is logged and the previous metagraph kept.
type Watcher struct {
	Chain  Chain  // where the metagraph is read
	Netuid uint16 // the subnet
	// Every is the number of blocks between syncs (default 10).
	Every int64
	// Poll is how often the chain's height is read (default 1 s).
	Poll time.Duration
	// Logger receives sync failures (discarded when nil).
	Logger *slog.Logger
	// OnSync, when set, is called with every new metagraph.
	OnSync func(*Graph)

	cur      atomic.Pointer[Graph]
	lastSync atomic.Int64 // unix ns of the last successful sync
	pokeOnce sync.Once
	poke     chan struct{}
}

func (w *Watcher) pokes() chan struct{} {
	w.pokeOnce.Do(func() { w.poke = make(chan struct{}, 1) })
	return w.poke
}

// Poke asks Run for a sync before the next scheduled one — when a caller the metagraph
// does not know shows up, it may have just registered. Run honours at most one poke per
// Poll; Poke never blocks.
func (w *Watcher) Poke() {
	select {
	case w.pokes() <- struct{}{}:
	default:
	}
}

// Current returns the latest metagraph, or nil before the first sync.
func (w *Watcher) Current() *Graph { return w.cur.Load() }

// Sync fetches the metagraph now and makes it current.
func (w *Watcher) Sync(ctx context.Context) (*Graph, error) {
	g, err := Fetch(ctx, w.Chain, w.Netuid)
	if err != nil {
		return nil, err
	}
	w.cur.Store(g)
	w.lastSync.Store(time.Now().UnixNano())
	if w.OnSync != nil {
		w.OnSync(g)
	}
	return g, nil
}

// Run resyncs until ctx ends, then returns nil.
func (w *Watcher) Run(ctx context.Context) error {
	every, poll, log := w.Every, w.Poll, w.Logger
	if every <= 0 {
		every = 10
	}
	if poll <= 0 {
		poll = time.Second
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	t := time.NewTicker(poll)
	defer t.Stop()
	pokes := w.pokes()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-pokes:
			if time.Since(time.Unix(0, w.lastSync.Load())) < poll {
				continue
			}
			if _, err := w.Sync(ctx); err != nil && ctx.Err() == nil {
				log.Warn("metagraph sync failed; keeping the previous one", "netuid", w.Netuid, "err", err)
			}
			continue
		case <-t.C:
		}
		var last int64
		if g := w.Current(); g != nil {
			last = g.Block
		}
		s, err := w.Chain.Status(ctx)
		if err != nil {
			log.Warn("metagraph: cannot read the chain's height", "netuid", w.Netuid, "err", err)
			continue
		}
		if s.Height < last+every && last > 0 {
			continue
		}
		if _, err := w.Sync(ctx); err != nil && ctx.Err() == nil {
			log.Warn("metagraph sync failed; keeping the previous one", "netuid", w.Netuid, "err", err)
		}
	}
}
