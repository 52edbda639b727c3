// Package miner is the SDK's miner runtime: it serves a subnet's handler on an axon,
// announces the axon on chain (serve_axon) when the chain's record differs, refuses
// callers that are not registered on the subnet (or lack a validator permit or enough
// stake, as configured), serves waiting requests highest caller stake first, bounds
// concurrency, and keeps its view of the metagraph fresh.
package miner

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tessera-net/tessera/internal/prom"
	"github.com/tessera-net/tessera/keys"
	"github.com/tessera-net/tessera/modules/subnets"
	"github.com/tessera-net/tessera/sdk/metagraph"
	"github.com/tessera-net/tessera/sdk/subnet"
	"github.com/tessera-net/tessera/wire"
)

// Chain is what a miner needs of the chain (subnet.Chain; subnet.ClientChain has it).
type Chain = subnet.Chain

// Options configure a Miner.
type Options struct {
	// Config holds the netuid, the axon's addresses and limits, the blacklist policy
	// and the epoch length (blocks between metagraph syncs).
	Config subnet.Config
	// Hotkey is the miner's hotkey: it answers as it and signs serve_axon with it.
	Hotkey *keys.Pair
	// Chain reads the metagraph and sends serve_axon.
	Chain Chain
	// Name labels the metrics (the subnet's name).
	Name string
	// Registerer receives the miner's and its axon's metrics (none when nil).
	Registerer prometheus.Registerer
	// Logger receives the miner's logs (discarded when nil).
	Logger *slog.Logger
	// Poll is how often the chain's height is read for metagraph syncs (default 1 s).
	Poll time.Duration
	// Routes are further synapses the axon answers besides the main handler (a
	// streaming variant, say: subnet.Definition.Routes), with the same admission policy
	// and priority.
	Routes []wire.Handler
}

// Miner serves one subnet's handler.
type Miner struct {
	o       Options
	handler wire.Handler
	axon    *wire.Axon
	watch   *metagraph.Watcher
	log     *slog.Logger
	refused *prometheus.CounterVec
	uids    prometheus.Gauge

	mu   sync.Mutex
	addr *net.TCPAddr
}

// New checks the options and builds the miner's axon; Run serves it.
func New(h wire.Handler, o Options) (*Miner, error) {
	if o.Hotkey == nil {
		return nil, errors.New("miner: no hotkey")
	}
	if o.Chain == nil {
		return nil, errors.New("miner: no chain client")
	}
	if err := o.Config.Validate(); err != nil {
		return nil, fmt.Errorf("miner: %w", err)
	}
	if o.Name == "" {
		o.Name = "subnet"
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	m := &Miner{o: o, handler: h, log: o.Logger.With("role", "miner", "netuid", o.Config.Netuid, "hotkey", o.Hotkey.Public().String())}
	set := prom.NewSet(prometheus.Labels{"subnet": o.Name})
	m.refused = set.CounterVec("tessera_miner_refused_total", "Requests the miner's blacklist refused, by reason.", "reason")
	m.uids = set.Gauge("tessera_miner_metagraph_uids", "Uids in the miner's latest metagraph.")
	if err := set.Register(o.Registerer); err != nil {
		return nil, fmt.Errorf("miner metrics: %w", err)
	}
	m.watch = &metagraph.Watcher{Chain: o.Chain, Netuid: o.Config.Netuid, Every: o.Config.EpochLength, Poll: o.Poll, Logger: m.log,
		OnSync: func(g *metagraph.Graph) { m.uids.Set(float64(g.Size())) }}
	axon, err := wire.NewAxon(o.Hotkey, wire.AxonConfig{
		Concurrency: o.Config.AxonConcurrency, MaxQueue: o.Config.AxonMaxQueue,
		Registerer: o.Registerer, Logger: o.Logger,
	})
	if err != nil {
		return nil, fmt.Errorf("miner: %w", err)
	}
	pol := Policy{RequirePermit: o.Config.ForceValidatorPermit, AllowNonRegistered: o.Config.AllowNonRegistered, MinStake: o.Config.MinStake}
	admit := wire.AttachOptions{
		Blacklist: func(_ context.Context, c *wire.Call) (bool, string) {
			r := Admit(m.watch.Current(), c.Hotkey, pol)
			if r.Kind != "" {
				if r.Kind == "not_registered" || r.Kind == "no_permit" {
					m.watch.Poke() // the caller may have registered or got a permit since the last sync
				}
				m.refused.WithLabelValues(r.Kind).Inc()
				m.log.Debug("caller refused", "caller", c.Hotkey, "reason", r.Reason)
			}
			return r.Kind != "", r.Reason
		},
		Priority: func(_ context.Context, c *wire.Call) float64 { return Priority(m.watch.Current(), c.Hotkey) },
	}
	for _, route := range append([]wire.Handler{h}, o.Routes...) {
		if err := axon.Attach("", route, admit); err != nil {
			return nil, fmt.Errorf("miner: %w", err)
		}
	}
	m.axon = axon
	return m, nil
}

// Addr returns the address the axon listens on once Run has started listening.
func (m *Miner) Addr() *net.TCPAddr {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.addr
}

// Run checks that the hotkey is registered, listens, announces the axon, and serves
// until ctx ends.
func (m *Miner) Run(ctx context.Context) error {
	cfg := m.o.Config
	g, err := m.watch.Sync(ctx)
	if err != nil {
		return fmt.Errorf("miner: %w", err)
	}
	me := m.o.Hotkey.Public().String()
	uid, ok := g.UID(me)
	if !ok {
		return fmt.Errorf("miner: hotkey %s is not registered on subnet %d: register it first (tessera subnet register --netuid %d --hotkey %s)", me, cfg.Netuid, cfg.Netuid, me)
	}
	l, err := net.Listen("tcp", net.JoinHostPort(cfg.AxonIP, strconv.Itoa(cfg.AxonPort)))
	if err != nil {
		return fmt.Errorf("miner: axon: %w", err)
	}
	addr := l.Addr().(*net.TCPAddr)
	m.mu.Lock()
	m.addr = addr
	m.mu.Unlock()
	ip, port := AnnounceAddr(cfg, addr)
	if err := m.announce(ctx, g, uid, ip, port); err != nil {
		l.Close()
		return err
	}
	m.log.Info("miner serving", "uid", uid, "listen", addr.String(), "announced", net.JoinHostPort(ip, strconv.Itoa(port)))
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		m.watch.Run(ctx)
	}()
	err = m.axon.Serve(ctx, l)
	wg.Wait()
	return err
}

