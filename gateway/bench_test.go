package gateway

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tessera-net/tessera/keys"
	"github.com/tessera-net/tessera/subnets/inference/signed"
	"github.com/tessera-net/tessera/subnets/textgen"
	"github.com/tessera-net/tessera/wire"
)

// Benchmarks of the gateway against a fast local backend: a built-in miner (no
// artificial latency) on a real signed axon on 127.0.0.1, with API keys on. Everything
// — the HTTP client, the gateway and the miner — shares this process's cores, so the
// figures include the client's and the miner's CPU.

const benchBody = `{"model":"tessera-textgen","messages":[{"role":"user","content":"Sort these numbers in ascending order and answer with them separated by single spaces: 9 -1 4"}],"max_tokens":32}`

func benchClient() *http.Client {
	return &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256, MaxIdleConns: 256, DisableCompression: true}}
}

func benchPost(b *testing.B, c *http.Client, url, key string) {
	req, _ := http.NewRequest(http.MethodPost, url+"/v1/chat/completions", strings.NewReader(benchBody))
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		b.Fatalf("status %d", resp.StatusCode)
	}
}

func percentile(ds []time.Duration, p float64) time.Duration {
	slices.Sort(ds)
	return ds[min(len(ds)-1, int(p*float64(len(ds))))]
}

// BenchmarkGatewayOverhead times requests one at a time, through the gateway and
// straight to the miner with a dendrite, and reports the p50 and p99 of both and the
// difference of the p50s: the latency the gateway adds (its HTTP hop, key check,
// routing, and OpenAI encoding).
func BenchmarkGatewayOverhead(b *testing.B) {
	m := startMiner(b, "//Fast", 1, builtin(b, textgen.BuiltinConfig{}))
	gw := startGateway(b, []*testMiner{m}, nil)
	c := benchClient()
	pair, _ := keys.FromURI("//Direct")
	d, _ := wire.NewDendrite(pair, wire.DendriteConfig{})
	defer d.Close()
	req := textgen.Request{Model: "tessera-textgen", MaxTokens: 32,
		Messages: []textgen.Message{{Role: "user", Content: "Sort these numbers in ascending order and answer with them separated by single spaces: 9 -1 4"}}}
	ctx := context.Background()
	for range 200 { // warm both paths' connections and caches
		benchPost(b, c, gw.URL, gw.Secret)
		d.Call(ctx, m.Axon, textgen.NewChatCompletion(req, 12))
	}
	via := make([]time.Duration, 0, b.N)
	direct := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for b.Loop() {
		t0 := time.Now()
		if r := d.Call(ctx, m.Axon, textgen.NewChatCompletion(req, 12)); r.Err != nil {
			b.Fatal(r.Err)
		}
		t1 := time.Now()
		benchPost(b, c, gw.URL, gw.Secret)
		t2 := time.Now()
		direct = append(direct, t1.Sub(t0))
		via = append(via, t2.Sub(t1))
	}
	b.StopTimer()
	dp50, vp50 := percentile(direct, 0.5), percentile(via, 0.5)
	b.ReportMetric(float64(dp50.Microseconds()), "direct-p50-µs")
	b.ReportMetric(float64(percentile(direct, 0.99).Microseconds()), "direct-p99-µs")
	b.ReportMetric(float64(vp50.Microseconds()), "gateway-p50-µs")
	b.ReportMetric(float64(percentile(via, 0.99).Microseconds()), "gateway-p99-µs")
	b.ReportMetric(float64((vp50 - dp50).Microseconds()), "overhead-p50-µs")
}

// BenchmarkGatewayThroughput sends non-streamed requests from many goroutines at once
// and reports requests a second.
func BenchmarkGatewayThroughput(b *testing.B) {
	for _, conc := range []int{8, 32} {
		b.Run(fmt.Sprintf("conc=%d", conc), func(b *testing.B) {
			m := startMiner(b, "//Fast", 1, builtin(b, textgen.BuiltinConfig{}))
			gw := startGateway(b, []*testMiner{m}, nil)
			c := benchClient()
			var wg sync.WaitGroup
			for range conc {
				wg.Add(1)
				go func() { defer wg.Done(); benchPost(b, c, gw.URL, gw.Secret) }()
			}
			wg.Wait()
			next := make(chan struct{}, conc)
			b.ResetTimer()
			start := time.Now()
			go func() {
				for range b.N {
					next <- struct{}{}
				}
				close(next)
			}()
			for range conc {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for range next {
						benchPost(b, c, gw.URL, gw.Secret)
					}
				}()
			}
			wg.Wait()
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "req/s")
		})
	}
}

