package metagraph

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/tessera-net/tessera/client"
	"github.com/tessera-net/tessera/internal/testutil"
	"github.com/tessera-net/tessera/internal/testutil/fixture"
	"github.com/tessera-net/tessera/modules/subnets"
)

// movingChain is a chain whose height and metagraph the test moves.
type movingChain struct {
	mu     sync.Mutex
	height int64
	mg     *subnets.Metagraph
	fail   bool
	reads  int
}

func (c *movingChain) Query(_ context.Context, _ string, _ int64, out any) (int64, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.reads++
	if c.fail {
		return 0, errors.New("node unreachable")
	}
	*out.(*subnets.Metagraph) = *c.mg
	return c.height, nil
}

func (c *movingChain) Status(context.Context) (*client.Status, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return &client.Status{Height: c.height}, nil
}

func (c *movingChain) set(fn func(c *movingChain)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	fn(c)
}

func TestWatcher(t *testing.T) {
	c := &movingChain{height: 1, mg: fixture.Metagraph("a")}
	w := &Watcher{Chain: c, Netuid: 1, Every: 5, Poll: 5 * time.Millisecond}
	if w.Current() != nil {
		t.Fatal("a metagraph before the first sync")
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	wait := func(what string, cond func() bool) {
		t.Helper()
		testutil.WaitFor(t, 5*time.Second, what, cond)
	}
	wait("the first sync", func() bool { return w.Current() != nil })

	// A new metagraph is not read before Every blocks have passed…
	c.set(func(c *movingChain) { c.mg = fixture.Metagraph("a", "b"); c.height = 3 })
	time.Sleep(30 * time.Millisecond)
	if w.Current().Size() != 1 {
		t.Fatal("resynced before epoch_length blocks")
	}
	// …but is after them.
	c.set(func(c *movingChain) { c.height = 6 })
	wait("the resync", func() bool { return w.Current().Size() == 2 })

	// A failed sync keeps the previous metagraph.
	c.set(func(c *movingChain) { c.fail = true; c.height = 20 })
	time.Sleep(30 * time.Millisecond)
	if g := w.Current(); g == nil || g.Size() != 2 {
		t.Fatal("a failed sync lost the metagraph")
	}

	// A poke resyncs before the schedule.
	c.set(func(c *movingChain) { c.fail = false; c.mg = fixture.Metagraph("a", "b", "c") })
	wait("the catch-up", func() bool { return w.Current().Size() == 3 })
	c.set(func(c *movingChain) { c.mg = fixture.Metagraph("a", "b", "c", "d") })
	time.Sleep(20 * time.Millisecond)
	w.Poke()
	wait("the poked sync", func() bool { return w.Current().Size() == 4 })
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
