package gateway

import (
	"context"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/tessera-net/tessera/internal/openai"
)

// This file wraps every request: its x-request-id, CORS, and the one log line it leaves.

// requestRecord is what the handlers tell the request's log line: the caller's key id
// and the miner that answered (-1 also when an API node of the inference network did).
type requestRecord struct {
	keyID  int64 // 0: no key
	miner  int   // the answering miner's uid; -1: none
	broken bool  // a stream that broke off after its 200
}

type recordKey struct{}

// recordOf returns the request's record; a request that did not come through
// ServeHTTP gets a throwaway one.
func recordOf(ctx context.Context) *requestRecord {
	if rec, ok := ctx.Value(recordKey{}).(*requestRecord); ok {
		return rec
	}
	return &requestRecord{miner: -1}
}

// exposed are the headers a browser's script may read from an answer.
const exposed = "X-Request-Id, X-Ratelimit-Limit-Requests, X-Ratelimit-Remaining-Requests, X-Ratelimit-Reset-Requests, X-Tessera-Miner, X-Tessera-Api-Node, X-Tessera-Executor, X-Tessera-Inference-Id, X-Tessera-Seed, Retry-After"

// originAllowed reports whether CORSOrigins admits origin ("*" admits any).
func (g *Gateway) originAllowed(origin string) bool {
	return slices.Contains(g.cfg.CORSOrigins, "*") || slices.Contains(g.cfg.CORSOrigins, origin)
}

// cors adds the CORS headers of a request with an Origin and answers a preflight: 204
// for an allowed origin, 403 otherwise. It reports whether it answered.
func (g *Gateway) cors(w http.ResponseWriter, r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return false
	}
	h := w.Header()
	h.Add("Vary", "Origin")
	allowed := g.originAllowed(origin)
	if allowed {
		h.Set("Access-Control-Allow-Origin", origin)
		h.Set("Access-Control-Expose-Headers", exposed)
	}
	if r.Method != http.MethodOptions || r.Header.Get("Access-Control-Request-Method") == "" {
		return false
	}
	if !allowed {
		openai.WriteError(w, openai.Errorf(http.StatusForbidden, openai.TypeInvalidRequest, "cors_origin_not_allowed", "",
			"The origin %s may not call this gateway from a browser.", origin))
		return true
	}
	h.Add("Vary", "Access-Control-Request-Method, Access-Control-Request-Headers")
	h.Set("Access-Control-Allow-Methods", "GET, POST, OPTIONS")
	if rh := r.Header.Get("Access-Control-Request-Headers"); rh != "" {
		h.Set("Access-Control-Allow-Headers", rh)
	}
	h.Set("Access-Control-Max-Age", "600")
	w.WriteHeader(http.StatusNoContent)
	return true
}

// ServeHTTP implements http.Handler: it gives the request its x-request-id, answers
// CORS, serves the API, counts the request in the stats, and logs one line for it.
func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	id := openai.RequestID(r.Header.Get("X-Request-Id"))
	w.Header().Set("X-Request-Id", id)
	sw := &openai.StatusWriter{ResponseWriter: w}
	rec := &requestRecord{miner: -1}
	if !g.cors(sw, r) {
		g.mux.ServeHTTP(sw, r.WithContext(context.WithValue(r.Context(), recordKey{}, rec)))
		if countsInStats(r.URL.Path) {
			status := sw.Status
			if status == 0 {
				status = http.StatusOK
			}
			g.stats.request(status, rec.broken, time.Since(start), time.Now())
		}
	}
	g.log.LogAttrs(r.Context(), slog.LevelInfo, "request", slog.String("method", r.Method), slog.String("path", r.URL.Path),
		slog.Int("status", sw.Status), slog.Duration("duration", time.Since(start)), slog.Int64("key_id", rec.keyID),
		slog.String("request_id", id), slog.Int("miner_uid", rec.miner))
}

// rateLimitHeaders sets the x-ratelimit-* headers of a key with a limit: its requests
// per minute, the requests it may make at once now, and how long until its bucket is
// full again.
func rateLimitHeaders(h http.Header, rpm float64, remaining int, reset time.Duration) {
	h.Set("X-Ratelimit-Limit-Requests", strconv.FormatFloat(rpm, 'f', -1, 64))
	h.Set("X-Ratelimit-Remaining-Requests", strconv.Itoa(remaining))
	h.Set("X-Ratelimit-Reset-Requests", reset.Round(time.Millisecond).String())
}
