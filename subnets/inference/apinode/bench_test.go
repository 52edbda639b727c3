package apinode

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tessera-net/tessera/modules/inference"
	"github.com/tessera-net/tessera/subnets/inference/signed"
)

// BenchmarkRouting is the API node's routing overhead: a user-signed chat completion
// through a TA (signature check, worst case, hold, executor draw) to another
// participant's executor (TA signature, user signature, body rewrite, payload, finish
// queued) and its MLNode, against the same MLNode called directly, in the same run.
// The MLNode answers at once, so the difference is the overhead. It reports p50 and p99
// latencies.
func BenchmarkRouting(b *testing.B) {
	ch, ps, user := testNetwork(b)
	ch.balances[inference.Account(user.Public())] = 1 << 62
	ta := ps[0]
	// Route every request to ps[1]: the others' MLNodes are down before the first byte
	// would be costly, so give ps[1] all the weight instead.
	ch.mu.Lock()
	for i := range ch.group.Members {
		if i != 1 {
			ch.group.Members[i].Nodes[0].Weight = 0
		}
	}
	ch.mu.Unlock()
	ta.node.refresh(context.Background())
	body := chatBody("m-small", 16)
	run := func(b *testing.B, send func() int) {
		lat := make([]time.Duration, 0, b.N)
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			t0 := time.Now()
			if s := send(); s != http.StatusOK {
				b.Fatalf("status %d", s)
			}
			lat = append(lat, time.Since(t0))
			if i%256 == 255 {
				ta.node.starts.Flush(context.Background()) // keeps the holds and the queue bounded
			}
		}
		b.StopTimer()
		slices.Sort(lat)
		b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
		b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
	}
	b.Run("direct", func(b *testing.B) {
		c := ps[1].ml.client()
		c.Key = ps[1].key
		run(b, func() int {
			run, _ := RunBody(PathChat, body, 1)
			resp, err := c.Forward(context.Background(), PathChat, run)
			if err != nil {
				b.Fatal(err)
			}
			resp.Body.Close()
			return resp.StatusCode
		})
	})
	b.Run("api-node", func(b *testing.B) {
		run(b, func() int {
			req, _ := http.NewRequest(http.MethodPost, ta.url+PathChat, strings.NewReader(string(body)))
			signed.SignRequest(req, body, user, time.Now())
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			resp.Body.Close()
			return resp.StatusCode
		})
	})
}

// BenchmarkParseRequest is the TA's parse and worst-case bound of a chat request.
func BenchmarkParseRequest(b *testing.B) {
	body := chatBody("m-small", 64)
	ctx := func(string) (uint32, bool) { return 2048, true }
	for b.Loop() {
		if _, e := ParseRequest(PathChat, body, ctx); e != nil {
			b.Fatal(e)
		}
	}
}

// BenchmarkDraw is the executor draw over 64 candidates.
func BenchmarkDraw(b *testing.B) {
	cands := make([]inference.Candidate, 64)
	for i := range cands {
		cands[i] = inference.Candidate{Hotkey: inference.Account{byte(i)}, Weight: uint64(i + 1)}
	}
	var id inference.Hash
	for b.Loop() {
		id[0]++
		Draw(cands, id, 0, nil)
	}
}

// BenchmarkRunBody is the executor's rewrite of a chat body (and a validator's rebuild).
func BenchmarkRunBody(b *testing.B) {
	body := chatBody("m-small", 64)
	for b.Loop() {
		if _, err := RunBody(PathChat, body, 42); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkStreamEvents turns a 256-token chat answer into its stream events.
func BenchmarkStreamEvents(b *testing.B) {
	type tok struct {
		Token       string `json:"token"`
		Logprob     float64
		TopLogprobs []struct{} `json:"top_logprobs"`
	}
	toks := make([]tok, 256)
	text := ""
	for i := range toks {
		toks[i] = tok{Token: "ab", Logprob: -0.5, TopLogprobs: []struct{}{}}
		text += "ab"
	}
	answer, _ := json.Marshal(map[string]any{"id": "c", "object": "chat.completion", "model": "m",
		"choices": []any{map[string]any{"index": 0, "message": map[string]string{"role": "assistant", "content": text}, "finish_reason": "length",
			"logprobs": map[string]any{"content": toks}}}, "usage": map[string]int{"prompt_tokens": 3, "completion_tokens": 256}})
	for b.Loop() {
		if evs, err := StreamEvents(PathChat, answer, true); err != nil || len(evs) != 256+3 {
			b.Fatalf("%d events, %v", len(evs), err)
		}
	}
}
