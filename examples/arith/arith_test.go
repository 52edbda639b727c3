package arith

import (
	"context"
	"errors"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/tessera-net/tessera/sdk/subnet"
)

func TestSolve(t *testing.T) {
	tests := []struct {
		a, b    int64
		op      string
		want    int64
		wantErr bool
	}{{3, 4, "+", 7, false}, {3, 4, "-", -1, false}, {-3, 4, "*", -12, false}, {1, 1, "/", 0, true}}
	for _, tc := range tests {
		got, err := Solve(tc.a, tc.b, tc.op)
		if got != tc.want || (err != nil) != tc.wantErr {
			t.Errorf("Solve(%d %s %d) = %d, %v", tc.a, tc.op, tc.b, got, err)
		}
	}
}

func TestParseMode(t *testing.T) {
	for _, s := range []string{"good", "wrong", "slow"} {
		if m, err := ParseMode(s); err != nil || string(m) != s {
			t.Errorf("ParseMode(%s) = %v %v", s, m, err)
		}
	}
	if _, err := ParseMode("lazy"); err == nil || err.Error() != `miner mode "lazy": want good, wrong or slow` {
		t.Errorf("err = %v", err)
	}
}

func TestQuery(t *testing.T) {
	p, err := Query(context.Background(), subnet.Round{Rand: rand.New(rand.NewPCG(1, 2))})
	if err != nil || p.A < -1000 || p.A > 1000 || p.B < -1000 || p.B > 1000 || (p.Op != "+" && p.Op != "-" && p.Op != "*") {
		t.Fatalf("%+v %v", p, err)
	}
}

func answer(r int64) *int64 { return &r }

func TestScore(t *testing.T) {
	s, err := NewScorer()
	if err != nil {
		t.Fatal(err)
	}
	q := &Problem{A: 6, B: 7, Op: "*"}
	rs := []subnet.Response[*Problem]{
		{UID: 1, Synapse: &Problem{Result: answer(42)}, Latency: 10 * time.Millisecond},
		{UID: 2, Synapse: &Problem{Result: answer(42)}, Latency: 400 * time.Millisecond},
		{UID: 3, Synapse: &Problem{Result: answer(43)}, Latency: 10 * time.Millisecond},
		{UID: 4, Synapse: &Problem{}, Latency: 10 * time.Millisecond},
		{UID: 5, Err: errors.New("503 unreachable"), Status: 503},
	}
	got, err := s.Score(context.Background(), q, rs)
	if err != nil {
		t.Fatal(err)
	}
	want := []float64{1, 0.7 + 0.3*0.25, 0, 0, 0}
	for i := range want {
		if d := got[i] - want[i]; d > 1e-9 || d < -1e-9 {
			t.Fatalf("scores %v, want %v", got, want)
		}
	}
}

func TestSubnetDefinition(t *testing.T) {
	def, err := Subnet(Good, 0, nil)
	if err != nil || def.Check() != nil {
		t.Fatalf("%v %v", err, def.Check())
	}
}
