package wire

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/tessera-net/tessera/keys"
)

// reqSpec builds a raw request the way a (possibly hostile) dendrite would.
type reqSpec struct {
	signer      *keys.Pair
	signedFor   string  // axon hotkey in the signed message
	axonHeader  *string // bt_header_axon_hotkey (default signedFor)
	path        string
	nonce       int64
	uuid        string
	bodyHash    string
	body        string
	timeout     string
	sig         *string // replaces the signature header value
	omit        []string
	extra       []string
	wrapBytes   bool // sign "<Bytes>msg</Bytes>"
	chunked     bool
	signMessage string // sign this instead of the real message
}

func (s reqSpec) raw() string {
	if s.path == "" {
		s.path = "/Synapse"
	}
	if s.uuid == "" {
		s.uuid = newUUID4()
	}
	if s.bodyHash == "" {
		s.bodyHash = EmptyBodyHash
	}
	if s.timeout == "" {
		s.timeout = "12.0"
	}
	msg := string(appendSignedMessage(nil, s.nonce, s.signer.Public().String(), s.signedFor, s.uuid, s.bodyHash))
	if s.signMessage != "" {
		msg = s.signMessage
	}
	if s.wrapBytes {
		msg = "<Bytes>" + msg + "</Bytes>"
	}
	sig := "0x" + hex.EncodeToString(s.signer.Sign([]byte(msg)))
	if s.sig != nil {
		sig = *s.sig
	}
	axonHdr := s.signedFor
	if s.axonHeader != nil {
		axonHdr = *s.axonHeader
	}
	hs := [][2]string{
		{"Host", "x"}, {"Content-Type", "application/json"}, {"Connection", "close"},
		{"name", strings.TrimPrefix(s.path, "/")}, {"timeout", s.timeout},
		{"bt_header_axon_hotkey", axonHdr}, {"bt_header_dendrite_version", "10002000"},
		{"bt_header_dendrite_nonce", fmt.Sprint(s.nonce)}, {"bt_header_dendrite_uuid", s.uuid},
		{"bt_header_dendrite_hotkey", s.signer.Public().String()}, {"bt_header_dendrite_signature", sig},
		{"computed_body_hash", s.bodyHash},
	}
	var b strings.Builder
	fmt.Fprintf(&b, "POST %s HTTP/1.1\r\n", s.path)
next:
	for _, kv := range hs {
		for _, o := range s.omit {
			if o == kv[0] {
				continue next
			}
		}
		fmt.Fprintf(&b, "%s: %s\r\n", kv[0], kv[1])
	}
	for _, e := range s.extra {
		b.WriteString(e + "\r\n")
	}
	if s.chunked {
		b.WriteString("Transfer-Encoding: chunked\r\n\r\n")
		fmt.Fprintf(&b, "%x\r\n%s\r\n0\r\n\r\n", len(s.body), s.body)
		return b.String()
	}
	fmt.Fprintf(&b, "Content-Length: %d\r\n\r\n%s", len(s.body), s.body)
	return b.String()
}

func strp(s string) *string { return &s }

func errMessage(b []byte) string {
	var m struct{ Message string }
	json.Unmarshal(b, &m)
	return m.Message
}

