package wire

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"net/http"
	"sync"
	"time"
)

// Streaming, as Bittensor's StreamingSynapse does it: the axon answers 200 with
// content-type text/event-stream and the synapse headers, then sends the bytes the
// handler writes, unframed (Server-Sent Events framing, "data: …\n\n", is the handler's
// choice; StreamWriter.WriteEvent does it). One improvement: the status line and headers
// go out with the first write, so a handler that fails before writing anything still
// answers with a real error status. A failure after that cannot change the status, so
// the axon aborts the connection and the dendrite sees a broken stream, not a short one.

// StreamWriter sends a streaming response. Each Write is flushed to the dendrite at
// once. It is safe for concurrent use; after the handler's deadline every write fails.
type StreamWriter struct {
	mu      sync.Mutex
	w       http.ResponseWriter
	rc      *http.ResponseController
	header  func() // writes the status line and headers
	started bool
	closed  bool
	n       int64
}

var errStreamClosed = errors.New("stream closed: the handler's deadline passed or the dendrite went away")

func (s *StreamWriter) start() {
	if !s.started {
		s.started = true
		s.header()
	}
}

// Write sends p as it is and flushes it.
func (s *StreamWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return 0, errStreamClosed
	}
	s.start()
	n, err := s.w.Write(p)
	s.n += int64(n)
	if err != nil {
		return n, err
	}
	return n, s.rc.Flush()
}

// WriteEvent sends data as one Server-Sent Event: each line of data prefixed with
// "data: ", and a blank line after.
func (s *StreamWriter) WriteEvent(data []byte) error {
	var b bytes.Buffer
	for line := range bytes.SplitSeq(data, []byte("\n")) {
		b.WriteString("data: ")
		b.Write(line)
		b.WriteByte('\n')
	}
	b.WriteByte('\n')
	_, err := s.Write(b.Bytes())
	return err
}

// close stops further writes and reports whether anything was sent.
func (s *StreamWriter) close() (started bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	return s.started
}

// HandleStream makes a streaming Handler: fn gets the request synapse and a writer, and
// what it writes goes to the dendrite as it is written. The stream ends when fn
// returns; fn should return when ctx ends.
func HandleStream[S any, P interface {
	*S
	Synapse
}](fn func(ctx context.Context, c *Call, syn P, w *StreamWriter) error) Handler {
	return Handler{
		proto:  P(new(S)),
		stream: func(ctx context.Context, c *Call, syn Synapse, w *StreamWriter) error { return fn(ctx, c, syn.(P), w) },
	}
}

func (a *Axon) serveStream(ctx context.Context, w http.ResponseWriter, rc *http.ResponseController, rt *route, call *Call, syn Synapse, start time.Time) {
	_ = rc.SetWriteDeadline(call.Deadline.Add(time.Second))
	b := syn.SynapseBase()
	sw := &StreamWriter{w: w, rc: rc}
	sw.header = func() {
		status, message := http.StatusOK, "Success"
		h := w.Header()
		a.responseHeaders(h, rt, b, status, message, start, b.ComputedBodyHash)
		h["Content-Type"] = []string{"text/event-stream"}
		h["Cache-Control"] = []string{"no-cache"}
		h["X-Accel-Buffering"] = []string{"no"}
		w.WriteHeader(status)
	}
	done := a.runHandler(func() error { return rt.handler.stream(ctx, call, syn, sw) })
	var err error
	select {
	case err = <-done:
	case <-ctx.Done():
		if !sw.close() {
			a.refuse(w, rt, call.Synapse, reject{http.StatusRequestTimeout,
				fmt.Sprintf("Request timeout after %s seconds: the handler did not finish", pyFloatString(call.Timeout.Seconds())), "timeout"}, start)
			return
		}
		a.log.Debug("stream cut off at its deadline", "synapse", call.Synapse, "hotkey", call.Hotkey)
		a.count(rt, call.Synapse, http.StatusRequestTimeout, start)
		panic(http.ErrAbortHandler)
	}
	started := sw.close()
	switch {
	case err == nil:
		if !started {
			sw.started = true
			sw.header()
		}
		a.count(rt, call.Synapse, http.StatusOK, start)
	case !started:
		a.handlerError(w, rt, call, err, start)
	default:
		a.log.Warn("stream handler failed after the response began; aborting the connection",
			"synapse", call.Synapse, "hotkey", call.Hotkey, "err", err)
		a.count(rt, call.Synapse, http.StatusInternalServerError, start)
		panic(http.ErrAbortHandler)
	}
}

// Stream is a streaming response being read by a dendrite. Read it with Chunks or
// Events (once), and Close it.
type Stream struct {
	// Header is the response's synapse header data: status, axon hotkey, process time.
	Header ResponseInfo
	body   io.ReadCloser
	x      *exchange
	cancel context.CancelFunc
	max    int64
	eof    bool
	closed bool
}

// Close ends the stream. A stream read to its end gives its connection back to the
// pool; one closed early closes it.
func (s *Stream) Close() error {
	if s.closed {
		return nil
	}
	s.closed = true
	s.x.release(s.eof)
	s.cancel()
	return nil
}

// Chunks yields the response body as it arrives, in the pieces the network delivers
// (which need not match the axon's writes). The slice is reused between iterations. It
// ends with a nil error at the end of the stream, or yields the error that broke it.
func (s *Stream) Chunks() iter.Seq2[[]byte, error] {
	return func(yield func([]byte, error) bool) {
		buf := make([]byte, 32<<10)
		var total int64
		for {
			n, err := s.body.Read(buf)
			total += int64(n)
			if n > 0 && !yield(buf[:n], nil) {
				return
			}
			if total > s.max {
				yield(nil, fmt.Errorf("stream exceeds the limit of %d bytes", s.max))
				return
			}
			if err == io.EOF {
				s.eof = true
				return
			}
			if err != nil {
				yield(nil, fmt.Errorf("stream broken: %w", err))
				return
			}
		}
	}
}

// Events yields the data of each Server-Sent Event in the stream (the "data:" lines of
// an event joined by newlines); other fields and comments are skipped.
func (s *Stream) Events() iter.Seq2[[]byte, error] {
	return func(yield func([]byte, error) bool) {
		sc := bufio.NewScanner(s.body)
		sc.Buffer(make([]byte, 64<<10), int(min(s.max, 16<<20)))
		var data []byte
		have := false
		for sc.Scan() {
			line := sc.Bytes()
			if len(line) == 0 {
				if have {
					if !yield(data, nil) {
						return
					}
					data, have = nil, false
				}
				continue
			}
			if v, ok := bytes.CutPrefix(line, []byte("data:")); ok {
				v = bytes.TrimPrefix(v, []byte(" "))
				if have {
					data = append(data, '\n')
				}
				data = append(data, v...)
				have = true
			}
		}
		if err := sc.Err(); err != nil {
			yield(nil, fmt.Errorf("stream broken: %w", err))
			return
		}
		s.eof = true
		if have {
			yield(data, nil)
		}
	}
}
