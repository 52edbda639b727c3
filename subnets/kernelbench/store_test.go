package kernelbench_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/tessera-net/tessera/subnets/kernelbench"
)

func TestStoreAndAPI(t *testing.T) {
	ctx := context.Background()
	s, err := kernelbench.OpenStore(ctx, filepath.Join(t.TempDir(), "j.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	srv := httptest.NewServer(kernelbench.API(s, 7))
	defer srv.Close()
	// Before any round: an empty leaderboard.
	lb, err := kernelbench.FetchLeaderboard(ctx, srv.URL)
	if err != nil || lb.Round.Round != 0 || lb.Netuid != 7 || lb.Standings == nil {
		t.Fatalf("empty leaderboard: %+v %v", lb, err)
	}
	k := kernelbench.SubmissionKey{DefHash: "d", Hotkey: "hk", Repo: "r", Commit: "c", TargetLength: 100}
	if ev, err := s.Evaluation(ctx, k); ev != nil || err != nil {
		t.Fatalf("absent evaluation: %v %v", ev, err)
	}
	ev := &kernelbench.Evaluation{OK: true, Score: 5, TokensPerSec: 10, Times: []time.Duration{time.Millisecond}, Log: "build log"}
	if err := s.PutEvaluation(ctx, k, ev); err != nil {
		t.Fatal(err)
	}
	ev.Score = 6 // replaced, not duplicated
	if err := s.PutEvaluation(ctx, k, ev); err != nil {
		t.Fatal(err)
	}
	got, err := s.Evaluation(ctx, k)
	if err != nil || got.Score != 6 || got.Log != "build log" {
		t.Fatalf("stored evaluation: %+v %v", got, err)
	}
	st := kernelbench.Rank([]kernelbench.Entry{{Hotkey: "hk", UID: 1, OK: true, Score: 6, ContentHash: "x"}}, kernelbench.DefaultPayout(), 0, "")
	for i := 0; i < 3; i++ {
		if _, err := s.PutRound(ctx, &kernelbench.Round{Block: int64(10 + i), DefHash: "d", Leader: "hk", Standings: st,
			Weights: kernelbench.Weights{UIDs: []uint16{0, 1}, Values: []uint16{65535, 65535}}, At: time.Now()}); err != nil {
			t.Fatal(err)
		}
	}
	lb, err = kernelbench.FetchLeaderboard(ctx, srv.URL)
	if err != nil || lb.Round.Round != 3 || lb.Block != 12 || lb.Leader != "hk" || len(lb.Standings) != 1 || lb.Standings[0].Share != 0.5 {
		t.Fatalf("leaderboard: %+v %v", lb, err)
	}
	get := func(path string, out any) int {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if out != nil && resp.StatusCode == 200 {
			if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
				t.Fatal(err)
			}
		}
		return resp.StatusCode
	}
	var rounds []kernelbench.Round
	if code := get("/v1/rounds?limit=2", &rounds); code != 200 || len(rounds) != 2 || rounds[0].Round != 3 {
		t.Fatalf("rounds: %d %+v", code, rounds)
	}
	var evs []kernelbench.EvaluationRecord
	if code := get("/v1/evaluations?hotkey=hk", &evs); code != 200 || len(evs) != 1 || evs[0].Evaluation.Log != "build log" {
		t.Fatalf("evaluations: %d %+v", code, evs)
	}
	for _, bad := range []string{"/v1/rounds?limit=0", "/v1/rounds?limit=x", "/v1/evaluations?limit=501"} {
		if code := get(bad, nil); code != http.StatusBadRequest {
			t.Errorf("%s: status %d, want 400", bad, code)
		}
	}
}