func TestAxonRefusals(t *testing.T) {
	dk := vectorDendriteKey(t)
	bob, _ := keys.FromURI("//Bob")
	ax := alice(t)
	a, info := testAxon(t, ax, AxonConfig{MaxBodyBytes: 1024, RateLimit: -1}, func(a *Axon) {
		a.Attach("", Handle(func(ctx context.Context, c *Call, s *HashedSynapse) error { return nil }), AttachOptions{})
		a.Attach("Blocked", Handle(func(ctx context.Context, c *Call, s *Base) error { return nil }), AttachOptions{
			Blacklist: func(ctx context.Context, c *Call) (bool, string) { return true, "nope" },
		})
		a.Attach("Picky", Handle(func(ctx context.Context, c *Call, s *Base) error { return nil }), AttachOptions{
			Verify: func(ctx context.Context, c *Call, syn Synapse) error { return errors.New("not registered on subnet 1") },
		})
	})
	now := time.Now().UnixNano()
	hashed := `{"a":1,"b":2,"c":null,"d":["foobar"]}`
	hashedHash := "ae06397d08f30f75c91395c59f05c62ac3b62b88250eb78b109213258e6ced0c"
	base := reqSpec{signer: dk, signedFor: a.Hotkey(), nonce: now, body: `{}`}
	with := func(f func(s *reqSpec)) reqSpec {
		s := base
		s.nonce = time.Now().UnixNano()
		f(&s)
		return s
	}
	replayed := with(func(s *reqSpec) {}).raw()
	tests := []struct {
		name   string
		raw    string
		status int
		msg    string // substring of the message
	}{
		{"valid", with(func(s *reqSpec) {}).raw(), 200, ""},
		{"valid hashed", with(func(s *reqSpec) { s.path, s.body, s.bodyHash = "/HashedSynapse", hashed, hashedHash }).raw(), 200, ""},
		{"valid chunked", with(func(s *reqSpec) { s.chunked = true }).raw(), 200, ""},
		{"<Bytes>-wrapped signature", with(func(s *reqSpec) { s.wrapBytes = true }).raw(), 200, ""},
		{"first send", replayed, 200, ""},
		{"replay", replayed, 401, "replay"},
		{"stale nonce", with(func(s *reqSpec) { s.nonce -= int64(20 * time.Second) }).raw(), 401, "Nonce is too old"},
		{"stale nonce despite a huge timeout", with(func(s *reqSpec) { s.nonce -= int64(5 * time.Minute); s.timeout = "100000.0" }).raw(), 401, "Nonce is too old"},
		{"future nonce", with(func(s *reqSpec) { s.nonce += int64(time.Minute) }).raw(), 401, "future"},
		{"bad signature", with(func(s *reqSpec) { s.signMessage = "something else" }).raw(), 401, "Signature mismatch"},
		{"signature by another key", with(func(s *reqSpec) {
			s.sig = strp("0x" + hex.EncodeToString(bob.Sign(appendSignedMessage(nil, s.nonce, dk.Public().String(), a.Hotkey(), "u", EmptyBodyHash))))
		}).raw(), 401, "Signature mismatch"},
		{"unsigned", with(func(s *reqSpec) { s.omit = []string{"bt_header_dendrite_signature"} }).raw(), 401, "Missing signature"},
		{"empty signature", with(func(s *reqSpec) { s.sig = strp("") }).raw(), 401, "Missing signature"},
		{"no nonce", with(func(s *reqSpec) { s.omit = []string{"bt_header_dendrite_nonce"} }).raw(), 401, "Missing Nonce"},
		{"no hotkey", with(func(s *reqSpec) { s.omit = []string{"bt_header_dendrite_hotkey"} }).raw(), 401, "No SS58"},
		{"wrong axon hotkey", with(func(s *reqSpec) { s.signedFor = bob.Public().String() }).raw(), 401, "addressed to axon hotkey"},
		{"signed for another axon, header says this one", with(func(s *reqSpec) {
			s.signedFor, s.axonHeader = bob.Public().String(), strp(a.Hotkey())
		}).raw(), 401, "Signature mismatch"},
		{"body over the limit", with(func(s *reqSpec) { s.body = `{"x":"` + strings.Repeat("a", 2000) + `"}` }).raw(), 413, "limit"},
		{"chunked body over the limit", with(func(s *reqSpec) {
			s.chunked, s.body = true, `{"x":"`+strings.Repeat("a", 2000)+`"}`
		}).raw(), 413, "limit"},
		{"malformed nonce", with(func(s *reqSpec) {
			s.omit = []string{"bt_header_dendrite_nonce"}
			s.extra = []string{"bt_header_dendrite_nonce: soon"}
		}).raw(), 400, "bt_header_dendrite_nonce"},
		{"duplicated nonce", with(func(s *reqSpec) { s.extra = []string{"bt_header_dendrite_nonce: 5"} }).raw(), 400, "given 2 times"},
		{"malformed signature", with(func(s *reqSpec) { s.sig = strp("0x" + strings.Repeat("zz", 64)) }).raw(), 400, "not hex"},
		{"short signature", with(func(s *reqSpec) { s.sig = strp("0xabcd") }).raw(), 400, "128 hex digits"},
		{"malformed timeout", with(func(s *reqSpec) { s.timeout = "-3" }).raw(), 400, "timeout"},
		{"NaN timeout", with(func(s *reqSpec) { s.timeout = "nan" }).raw(), 400, "timeout"},
		{"malformed body hash", with(func(s *reqSpec) { s.bodyHash = "0xabcdef" }).raw(), 400, "computed_body_hash"},
		{"malformed hotkey", with(func(s *reqSpec) {
			s.omit = []string{"bt_header_dendrite_hotkey"}
			s.extra = []string{"bt_header_dendrite_hotkey: 5NotAnAddress"}
		}).raw(), 400, "bt_header_dendrite_hotkey"},
		{"malformed uuid", with(func(s *reqSpec) { s.uuid = "a.b" }).raw(), 400, "bt_header_dendrite_uuid"},
		{"body does not match its hash", with(func(s *reqSpec) {
			s.path, s.body, s.bodyHash = "/HashedSynapse", `{"a":5,"b":2,"d":["foobar"]}`, hashedHash
		}).raw(), 400, "body hash mismatch"},
		{"body not JSON", with(func(s *reqSpec) { s.body = `{"a":` }).raw(), 400, "not a valid Synapse"},
		{"hashed body not JSON", with(func(s *reqSpec) { s.path, s.body, s.bodyHash = "/HashedSynapse", `{"a":`, hashedHash }).raw(), 400, "not a valid HashedSynapse"},
		{"body of the wrong shape", with(func(s *reqSpec) { s.body = `{"timeout":"soon"}` }).raw(), 400, "not a valid Synapse"},
		{"blacklisted", with(func(s *reqSpec) { s.path = "/Blocked" }).raw(), 403, "Forbidden. Key is blacklisted: nope."},
		{"verify hook", with(func(s *reqSpec) { s.path = "/Picky" }).raw(), 401, "not registered on subnet 1"},
		{"unknown synapse", with(func(s *reqSpec) { s.path = "/Nope" }).raw(), 404, "Synapse name 'Nope' not found"},
		{"path past the synapse name", with(func(s *reqSpec) { s.path = "/Synapse/anything" }).raw(), 404, "Synapse name 'Synapse/anything' not found"},
		{"trailing slash", with(func(s *reqSpec) { s.path = "/Synapse/" }).raw(), 404, "Synapse name 'Synapse/' not found"},
		{"method", strings.Replace(with(func(s *reqSpec) {}).raw(), "POST", "PUT", 1), 405, "PUT"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st, hs, body := rawExchange(t, info.Addr(), tc.raw)
			if st != tc.status {
				t.Fatalf("status %d, want %d: %s", st, tc.status, body)
			}
			if tc.status != 200 {
				m := errMessage(body)
				if !strings.Contains(m, tc.msg) {
					t.Fatalf("message %q does not contain %q", m, tc.msg)
				}
				if hdrMap(hs)["bt_header_axon_status_code"] != fmt.Sprint(tc.status) {
					t.Fatalf("bt_header_axon_status_code = %q", hdrMap(hs)["bt_header_axon_status_code"])
				}
			}
		})
	}
}

