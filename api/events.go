package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	rpcclient "github.com/cometbft/cometbft/rpc/client"
	ctypes "github.com/cometbft/cometbft/rpc/core/types"
	cmttypes "github.com/cometbft/cometbft/types"

	"github.com/tessera-net/tessera/tx"
)

// GET /v1/events is a Server-Sent Events stream of the chain as it runs, fed by one
// CometBFT subscription to the node's new blocks that every open stream shares: the
// subscription is made when the first stream opens and dropped when the last one closes.
// Each block is encoded once, whatever the number of streams. The frames:
//
//	retry: 3000                  once, first: the reconnection delay a browser uses
//	: connected                  once, when the stream is open
//	id: <height>
//	event: block
//	data: {"height":H,"time":"RFC 3339","hash":"HEX","num_txs":N,"proposer":"HEX"}
//	event: epoch                 for each subnet epoch the block ran, after its block
//	data: {"netuid":N,"height":H}
//	: heartbeat                  every Options.Heartbeat without an event
//
// At most Options.MaxStreams streams are open at once; one more is answered 503 with the
// error body (code rate_limited) and Retry-After. A stream whose reader falls
// streamBuffer blocks behind is closed (a browser's EventSource reconnects by itself).

// DefaultMaxStreams and DefaultHeartbeat are the defaults of Options.MaxStreams and
// Options.Heartbeat.
const (
	DefaultMaxStreams = 64
	DefaultHeartbeat  = 15 * time.Second
)

const (
	// newBlockQuery is the subscription's query.
	newBlockQuery = "tm.event='NewBlock'"
	// subscriberPrefix names the API's subscriptions on the node's event bus.
	subscriberPrefix = "tessera-api-events-"
	// upstreamBuffer is the subscription's channel capacity (blocks).
	upstreamBuffer = 64
	// streamBuffer is how many blocks' frames a stream may have waiting to be written.
	streamBuffer = 32
	// streamWriteTimeout bounds one write to a stream's client.
	streamWriteTimeout = 10 * time.Second
	// subscribeTimeout bounds subscribing and unsubscribing on the node.
	subscribeTimeout = 5 * time.Second
	// retryMillis is the reconnection delay the stream tells browsers.
	retryMillis = 3000
)

// BlockEvent is the data of an SSE "block" event.
type BlockEvent struct {
	Height   int64     `json:"height"`
	Time     time.Time `json:"time"`
	Hash     string    `json:"hash"`
	NumTxs   int       `json:"num_txs"`
	Proposer string    `json:"proposer"`
}

// EpochEvent is the data of an SSE "epoch" event: subnet Netuid ran its epoch in block
// Height.
type EpochEvent struct {
	Netuid uint16 `json:"netuid"`
	Height int64  `json:"height"`
}

var (
	errStreamsFull = errors.New("too many event streams open")
	errHubClosed   = errors.New("the API is shutting down")
)

// hub fans the node's new blocks out to the open streams.
type hub struct {
	rpc       rpcclient.Client
	log       *slog.Logger
	max       int
	heartbeat time.Duration

	mu      sync.Mutex
	streams map[*stream]struct{}
	gen     int       // subscriptions made: the next subscriber id's suffix
	sub     *upstream // the node subscription, while a stream is open
	closed  bool
}

// upstream is one subscription on the node and the goroutine that reads it.
type upstream struct {
	id   string
	stop chan struct{} // closed to stop the pump
	done chan struct{} // closed when the pump has returned
}

// stream is one client's stream.
type stream struct {
	frames  chan []byte   // each block's frames, encoded
	gone    chan struct{} // closed when the hub drops the stream
	dropped bool          // gone is closed (under hub.mu)
}

func newHub(rpc rpcclient.Client, max int, heartbeat time.Duration, log *slog.Logger) *hub {
	return &hub{rpc: rpc, log: log, max: max, heartbeat: heartbeat, streams: map[*stream]struct{}{}}
}

// join opens a stream, subscribing on the node when it is the only one.
func (h *hub) join(ctx context.Context) (*stream, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	switch {
	case h.closed:
		return nil, errHubClosed
	case len(h.streams) >= h.max:
		return nil, errStreamsFull
	}
	if h.sub == nil {
		h.gen++
		u := &upstream{id: subscriberPrefix + strconv.Itoa(h.gen), stop: make(chan struct{}), done: make(chan struct{})}
		sctx, cancel := context.WithTimeout(ctx, subscribeTimeout)
		out, err := h.rpc.Subscribe(sctx, u.id, newBlockQuery, upstreamBuffer)
		cancel()
		if err != nil {
			return nil, fmt.Errorf("subscribe to the node's new blocks: %w", err)
		}
		h.sub = u
		go h.pump(u, out)
	}
	s := &stream{frames: make(chan []byte, streamBuffer), gone: make(chan struct{})}
	h.streams[s] = struct{}{}
	return s, nil
}

// leave closes a stream, dropping the node subscription when it was the last.
func (h *hub) leave(s *stream) {
	h.mu.Lock()
	delete(h.streams, s)
	h.drop(s)
	var u *upstream
	if len(h.streams) == 0 {
		u, h.sub = h.sub, nil
	}
	h.mu.Unlock()
	if u != nil {
		close(u.stop)
		<-u.done
		h.unsubscribe(u)
	}
}

