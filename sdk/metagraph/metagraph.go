// Package metagraph keeps a subnet's metagraph in step with the chain for the SDK's
// miner and validator runtimes: it fetches /subnets/metagraph_lite/N (every term but the weights and bonds), checks that the answer
// is consistent, indexes it by hotkey, and — as pure functions separate from the I/O —
// carries per-uid state (a validator's scores) across a resync: arrays grow when the
// subnet grows, shrink when it shrinks, and a uid whose hotkey changed (its neuron was
// replaced by a new registration) starts again from zero.
package metagraph

import (
	"context"
	"fmt"

	"github.com/tessera-net/tessera/client"
	"github.com/tessera-net/tessera/modules/subnets"
	"github.com/tessera-net/tessera/wire"
)

// Chain is what the package needs of a chain client (*client.Client has it).
type Chain interface {
	Query(ctx context.Context, path string, height int64, out any) (int64, error)
	Status(ctx context.Context) (*client.Status, error)
}

// Graph is one synced metagraph with an index by hotkey.
type Graph struct {
	*subnets.Metagraph
	byHotkey map[string]uint16
}

// Fetch reads the metagraph of netuid at the latest committed block and checks it; its
// Block is the height the answer was read at.
func Fetch(ctx context.Context, c Chain, netuid uint16) (*Graph, error) {
	var mg subnets.Metagraph
	height, err := c.Query(ctx, fmt.Sprintf("/subnets/metagraph_lite/%d", netuid), 0, &mg)
	if err != nil {
		return nil, fmt.Errorf("metagraph of subnet %d: %w", netuid, err)
	}
	if mg.Block == 0 {
		mg.Block = height
	}
	return New(&mg)
}

// New checks a metagraph (every per-uid array has N entries, uids are 0..N-1, hotkeys
// are unique) and indexes it.
func New(mg *subnets.Metagraph) (*Graph, error) {
	n := int(mg.N)
	for name, l := range map[string]int{
		"uids": len(mg.UIDs), "hotkeys": len(mg.Hotkeys), "coldkeys": len(mg.Coldkeys), "stake": len(mg.Stake),
		"validator_permit": len(mg.ValidatorPermit), "axons": len(mg.Axons), "last_update": len(mg.LastUpdate),
		"block_at_registration": len(mg.BlockAtRegistration), "incentive": len(mg.Incentive),
	} {
		if l != n {
			return nil, fmt.Errorf("metagraph of subnet %d is inconsistent: n = %d but %d %s", mg.Netuid, n, l, name)
		}
	}
	g := &Graph{Metagraph: mg, byHotkey: make(map[string]uint16, n)}
	for uid, h := range mg.Hotkeys {
		if int(mg.UIDs[uid]) != uid {
			return nil, fmt.Errorf("metagraph of subnet %d is inconsistent: entry %d has uid %d", mg.Netuid, uid, mg.UIDs[uid])
		}
		if prev, dup := g.byHotkey[h]; dup {
			return nil, fmt.Errorf("metagraph of subnet %d is inconsistent: hotkey %s holds uids %d and %d", mg.Netuid, h, prev, uid)
		}
		g.byHotkey[h] = uint16(uid)
	}
	return g, nil
}

// UID returns the uid of a hotkey (SS58), if it is registered.
func (g *Graph) UID(hotkey string) (uint16, bool) {
	uid, ok := g.byHotkey[hotkey]
	return uid, ok
}

// Size is the number of uids.
func (g *Graph) Size() int { return int(g.N) }

// Axon returns where uid serves, and false when it has announced no axon.
func (g *Graph) Axon(uid uint16) (wire.AxonInfo, bool) {
	if int(uid) >= g.Size() {
		return wire.AxonInfo{}, false
	}
	a := g.Axons[uid]
	if a.IP == "" || a.Port == 0 {
		return wire.AxonInfo{}, false
	}
	return wire.AxonInfo{IP: a.IP, Port: int(a.Port), Hotkey: g.Hotkeys[uid]}, true
}

// Limits returns the weight rules of the subnet as the weights package takes them.
func (g *Graph) Limits() (n, minAllowed int, maxWeightLimit uint16) {
	return g.Size(), int(g.Hyperparams.MinAllowedWeights), g.Hyperparams.MaxWeightLimit
}

// Resize carries scores kept for the hotkeys of an earlier metagraph (old, indexed by
// uid) over to a new one: the result has one entry per uid of now; a uid keeps its score
// only if the same hotkey still holds it, new uids start at zero, and uids past the new
// size are dropped. reset lists the uids whose hotkey changed (their score restarted).
// old and scores may differ in length (a state saved by an older version): a uid with
// no recorded hotkey keeps nothing.
func Resize(old []string, scores []float64, now []string) (out []float64, reset []uint16) {
	out = make([]float64, len(now))
	for uid, h := range now {
		switch {
		case uid < len(old) && old[uid] == h:
			if uid < len(scores) {
				out[uid] = scores[uid]
			}
		case uid < len(old) && old[uid] != "":
			reset = append(reset, uint16(uid))
		}
	}
	return out, reset
}