// BenchmarkParseChatRequest measures request checking alone.
func BenchmarkParseChatRequest(b *testing.B) {
	models := map[string]Model{"tessera-textgen": {ID: "tessera-textgen", Netuid: 1}}
	body := []byte(benchBody)
	b.ReportAllocs()
	for b.Loop() {
		if _, e := parseChatRequest(body, models); e != nil {
			b.Fatal(e)
		}
	}
}

// BenchmarkRank256 ranks a subnet of 256 miners (what a re-rank costs).
func BenchmarkRank256(b *testing.B) {
	ms := make([]Miner, 256)
	stats := map[string]Stats{}
	for i := range ms {
		hk := fmt.Sprintf("5miner%03d", i)
		ms[i] = mk(hk, float64(i%17)/17)
		stats[hk] = Stats{Latency: time.Duration(i%31) * time.Millisecond, Samples: 3}
	}
	now := time.Now()
	b.ReportAllocs()
	for b.Loop() {
		Rank(ms, stats, now, RouteConfig{})
	}
}

// BenchmarkGatewayStream times streamed requests one at a time through the gateway:
// the first content chunk (time to first token) and the whole stream of a free
// prompt's answer (about 40 tokens, each its own event), from a miner generating 5,000
// tokens a second. (Without pacing, the miner's goroutine writes every event before
// the gateway's is scheduled on these two cores, and the first token only looks late.)
func BenchmarkGatewayStream(b *testing.B) {
	m := startMiner(b, "//Fast", 1, builtin(b, textgen.BuiltinConfig{TokensPerSecond: 5000}))
	gw := startGateway(b, []*testMiner{m}, nil)
	c := benchClient()
	body := `{"model":"tessera-textgen","stream":true,"messages":[{"role":"user","content":"Write a short paragraph about bridges."}]}`
	one := func() (ttft, total time.Duration) {
		start := time.Now()
		req, _ := http.NewRequest(http.MethodPost, gw.URL+"/v1/chat/completions", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+gw.Secret)
		resp, err := c.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		defer resp.Body.Close()
		buf := make([]byte, 64<<10)
		var seen []byte
		for {
			n, err := resp.Body.Read(buf)
			seen = append(seen, buf[:n]...)
			if ttft == 0 && strings.Contains(string(seen), `"delta":{"content":"`) { // the first text, after the role chunk
				ttft = time.Since(start)
			}
			if err != nil {
				break
			}
		}
		if !strings.HasSuffix(string(seen), "data: [DONE]\n\n") {
			b.Fatalf("stream %s", seen)
		}
		return ttft, time.Since(start)
	}
	for range 100 {
		one()
	}
	var firsts, totals []time.Duration
	b.ResetTimer()
	for b.Loop() {
		f, t := one()
		firsts, totals = append(firsts, f), append(totals, t)
	}
	b.StopTimer()
	b.ReportMetric(float64(percentile(firsts, 0.5).Microseconds()), "ttft-p50-µs")
	b.ReportMetric(float64(percentile(totals, 0.5).Microseconds()), "stream-p50-µs")
	b.ReportMetric(float64(percentile(totals, 0.99).Microseconds()), "stream-p99-µs")
}

// BenchmarkStatsRecord is what /v1/stats costs each request: recording it and one
// attempt, from every CPU at once (the lock is shared).
func BenchmarkStatsRecord(b *testing.B) {
	s := newStats(DefaultStatsWindow, time.Now())
	m := Miner{UID: 1, Axon: wire.AxonInfo{Hotkey: "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY"}}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			now := time.Now()
			s.request(200, false, time.Millisecond, now)
			s.attempt(1, m, attemptOK, time.Millisecond)
		}
	})
}

// BenchmarkStatsGet is one GET /v1/stats's computation over full windows of 1024
// requests and attempts spread over 16 miners.
func BenchmarkStatsGet(b *testing.B) {
	s := newStats(DefaultStatsWindow, time.Now())
	for i := 0; i < DefaultStatsWindow; i++ {
		m := Miner{UID: uint16(i % 16), Axon: wire.AxonInfo{Hotkey: "hot" + strconv.Itoa(i%16)}}
		s.request(200, false, time.Duration(i)*time.Microsecond, time.Now())
		s.attempt(1, m, attemptOK, time.Duration(i)*time.Microsecond)
	}
	b.ReportAllocs()
	for b.Loop() {
		s.get(time.Now())
	}
}

