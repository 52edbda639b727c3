package node

import (
	"encoding/json"
	"fmt"
	"net"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	cmtcfg "github.com/cometbft/cometbft/config"
	"github.com/cometbft/cometbft/p2p"
	cmttypes "github.com/cometbft/cometbft/types"
)

// TestnetOptions describe a multi-validator network on one machine.
type TestnetOptions struct {
	Dir        string // node k's home is Dir/node<k>
	Validators int
	ChainID    string
	Host       string // listen host, 127.0.0.1 by default
	BasePort   int    // node k uses BasePort+10k (p2p), +1 (RPC), +2 (API), +3 (metrics)
	BlockTime  time.Duration
	AppState   json.RawMessage
}

// TestnetNode describes one generated node.
type TestnetNode struct {
	Home string `json:"home"`
	ID   string `json:"node_id"`
	P2P  string `json:"p2p"`
	RPC  string `json:"rpc"`
	API  string `json:"api"`
	// Metrics is the node's Prometheus listener (off until enabled in config.toml).
	Metrics string `json:"metrics"`
	Power   int64  `json:"power"`
}

// PortsFor returns node k's ports in a testnet: p2p, RPC and API on host, and the
// metrics listener on 127.0.0.1 whatever host is, each node on its own ports.
func PortsFor(host string, base, k int) Ports {
	at := func(h string, off int) string { return net.JoinHostPort(h, strconv.Itoa(base+10*k+off)) }
	return Ports{P2P: at(host, 0), RPC: at(host, 1), API: at(host, 2), Metrics: at("127.0.0.1", 3)}
}

// WriteTestnet writes the homes of an N-validator network that share one genesis and
// know each other as persistent peers. Start node k with `tessera node start --home
// Dir/node<k>`.
func WriteTestnet(o TestnetOptions) ([]TestnetNode, error) {
	if o.Validators < 1 || o.Validators > 64 {
		return nil, fmt.Errorf("--validators must be between 1 and 64, not %d", o.Validators)
	}
	if o.Host == "" {
		o.Host = "127.0.0.1"
	}
	if o.BasePort <= 0 {
		o.BasePort = 26656
	}
	if o.BasePort+10*o.Validators > 65535 {
		return nil, fmt.Errorf("base port %d leaves no room for %d nodes", o.BasePort, o.Validators)
	}
	nodes := make([]TestnetNode, o.Validators)
	vals := make([]cmttypes.GenesisValidator, o.Validators)
	homes := make([]string, o.Validators)
	for k := range nodes {
		home := filepath.Join(o.Dir, fmt.Sprintf("node%d", k))
		ports := PortsFor(o.Host, o.BasePort, k)
		gv, id, err := InitHome(InitOptions{Home: home, Moniker: fmt.Sprintf("node%d", k), Ports: ports, BlockTime: o.BlockTime})
		if err != nil {
			return nil, fmt.Errorf("node%d: %w", k, err)
		}
		vals[k], homes[k] = gv, home
		nodes[k] = TestnetNode{Home: home, ID: string(id), P2P: ports.P2P, RPC: ports.RPC, API: ports.API, Metrics: ports.Metrics, Power: gv.Power}
	}
	if err := WriteGenesis(o.ChainID, vals, o.AppState, homes...); err != nil {
		return nil, err
	}
	// Each node dials the others; PEX stays off so that the network is exactly this.
	for k, n := range nodes {
		var peers []string
		for j, m := range nodes {
			if j != k {
				peers = append(peers, p2p.IDAddressString(p2p.ID(m.ID), m.P2P))
			}
		}
		c, err := LoadConfig(n.Home)
		if err != nil {
			return nil, err
		}
		c.P2P.PersistentPeers = strings.Join(peers, ",")
		c.P2P.PexReactor = false
		cmtcfg.WriteConfigFile(filepath.Join(n.Home, "config", "config.toml"), c)
	}
	return nodes, nil
}
