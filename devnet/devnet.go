// Package devnet runs a whole local Tessera network in one process: a one-validator
// chain with the development accounts funded, and whatever the network's extensions add
// on top of it (subnets, miners, validators, a gateway). Its data go to a temporary
// directory unless a home is given.
package devnet

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	cmttypes "github.com/cometbft/cometbft/types"

	"github.com/tessera-net/tessera/client"
	"github.com/tessera-net/tessera/genesis"
	"github.com/tessera-net/tessera/keys"
	"github.com/tessera-net/tessera/node"
)

// ChainID is the devnet's chain id.
const ChainID = "tessera-devnet"

// Extension adds a part of the network to the devnet: Start runs once the chain is
// producing blocks. (The chain's modules are the registry's, package modules, as on
// every node: an extension brings processes and genesis, never a module of its own.) Start must return once the part is
// running; the part stops when ctx ends.
type Extension interface {
	Name() string
	// Genesis may add to the genesis app state before the chain starts.
	Genesis(state *genesis.AppState) error
	// Start starts the part.
	Start(ctx context.Context, d *Devnet) error
}

// Options configure a devnet.
type Options struct {
	// Home keeps the data there (and reuses them on the next run); "" uses a temporary
	// directory removed on exit.
	Home string
	// Host and BasePort place the listeners: p2p BasePort, RPC +1, API +2 (and the
	// faucet's +3, see FaucetOptions.Addr). BasePort 0 picks free ports.
	Host      string
	BasePort  int
	BlockTime time.Duration
	Logger    *slog.Logger
	// Subnet, when set, creates subnet 1 with this layout once the chain runs.
	Subnet *SubnetLayout
	// DTAO runs the chain with dynamic TAO (devnet/dtao.go, docs/dtao.md).
	DTAO bool
	// Extensions add parts of the network.
	Extensions []Extension
	// Faucet, when set, serves a faucet (FaucetPath) that funds any address from the
	// FaucetAccount, within its rate limits.
	Faucet *FaucetOptions
	// Explorer is the explorer's web page, served on the JSON API's address at / and
	// /explorer/ (nil: none); NoExplorer turns it off.
	Explorer   http.Handler
	NoExplorer bool
	// CORSOrigins are the origins a browser page elsewhere may call the JSON API from
	// ("*": any), as the node's api_cors_origins setting.
	CORSOrigins []string
}

// GatewayExtension is an Extension that runs a gateway: once it has started, the devnet
// tells the explorer (GET /v1/explorer/config) its URL.
type GatewayExtension interface {
	Extension
	GatewayURL() string
}

// Devnet is a running devnet.
type Devnet struct {
	Home     string
	Node     *node.Node
	Client   *client.Client
	Accounts []genesis.DevAccount
	Log      *slog.Logger

	tempHome bool
	dtao     bool    // Options.DTAO
	reused   bool    // the home held a chain already
	faucet   *faucet // nil without Options.Faucet
}

// FaucetURL is the faucet's address (http://host:port/v1/faucet), "" without one.
func (d *Devnet) FaucetURL() string {
	if d.faucet == nil {
		return ""
	}
	return d.faucet.url
}

// Start creates (or reopens) the devnet's home and starts the chain and its extensions.
func Start(ctx context.Context, o Options) (*Devnet, error) {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Host == "" {
		o.Host = "127.0.0.1"
	}
	if o.BlockTime <= 0 {
		o.BlockTime = time.Second
	}
	d := &Devnet{Home: o.Home, Log: o.Logger, dtao: o.DTAO}
	if d.Home == "" {
		dir, err := os.MkdirTemp("", "tessera-devnet-*")
		if err != nil {
			return nil, fmt.Errorf("temporary home: %w", err)
		}
		d.Home, d.tempHome = dir, true
	}
	var err error
	if d.Accounts, err = genesis.DevAccounts(); err != nil {
		return nil, err
	}
	if o.Subnet != nil {
		if err := d.addLayoutAccounts(*o.Subnet); err != nil {
			return nil, err
		}
	}
	if err := d.initHome(o); err != nil {
		d.cleanup()
		return nil, err
	}
	explorerOn := !o.NoExplorer
	n, err := node.New(node.Options{Home: d.Home, Logger: o.Logger, Explorer: o.Explorer, ExplorerEnabled: &explorerOn, CORSOrigins: o.CORSOrigins})
	if err != nil {
		d.cleanup()
		return nil, err
	}
	if err := n.Start(); err != nil {
		d.cleanup()
		if strings.Contains(err.Error(), "address already in use") {
			return nil, fmt.Errorf("%w\n(is another devnet or node running? stop it, or pick other ports with --base-port)", err)
		}
		return nil, err
	}
	d.Node, d.Client = n, client.New(n.Client())
	if err := d.WaitHeight(ctx, 1); err != nil {
		d.Stop()
		return nil, fmt.Errorf("devnet did not produce its first block: %w", err)
	}
	if o.Subnet != nil && !d.reused {
		if err := d.SetupSubnet(ctx, *o.Subnet); err != nil {
			d.Stop()
			return nil, fmt.Errorf("set up subnet %d: %w", o.Subnet.Netuid, err)
		}
	}
	go d.watchDTAO(ctx)
	if o.Faucet != nil {
		if err := d.startFaucet(*o.Faucet, o); err != nil {
			d.Stop()
			return nil, err
		}
	}
	for _, e := range o.Extensions {
		if err := e.Start(ctx, d); err != nil {
			d.Stop()
			return nil, fmt.Errorf("start %s: %w", e.Name(), err)
		}
		if g, ok := e.(GatewayExtension); ok && g.GatewayURL() != "" {
			n.SetGatewayURL(g.GatewayURL())
		}
	}
	return d, nil
}

