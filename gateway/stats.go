package gateway

import (
	"cmp"
	"encoding/json"
	"math"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tessera-net/tessera/internal/openai"
)

// This file holds GET /v1/stats, the gateway's traffic as the explorer shows it: counts
// since the start, and latency percentiles and each miner's share over a window of the
// most recent requests and attempts, kept in two ring buffers of a fixed size. Recording
// one request is a few atomic adds and one store under a lock (BenchmarkStatsRecord); the
// work of percentiles and shares is done when /v1/stats is asked for.

// DefaultStatsWindow is the default of Config.StatsWindow.
const DefaultStatsWindow = 1024

// TrafficStats answers GET /v1/stats.
type TrafficStats struct {
	// RequestsTotal counts the API requests answered since the gateway started: every
	// path but /v1/stats, /metrics, /healthz and CORS preflights.
	RequestsTotal uint64 `json:"requests_total"`
	// ErrorsTotal counts those answered with a status of 400 or more, or whose stream
	// broke off.
	ErrorsTotal uint64            `json:"errors_total"`
	ByStatus    map[string]uint64 `json:"by_status"` // HTTP status → requests, since the start
	// LatencyMS are percentiles of the whole requests' latency over the window (0 when
	// it is empty).
	LatencyMS Percentiles `json:"latency_ms"`
	// PerMiner are the miners the window's attempts went to, the most tried first.
	PerMiner []MinerStats `json:"per_miner"`
	Window   StatsWindow  `json:"window"`
	Since    time.Time    `json:"since"` // the gateway's start
}

// Percentiles are latencies in milliseconds.
type Percentiles struct {
	P50 float64 `json:"p50"`
	P90 float64 `json:"p90"`
	P99 float64 `json:"p99"`
}

// MinerStats is one miner's part of the window's attempts.
type MinerStats struct {
	Netuid   uint16 `json:"netuid"`
	UID      uint16 `json:"uid"`
	Hotkey   string `json:"hotkey"`
	Requests int    `json:"requests"` // attempts sent to the miner
	// Errors are the attempts the miner failed (an error, a timeout, a broken stream);
	// a refusal of an invalid request is the caller's, not counted.
	Errors int `json:"errors"`
	// Share is the miner's part of the window's answered attempts (the shares sum to 1).
	Share float64 `json:"share"`
	// P50MS is the median latency of its answered attempts (to the first byte of a
	// stream), in milliseconds; 0 when it answered none.
	P50MS float64 `json:"p50_ms"`
}

// StatsWindow describes the window: the ring buffers' size, how many requests and
// attempts they hold, and the time the requests span.
type StatsWindow struct {
	Size     int     `json:"size"`
	Requests int     `json:"requests"`
	Attempts int     `json:"attempts"`
	Seconds  float64 `json:"seconds"`
}

// attemptOutcome is how an attempt on a miner ended, for the stats.
type attemptOutcome uint8

const (
	attemptOK      attemptOutcome = iota
	attemptFailed                 // the miner's fault: error, timeout, broken stream
	attemptRefused                // refused an invalid request, or the gateway's hotkey
)

type requestSample struct {
	at     int64 // Unix nanoseconds
	dur    time.Duration
	status uint16
	failed bool
}

type attemptSample struct {
	hotkey  string
	dur     time.Duration
	netuid  uint16
	uid     uint16
	outcome attemptOutcome
}

// stats keeps the gateway's traffic; it is safe for concurrent use.
type stats struct {
	started       time.Time
	total, errors atomic.Uint64
	byStatus      [600]atomic.Uint64 // by HTTP status; any other value counts at 0

	mu       sync.Mutex
	reqs     []requestSample // ring buffers of one size
	atts     []attemptSample
	nreq     int // samples ever written; the next goes at n % size
	natt     int
	snapshot []time.Duration // scratch of snapshots (under mu)
}

func newStats(size int, now time.Time) *stats {
	return &stats{started: now, reqs: make([]requestSample, size), atts: make([]attemptSample, size)}
}

// request records one answered request.
func (s *stats) request(status int, failed bool, dur time.Duration, now time.Time) {
	s.total.Add(1)
	if status >= 400 || failed {
		s.errors.Add(1)
	}
	if status < 0 || status >= len(s.byStatus) {
		status = 0
	}
	s.byStatus[status].Add(1)
	s.mu.Lock()
	s.reqs[s.nreq%len(s.reqs)] = requestSample{at: now.UnixNano(), dur: dur, status: uint16(status), failed: failed}
	s.nreq++
	s.mu.Unlock()
}

