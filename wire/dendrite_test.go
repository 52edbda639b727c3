package wire

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/tessera-net/tessera/keys"
)

func TestDendriteCallRoundTrip(t *testing.T) {
	reg := prometheus.NewRegistry()
	var seen *Call
	a, info := testAxon(t, alice(t), AxonConfig{ExternalIP: "127.0.0.1"}, func(a *Axon) {
		a.Attach("", Handle(func(ctx context.Context, c *Call, s *Echo) error {
			seen = c
			if s.Dendrite.Hotkey == nil || *s.Dendrite.Hotkey != c.Hotkey {
				return fmt.Errorf("synapse dendrite hotkey not the authenticated one")
			}
			s.Reply = strings.ToUpper(s.Text)
			score := 0.5
			s.Score = &score
			return nil
		}), AttachOptions{})
	})
	d, err := NewDendrite(vectorDendriteKey(t), DendriteConfig{Registerer: reg})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	req := &Echo{Text: "héllo 'world'"}
	res := d.Call(context.Background(), info, req)
	if res.Err != nil {
		t.Fatalf("call: %v", res.Err)
	}
	out := res.Synapse.(*Echo)
	if out.Reply != "HÉLLO 'WORLD'" || out.Score == nil || *out.Score != 0.5 {
		t.Fatalf("response %+v", out)
	}
	if res.StatusCode != 200 || res.StatusMessage != "Success" || res.Latency <= 0 || res.ProcessTime <= 0 {
		t.Fatalf("result %+v", res)
	}
	if out.Axon.StatusCode == nil || *out.Axon.StatusCode != 200 || out.Axon.Hotkey == nil || *out.Axon.Hotkey != a.Hotkey() {
		t.Fatalf("axon terminal %+v", out.Axon)
	}
	if req.Reply != "" {
		t.Fatal("Call modified the request synapse")
	}
	if seen.Hotkey != d.Hotkey() || seen.UUID != d.UUID() || seen.Version != BittensorVersion {
		t.Fatalf("axon saw %+v", seen)
	}
	// Nonces increase call after call, even within one nanosecond tick.
	n1, n2 := d.nextNonce(), d.nextNonce()
	if n2 <= n1 {
		t.Fatalf("nonces %d then %d", n1, n2)
	}
	if mfs, _ := reg.Gather(); len(mfs) == 0 {
		t.Fatal("no dendrite metrics on the registry")
	}
}

func TestDendriteFanout(t *testing.T) {
	d, err := NewDendrite(vectorDendriteKey(t), DendriteConfig{})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	var axons []AxonInfo
	for i := range 20 {
		p, _ := keys.FromURI(fmt.Sprintf("//Fan%d", i))
		_, info := testAxon(t, p, AxonConfig{}, func(a *Axon) { a.Attach("", echoHandler(), AttachOptions{}) })
		axons = append(axons, info)
	}
	// One axon is slow, one is down, one refuses us.
	_, slow := testAxon(t, alice(t), AxonConfig{}, func(a *Axon) {
		a.Attach("", Handle(func(ctx context.Context, c *Call, s *Echo) error {
			<-ctx.Done()
			return ctx.Err()
		}), AttachOptions{})
	})
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	down := AxonInfo{IP: "127.0.0.1", Port: l.Addr().(*net.TCPAddr).Port, Hotkey: alice(t).Public().String()}
	l.Close()
	bob, _ := keys.FromURI("//Bob")
	_, picky := testAxon(t, bob, AxonConfig{}, func(a *Axon) {
		a.Attach("", echoHandler(), AttachOptions{Blacklist: func(ctx context.Context, c *Call) (bool, string) { return true, "not a validator" }})
	})
	axons = append(axons, slow, down, picky)

	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	start := time.Now()
	rs := d.Fanout(ctx, axons, &Echo{Text: "ping", Base: Base{Timeout: 5}})
	took := time.Since(start)
	if len(rs) != len(axons) {
		t.Fatalf("%d results for %d axons", len(rs), len(axons))
	}
	if took > 2*time.Second {
		t.Fatalf("fan-out took %v despite a 500 ms deadline", took)
	}
	for i, r := range rs[:20] {
		if r.Err != nil || r.Synapse.(*Echo).Reply != "ping" || r.Axon != axons[i] {
			t.Fatalf("axon %d: %+v", i, r)
		}
	}
	want := []int{http.StatusRequestTimeout, http.StatusServiceUnavailable, http.StatusForbidden}
	for i, code := range want {
		r := rs[20+i]
		var se *StatusError
		if r.StatusCode != code || !errors.As(r.Err, &se) || r.Latency <= 0 {
			t.Errorf("axon %s: status %d (%v), want %d", r.Axon.Addr(), r.StatusCode, r.Err, code)
		}
	}
	if !strings.Contains(rs[22].StatusMessage, "not a validator") {
		t.Errorf("blacklist message %q", rs[22].StatusMessage)
	}
	// The request timeout header follows the fan-out deadline.
	if rs[20].Latency > time.Second {
		t.Errorf("slow axon took %v", rs[20].Latency)
	}
}