func TestAxonRateLimit(t *testing.T) {
	dk := vectorDendriteKey(t)
	a, info := testAxon(t, alice(t), AxonConfig{RateLimit: 1, RateBurst: 2}, nil)
	var got []int
	for range 4 {
		st, hs, _ := rawExchange(t, info.Addr(), reqSpec{signer: dk, signedFor: a.Hotkey(), nonce: time.Now().UnixNano(), body: "{}"}.raw())
		got = append(got, st)
		if st == 429 && hdrMap(hs)["Retry-After"] == "" {
			t.Error("429 without Retry-After")
		}
	}
	if fmt.Sprint(got) != "[200 200 429 429]" {
		t.Fatalf("statuses %v, want [200 200 429 429]", got)
	}
	// Each request opened a fresh session; only the two served took a place in the
	// session table.
	if n := a.nonces.sessionsOf(dk.Public().String()); n != 2 {
		t.Fatalf("%d sessions remembered after 2 requests served and 2 refused", n)
	}
	// Another hotkey has its own bucket.
	bob, _ := keys.FromURI("//Bob")
	if st, _, _ := rawExchange(t, info.Addr(), reqSpec{signer: bob, signedFor: a.Hotkey(), nonce: time.Now().UnixNano(), body: "{}"}.raw()); st != 200 {
		t.Fatalf("second hotkey: %d", st)
	}
}