// AnnounceAddr is the address a miner announces: the configured external address, else
// the listen address, with 127.0.0.1 for a wildcard listen address.
func AnnounceAddr(cfg subnet.Config, listen *net.TCPAddr) (string, int) {
	ip := cfg.AxonExternalIP
	if ip == "" {
		ip = listen.IP.String()
		if listen.IP == nil || listen.IP.IsUnspecified() {
			ip = "127.0.0.1"
		}
	}
	port := cfg.AxonExternalPort
	if port == 0 {
		port = listen.Port
	}
	return ip, port
}

func (m *Miner) announce(ctx context.Context, g *metagraph.Graph, uid uint16, ip string, port int) error {
	cur := g.Axons[uid]
	if cur.IP == ip && int(cur.Port) == port {
		m.log.Info("axon already announced on chain", "ip", ip, "port", port)
		return nil
	}
	msg, err := subnets.NewServeAxon(m.o.Config.Netuid, ip, uint16(port), uint32(wire.BittensorVersion))
	if err != nil {
		return fmt.Errorf("miner: serve_axon: %w", err)
	}
	v, err := m.o.Chain.Send(ctx, msg)
	if err != nil {
		return fmt.Errorf("miner: announcing the axon %s:%d on subnet %d failed: %w", ip, port, m.o.Config.Netuid, err)
	}
	m.log.Info("axon announced on chain", "ip", ip, "port", port, "tx", v.Hash, "block", v.Height)
	return nil
}

// Policy is a miner's blacklist policy.
type Policy struct {
	// RequirePermit refuses callers without a validator permit.
	RequirePermit bool
	// AllowNonRegistered admits callers that are not registered on the subnet.
	AllowNonRegistered bool
	// MinStake is the stake a registered caller needs.
	MinStake uint64
}

// Refusal is why a caller is refused: Kind labels the metric (not_registered,
// no_permit, low_stake, no_metagraph) and Reason is told to the caller. The zero value
// admits.
type Refusal struct {
	Kind   string // the metric label; "" admits
	Reason string // what the caller is told
}

// Admit decides whether a verified caller may be served under pol, given the latest
// metagraph (nil before the first sync: then only AllowNonRegistered admits).
func Admit(g *metagraph.Graph, hotkey string, pol Policy) Refusal {
	open := pol.AllowNonRegistered && !pol.RequirePermit && pol.MinStake == 0
	if g == nil {
		if open {
			return Refusal{}
		}
		return Refusal{"no_metagraph", "the miner has not read the metagraph yet"}
	}
	uid, ok := g.UID(hotkey)
	if !ok {
		if open {
			return Refusal{}
		}
		return Refusal{"not_registered", fmt.Sprintf("hotkey %s is not registered on subnet %d", hotkey, g.Netuid)}
	}
	if pol.RequirePermit && !g.ValidatorPermit[uid] {
		return Refusal{"no_permit", fmt.Sprintf("uid %d has no validator permit on subnet %d", uid, g.Netuid)}
	}
	if g.Stake[uid] < pol.MinStake {
		return Refusal{"low_stake", fmt.Sprintf("uid %d has stake %d, below the %d this miner requires", uid, g.Stake[uid], pol.MinStake)}
	}
	return Refusal{}
}

// Priority is a caller's priority: its stake in tokens (0 when unknown), so that
// validators with more stake are served first when requests wait.
func Priority(g *metagraph.Graph, hotkey string) float64 {
	if g == nil {
		return 0
	}
	uid, ok := g.UID(hotkey)
	if !ok {
		return 0
	}
	return float64(g.Stake[uid]) / 1e9
}