func TestDendriteAxonSignatures(t *testing.T) {
	d, err := NewDendrite(vectorDendriteKey(t), DendriteConfig{VerifyAxonSignatures: true})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	_, signing := testAxon(t, alice(t), AxonConfig{SignResponses: true}, nil)
	_, silent := testAxon(t, alice(t), AxonConfig{}, nil)
	if r := d.Call(context.Background(), signing, &Base{}); r.Err != nil {
		t.Fatalf("signed response rejected: %v", r.Err)
	}
	if r := d.Call(context.Background(), silent, &Base{}); r.StatusCode != http.StatusUnauthorized || !strings.Contains(r.StatusMessage, "did not sign") {
		t.Fatalf("unsigned response: %d %q", r.StatusCode, r.StatusMessage)
	}
}

func TestDendriteBadInput(t *testing.T) {
	d, err := NewDendrite(vectorDendriteKey(t), DendriteConfig{})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if r := d.Call(context.Background(), AxonInfo{IP: "127.0.0.1", Port: 1}, &Base{}); r.Err == nil || !strings.Contains(r.Err.Error(), "no hotkey") {
		t.Fatalf("axon without hotkey: %v", r.Err)
	}
	if r := d.Call(context.Background(), AxonInfo{IP: "127.0.0.1", Port: 1, Hotkey: "x"}, &badHashSynapse{}); r.Err == nil || !strings.Contains(r.Err.Error(), "not a JSON field") {
		t.Fatalf("bad hash field: %v", r.Err)
	}
	if _, err := NewDendrite(nil, DendriteConfig{}); err == nil {
		t.Fatal("nil key accepted")
	}
}

type badHashSynapse struct {
	Base
	X int `json:"x"`
}

func (badHashSynapse) RequiredHashFields() []string { return []string{"y"} }

type tokens struct {
	Base
	Prompt string `json:"prompt"`
	N      int    `json:"n"`
}