func TestAxonHandlerCutOffAtTimeout(t *testing.T) {
	dk := vectorDendriteKey(t)
	a, info := testAxon(t, alice(t), AxonConfig{}, func(a *Axon) {
		a.Attach("Synapse", Handle(func(ctx context.Context, c *Call, s *Base) error {
			time.Sleep(3 * time.Second) // ignores ctx on purpose
			return nil
		}), AttachOptions{})
	})
	start := time.Now()
	st, _, body := rawExchange(t, info.Addr(), reqSpec{signer: dk, signedFor: a.Hotkey(), nonce: time.Now().UnixNano(), body: "{}", timeout: "0.3"}.raw())
	took := time.Since(start)
	if st != http.StatusRequestTimeout || !strings.Contains(errMessage(body), "0.3 seconds") {
		t.Fatalf("status %d %s", st, body)
	}
	if took < 300*time.Millisecond || took > 2500*time.Millisecond {
		t.Fatalf("answered after %v, want about 0.3 s (the handler runs 3 s)", took)
	}
}

func TestAxonMaxTimeoutCaps(t *testing.T) {
	dk := vectorDendriteKey(t)
	var got time.Duration
	a, info := testAxon(t, alice(t), AxonConfig{MaxTimeout: 2 * time.Second}, func(a *Axon) {
		a.Attach("Synapse", Handle(func(ctx context.Context, c *Call, s *Base) error {
			got = c.Timeout
			if float64(s.Timeout) != 2 {
				return fmt.Errorf("synapse timeout %v", s.Timeout)
			}
			return nil
		}), AttachOptions{})
	})
	st, _, body := rawExchange(t, info.Addr(), reqSpec{signer: dk, signedFor: a.Hotkey(), nonce: time.Now().UnixNano(), body: "{}", timeout: "3600.0"}.raw())
	if st != 200 || got != 2*time.Second {
		t.Fatalf("status %d timeout %v: %s", st, got, body)
	}
}

// TestAxonPriorityOrdersQueue blocks the only handler slot, queues three requests with
// different priorities, and checks they run highest first.
func TestAxonPriorityOrdersQueue(t *testing.T) {
	prio := map[string]float64{}
	var order []float64
	var mu sync.Mutex
	release := make(chan struct{})
	a, info := testAxon(t, alice(t), AxonConfig{Concurrency: 1}, func(a *Axon) {
		a.Attach("Synapse", Handle(func(ctx context.Context, c *Call, s *Base) error {
			mu.Lock()
			order = append(order, prio[c.Hotkey])
			mu.Unlock()
			if prio[c.Hotkey] == 0 {
				<-release
			}
			return nil
		}), AttachOptions{Priority: func(ctx context.Context, c *Call) float64 { return prio[c.Hotkey] }})
	})
	signers := map[float64]*keys.Pair{}
	for _, p := range []float64{0, 1, 2, 3} {
		k, _ := keys.FromURI(fmt.Sprintf("//P%v", p))
		signers[p] = k
		prio[k.Public().String()] = p
	}
	var wg sync.WaitGroup
	send := func(p float64) {
		defer wg.Done()
		st, _, body := rawExchange(t, info.Addr(), reqSpec{signer: signers[p], signedFor: a.Hotkey(), nonce: time.Now().UnixNano(), body: "{}"}.raw())
		if st != 200 {
			t.Errorf("priority %v: %d %s", p, st, body)
		}
	}
	wg.Add(1)
	go send(0)
	waitFor(t, func() bool { mu.Lock(); defer mu.Unlock(); return len(order) == 1 })
	for i, p := range []float64{1, 3, 2} {
		wg.Add(1)
		go send(p)
		waitFor(t, func() bool { return a.sched.queued() == i+1 })
	}
	close(release)
	wg.Wait()
	if fmt.Sprint(order) != "[0 3 2 1]" {
		t.Fatalf("handlers ran in priority order %v, want [0 3 2 1]", order)
	}
}