func (d *Devnet) initHome(o Options) error {
	if _, err := os.Stat(filepath.Join(d.Home, "config", "genesis.json")); err == nil {
		d.Log.Info("reusing devnet home", "home", d.Home)
		d.reused = true
		return nil
	}
	ports, err := pickPorts(o.Host, o.BasePort)
	if err != nil {
		return err
	}
	gv, _, err := node.InitHome(node.InitOptions{Home: d.Home, Moniker: "devnet", Ports: ports, BlockTime: o.BlockTime})
	if err != nil {
		return err
	}
	var st genesis.AppState
	for _, a := range d.Accounts {
		st.Fund(a.Pair.Public(), genesis.DevBalance)
	}
	if o.Faucet != nil {
		p, err := faucetPair()
		if err != nil {
			return err
		}
		st.Fund(p.Public(), genesis.DevBalance)
	}
	if err := dtaoGenesis(&st, o.DTAO); err != nil {
		return err
	}
	if err := registrationLimitGenesis(&st, DevnetNetworkRateLimit); err != nil { // rate_limit.go
		return err
	}
	if err := authorsGenesis(&st, gv.PubKey.Bytes()); err != nil { // authors.go
		return err
	}
	for _, e := range o.Extensions {
		if err := e.Genesis(&st); err != nil {
			return fmt.Errorf("genesis of %s: %w", e.Name(), err)
		}
	}
	raw, err := json.Marshal(st)
	if err != nil {
		return err
	}
	return node.WriteGenesis(ChainID, []cmttypes.GenesisValidator{gv}, raw, d.Home)
}

// addLayoutAccounts derives the accounts a subnet layout names beyond the development
// accounts (//Validator3, //Miner4, …).
func (d *Devnet) addLayoutAccounts(l SubnetLayout) error {
	have := map[string]bool{}
	for _, a := range d.Accounts {
		have[a.Name] = true
	}
	for _, name := range l.Names() {
		if have[name] {
			continue
		}
		p, err := keys.FromURI("//" + name)
		if err != nil {
			return fmt.Errorf("derive //%s: %w", name, err)
		}
		d.Accounts = append(d.Accounts, genesis.DevAccount{Name: name, URI: "//" + name, Pair: p})
		have[name] = true
	}
	return nil
}

func faucetPair() (*keys.Pair, error) { return keys.FromURI("//" + FaucetAccount) }

// startFaucet starts the faucet on its listener.
func (d *Devnet) startFaucet(fo FaucetOptions, o Options) error {
	fo.defaults(o.Host, o.BasePort)
	p, err := faucetPair()
	if err != nil {
		return err
	}
	f := newFaucet(fo, d.Client, p, d.Log.With("part", "faucet"))
	if err := f.start(); err != nil {
		return err
	}
	d.faucet = f
	return nil
}

// pickPorts returns the ports at base, or free ports when base is 0.
func pickPorts(host string, base int) (node.Ports, error) {
	if base > 0 {
		return node.PortsFor(host, base, 0), nil
	}
	var addrs []string
	var lns []net.Listener
	defer func() {
		for _, l := range lns {
			l.Close()
		}
	}()
	for i := 0; i < 3; i++ {
		l, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
		if err != nil {
			return node.Ports{}, fmt.Errorf("find a free port on %s: %w", host, err)
		}
		lns = append(lns, l)
		addrs = append(addrs, net.JoinHostPort(host, strconv.Itoa(l.Addr().(*net.TCPAddr).Port)))
	}
	return node.Ports{P2P: addrs[0], RPC: addrs[1], API: addrs[2]}, nil
}

// WaitHeight waits until the application has committed height h, so that queries see
// that height's state.
func (d *Devnet) WaitHeight(ctx context.Context, h int64) error {
	for {
		got, err := d.Client.AppHeight(ctx)
		if err == nil && got >= h {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// Stop stops the chain and removes a temporary home.
func (d *Devnet) Stop() error {
	var err error
	if d.faucet != nil {
		d.faucet.stop()
	}
	if d.Node != nil {
		err = d.Node.Stop()
	}
	d.cleanup()
	return err
}

func (d *Devnet) cleanup() {
	if d.tempHome {
		if err := os.RemoveAll(d.Home); err != nil && !errors.Is(err, os.ErrNotExist) {
			d.Log.Warn("remove devnet home", "home", d.Home, "err", err)
		}
	}
}
