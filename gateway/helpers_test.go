package gateway

import (
	"context"
	"net"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/tessera-net/tessera/keys"
	"github.com/tessera-net/tessera/subnets/textgen"
	"github.com/tessera-net/tessera/wire"
)

// killListener is a listener whose connections can all be cut at once, as when a
// miner's process dies.
type killListener struct {
	net.Listener
	mu    sync.Mutex
	conns []net.Conn
}

func (l *killListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.mu.Lock()
		l.conns = append(l.conns, c)
		l.mu.Unlock()
	}
	return c, err
}

func (l *killListener) kill() {
	l.Listener.Close()
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, c := range l.conns {
		if tc, ok := c.(*net.TCPConn); ok {
			tc.SetLinger(0) // reset, as a dead process's kernel would
		}
		c.Close()
	}
}

// testMiner is a textgen miner on a real axon on 127.0.0.1.
type testMiner struct {
	Miner
	kill func()
}

func startMiner(t testing.TB, uri string, incentive float64, b textgen.Backend) *testMiner {
	t.Helper()
	return startMinerWith(t, uri, incentive, b, wire.AttachOptions{})
}

// startMinerWith is startMiner with the axon's hooks.
func startMinerWith(t testing.TB, uri string, incentive float64, b textgen.Backend, opts wire.AttachOptions) *testMiner {
	t.Helper()
	pair, err := keys.FromURI(uri)
	if err != nil {
		t.Fatal(err)
	}
	ax, err := wire.NewAxon(pair, wire.AxonConfig{RateLimit: -1, ShutdownTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	m, err := textgen.NewMiner(b, textgen.MinerConfig{})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Attach(ax, opts); err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	kl := &killListener{Listener: l}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { ax.Serve(ctx, kl); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return &testMiner{
		Miner: Miner{UID: uint16(len(uri)), Axon: wire.AxonInfo{IP: "127.0.0.1", Port: l.Addr().(*net.TCPAddr).Port, Hotkey: ax.Hotkey()}, Incentive: incentive},
		kill:  kl.kill,
	}
}

func builtin(t testing.TB, cfg textgen.BuiltinConfig) *textgen.Builtin {
	t.Helper()
	b, err := textgen.NewBuiltin(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// testGateway is a gateway serving on 127.0.0.1 with a key store in a temporary
// directory and one model, "tessera-textgen" on subnet 1.
type testGateway struct {
	*Gateway
	URL    string
	Keys   *KeyStore
	Secret string // a key with no rate limit
	DBPath string
}

func startGateway(t testing.TB, miners []*testMiner, tune func(*Config)) *testGateway {
	t.Helper()
	ctx := context.Background()
	dbPath := filepath.Join(t.TempDir(), "keys.db")
	ks, err := OpenKeyStore(ctx, dbPath)
	if err != nil {
		t.Fatal(err)
	}
	secret, _, err := ks.Create(ctx, "test", 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	pair, _ := keys.FromURI("//Gateway")
	d, err := wire.NewDendrite(pair, wire.DendriteConfig{})
	if err != nil {
		t.Fatal(err)
	}
	var ms []Miner
	for _, m := range miners {
		ms = append(ms, m.Miner)
	}
	cfg := Config{
		Models:   []Model{{ID: "tessera-textgen", Netuid: 1}},
		Source:   StaticSource{1: ms},
		Dendrite: d,
		Keys:     ks,
	}
	if tune != nil {
		tune(&cfg)
	}
	g, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	sctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- g.Serve(sctx, l) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("gateway Serve: %v", err)
		}
		d.Close()
		ks.Close(context.Background())
	})
	if err := g.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	return &testGateway{Gateway: g, URL: "http://" + l.Addr().String(), Keys: ks, Secret: secret, DBPath: dbPath}
}

// blocking is a backend that signals each call on started and then waits for its
// context to end: a miner stuck in the middle of a request.
type blocking struct{ started chan struct{} }

func (b blocking) Generate(ctx context.Context, _ textgen.Request, _ func(string) error) (textgen.Result, error) {
	select {
	case b.started <- struct{}{}:
	default:
	}
	<-ctx.Done()
	return textgen.Result{}, ctx.Err()
}

// halfway is a backend that streams one piece, signals on started, then waits for its
// context to end: a miner that dies in the middle of a stream.
type halfway struct{ started chan struct{} }

func (h halfway) Generate(ctx context.Context, _ textgen.Request, emit func(string) error) (textgen.Result, error) {
	if emit != nil {
		if err := emit("The first words"); err != nil {
			return textgen.Result{}, err
		}
	}
	select {
	case h.started <- struct{}{}:
	default:
	}
	<-ctx.Done()
	return textgen.Result{}, ctx.Err()
}
