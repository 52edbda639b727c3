package wire

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/tessera-net/tessera/keys"
)

// Echo is a small synapse with a hashed, required field, as a subnet would define one.
type Echo struct {
	Base
	Text  string   `json:"text" wire:"required"`
	Reply string   `json:"reply"`
	Score *float64 `json:"score"`
}

func (Echo) RequiredHashFields() []string { return []string{"text"} }

func echoHandler() Handler {
	return Handle(func(ctx context.Context, c *Call, s *Echo) error {
		s.Reply = s.Text
		return nil
	})
}

// processCPU returns the user+system CPU time this process has used.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// percentiles reports p50 and p99 of ds in microseconds.
func reportPercentiles(b *testing.B, ds []time.Duration, unit string) {
	if len(ds) == 0 {
		return
	}
	slices.Sort(ds)
	at := func(q float64) float64 {
		return float64(ds[min(len(ds)-1, int(q*float64(len(ds))))].Microseconds())
	}
	b.ReportMetric(at(0.50), "p50-"+unit)
	b.ReportMetric(at(0.99), "p99-"+unit)
}

// BenchmarkRoundTrip measures signed request round trips between a dendrite and an
// axon on loopback: the dendrite signs (sr25519), the axon verifies, decodes, runs the
// handler, encodes, and the dendrite decodes the answer. Several calls are in flight
// at once, over pooled connections.
func BenchmarkRoundTrip(b *testing.B) {
	for _, par := range []int{2, 4} {
		b.Run(fmt.Sprintf("inflight=%d", par), func(b *testing.B) {
			benchRoundTrip(b, par)
		})
	}
}

func benchRoundTrip(b *testing.B, inflight int) {
	a, info := testAxon(b, alice(b), AxonConfig{RateLimit: -1}, func(a *Axon) {
		a.Attach("", echoHandler(), AttachOptions{})
	})
	_ = a
	d, err := NewDendrite(vectorDendriteKey(b), DendriteConfig{})
	if err != nil {
		b.Fatal(err)
	}
	defer d.Close()
	ctx := context.Background()
	req := &Echo{Text: "hello, axon"}
	if r := d.Call(ctx, info, req); r.Err != nil { // warm the pool and the key caches
		b.Fatal(r.Err)
	}
	var mu sync.Mutex
	var all []time.Duration
	var failed error
	b.SetParallelism(max(1, inflight/2)) // × GOMAXPROCS (2 here) goroutines
	b.ResetTimer()
	cpu0 := processCPU()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		local := make([]time.Duration, 0, 4096)
		for pb.Next() {
			t0 := time.Now()
			r := d.Call(ctx, info, req)
			local = append(local, time.Since(t0))
			if r.Err != nil {
				mu.Lock()
				failed = r.Err
				mu.Unlock()
			}
		}
		mu.Lock()
		all = append(all, local...)
		mu.Unlock()
	})
	elapsed := time.Since(start)
	cpu := processCPU() - cpu0
	b.StopTimer()
	if failed != nil {
		b.Fatal(failed)
	}
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "req/s")
	// CPU time of the whole process (dendrite and axon, every thread, GC included)
	// per round trip: the figure that decides throughput on a loaded machine.
	b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-µs/op")
	reportPercentiles(b, all, "µs")
}

