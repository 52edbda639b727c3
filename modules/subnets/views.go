package subnets

import (
	"math/bits"

	"github.com/tessera-net/tessera/internal/safemath"
	"github.com/tessera-net/tessera/keys"
	"github.com/tessera-net/tessera/yuma"
)

// SubnetView answers subnet queries.
type SubnetView struct {
	Netuid         uint16 `json:"netuid"`
	Mechanism      string `json:"mechanism"`
	Owner          string `json:"owner"`
	OwnerHotkey    string `json:"owner_hotkey"`
	CreatedAt      int64  `json:"created_at"`
	N              uint16 `json:"n"`
	Burn           uint64 `json:"burn,string"`
	Pending        uint64 `json:"pending_emission,string"`
	EmissionPerBlk uint64 `json:"emission_per_block,string"`
	LastEpochBlock uint64 `json:"last_epoch_block"`
	NextEpochBlock uint64 `json:"next_epoch_block"`
	// PendingEpochAt is the block an owner-triggered epoch fires at (0: none).
	PendingEpochAt uint64      `json:"pending_epoch_at,omitempty"`
	Locked         uint64      `json:"locked,string"`
	Hyperparams    Hyperparams `json:"hyperparams"`
}

// AxonView is a neuron's axon in the metagraph ("" IP when none is served).
type AxonView struct {
	IP       string `json:"ip"`
	Port     uint16 `json:"port"`
	Protocol uint8  `json:"protocol"`
	Version  uint32 `json:"version"`
	Hotkey   string `json:"hotkey"`
	Coldkey  string `json:"coldkey"`
}

// Metagraph is every per-uid term of a subnet at a block (the committed height the answer
// is from). Proportions are u16 (x/65535), stake and emission are in the smallest unit;
// Weights and Bonds are sparse rows of [uid, value], absent (null) in a lite metagraph.
type Metagraph struct {
	Netuid              uint16        `json:"netuid"`
	Block               int64         `json:"block"`
	N                   uint16        `json:"n"`
	Lite                bool          `json:"lite,omitempty"`
	UIDs                []uint16      `json:"uids"`
	Hotkeys             []string      `json:"hotkeys"`
	Coldkeys            []string      `json:"coldkeys"`
	Active              []bool        `json:"active"`
	Stake               []uint64      `json:"stake"`
	StakeWeight         []uint16      `json:"stake_weight"`
	LastUpdate          []uint64      `json:"last_update"`
	BlockAtRegistration []uint64      `json:"block_at_registration"`
	ValidatorPermit     []bool        `json:"validator_permit"`
	Consensus           []uint16      `json:"consensus"`
	Incentive           []uint16      `json:"incentive"`
	Dividends           []uint16      `json:"dividends"`
	ValidatorTrust      []uint16      `json:"validator_trust"`
	Emission            []uint64      `json:"emission"`
	Axons               []AxonView    `json:"axons"`
	Weights             [][][2]uint16 `json:"weights"`
	Bonds               [][][2]uint16 `json:"bonds"`
	Hyperparams         Hyperparams   `json:"hyperparams"`
}

// NeuronView is one uid of the metagraph.
type NeuronView struct {
	UID                 int         `json:"uid"`
	Hotkey              string      `json:"hotkey"`
	Coldkey             string      `json:"coldkey"`
	Active              bool        `json:"active"`
	Stake               uint64      `json:"stake,string"`
	StakeWeight         uint16      `json:"stake_weight"`
	LastUpdate          uint64      `json:"last_update"`
	BlockAtRegistration uint64      `json:"block_at_registration"`
	ValidatorPermit     bool        `json:"validator_permit"`
	Consensus           uint16      `json:"consensus"`
	Incentive           uint16      `json:"incentive"`
	Dividends           uint16      `json:"dividends"`
	ValidatorTrust      uint16      `json:"validator_trust"`
	Emission            uint64      `json:"emission,string"`
	Axon                AxonView    `json:"axon"`
	Weights             [][2]uint16 `json:"weights"`
	Bonds               [][2]uint16 `json:"bonds"`
}

// RegistrationView is one uid a hotkey holds, with its subnet: an answer of
// "registrations/<address>".
type RegistrationView struct {
	Netuid uint16 `json:"netuid"`
	NeuronView
}

func rows(m []yuma.Entry) [][2]uint16 {
	out := make([][2]uint16, len(m))
	for i, e := range m {
		out[i] = [2]uint16{e.UID, e.Value}
	}
	return out
}

func axonView(n *Neuron, hotkey, coldkey string) AxonView {
	v := AxonView{Hotkey: hotkey, Coldkey: coldkey}
	if a := n.Axon; a != nil {
		v.IP, v.Port, v.Protocol, v.Version = a.IP, a.Port, a.Protocol, a.Version
	}
	return v
}