// cannedChat is a fast API node backend: the same chat completion, with logprobs, for
// every request.
var cannedChat = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodGet {
		io.WriteString(w, `{"object":"list","data":[{"id":"tessera-tiny","object":"model","created":1,"owned_by":"x"}]}`)
		return
	}
	io.Copy(io.Discard, r.Body)
	w.Header().Set("Content-Type", "application/json")
	io.WriteString(w, `{"id":"chatcmpl-1","object":"chat.completion","created":1,"model":"tessera-tiny","system_fingerprint":"fp",`+
		`"choices":[{"index":0,"message":{"role":"assistant","content":"-1 4 9"},"finish_reason":"stop",`+
		`"logprobs":{"content":[{"token":"-1 4 9","logprob":-0.5,"bytes":[45],"top_logprobs":[{"token":"-1","logprob":-0.5,"bytes":[45]}]}],"refusal":null}}],`+
		`"usage":{"prompt_tokens":20,"completion_tokens":3,"total_tokens":23}}`)
})

// BenchmarkInferenceOverhead times requests one at a time through the gateway to an
// API node of the inference network (a stand-in that verifies each signature and
// answers at once), and the same signed request straight to the API node, and reports
// the p50 and p99 of both and the difference of the p50s: what the gateway adds (its
// HTTP hop, key check, routing by model, signing, and the answer's decoding and
// logprob filtering).
func BenchmarkInferenceOverhead(b *testing.B) {
	node := startAPINode(b, gatewayAccount(), cannedChat)
	up := inferenceUpstream(b, nil, node.URL)
	gw := startGateway(b, nil, func(c *Config) { c.Models, c.Upstreams = nil, []Upstream{up} })
	c := benchClient()
	key, _ := keys.FromURI("//GatewayAccount")
	body := []byte(strings.Replace(benchBody, "tessera-textgen", "tessera-tiny", 1))
	direct := func() {
		req, _ := http.NewRequest(http.MethodPost, node.URL+"/v1/chat/completions", bytes.NewReader(body))
		signed.SignRequest(req, body, key, time.Now())
		resp, err := c.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			b.Fatalf("direct: status %d", resp.StatusCode)
		}
	}
	via := func() {
		req, _ := http.NewRequest(http.MethodPost, gw.URL+"/v1/chat/completions", bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+gw.Secret)
		resp, err := c.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			b.Fatalf("gateway: status %d", resp.StatusCode)
		}
	}
	for range 200 {
		direct()
		via()
	}
	vs := make([]time.Duration, 0, b.N)
	ds := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for b.Loop() {
		t0 := time.Now()
		direct()
		t1 := time.Now()
		via()
		t2 := time.Now()
		ds = append(ds, t1.Sub(t0))
		vs = append(vs, t2.Sub(t1))
	}
	b.StopTimer()
	dp50, vp50 := percentile(ds, 0.5), percentile(vs, 0.5)
	b.ReportMetric(float64(dp50.Microseconds()), "direct-p50-µs")
	b.ReportMetric(float64(percentile(ds, 0.99).Microseconds()), "direct-p99-µs")
	b.ReportMetric(float64(vp50.Microseconds()), "gateway-p50-µs")
	b.ReportMetric(float64(percentile(vs, 0.99).Microseconds()), "gateway-p99-µs")
	b.ReportMetric(float64((vp50 - dp50).Microseconds()), "overhead-p50-µs")
}

// BenchmarkRouteByModel measures routing one request: checking it against the
// catalog of both networks' models and picking the API nodes to try.
func BenchmarkRouteByModel(b *testing.B) {
	up, _ := NewInferenceUpstream(InferenceConfig{APINodes: []string{"http://a:1", "http://b:1", "http://c:1"}, Key: &keys.Pair{}})
	for _, n := range up.nodes() {
		n.models, n.healthy = []ModelInfo{{ID: "m1"}, {ID: "tessera-tiny"}, {ID: "m3"}}, true
	}
	tu := &textgenUpstream{models: map[string]Model{"tessera-textgen": {ID: "tessera-textgen", Netuid: 1}}, order: []Model{{ID: "tessera-textgen", Netuid: 1}}}
	cat := buildCatalog([]Upstream{tu, up}, time.Now())
	body := []byte(strings.Replace(benchBody, "tessera-textgen", "tessera-tiny", 1))
	b.ReportAllocs()
	for b.Loop() {
		p, e := parseChatRequest(body, cat.models)
		if e != nil {
			b.Fatal(e)
		}
		if plan := p.model.up.(*InferenceUpstream).plan(p.Model, up.seq.Add(1)); len(plan) != 3 {
			b.Fatal(len(plan))
		}
	}
}