func TestAxonQueueFull(t *testing.T) {
	release := make(chan struct{})
	a, info := testAxon(t, alice(t), AxonConfig{Concurrency: 1, MaxQueue: 1}, func(a *Axon) {
		a.Attach("Synapse", Handle(func(ctx context.Context, c *Call, s *Base) error {
			<-release
			return nil
		}), AttachOptions{})
	})
	dk := vectorDendriteKey(t)
	var wg sync.WaitGroup
	for i := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rawExchange(t, info.Addr(), reqSpec{signer: dk, signedFor: a.Hotkey(), nonce: time.Now().UnixNano(), body: "{}"}.raw())
		}()
		waitFor(t, func() bool { return a.sched.queued() == i })
		time.Sleep(20 * time.Millisecond)
	}
	waitFor(t, func() bool { return a.sched.queued() == 1 })
	st, _, body := rawExchange(t, info.Addr(), reqSpec{signer: dk, signedFor: a.Hotkey(), nonce: time.Now().UnixNano(), body: "{}"}.raw())
	close(release)
	wg.Wait()
	if st != http.StatusServiceUnavailable || !strings.Contains(errMessage(body), "queue is full") {
		t.Fatalf("status %d %s", st, body)
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached in 5 s")
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func TestAxonGracefulShutdown(t *testing.T) {
	a, err := NewAxon(alice(t), AxonConfig{})
	if err != nil {
		t.Fatal(err)
	}
	started := make(chan struct{})
	a.Attach("Synapse", Handle(func(ctx context.Context, c *Call, s *Base) error {
		close(started)
		time.Sleep(300 * time.Millisecond)
		return nil
	}), AttachOptions{})
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Serve(ctx, l) }()
	d, _ := NewDendrite(vectorDendriteKey(t), DendriteConfig{})
	defer d.Close()
	info := AxonInfo{IP: "127.0.0.1", Port: l.Addr().(*net.TCPAddr).Port, Hotkey: a.Hotkey()}
	res := make(chan Result, 1)
	go func() { res <- d.Call(context.Background(), info, &Base{}) }()
	<-started
	cancel()
	if r := <-res; r.Err != nil {
		t.Fatalf("request in flight during shutdown: %v", r.Err)
	}
	if err := <-done; err != nil {
		t.Fatalf("Serve: %v", err)
	}
	if r := d.Call(context.Background(), info, &Base{Timeout: 1}); r.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("after shutdown: %d %s", r.StatusCode, r.StatusMessage)
	}
}

func TestAxonMetricsOnRegistry(t *testing.T) {
	reg := prometheus.NewRegistry()
	a, info := testAxon(t, alice(t), AxonConfig{Registerer: reg}, nil)
	dk := vectorDendriteKey(t)
	rawExchange(t, info.Addr(), reqSpec{signer: dk, signedFor: a.Hotkey(), nonce: time.Now().UnixNano(), body: "{}"}.raw())
	rawExchange(t, info.Addr(), reqSpec{signer: dk, signedFor: a.Hotkey(), nonce: 1, body: "{}"}.raw())
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	found := map[string]bool{}
	for _, mf := range mfs {
		found[mf.GetName()] = true
	}
	for _, n := range []string{"tessera_axon_requests_total", "tessera_axon_request_duration_seconds", "tessera_axon_rejected_total"} {
		if !found[n] {
			t.Errorf("metric %s not on the registry (have %v)", n, found)
		}
	}
	// A second axon on the same registry is a clear error, not a panic.
	if _, err := NewAxon(alice(t), AxonConfig{Registerer: reg}); err == nil || !strings.Contains(err.Error(), "register metrics") {
		t.Fatalf("second registration: %v", err)
	}
}

func TestAxonHugeTimeoutHeader(t *testing.T) {
	dk := vectorDendriteKey(t)
	var got time.Duration
	a, info := testAxon(t, alice(t), AxonConfig{}, func(a *Axon) {
		a.Attach("Synapse", Handle(func(ctx context.Context, c *Call, s *Base) error {
			got = c.Timeout
			return nil
		}), AttachOptions{})
	})
	st, _, body := rawExchange(t, info.Addr(), reqSpec{signer: dk, signedFor: a.Hotkey(), nonce: time.Now().UnixNano(), body: "{}", timeout: "1e300"}.raw())
	if st != 200 || got != 60*time.Second {
		t.Fatalf("status %d, timeout %v: %s", st, got, body)
	}
}