// BenchmarkFanout1000 fans one query out to 1,000 axons (1,000 listeners in this
// process, each an axon with its own hotkey) and measures how long each whole fan-out
// takes, until the last axon has answered.
func BenchmarkFanout1000(b *testing.B) {
	const n = 1000
	axons := make([]AxonInfo, n)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	defer func() {
		cancel()
		wg.Wait()
	}()
	for i := range axons {
		p, err := keys.FromURI(fmt.Sprintf("//Axon%d", i))
		if err != nil {
			b.Fatal(err)
		}
		a, err := NewAxon(p, AxonConfig{})
		if err != nil {
			b.Fatal(err)
		}
		a.Attach("", echoHandler(), AttachOptions{})
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			b.Fatal(err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			a.Serve(ctx, l)
		}()
		axons[i] = AxonInfo{IP: "127.0.0.1", Port: l.Addr().(*net.TCPAddr).Port, Hotkey: a.Hotkey()}
	}
	d, err := NewDendrite(vectorDendriteKey(b), DendriteConfig{})
	if err != nil {
		b.Fatal(err)
	}
	defer d.Close()
	req := &Echo{Text: "challenge", Base: Base{Timeout: 5}}
	check := func(rs []Result) {
		for _, r := range rs {
			if r.Err != nil {
				b.Fatalf("axon %s: %v", r.Axon.Addr(), r.Err)
			}
		}
	}
	// The first fan-out opens the connections; a validator keeps its dendrite, so the
	// pool is warm for every later query.
	check(d.Fanout(ctx, axons, req))
	var times []time.Duration
	b.ResetTimer()
	for b.Loop() {
		t0 := time.Now()
		rs := d.Fanout(ctx, axons, req)
		times = append(times, time.Since(t0))
		check(rs)
	}
	b.StopTimer()
	b.Logf("fan-out times: %v", times)
	slices.Sort(times)
	b.ReportMetric(float64(times[len(times)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(times[min(len(times)-1, len(times)*99/100)].Microseconds())/1000, "p99-ms")
}

// BenchmarkBodyHash is the axon's per-request body work for a synapse with a hashed
// field: one skipping scan for the hash field and the terminals, the Python str() of
// the field, two SHA3-256s, and the terminals cut out.
func BenchmarkBodyHash(b *testing.B) {
	s, err := schemaOf(&HashedSynapse{})
	if err != nil {
		b.Fatal(err)
	}
	body := []byte(`{"name": "HashedSynapse", "timeout": 12.0, "total_size": 3317, "header_size": 0, "dendrite": {"status_code": null, "status_message": null, "process_time": null, "ip": "203.0.113.5", "port": null, "version": 10002000, "nonce": 1718000000000000000, "uuid": "5ecbd69c-1cec-11ee-b0dc-e29ce36fec1a", "hotkey": "5HDvhV6WDCjCKyrXqGQSDYqQAzkzabNhctmiDYEqgBC66BsX", "signature": "0x6e4d7eb99111e5e185c7e0a3cf8363b9f11aed1c40a98451ce798a2561953b52b34de39044169d40f0b04ccdfee5412d470a61c3e5fecd71f6f29e794fe1c983"}, "axon": {"status_code": null, "status_message": null, "process_time": null, "ip": "198.51.100.7", "port": 8091, "version": null, "nonce": null, "uuid": null, "hotkey": "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY", "signature": null}, "computed_body_hash": "", "a": 1, "b": 2, "c": null, "d": ["foobar"]}`)
	buf := make([]byte, len(body))
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		copy(buf, body)
		h, _, err := s.bodyHashAndWipe(buf)
		if err != nil || h != "ae06397d08f30f75c91395c59f05c62ac3b62b88250eb78b109213258e6ced0c" {
			b.Fatal(h, err)
		}
	}
}

// BenchmarkParseRequestHeaders is the axon's header parsing and checking per request.
func BenchmarkParseRequestHeaders(b *testing.B) {
	h := http.Header{}
	for k, v := range map[string]string{
		canonDendriteHotkey: "5HDvhV6WDCjCKyrXqGQSDYqQAzkzabNhctmiDYEqgBC66BsX", canonDendriteNonce: "1718000000000000000",
		canonDendriteSignature: "0xc460d4f9fb883d79680bcb6d6358ca1678daa141cf2732f017aac71e077aea67c9b32c8f93d1d4a4da2a27c4bc4f052d332bb229f273d4edc988161ae31f9f89",
		canonDendriteUUID:      "5ecbd69c-1cec-11ee-b0dc-e29ce36fec1a", canonBodyHash: EmptyBodyHash, canonTimeout: "12.0",
		canonDendriteVersion: "10002000", canonAxonHotkey: "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY", canonDendriteIP: "203.0.113.5",
	} {
		h[k] = []string{v}
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := parseRequestHeaders(h); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPyStr renders a nested value as Python's str().
func BenchmarkPyStr(b *testing.B) {
	raw := []byte(`{"prompt": "Write a haiku about 'rain'", "scores": [0.1, 1e-05, 12.0, 3], "meta": {"k": null, "ok": true}}`)
	var out []byte
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		var err error
		if out, err = AppendPyStr(out[:0], raw, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkNonceRecord is the axon's nonce bookkeeping for a request of a session it
// already knows (the hot path: every request after a dendrite's first): the window
// check, the session lookup, and the nonce remembered in the session's history.
func BenchmarkNonceRecord(b *testing.B) {
	tr := newNonceTracker(100_000, 256, 1024, AllowedDelta, 60*time.Second)
	const hotkey, uuid = "5HDvhV6WDCjCKyrXqGQSDYqQAzkzabNhctmiDYEqgBC66BsX", "5ecbd69c-1cec-11ee-b0dc-e29ce36fec1a"
	now := time.Now().UnixNano()
	nonce := now - int64(AllowedDelta)
	unlimited := newRateLimiter(-1, 1, 1)
	b.ReportAllocs()
	for b.Loop() {
		nonce++
		if err := tr.record(now, hotkey, uuid, nonce, 12*time.Second, unlimited); err != nil {
			b.Fatal(err)
		}
	}
}
