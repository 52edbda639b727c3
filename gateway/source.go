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

// ChainSource reads miners from a subnet's metagraph on chain.
type ChainSource struct {
	Client Querier // the chain client (*client.Client)
	// Lite reads the lite metagraph, without weights: smaller, but with no validators'
	// scores, so that until the first epoch pays incentive miners rank by the gateway's
	// own record only.
	Lite bool
}

// Miners implements Source: every neuron serving an axon, with its incentive and the
// validators' score of it, except validators (a validator permit and dividends but no
// incentive).
func (s ChainSource) Miners(ctx context.Context, netuid uint16) ([]Miner, error) {
	var mg subnets.Metagraph
	path := fmt.Sprintf("/subnets/metagraph/%d", netuid)
	if s.Lite {
		path = fmt.Sprintf("/subnets/metagraph_lite/%d", netuid)
	}
	if _, err := s.Client.Query(ctx, path, 0, &mg); err != nil {
		return nil, fmt.Errorf("gateway: metagraph of subnet %d: %w", netuid, err)
	}
	return MinersFromMetagraph(&mg), nil
}

// MinersFromMetagraph picks the routable miners of a metagraph: neurons with an axon
// (IP and port), excluding validators (a permit and dividends, no incentive), each with
// its incentive and, when the metagraph has weights, ValidatorScores' score.
func MinersFromMetagraph(mg *subnets.Metagraph) []Miner {
	var out []Miner
	vs := ValidatorScores(mg)
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
			ValidatorScore: vs[uid]})
	}
	return out
}

// ValidatorScores is what the validators think of each uid before any epoch turns it
// into incentive: the mean, weighted by each validator's stake weight (equally when no
// validator has any), of the weight rows they set, each row normalised to sum to 1. A
// uid no validator weights is absent; so is every uid of a lite metagraph.
func ValidatorScores(mg *subnets.Metagraph) map[uint16]float64 {
	type row struct {
		stake, sum float64
		weights    [][2]uint16
	}
	var rows []row
	staked := false
	for i, ws := range mg.Weights {
		var sum float64
		for _, w := range ws {
			sum += float64(w[1])
		}
		if sum == 0 {
			continue
		}
		r := row{sum: sum, weights: ws}
		if i < len(mg.StakeWeight) {
			r.stake = float64(mg.StakeWeight[i])
		}
		staked = staked || r.stake > 0
		rows = append(rows, r)
	}
	scores := map[uint16]float64{}
	var total float64
	for _, r := range rows {
		if !staked {
			r.stake = 1
		}
		total += r.stake
		for _, w := range r.weights {
			scores[w[0]] += r.stake * float64(w[1]) / r.sum
		}
	}
	for uid := range scores {
		scores[uid] /= total
	}
	return scores
}

// StaticSource serves fixed miner lists, by subnet.
type StaticSource map[uint16][]Miner

// Miners implements Source.
func (s StaticSource) Miners(_ context.Context, netuid uint16) ([]Miner, error) {
	return slices.Clone(s[netuid]), nil
}