// attempt records one attempt on miner m of subnet netuid.
func (s *stats) attempt(netuid uint16, m Miner, o attemptOutcome, dur time.Duration) {
	s.mu.Lock()
	s.atts[s.natt%len(s.atts)] = attemptSample{hotkey: m.Axon.Hotkey, dur: dur, netuid: netuid, uid: m.UID, outcome: o}
	s.natt++
	s.mu.Unlock()
}

// get computes the stats at now.
func (s *stats) get(now time.Time) TrafficStats {
	out := TrafficStats{RequestsTotal: s.total.Load(), ErrorsTotal: s.errors.Load(), ByStatus: map[string]uint64{}, PerMiner: []MinerStats{}, Since: s.started}
	for code := range s.byStatus {
		if n := s.byStatus[code].Load(); n > 0 {
			out.ByStatus[strconv.Itoa(code)] = n
		}
	}
	s.mu.Lock()
	nr, na := min(s.nreq, len(s.reqs)), min(s.natt, len(s.atts))
	durs := s.snapshot[:0]
	oldest := int64(math.MaxInt64)
	for _, r := range s.reqs[:nr] {
		durs = append(durs, r.dur)
		oldest = min(oldest, r.at)
	}
	atts := slices.Clone(s.atts[:na])
	s.snapshot = durs
	out.LatencyMS = percentiles(durs)
	s.mu.Unlock()

	out.Window = StatsWindow{Size: len(s.reqs), Requests: nr, Attempts: na}
	if nr > 0 {
		out.Window.Seconds = max(0, float64(now.UnixNano()-oldest)/1e9)
	}
	type key struct {
		netuid uint16
		hotkey string
	}
	miners := map[key]*MinerStats{}
	lat := map[key][]time.Duration{}
	answered := 0
	for _, a := range atts {
		k := key{a.netuid, a.hotkey}
		ms := miners[k]
		if ms == nil {
			ms = &MinerStats{Netuid: a.netuid, Hotkey: a.hotkey}
			miners[k] = ms
		}
		ms.UID = a.uid // the latest: a hotkey re-registered under another uid
		ms.Requests++
		switch a.outcome {
		case attemptOK:
			answered++
			lat[k] = append(lat[k], a.dur)
		case attemptFailed:
			ms.Errors++
		}
	}
	for k, ms := range miners {
		if answered > 0 {
			ms.Share = float64(len(lat[k])) / float64(answered)
		}
		ms.P50MS = percentiles(lat[k]).P50
		out.PerMiner = append(out.PerMiner, *ms)
	}
	slices.SortFunc(out.PerMiner, func(a, b MinerStats) int {
		return cmp.Or(cmp.Compare(b.Requests, a.Requests), cmp.Compare(a.Netuid, b.Netuid), cmp.Compare(a.UID, b.UID), cmp.Compare(a.Hotkey, b.Hotkey))
	})
	return out
}

// percentiles sorts d and returns its nearest-rank 50th, 90th and 99th percentiles in
// milliseconds.
func percentiles(d []time.Duration) Percentiles {
	if len(d) == 0 {
		return Percentiles{}
	}
	slices.Sort(d)
	at := func(p float64) float64 {
		i := int(math.Ceil(p*float64(len(d)))) - 1
		return float64(d[max(0, i)]) / float64(time.Millisecond)
	}
	return Percentiles{P50: at(0.50), P90: at(0.90), P99: at(0.99)}
}

// countsInStats reports whether a request to path counts in the stats: the API's, not
// the stats, metrics or health endpoints.
func countsInStats(path string) bool {
	return path != "/v1/stats" && path != "/metrics" && path != "/healthz"
}

// getStats answers GET /v1/stats; it needs no API key (it names no caller).
func (g *Gateway) getStats(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		openai.WriteError(w, openai.MethodNotAllowed(w, r, http.MethodGet))
		return
	}
	body, err := json.Marshal(g.stats.get(time.Now()))
	if err != nil {
		openai.WriteError(w, openai.Errorf(http.StatusInternalServerError, openai.TypeServer, "", "", "encode the stats: %v", err))
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	openai.WriteJSON(w, http.StatusOK, body)
}