// ViewNeuron renders one stored neuron, with the total stake on its hotkey.
func ViewNeuron(uid uint16, n *Neuron, stake uint64) NeuronView {
	hot, cold := keys.PublicKey(n.Hotkey).String(), keys.PublicKey(n.Coldkey).String()
	return NeuronView{UID: int(uid), Hotkey: hot, Coldkey: cold, Active: n.Active, Stake: stake,
		StakeWeight: n.StakeWeight, LastUpdate: n.LastUpdate, BlockAtRegistration: n.BlockAtRegistration,
		ValidatorPermit: n.ValidatorPermit, Consensus: n.Consensus, Incentive: n.Incentive, Dividends: n.Dividends,
		ValidatorTrust: n.ValidatorTrust, Emission: n.Emission, Axon: axonView(n, hot, cold),
		Weights: rows(n.Weights), Bonds: rows(n.Bonds)}
}

// NewMetagraph renders a subnet's neurons (by uid) and their stakes as the metagraph at
// block. A lite metagraph (Bittensor's lite=True) leaves out the weights and bonds, which
// are most of its size: what a miner, the SDK's sync and the gateway need is the rest.
func NewMetagraph(s *Subnet, block int64, neurons []*Neuron, stakes []uint64, lite bool) *Metagraph {
	n := len(neurons)
	mg := &Metagraph{Netuid: s.Netuid, Block: block, N: s.N, Lite: lite, Hyperparams: s.Hyper,
		UIDs: make([]uint16, n), Hotkeys: make([]string, n), Coldkeys: make([]string, n), Active: make([]bool, n),
		Stake: stakes, StakeWeight: make([]uint16, n), LastUpdate: make([]uint64, n), BlockAtRegistration: make([]uint64, n),
		ValidatorPermit: make([]bool, n), Consensus: make([]uint16, n), Incentive: make([]uint16, n), Dividends: make([]uint16, n),
		ValidatorTrust: make([]uint16, n), Emission: make([]uint64, n), Axons: make([]AxonView, n)}
	if !lite {
		mg.Weights, mg.Bonds = make([][][2]uint16, n), make([][][2]uint16, n)
	}
	for uid, nr := range neurons {
		mg.UIDs[uid] = uint16(uid)
		mg.Hotkeys[uid] = keys.PublicKey(nr.Hotkey).String()
		mg.Coldkeys[uid] = keys.PublicKey(nr.Coldkey).String()
		mg.Active[uid], mg.StakeWeight[uid], mg.LastUpdate[uid], mg.BlockAtRegistration[uid] = nr.Active, nr.StakeWeight, nr.LastUpdate, nr.BlockAtRegistration
		mg.ValidatorPermit[uid], mg.Consensus[uid], mg.Incentive[uid], mg.Dividends[uid] = nr.ValidatorPermit, nr.Consensus, nr.Incentive, nr.Dividends
		mg.ValidatorTrust[uid], mg.Emission[uid] = nr.ValidatorTrust, nr.Emission
		mg.Axons[uid] = axonView(nr, mg.Hotkeys[uid], mg.Coldkeys[uid])
		if !lite {
			mg.Weights[uid], mg.Bonds[uid] = rows(nr.Weights), rows(nr.Bonds)
		}
	}
	return mg
}

// ValidatorScoresView answers "validator_scores/<netuid>": by uid, what the subnet's
// validators think of each neuron now, before an epoch turns their weights into
// incentive (u16, x/65535).
type ValidatorScoresView struct {
	Netuid uint16   `json:"netuid"`
	Block  int64    `json:"block"`
	Scores []uint16 `json:"scores"`
}

// ValidatorScores is the stake-weighted mean of the weight rows of the neurons that may
// judge (those holding a validator permit; before the first epoch grants any, those
// with stake), each row normalised to sum to one and without the neuron's weight on
// itself, as u16 (x/65535) by uid. It is what a router can trust before incentive
// exists: a miner cannot raise its own score without stake. Integer arithmetic
// throughout; a uid nobody weights scores 0.
func ValidatorScores(neurons []*Neuron, stakes []uint64) []uint16 {
	permits := false
	for _, n := range neurons {
		permits = permits || n.ValidatorPermit
	}
	// acc[j] = Σ_i stake_i × w_ij / Σ_j w_ij, in 128 bits with the row share in 32-bit
	// fixed point (stake < 2^64, share ≤ 2^32, at most 4096 rows: < 2^108).
	acc := make([]safemath.U128, len(neurons))
	var total uint64
	for i, n := range neurons {
		if stakes[i] == 0 || (permits && !n.ValidatorPermit) {
			continue
		}
		var sum uint64
		for _, e := range n.Weights {
			if int(e.UID) != i && int(e.UID) < len(neurons) {
				sum += uint64(e.Value)
			}
		}
		if sum == 0 {
			continue
		}
		total += stakes[i]
		for _, e := range n.Weights {
			if int(e.UID) == i || int(e.UID) >= len(neurons) {
				continue
			}
			acc[e.UID] = acc[e.UID].Add(safemath.U128{Lo: stakes[i]}.Mul64(uint64(e.Value) << 32 / sum))
		}
	}
	out := make([]uint16, len(neurons))
	if total == 0 {
		return out
	}
	for j, a := range acc {
		share, _ := bits.Div64(a.Hi, a.Lo, total) // ≤ 2^32, so a.Hi < total
		out[j] = uint16(min(share*65535>>32, 65535))
	}
	return out
}