func TestStreaming(t *testing.T) {
	_, info := testAxon(t, alice(t), AxonConfig{}, func(a *Axon) {
		a.Attach("", HandleStream(func(ctx context.Context, c *Call, s *tokens, w *StreamWriter) error {
			if s.N < 0 {
				return Errorf(http.StatusBadRequest, "n must not be negative")
			}
			for i := range s.N {
				if err := w.WriteEvent(fmt.Appendf(nil, "%s %d", s.Prompt, i)); err != nil {
					return err
				}
			}
			if s.N == 99 {
				// Keep going past the deadline: the axon must cut the stream off.
				for {
					if err := w.WriteEvent([]byte("more")); err != nil {
						return err
					}
					time.Sleep(10 * time.Millisecond)
				}
			}
			return nil
		}), AttachOptions{})
	})
	d, err := NewDendrite(vectorDendriteKey(t), DendriteConfig{})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()

	t.Run("events", func(t *testing.T) {
		st, err := d.Stream(context.Background(), info, &tokens{Prompt: "tok", N: 5})
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		if st.Header.StatusCode != 200 || st.Header.AxonHotkey != info.Hotkey {
			t.Fatalf("header %+v", st.Header)
		}
		var got []string
		for ev, err := range st.Events() {
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, string(ev))
		}
		if strings.Join(got, "|") != "tok 0|tok 1|tok 2|tok 3|tok 4" {
			t.Fatalf("events %q", got)
		}
	})
	t.Run("chunks", func(t *testing.T) {
		st, err := d.Stream(context.Background(), info, &tokens{Prompt: "x", N: 3})
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		var all []byte
		for c, err := range st.Chunks() {
			if err != nil {
				t.Fatal(err)
			}
			all = append(all, c...)
		}
		if string(all) != "data: x 0\n\ndata: x 1\n\ndata: x 2\n\n" {
			t.Fatalf("body %q", all)
		}
	})
	t.Run("error before the first write", func(t *testing.T) {
		_, err := d.Stream(context.Background(), info, &tokens{N: -1})
		var se *StatusError
		if !errors.As(err, &se) || se.Code != http.StatusBadRequest || se.Message != "n must not be negative" {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("cut off at the deadline", func(t *testing.T) {
		st, err := d.Stream(context.Background(), info, &tokens{N: 99, Base: Base{Timeout: 0.3}})
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		start := time.Now()
		var last error
		for _, err := range st.Events() {
			last = err
		}
		if last == nil {
			t.Fatal("a stream cut off at its deadline ended cleanly")
		}
		if time.Since(start) > 2*time.Second {
			t.Fatalf("cut off after %v", time.Since(start))
		}
	})
}

// TestDendriteRetriesStaleConnection: an axon that closes idle connections (uvicorn's
// keep-alive is 5 s) must not fail the next call that picks one from the pool.
func TestDendriteRetriesStaleConnection(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	conns := make(chan int, 10)
	go func() {
		for n := 1; ; n++ {
			c, err := l.Accept()
			if err != nil {
				return
			}
			conns <- n
			go func() {
				defer c.Close()
				buf := make([]byte, 64<<10)
				c.SetReadDeadline(time.Now().Add(5 * time.Second))
				if _, err := c.Read(buf); err != nil {
					return
				}
				c.Write([]byte("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"))
				time.Sleep(50 * time.Millisecond) // then close while the client holds it idle
			}()
		}
	}()
	d, err := NewDendrite(vectorDendriteKey(t), DendriteConfig{})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	info := AxonInfo{IP: "127.0.0.1", Port: l.Addr().(*net.TCPAddr).Port, Hotkey: alice(t).Public().String()}
	if r := d.Call(context.Background(), info, &Base{}); r.Err != nil {
		t.Fatal(r.Err)
	}
	time.Sleep(200 * time.Millisecond)
	if r := d.Call(context.Background(), info, &Base{}); r.Err != nil {
		t.Fatalf("call on a connection the axon closed: %v", r.Err)
	}
	if len(conns) != 2 {
		t.Fatalf("%d connections, want 2 (the stale one replaced)", len(conns))
	}
}

// TestDendritePoolsConnections: calls to one axon reuse one connection.
func TestDendritePoolsConnections(t *testing.T) {
	var accepted atomic.Int32
	a, err := NewAxon(alice(t), AxonConfig{})
	if err != nil {
		t.Fatal(err)
	}
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Serve(ctx, countingListener{l, &accepted}) }()
	defer func() { cancel(); <-done }()
	d, _ := NewDendrite(vectorDendriteKey(t), DendriteConfig{})
	defer d.Close()
	info := AxonInfo{IP: "127.0.0.1", Port: l.Addr().(*net.TCPAddr).Port, Hotkey: a.Hotkey()}
	for range 50 {
		if r := d.Call(context.Background(), info, &Base{}); r.Err != nil {
			t.Fatal(r.Err)
		}
	}
	if n := accepted.Load(); n != 1 {
		t.Fatalf("50 sequential calls opened %d connections, want 1", n)
	}
}

type countingListener struct {
	net.Listener
	n *atomic.Int32
}

func (l countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.n.Add(1)
	}
	return c, err
}
