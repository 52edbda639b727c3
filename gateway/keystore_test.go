package gateway

import (
	"context"
	"errors"
	"math"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tessera-net/tessera/modules/subnets"
)

func TestKeyStoreCreateErrors(t *testing.T) {
	ctx := context.Background()
	ks, err := OpenKeyStore(ctx, filepath.Join(t.TempDir(), "k.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer ks.Close(ctx)
	for _, tc := range []struct {
		name  string
		rpm   float64
		burst int
		err   string
	}{
		{"", 1, 0, "a name of 1 to 128"},
		{"   ", 1, 0, "a name of 1 to 128"},
		{strings.Repeat("x", 129), 1, 0, "a name of 1 to 128"},
		{"nan", math.NaN(), 0, "not a number from 0"},
		{"neg", -1, 0, "not a number from 0"},
		{"burst", 1, -1, "burst -1 is negative"},
	} {
		if _, _, err := ks.Create(ctx, tc.name, tc.rpm, tc.burst); err == nil || !strings.Contains(err.Error(), tc.err) {
			t.Errorf("Create(%q, %v, %d) error %v, want %q", tc.name, tc.rpm, tc.burst, err, tc.err)
		}
	}
	secret, k, err := ks.Create(ctx, "ok", 0, 0)
	if err != nil || k.Burst != 1 || !strings.HasPrefix(secret, KeyPrefix) || len(secret) != len(KeyPrefix)+43 || !strings.HasPrefix(secret, k.Hint) {
		t.Fatalf("%q %+v %v", secret, k, err)
	}
	for _, bad := range []string{"", "tsk-", "sk-" + secret[4:], secret + "x"} {
		if _, err := ks.Authenticate(bad); !errors.Is(err, ErrUnknownKey) {
			t.Errorf("Authenticate(%q) = %v", bad, err)
		}
	}
	if _, err := ks.Revoke(ctx, "nobody"); err == nil {
		t.Error("revoked a key that does not exist")
	}
	if _, err := OpenKeyStore(ctx, ""); err == nil {
		t.Error("opened a database without a path")
	}
}

// A key revoked or created by another process (the CLI) takes effect at the next
// reload; usage from both adds up.
func TestKeyStoreSharedDatabase(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "k.db")
	server, err := OpenKeyStore(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer server.Close(ctx)
	cli, err := OpenKeyStore(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	secret, _, err := cli.Create(ctx, "late", 60, 5)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := server.Authenticate(secret); !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("before reload: %v", err)
	}
	if err := server.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	st, err := server.Authenticate(secret)
	if err != nil {
		t.Fatalf("after reload: %v", err)
	}
	now := time.Now()
	st.record(Usage{Requests: 2, PromptTokens: 10, CompletionTokens: 4}, now)
	if _, err := cli.Revoke(ctx, "late"); err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { server.Run(runCtx, 20*time.Millisecond, func(err error) { t.Error(err) }); close(done) }()
	deadline := time.Now().Add(5 * time.Second)
	for {
		if _, err := server.Authenticate(secret); errors.Is(err, ErrRevokedKey) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the revocation never reached the server")
		}
		time.Sleep(10 * time.Millisecond)
	}
	stop()
	<-done
	cli.Close(ctx)
	cli, _ = OpenKeyStore(ctx, path)
	defer cli.Close(ctx)
	k := cli.List()[0]
	if k.Usage != (Usage{Requests: 2, PromptTokens: 10, CompletionTokens: 4}) || k.RevokedAt == nil || k.LastUsed.IsZero() {
		t.Fatalf("%+v", k)
	}
}

type fakeQuerier struct {
	mg  subnets.Metagraph
	err error
}

func (f fakeQuerier) Query(_ context.Context, path string, _ int64, out any) (int64, error) {
	if f.err != nil {
		return 0, f.err
	}
	switch path {
	case "/subnets/metagraph_lite/7":
		*out.(*subnets.Metagraph) = f.mg
	case "/subnets/validator_scores/7":
		*out.(*subnets.ValidatorScoresView) = subnets.ValidatorScoresView{Netuid: 7, Scores: []uint16{32768}}
	default:
		return 0, errors.New("unexpected path " + path)
	}
	return 0, nil
}

func TestChainSource(t *testing.T) {
	mg := subnets.Metagraph{UIDs: []uint16{0}, Hotkeys: []string{"5M"}, Incentive: []uint16{65535},
		Axons: []subnets.AxonView{{IP: "127.0.0.1", Port: 9000}}}
	ms, err := ChainSource{Client: fakeQuerier{mg: mg}}.Miners(context.Background(), 7)
	if err != nil || len(ms) != 1 || ms[0].Axon.Port != 9000 || ms[0].Incentive != 1 || ms[0].ValidatorScore != 32768.0/65535 {
		t.Fatalf("%+v %v", ms, err)
	}
	_, err = ChainSource{Client: fakeQuerier{err: errors.New("node down")}}.Miners(context.Background(), 7)
	if err == nil || !strings.Contains(err.Error(), "metagraph of subnet 7: node down") {
		t.Fatalf("error %v", err)
	}
}
