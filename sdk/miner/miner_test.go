package miner_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tessera-net/tessera/internal/testutil"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tessera-net/tessera/client"
	"github.com/tessera-net/tessera/internal/testutil/fixture"
	"github.com/tessera-net/tessera/keys"
	"github.com/tessera-net/tessera/modules/subnets"
	"github.com/tessera-net/tessera/sdk/metagraph"
	"github.com/tessera-net/tessera/sdk/miner"
	"github.com/tessera-net/tessera/sdk/subnet"
	"github.com/tessera-net/tessera/tx"
	"github.com/tessera-net/tessera/wire"
)

func graph(t *testing.T, hotkeys []string, permit []bool, stake []uint64) *metagraph.Graph {
	t.Helper()
	mg := fixture.Metagraph(hotkeys...)
	mg.ValidatorPermit, mg.Stake = permit, stake
	g, err := metagraph.New(mg)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func TestAdmit(t *testing.T) {
	g := graph(t, []string{"val", "miner"}, []bool{true, false}, []uint64{5000, 10})
	tests := []struct {
		name   string
		g      *metagraph.Graph
		caller string
		pol    miner.Policy
		want   miner.Refusal
	}{
		{"registered", g, "miner", miner.Policy{}, miner.Refusal{}},
		{"not registered", g, "stranger", miner.Policy{}, miner.Refusal{Kind: "not_registered", Reason: "hotkey stranger is not registered on subnet 1"}},
		{"not registered but allowed", g, "stranger", miner.Policy{AllowNonRegistered: true}, miner.Refusal{}},
		{"allowed strangers still need a permit when one is required", g, "stranger", miner.Policy{AllowNonRegistered: true, RequirePermit: true},
			miner.Refusal{Kind: "not_registered", Reason: "hotkey stranger is not registered on subnet 1"}},
		{"permit required and held", g, "val", miner.Policy{RequirePermit: true}, miner.Refusal{}},
		{"permit required, not held", g, "miner", miner.Policy{RequirePermit: true}, miner.Refusal{Kind: "no_permit", Reason: "uid 1 has no validator permit on subnet 1"}},
		{"stake below the minimum", g, "miner", miner.Policy{MinStake: 11}, miner.Refusal{Kind: "low_stake", Reason: "uid 1 has stake 10, below the 11 this miner requires"}},
		{"no metagraph yet", nil, "val", miner.Policy{}, miner.Refusal{Kind: "no_metagraph", Reason: "the miner has not read the metagraph yet"}},
		{"no metagraph, open miner", nil, "val", miner.Policy{AllowNonRegistered: true}, miner.Refusal{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := miner.Admit(tc.g, tc.caller, tc.pol); got != tc.want {
				t.Fatalf("Admit = %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestPriority(t *testing.T) {
	g := graph(t, []string{"val", "miner"}, []bool{true, false}, []uint64{5_000_000_000_000, 10})
	for _, tc := range []struct {
		g      *metagraph.Graph
		caller string
		want   float64
	}{{g, "val", 5000}, {g, "miner", 1e-8}, {g, "stranger", 0}, {nil, "val", 0}} {
		if got := miner.Priority(tc.g, tc.caller); got != tc.want {
			t.Errorf("Priority(%s) = %v, want %v", tc.caller, got, tc.want)
		}
	}
}

func TestAnnounceAddr(t *testing.T) {
	tests := []struct {
		ip, extIP     string
		port, extPort int
		wantIP        string
		wantPort      int
	}{
		{"0.0.0.0", "", 8091, 0, "127.0.0.1", 8091},
		{"::", "", 8091, 0, "127.0.0.1", 8091},
		{"10.0.0.5", "", 8091, 0, "10.0.0.5", 8091},
		{"0.0.0.0", "203.0.113.9", 8091, 443, "203.0.113.9", 443},
	}
	for _, tc := range tests {
		cfg := subnet.DefaultConfig()
		cfg.AxonExternalIP, cfg.AxonExternalPort = tc.extIP, tc.extPort
		ip, port := miner.AnnounceAddr(cfg, &net.TCPAddr{IP: net.ParseIP(tc.ip), Port: tc.port})
		if ip != tc.wantIP || port != tc.wantPort {
			t.Errorf("%s:%d ext %s:%d → %s:%d, want %s:%d", tc.ip, tc.port, tc.extIP, tc.extPort, ip, port, tc.wantIP, tc.wantPort)
		}
	}
}

// Ping is the test synapse.
type Ping struct {
	wire.Base
	N int `json:"n"`
}

// Count is answered as a stream of N events: the miner's extra route.
type Count struct {
	wire.Base
	N int `json:"n"`
}

type fakeChain struct {
	mu     sync.Mutex
	mg     subnets.Metagraph
	served []subnets.ServeAxon
}

func (f *fakeChain) Status(context.Context) (*client.Status, error) {
	return &client.Status{Height: 10}, nil
}

func (f *fakeChain) Query(_ context.Context, path string, _ int64, out any) (int64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if path != "/subnets/metagraph_lite/1" {
		return 0, &client.QueryError{Code: tx.CodeNotFound, Log: "unknown " + path}
	}
	raw, _ := json.Marshal(f.mg)
	return 10, json.Unmarshal(raw, out) // answered at the chain's height, as a node does
}

func (f *fakeChain) Send(_ context.Context, msg tx.Msg) (*client.TxView, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var s subnets.ServeAxon
	if err := msg.DecodeBody(&s); err != nil {
		return nil, err
	}
	f.served = append(f.served, s)
	return &client.TxView{Height: 11, Hash: "TX"}, nil
}

// TestMinerServes runs a miner against a fake chain: it announces its axon, answers a
// registered caller, refuses a stranger and, with permits required, a caller without
// one; an unregistered miner does not start.
func TestMinerServes(t *testing.T) {
	dave, bob, eve := testutil.Pair(t, "//Dave"), testutil.Pair(t, "//Bob"), testutil.Pair(t, "//Eve")
	fc := &fakeChain{}
	hot := []string{bob.Public().String(), dave.Public().String(), eve.Public().String()}
	fc.mg = *fixture.Metagraph(hot...)
	fc.mg.Coldkeys, fc.mg.Stake, fc.mg.ValidatorPermit = hot, []uint64{100, 0, 0}, []bool{true, false, false}
	cfg := subnet.DefaultConfig()
	cfg.AxonIP, cfg.AxonPort, cfg.ForceValidatorPermit = "127.0.0.1", 0, true
	h := wire.Handle(func(_ context.Context, _ *wire.Call, p *Ping) error { p.N++; return nil })
	count := wire.HandleStream(func(_ context.Context, _ *wire.Call, c *Count, w *wire.StreamWriter) error {
		for i := range c.N {
			if err := w.WriteEvent([]byte(strconv.Itoa(i))); err != nil {
				return err
			}
		}
		return nil
	})
	m, err := miner.New(h, miner.Options{Config: cfg, Hotkey: dave, Chain: fc, Poll: 20 * time.Millisecond,
		Routes: []wire.Handler{count}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	testutil.WaitFor(t, 10*time.Second, "the miner to listen", func() bool { return m.Addr() != nil })
	addr := m.Addr()
	fc.mu.Lock()
	served := append([]subnets.ServeAxon(nil), fc.served...)
	fc.mu.Unlock()
	if len(served) != 1 || served[0].IP != "127.0.0.1" || int(served[0].Port) != addr.Port || served[0].Netuid != 1 {
		t.Fatalf("serve_axon sent %+v, want 127.0.0.1:%d on subnet 1", served, addr.Port)
	}
	axon := wire.AxonInfo{IP: "127.0.0.1", Port: addr.Port, Hotkey: dave.Public().String()}
	call := func(p *keys.Pair) wire.Result {
		d, err := wire.NewDendrite(p, wire.DendriteConfig{})
		if err != nil {
			t.Fatal(err)
		}
		defer d.Close()
		return d.Call(ctx, axon, &Ping{N: 1})
	}
	if r := call(bob); r.Err != nil || r.Synapse.(*Ping).N != 2 {
		t.Fatalf("the validator's call: %d %s", r.StatusCode, r.StatusMessage)
	}
	if r := call(eve); r.StatusCode != 403 || !strings.Contains(r.StatusMessage, "uid 2 has no validator permit on subnet 1") {
		t.Fatalf("a caller without a permit: %d %s", r.StatusCode, r.StatusMessage)
	}
	// The extra route streams, under the same admission policy.
	stream := func(p *keys.Pair) ([]string, error) {
		d, err := wire.NewDendrite(p, wire.DendriteConfig{})
		if err != nil {
			t.Fatal(err)
		}
		defer d.Close()
		st, err := d.Stream(ctx, axon, &Count{N: 3})
		if err != nil {
			return nil, err
		}
		defer st.Close()
		var got []string
		for ev, err := range st.Events() {
			if err != nil {
				return got, err
			}
			got = append(got, string(ev))
		}
		return got, nil
	}
	if got, err := stream(bob); err != nil || strings.Join(got, ",") != "0,1,2" {
		t.Fatalf("the validator's stream: %q, %v", got, err)
	}
	var se *wire.StatusError
	if _, err := stream(eve); !errors.As(err, &se) || se.Code != 403 {
		t.Fatalf("a stream for a caller without a permit: %v", err)
	}
	if r := call(testutil.Pair(t, "//Nobody")); r.StatusCode != 403 || !strings.Contains(r.StatusMessage, "is not registered on subnet 1") {
		t.Fatalf("a stranger: %d %s", r.StatusCode, r.StatusMessage)
	}
	// A caller that registers after the last sync is admitted once the refusal has
	// made the miner resync.
	charlie := testutil.Pair(t, "//Charlie")
	fc.mu.Lock()
	uid := fixture.AddUID(&fc.mg, charlie.Public().String())
	fc.mg.Stake[uid], fc.mg.ValidatorPermit[uid] = 1, true
	fc.mu.Unlock()
	if r := call(charlie); r.StatusCode != 403 {
		t.Fatalf("a caller unknown to the miner's metagraph: %d %s", r.StatusCode, r.StatusMessage)
	}
	deadline := time.Now().Add(10 * time.Second)
	for r := call(charlie); r.Err != nil; r = call(charlie) {
		if time.Now().After(deadline) {
			t.Fatalf("the newly registered caller is still refused: %d %s", r.StatusCode, r.StatusMessage)
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}

	// A miner whose hotkey is not registered says so.
	m2, err := miner.New(h, miner.Options{Config: cfg, Hotkey: testutil.Pair(t, "//Ferdie"), Chain: fc})
	if err != nil {
		t.Fatal(err)
	}
	err = m2.Run(context.Background())
	if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("hotkey %s is not registered on subnet 1", testutil.Pair(t, "//Ferdie").Public())) {
		t.Fatalf("err = %v", err)
	}
}

// TestMinerServesHigherStakeFirst: with one handler slot busy, the waiting request of
// the caller with more stake runs before the one that came first.
func TestMinerServesHigherStakeFirst(t *testing.T) {
	dave, rich, poor, first := testutil.Pair(t, "//Dave"), testutil.Pair(t, "//Rich"), testutil.Pair(t, "//Poor"), testutil.Pair(t, "//First")
	hot := []string{dave.Public().String(), rich.Public().String(), poor.Public().String(), first.Public().String()}
	fc := &fakeChain{}
	fc.mg = *fixture.Metagraph(hot...)
	fc.mg.Coldkeys, fc.mg.Stake = hot, []uint64{0, 9_000_000_000_000, 1_000_000_000, 5}
	cfg := subnet.DefaultConfig()
	cfg.AxonIP, cfg.AxonPort, cfg.AxonConcurrency = "127.0.0.1", 0, 1
	release := make(chan struct{})
	var mu sync.Mutex
	var order []string
	h := wire.Handle(func(_ context.Context, c *wire.Call, p *Ping) error {
		if c.Hotkey == first.Public().String() {
			<-release
		}
		mu.Lock()
		order = append(order, c.Hotkey)
		mu.Unlock()
		return nil
	})
	reg := prometheus.NewRegistry()
	m, err := miner.New(h, miner.Options{Config: cfg, Hotkey: dave, Chain: fc, Registerer: reg})
	if err != nil {
		t.Fatal(err)
	}
	gauge := func(name string) float64 {
		mfs, _ := reg.Gather()
		for _, mf := range mfs {
			if mf.GetName() == name {
				return mf.GetMetric()[0].GetGauge().GetValue()
			}
		}
		return -1
	}
	waitGauge := func(name string, want float64) {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); gauge(name) != want; time.Sleep(2 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("%s stays %v, want %v", name, gauge(name), want)
			}
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	testutil.WaitFor(t, 10*time.Second, "the miner to listen", func() bool { return m.Addr() != nil })
	axon := wire.AxonInfo{IP: "127.0.0.1", Port: m.Addr().Port, Hotkey: dave.Public().String()}
	var wg sync.WaitGroup
	send := func(p *keys.Pair) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d, _ := wire.NewDendrite(p, wire.DendriteConfig{})
			defer d.Close()
			if r := d.Call(ctx, axon, &Ping{}); r.Err != nil {
				t.Errorf("%s: %d %s", p.Public(), r.StatusCode, r.StatusMessage)
			}
		}()
	}
	send(first)
	waitGauge("tessera_axon_handlers_running", 1) // first holds the slot
	send(poor)
	waitGauge("tessera_axon_queue_length", 1) // poor waits
	send(rich)
	waitGauge("tessera_axon_queue_length", 2) // rich waits too, and goes ahead of poor
	close(release)
	wg.Wait()
	mu.Lock()
	defer mu.Unlock()
	want := []string{first.Public().String(), rich.Public().String(), poor.Public().String()}
	if fmt.Sprint(order) != fmt.Sprint(want) {
		t.Fatalf("served %v, want first, rich, poor %v", order, want)
	}
	cancel()
	<-done
}
