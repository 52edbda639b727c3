package gateway

import (
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/tessera-net/tessera/subnets/textgen"
	"github.com/tessera-net/tessera/wire"
)

func getStats(t *testing.T, url string) TrafficStats {
	t.Helper()
	resp, err := http.Get(url + "/v1/stats")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("GET /v1/stats: %d %s", resp.StatusCode, data)
	}
	var st TrafficStats
	if err := json.Unmarshal(data, &st); err != nil {
		t.Fatalf("%s: %v", data, err)
	}
	return st
}

// /v1/stats over real traffic: requests answered and refused, failed over from a failing
// miner to a good one, streamed and not; each miner's attempts, errors and share; the
// stats, metrics, health and preflight requests themselves not counted; no API key needed;
// CORS for the configured origins.
func TestStatsEndpoint(t *testing.T) {
	bad := startMiner(t, "//Bad", 0.9, builtin(t, textgen.BuiltinConfig{FailRate: 1}))
	good := startMiner(t, "//Good", 0.1, builtin(t, textgen.BuiltinConfig{}))
	gw := startGateway(t, []*testMiner{bad, good}, func(c *Config) {
		c.Route = RouteConfig{TopK: 1}
		c.CORSOrigins = []string{"https://explorer.example"}
	})
	st := getStats(t, gw.URL)
	if st.RequestsTotal != 0 || len(st.PerMiner) != 0 || st.Window.Size != DefaultStatsWindow || st.LatencyMS != (Percentiles{}) || st.Since.IsZero() {
		t.Fatalf("before any request: %+v", st)
	}
	for _, stream := range []string{"", `,"stream":true`, ""} {
		if resp, data := post(t, gw.URL, gw.Secret, chatBody(sortPrompt, stream)); resp.StatusCode != 200 {
			t.Fatalf("%d %s", resp.StatusCode, data)
		}
	}
	if resp, _ := post(t, gw.URL, "", chatBody(sortPrompt, "")); resp.StatusCode != 401 {
		t.Fatalf("without a key: %d", resp.StatusCode)
	}
	for _, p := range []string{"/metrics", "/healthz"} {
		resp, err := http.Get(gw.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	pre := send(t, http.MethodOptions, gw.URL+"/v1/stats", map[string]string{"Origin": "https://explorer.example", "Access-Control-Request-Method": "GET"}, "")
	if pre.StatusCode != 204 || pre.Header.Get("Access-Control-Allow-Origin") != "https://explorer.example" {
		t.Fatalf("preflight of /v1/stats: %d %v", pre.StatusCode, pre.Header)
	}
	if pre := send(t, http.MethodOptions, gw.URL+"/v1/stats", map[string]string{"Origin": "https://other.example", "Access-Control-Request-Method": "GET"}, ""); pre.StatusCode != 403 || pre.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("foreign preflight of /v1/stats: %d %v", pre.StatusCode, pre.Header)
	}
	cors := send(t, http.MethodGet, gw.URL+"/v1/stats", map[string]string{"Origin": "https://explorer.example"}, "")
	if cors.StatusCode != 200 || cors.Header.Get("Access-Control-Allow-Origin") != "https://explorer.example" {
		t.Fatalf("GET /v1/stats from the explorer's origin: %d %v", cors.StatusCode, cors.Header)
	}

	st = getStats(t, gw.URL)
	if st.RequestsTotal != 4 || st.ErrorsTotal != 1 || st.ByStatus["200"] != 3 || st.ByStatus["401"] != 1 || len(st.ByStatus) != 2 {
		t.Fatalf("counts: %+v", st)
	}
	if st.Window.Requests != 4 || st.Window.Seconds <= 0 || st.LatencyMS.P50 <= 0 || st.LatencyMS.P50 > st.LatencyMS.P90 || st.LatencyMS.P90 > st.LatencyMS.P99 {
		t.Fatalf("window and latency: %+v %+v", st.Window, st.LatencyMS)
	}
	// The first request tried the failing miner first (ranked higher), then the good one;
	// the failure cooled the failing miner down, so the next two went to the good one
	// directly, which answered all three and comes first.
	if len(st.PerMiner) != 2 || st.Window.Attempts != 4 || st.PerMiner[0].Hotkey != good.Axon.Hotkey {
		t.Fatalf("per miner: %+v, %d attempts", st.PerMiner, st.Window.Attempts)
	}
	byKey := map[string]MinerStats{}
	for _, m := range st.PerMiner {
		byKey[m.Hotkey] = m
	}
	g, b := byKey[good.Axon.Hotkey], byKey[bad.Axon.Hotkey]
	if g.Requests != 3 || g.Errors != 0 || g.Share != 1 || g.P50MS <= 0 || g.UID != good.UID || g.Netuid != 1 {
		t.Fatalf("the good miner: %+v", g)
	}
	if b.Requests != 1 || b.Errors != 1 || b.Share != 0 || b.P50MS != 0 || b.UID != bad.UID {
		t.Fatalf("the failing miner: %+v", b)
	}
	resp := send(t, http.MethodPost, gw.URL+"/v1/stats", nil, "")
	if resp.StatusCode != 405 {
		t.Fatalf("POST /v1/stats: %d", resp.StatusCode)
	}
}

// A stream that breaks off after its first chunk counts as an error, of the request and
// of its miner's attempt, though its status was 200.
func TestStatsBrokenStream(t *testing.T) {
	h := halfway{started: make(chan struct{}, 1)}
	victim := startMiner(t, "//Halfway", 1, h)
	gw := startGateway(t, []*testMiner{victim}, nil)
	go func() { <-h.started; victim.kill() }()
	if resp, data := post(t, gw.URL, gw.Secret, chatBody(sortPrompt, `,"stream":true`)); resp.StatusCode != 200 {
		t.Fatalf("%d %s", resp.StatusCode, data)
	}
	st := getStats(t, gw.URL)
	if st.RequestsTotal != 1 || st.ErrorsTotal != 1 || st.ByStatus["200"] != 1 || len(st.PerMiner) != 1 ||
		st.PerMiner[0].Requests != 1 || st.PerMiner[0].Errors != 1 || st.Window.Attempts != 1 {
		t.Fatalf("%+v", st)
	}
}

// The ring buffers keep the last size samples: the window slides, the totals do not.
func TestStatsRingBuffer(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	s := newStats(4, now)
	m := Miner{UID: 7, Axon: wire.AxonInfo{Hotkey: "5Hot"}}
	for i := 1; i <= 10; i++ {
		s.request(200, false, time.Duration(i)*time.Millisecond, now.Add(time.Duration(i)*time.Second))
		o := attemptOK
		if i%2 == 0 {
			o = attemptFailed
		}
		s.attempt(3, m, o, time.Duration(i)*time.Millisecond)
	}
	s.request(503, false, time.Millisecond, now.Add(11*time.Second))
	st := s.get(now.Add(11 * time.Second))
	if st.RequestsTotal != 11 || st.ErrorsTotal != 1 || st.ByStatus["200"] != 10 || st.ByStatus["503"] != 1 {
		t.Fatalf("totals: %+v", st)
	}
	// The window: the requests of 1, 8, 9 and 10 ms (the 11th replaced the 7th), seen
	// from the 8th second on.
	if st.Window != (StatsWindow{Size: 4, Requests: 4, Attempts: 4, Seconds: 3}) || st.LatencyMS != (Percentiles{P50: 8, P90: 10, P99: 10}) {
		t.Fatalf("window %+v, latency %+v", st.Window, st.LatencyMS)
	}
	// Attempts 7 (ok), 8 (failed), 9 (ok), 10 (failed).
	if len(st.PerMiner) != 1 || st.PerMiner[0] != (MinerStats{Netuid: 3, UID: 7, Hotkey: "5Hot", Requests: 4, Errors: 2, Share: 1, P50MS: 7}) {
		t.Fatalf("per miner: %+v", st.PerMiner)
	}
}

// Requests recorded from many goroutines while the stats are read: every one is counted
// (run with -race).
func TestStatsConcurrent(t *testing.T) {
	s := newStats(64, time.Now())
	const workers, each = 8, 500
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			m := Miner{UID: uint16(w), Axon: wire.AxonInfo{Hotkey: "hot" + strconv.Itoa(w)}}
			for i := 0; i < each; i++ {
				s.request(200+i%2*300, false, time.Millisecond, time.Now())
				s.attempt(1, m, attemptOK, time.Millisecond)
			}
		}()
	}
	for i := 0; i < 50; i++ {
		s.get(time.Now())
	}
	wg.Wait()
	st := s.get(time.Now())
	if st.RequestsTotal != workers*each || st.ErrorsTotal != workers*each/2 || st.Window.Requests != 64 || st.Window.Attempts != 64 {
		t.Fatalf("%+v", st)
	}
	var share float64
	for _, m := range st.PerMiner {
		share += m.Share
	}
	if share < 0.999 || share > 1.001 {
		t.Fatalf("shares sum to %v: %+v", share, st.PerMiner)
	}
}