func (h *hub) unsubscribe(u *upstream) {
	ctx, cancel := context.WithTimeout(context.Background(), subscribeTimeout)
	defer cancel()
	if err := h.rpc.Unsubscribe(ctx, u.id, newBlockQuery); err != nil {
		h.log.Debug("unsubscribe from the node's new blocks", "subscriber", u.id, "err", err)
	}
}

// drop ends a stream's serving (under h.mu); it stays counted until it leaves.
func (h *hub) drop(s *stream) {
	if !s.dropped {
		s.dropped = true
		close(s.gone)
	}
}

// close ends every stream and refuses new ones; the last stream to leave drops the
// subscription.
func (h *hub) close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.closed = true
	for s := range h.streams {
		h.drop(s)
	}
}

// pump reads the subscription and hands each block's frames to every stream. Should the
// subscription end by itself (a remote node's connection lost), it ends every stream, so
// that their clients reconnect and subscribe anew.
func (h *hub) pump(u *upstream, out <-chan ctypes.ResultEvent) {
	defer close(u.done)
	for {
		select {
		case <-u.stop:
			return
		case ev, ok := <-out:
			if !ok {
				h.mu.Lock()
				if h.sub == u {
					h.sub = nil
				}
				for s := range h.streams {
					h.drop(s)
				}
				h.mu.Unlock()
				h.log.Warn("the node ended the event subscription; closing the event streams", "subscriber", u.id)
				h.unsubscribe(u)
				return
			}
			nb, isBlock := ev.Data.(cmttypes.EventDataNewBlock)
			if !isBlock || nb.Block == nil {
				continue
			}
			h.broadcast(blockFrames(&nb))
		}
	}
}

// broadcast queues frames on every stream; a stream whose queue is full is dropped.
func (h *hub) broadcast(frames []byte) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for s := range h.streams {
		if s.dropped {
			continue
		}
		select {
		case s.frames <- frames:
		default:
			h.drop(s)
		}
	}
}

// blockFrames encodes a new block as its SSE frames: the block, then its epochs.
func blockFrames(nb *cmttypes.EventDataNewBlock) []byte {
	hd := &nb.Block.Header
	var buf bytes.Buffer
	buf.WriteString("id: " + strconv.FormatInt(hd.Height, 10) + "\n")
	writeEvent(&buf, "block", BlockEvent{Height: hd.Height, Time: hd.Time, Hash: nb.BlockID.Hash.String(),
		NumTxs: len(nb.Block.Txs), Proposer: hd.ProposerAddress.String()})
	for _, e := range nb.ResultFinalizeBlock.Events {
		if e.Type != "epoch" {
			continue
		}
		for _, a := range e.Attributes {
			if a.Key == "netuid" {
				if n, err := strconv.ParseUint(a.Value, 10, 16); err == nil {
					writeEvent(&buf, "epoch", EpochEvent{Netuid: uint16(n), Height: hd.Height})
				}
			}
		}
	}
	return buf.Bytes()
}

// writeEvent appends one SSE event: its name and its JSON data on one line.
func writeEvent(buf *bytes.Buffer, name string, data any) {
	b, _ := json.Marshal(data) // plain structs: cannot fail
	buf.WriteString("event: " + name + "\ndata: ")
	buf.Write(b)
	buf.WriteString("\n\n")
}

// serve answers GET /v1/events.
func (h *hub) serve(w http.ResponseWriter, r *http.Request) {
	s, err := h.join(r.Context())
	switch {
	case errors.Is(err, errStreamsFull):
		w.Header().Set("Retry-After", "5")
		writeError(w, http.StatusServiceUnavailable, tx.CodeRateLimited,
			fmt.Sprintf("%d event streams are open, the most this node serves; poll /v1/status instead, or retry later", h.max))
		return
	case errors.Is(err, errHubClosed):
		writeError(w, http.StatusServiceUnavailable, tx.CodeInternal, err.Error())
		return
	case err != nil:
		h.log.Warn("event stream refused", "err", err)
		writeError(w, http.StatusServiceUnavailable, tx.CodeInternal, err.Error())
		return
	}
	defer h.leave(s)
	rc := http.NewResponseController(w)
	defer func() { _ = rc.SetWriteDeadline(time.Time{}) }() // a kept-alive connection's next answer has none
	hdr := w.Header()
	hdr.Set("Content-Type", "text/event-stream")
	hdr.Set("Cache-Control", "no-cache")
	hdr.Set("X-Accel-Buffering", "no") // nginx and its kind: do not buffer the stream
	w.WriteHeader(http.StatusOK)
	write := func(b []byte) bool {
		_ = rc.SetWriteDeadline(time.Now().Add(streamWriteTimeout)) // unsupported: no deadline
		if _, err := w.Write(b); err != nil {
			return false
		}
		return rc.Flush() == nil
	}
	if !write([]byte("retry: " + strconv.Itoa(retryMillis) + "\n\n: connected\n\n")) {
		return
	}
	beat := time.NewTicker(h.heartbeat)
	defer beat.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-s.gone:
			return
		case f := <-s.frames:
			if !write(f) {
				return
			}
			beat.Reset(h.heartbeat)
		case <-beat.C:
			if !write([]byte(": heartbeat\n\n")) {
				return
			}
		}
	}
}
