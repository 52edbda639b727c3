package wire

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"sync"
	"syscall"
	"time"
)

// The dendrite's HTTP/1.1 client. net/http's Transport runs two goroutines per
// connection and hands every request and response between them over channels; for a
// client whose every call is one small POST with a deadline, that is a good part of the
// CPU a call costs (see BenchmarkRoundTrip). This client writes the whole request with
// one write, reads the response on the calling goroutine with http.ReadResponse (so
// parsing, chunked bodies and Connection: close follow net/http exactly), and keeps
// connections in a pool per axon address.

// pconn is one pooled connection.
type pconn struct {
	c      net.Conn
	br     *bufio.Reader
	addr   string
	idleAt time.Time
}

// connPool keeps idle connections per axon address.
type connPool struct {
	dialer      net.Dialer
	maxIdle     int           // per address
	idleTimeout time.Duration // idle connections older than this are closed, not reused
	mu          sync.Mutex
	idle        map[string][]*pconn
}

func newConnPool(dialTimeout time.Duration, maxIdle int, idleTimeout time.Duration) *connPool {
	return &connPool{
		dialer:      net.Dialer{Timeout: dialTimeout, KeepAlive: 30 * time.Second},
		maxIdle:     maxIdle,
		idleTimeout: idleTimeout,
		idle:        make(map[string][]*pconn),
	}
}

// get returns an idle connection to addr (reused = true) or dials a new one.
func (p *connPool) get(ctx context.Context, addr string) (pc *pconn, reused bool, err error) {
	now := time.Now()
	p.mu.Lock()
	for list := p.idle[addr]; len(list) > 0; list = p.idle[addr] {
		pc = list[len(list)-1]
		list[len(list)-1] = nil
		p.idle[addr] = list[:len(list)-1]
		if now.Sub(pc.idleAt) < p.idleTimeout {
			p.mu.Unlock()
			return pc, true, nil
		}
		pc.c.Close()
	}
	p.mu.Unlock()
	c, err := p.dialer.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, false, err
	}
	if tc, ok := c.(*net.TCPConn); ok {
		tc.SetNoDelay(true)
	}
	return &pconn{c: c, br: bufio.NewReaderSize(c, 8<<10), addr: addr}, false, nil
}

// put returns a connection whose last response was read completely.
func (p *connPool) put(pc *pconn) {
	pc.idleAt = time.Now()
	p.mu.Lock()
	if list := p.idle[pc.addr]; len(list) < p.maxIdle {
		p.idle[pc.addr] = append(list, pc)
		p.mu.Unlock()
		return
	}
	p.mu.Unlock()
	pc.c.Close()
}

// closeIdle closes every idle connection.
func (p *connPool) closeIdle() {
	p.mu.Lock()
	idle := p.idle
	p.idle = make(map[string][]*pconn)
	p.mu.Unlock()
	for _, list := range idle {
		for _, pc := range list {
			pc.c.Close()
		}
	}
}

// exchange is one request on a connection: the response head is read, the body is
// left for the caller. done must be called when the caller has finished with the
// connection, saying whether the body was read to its end.
type exchange struct {
	resp *http.Response
	pc   *pconn
	pool *connPool
	stop func() bool // stops the context watcher
}

// release gives the connection back to the pool if it can carry another request:
// the body was read completely, neither side asked to close, and the context did not
// fire (its watcher may have poisoned the deadline).
func (x *exchange) release(bodyDone bool) {
	if x.stop() && bodyDone && !x.resp.Close {
		x.pool.put(x.pc)
		return
	}
	x.pc.c.Close()
}

// roundTrip writes req (the whole request, head and body) to addr and reads the
// response head, within ctx. A connection from the pool that turns out to have been
// closed by the axon while idle is retried once on a fresh connection; the request is
// the same bytes, so an axon that did see the first copy refuses the second as a
// replay instead of serving it twice.
func (p *connPool) roundTrip(ctx context.Context, addr string, req []byte) (*exchange, error) {
	for attempt := 0; ; attempt++ {
		pc, reused, err := p.get(ctx, addr)
		if err != nil {
			return nil, err
		}
		if dl, ok := ctx.Deadline(); ok {
			pc.c.SetDeadline(dl)
		} else {
			pc.c.SetDeadline(time.Time{})
		}
		// Cancellation: move the deadline to the past, which unblocks the write or
		// read at once with a timeout error.
		stop := context.AfterFunc(ctx, func() { pc.c.SetDeadline(time.Unix(1, 0)) })
		x, err := p.try(pc, req)
		if err == nil {
			x.stop, x.pool = stop, p
			return x, nil
		}
		stop()
		pc.c.Close()
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if !reused || attempt > 0 || !staleConn(err) {
			return nil, err
		}
	}
}

func (p *connPool) try(pc *pconn, req []byte) (*exchange, error) {
	if _, err := pc.c.Write(req); err != nil {
		return nil, err
	}
	resp, err := http.ReadResponse(pc.br, nil)
	if err != nil {
		return nil, err
	}
	return &exchange{resp: resp, pc: pc}, nil
}

// staleConn reports whether err is what a request on a connection the peer had
// already closed gets: nothing back at all.
func staleConn(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}
