package kernelbench

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
)

// Leaderboard is the answer of GET /v1/leaderboard: the newest round, or an empty one
// before the first.
type Leaderboard struct {
	Netuid uint16 `json:"netuid"`
	Round
}

// API serves the judge's database as JSON:
//
//	GET /v1/leaderboard             the newest round: standings, leader, weights
//	GET /v1/rounds?limit=N          the newest N rounds (default 20, at most 500)
//	GET /v1/evaluations?hotkey=SS58&limit=N
//	                                evaluations with their logs, newest first
//	GET /healthz                    "ok"
func API(s *Store, netuid uint16) http.Handler {
	mux := http.NewServeMux()
	write := func(w http.ResponseWriter, v any, err error) {
		if err != nil {
			http.Error(w, `{"error":"`+jsonEscape(err.Error())+`"}`, http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		enc.Encode(v)
	}
	limit := func(r *http.Request, def int) (int, bool) {
		v := r.URL.Query().Get("limit")
		if v == "" {
			return def, true
		}
		n, err := strconv.Atoi(v)
		return n, err == nil && n > 0 && n <= 500
	}
	mux.HandleFunc("GET /v1/leaderboard", func(w http.ResponseWriter, r *http.Request) {
		rd, err := s.LastRound(r.Context())
		lb := Leaderboard{Netuid: netuid}
		if rd != nil {
			lb.Round = *rd
		} else {
			lb.Standings = []Standing{}
		}
		write(w, lb, err)
	})
	mux.HandleFunc("GET /v1/rounds", func(w http.ResponseWriter, r *http.Request) {
		n, ok := limit(r, 20)
		if !ok {
			http.Error(w, `{"error":"limit must be 1 to 500"}`, http.StatusBadRequest)
			return
		}
		rs, err := s.Rounds(r.Context(), n)
		write(w, rs, err)
	})
	mux.HandleFunc("GET /v1/evaluations", func(w http.ResponseWriter, r *http.Request) {
		n, ok := limit(r, 50)
		if !ok {
			http.Error(w, `{"error":"limit must be 1 to 500"}`, http.StatusBadRequest)
			return
		}
		evs, err := s.Evaluations(r.Context(), r.URL.Query().Get("hotkey"), n)
		write(w, evs, err)
	})
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok\n")) })
	return mux
}

func jsonEscape(s string) string {
	b, _ := json.Marshal(s)
	return string(b[1 : len(b)-1])
}

// FetchLeaderboard reads GET /v1/leaderboard from a judge's API at base.
func FetchLeaderboard(ctx context.Context, base string) (*Leaderboard, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(base, "/")+"/v1/leaderboard", nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return nil, fmt.Errorf("leaderboard: %s: %s", resp.Status, strings.TrimSpace(string(b)))
	}
	var lb Leaderboard
	if err := json.NewDecoder(resp.Body).Decode(&lb); err != nil {
		return nil, fmt.Errorf("leaderboard: %w", err)
	}
	return &lb, nil
}
