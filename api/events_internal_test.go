package api

import (
	"bufio"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"syscall"
	"testing"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"
	rpcclient "github.com/cometbft/cometbft/rpc/client"
	ctypes "github.com/cometbft/cometbft/rpc/core/types"
	cmttypes "github.com/cometbft/cometbft/types"
)

// quietNode is a node whose event subscription delivers what the test sends on blocks.
type quietNode struct {
	rpcclient.Client
	blocks chan ctypes.ResultEvent
}

func (q *quietNode) Subscribe(context.Context, string, string, ...int) (<-chan ctypes.ResultEvent, error) {
	return q.blocks, nil
}

func (q *quietNode) Unsubscribe(context.Context, string, string) error { return nil }

func newBlock(height int64, epochs ...string) ctypes.ResultEvent {
	nb := cmttypes.EventDataNewBlock{Block: &cmttypes.Block{Header: cmttypes.Header{Height: height, Time: time.Unix(1_700_000_000, 0).UTC()}}}
	for _, n := range epochs {
		nb.ResultFinalizeBlock.Events = append(nb.ResultFinalizeBlock.Events,
			abci.Event{Type: "epoch", Attributes: []abci.EventAttribute{{Key: "netuid", Value: n}, {Key: "block", Value: "9"}}})
	}
	nb.ResultFinalizeBlock.Events = append(nb.ResultFinalizeBlock.Events, abci.Event{Type: "other"})
	return ctypes.ResultEvent{Data: nb}
}

// A block's frames: its id and event, then one epoch event per subnet epoch it ran.
func TestBlockFrames(t *testing.T) {
	nb := newBlock(42, "1", "3").Data.(cmttypes.EventDataNewBlock)
	got := string(blockFrames(&nb))
	want := "id: 42\nevent: block\ndata: {\"height\":42,\"time\":\"2023-11-14T22:13:20Z\",\"hash\":\"\",\"num_txs\":0,\"proposer\":\"\"}\n\n" +
		"event: epoch\ndata: {\"netuid\":1,\"height\":42}\n\nevent: epoch\ndata: {\"netuid\":3,\"height\":42}\n\n"
	if got != want {
		t.Fatalf("got\n%q\nwant\n%q", got, want)
	}
}

// An idle stream gets heartbeats; the events it is sent arrive in order.
func TestStreamHeartbeat(t *testing.T) {
	node := &quietNode{blocks: make(chan ctypes.ResultEvent)}
	h := NewHandler(node, Options{Heartbeat: 30 * time.Millisecond})
	srv := httptest.NewServer(h)
	defer srv.Close()
	defer h.Close()
	resp, err := http.Get(srv.URL + "/v1/events")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if cc := resp.Header.Get("Cache-Control"); cc != "no-cache" {
		t.Fatalf("Cache-Control %q", cc)
	}
	sc := bufio.NewScanner(resp.Body)
	var lines []string
	next := func() string {
		if !sc.Scan() {
			t.Fatalf("the stream ended after %q", lines)
		}
		lines = append(lines, sc.Text())
		return sc.Text()
	}
	for _, want := range []string{"retry: 3000", "", ": connected", "", ": heartbeat", "", ": heartbeat"} {
		if got := next(); got != want {
			t.Fatalf("line %q, want %q (so far %q)", got, want, lines)
		}
	}
	node.blocks <- newBlock(7)
	for got := next(); got != "id: 7"; got = next() {
		if got != "" && got != ": heartbeat" {
			t.Fatalf("line %q before the block", got)
		}
	}
	if got := next(); got != "event: block" {
		t.Fatalf("%q", got)
	}
}

// A stream whose reader does not keep up is dropped, and the others are not held up.
func TestSlowStreamDropped(t *testing.T) {
	hb := newHub(&quietNode{blocks: make(chan ctypes.ResultEvent)}, 4, time.Hour, slog.New(slog.DiscardHandler))
	slow, err := hb.join(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	fast, err := hb.join(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < streamBuffer+1; i++ {
		hb.broadcast([]byte("x"))
		<-fast.frames
	}
	select {
	case <-slow.gone:
	default:
		t.Fatal("a stream a whole buffer behind was not dropped")
	}
	select {
	case <-fast.gone:
		t.Fatal("the stream that kept up was dropped")
	default:
	}
	hb.leave(slow)
	hb.leave(fast)
	if hb.sub != nil || len(hb.streams) != 0 {
		t.Fatalf("after both left: subscription %v, %d streams", hb.sub, len(hb.streams))
	}
}

// A subscription the node ends by itself ends every stream (their clients reconnect),
// and the next stream subscribes anew.
func TestUpstreamEndClosesStreams(t *testing.T) {
	node := &quietNode{blocks: make(chan ctypes.ResultEvent)}
	hb := newHub(node, 4, time.Hour, slog.New(slog.DiscardHandler))
	s, err := hb.join(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	close(node.blocks)
	select {
	case <-s.gone:
	case <-time.After(5 * time.Second):
		t.Fatal("the stream outlived its subscription")
	}
	hb.leave(s)
	node.blocks = make(chan ctypes.ResultEvent)
	s2, err := hb.join(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if hb.gen != 2 || !strings.HasSuffix(hb.sub.id, "-2") {
		t.Fatalf("generation %d, subscriber %q", hb.gen, hb.sub.id)
	}
	hb.leave(s2)
}

// BenchmarkEventsFanout10 is the CPU one new block costs the API with 10 event streams
// open: the block decoded once and its frames written and flushed to 10 HTTP clients on
// loopback, whose readers (in this process) are counted too. Each block is sent once
// every client has read the one before, as blocks come a second apart. cpu-µs/block at
// 1-second blocks is the share of a core the streams cost, in millionths.
func BenchmarkEventsFanout10(b *testing.B) {
	const streams = 10
	node := &quietNode{blocks: make(chan ctypes.ResultEvent)}
	h := NewHandler(node, Options{})
	srv := httptest.NewServer(h)
	defer srv.Close()
	defer h.Close()
	got := make(chan struct{}, streams)
	for range streams {
		resp, err := http.Get(srv.URL + "/v1/events")
		if err != nil {
			b.Fatal(err)
		}
		defer resp.Body.Close()
		go func() {
			sc := bufio.NewScanner(resp.Body)
			for sc.Scan() {
				if strings.HasPrefix(sc.Text(), "id: ") {
					got <- struct{}{}
				}
			}
		}()
	}
	for hb := h.s.events; ; time.Sleep(time.Millisecond) {
		hb.mu.Lock()
		n := len(hb.streams)
		hb.mu.Unlock()
		if n == streams {
			break
		}
	}
	ev := newBlock(1_000_000, "1")
	nb := ev.Data.(cmttypes.EventDataNewBlock)
	nb.Block.Txs = make(cmttypes.Txs, 3)
	nb.Block.ProposerAddress = make([]byte, 20)
	b.ReportAllocs()
	var ru0, ru1 syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru0)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		nb.Block.Height = int64(1_000_000 + i)
		node.blocks <- ctypes.ResultEvent{Data: nb}
		for range streams {
			<-got
		}
	}
	b.StopTimer()
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru1)
	cpu := time.Duration(ru1.Utime.Nano() + ru1.Stime.Nano() - ru0.Utime.Nano() - ru0.Stime.Nano())
	b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-µs/block")
}
