package gateway

import (
	"context"
	"fmt"
	"slices"

	"github.com/tessera-net/tessera/client"
	"github.com/tessera-net/tessera/modules/subnets"
	"github.com/tessera-net/tessera/wire"
)

// Source tells the gateway which miners a subnet has.
type Source interface {
	// Miners lists the miners of subnet netuid that serve an axon.
	Miners(ctx context.Context, netuid uint16) ([]Miner, error)
}

// Querier is the part of *client.Client a ChainSource uses.
type Querier interface {
	Query(ctx context.Context, path string, height int64, out any) (int64, error)
}

var _ Querier = (*client.Client)(nil)

// ChainSource reads miners from a subnet's lite metagraph (no weights or bonds) and the
// chain's validator scores of them (/subnets/validator_scores: the stake-weighted view
// of the validators' weights, which exists before the first epoch pays incentive).
type ChainSource struct {
	Client Querier // the chain client (*client.Client)
}

// Miners implements Source: every neuron serving an axon, with its incentive and the
// validators' score of it, except validators (a validator permit and dividends but no
// incentive).
func (s ChainSource) Miners(ctx context.Context, netuid uint16) ([]Miner, error) {
	var mg subnets.Metagraph
	if _, err := s.Client.Query(ctx, fmt.Sprintf("/subnets/metagraph_lite/%d", netuid), 0, &mg); err != nil {
		return nil, fmt.Errorf("gateway: metagraph of subnet %d: %w", netuid, err)
	}
	var vs subnets.ValidatorScoresView
	if _, err := s.Client.Query(ctx, fmt.Sprintf("/subnets/validator_scores/%d", netuid), 0, &vs); err != nil {
		return nil, fmt.Errorf("gateway: validator scores of subnet %d: %w", netuid, err)
	}
	return MinersFromMetagraph(&mg, vs.Scores), nil
}

// MinersFromMetagraph picks the routable miners of a metagraph: neurons with an axon
// (IP and port), excluding validators (a permit and dividends, no incentive), each with
// its incentive and its validator score (scores by uid, u16; nil for none).
func MinersFromMetagraph(mg *subnets.Metagraph, scores []uint16) []Miner {
	var out []Miner
	at := func(xs []uint16, i int) uint16 {
		if i < len(xs) {
			return xs[i]
		}
		return 0
	}
	for i, ax := range mg.Axons {
		if ax.IP == "" || ax.Port == 0 || ax.IP == "0.0.0.0" {
			continue
		}
		hotkey := ax.Hotkey
		if i < len(mg.Hotkeys) && mg.Hotkeys[i] != "" {
			hotkey = mg.Hotkeys[i]
		}
		if hotkey == "" {
			continue
		}
		inc := at(mg.Incentive, i)
		if i < len(mg.ValidatorPermit) && mg.ValidatorPermit[i] && at(mg.Dividends, i) > 0 && inc == 0 {
			continue
		}
		uid := uint16(i)
		if i < len(mg.UIDs) {
			uid = mg.UIDs[i]
		}
		out = append(out, Miner{UID: uid, Axon: wire.AxonInfo{IP: ax.IP, Port: int(ax.Port), Hotkey: hotkey}, Incentive: float64(inc) / 65535,
			ValidatorScore: float64(at(scores, int(uid))) / 65535})
	}
	return out
}

// StaticSource serves fixed miner lists, by subnet.
type StaticSource map[uint16][]Miner

// Miners implements Source.
func (s StaticSource) Miners(_ context.Context, netuid uint16) ([]Miner, error) {
	return slices.Clone(s[netuid]), nil
}
