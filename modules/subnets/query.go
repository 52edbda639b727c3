package subnets

import (
	"encoding/json"
	"strconv"
	"strings"

	"github.com/tessera-net/tessera/keys"
	"github.com/tessera-net/tessera/modules/stake"
	"github.com/tessera-net/tessera/store"
	"github.com/tessera-net/tessera/tx"
	"github.com/tessera-net/tessera/yuma"
	"github.com/tessera-net/tessera/yuma/yumajson"
)

// SubnetView answers subnet queries.
type SubnetView struct {
	Netuid         uint16      `json:"netuid"`
	Mechanism      string      `json:"mechanism"`
	Owner          string      `json:"owner"`
	OwnerHotkey    string      `json:"owner_hotkey"`
	CreatedAt      int64       `json:"created_at"`
	N              uint16      `json:"n"`
	Burn           uint64      `json:"burn,string"`
	Pending        uint64      `json:"pending_emission,string"`
	EmissionPerBlk uint64      `json:"emission_per_block,string"`
	LastEpochBlock uint64      `json:"last_epoch_block"`
	NextEpochBlock uint64      `json:"next_epoch_block"`
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

// Metagraph is every per-uid term of a subnet. Proportions are u16 (x/65535), stake and
// emission are in the smallest unit; Weights and Bonds are sparse rows of [uid, value].
type Metagraph struct {
	Netuid              uint16        `json:"netuid"`
	Block               int64         `json:"block"`
	N                   uint16        `json:"n"`
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

func rows(m []yuma.Entry) [][2]uint16 {
	out := make([][2]uint16, len(m))
	for i, e := range m {
		out[i] = [2]uint16{e.UID, e.Value}
	}
	return out
}

func parseNetuid(s string) (uint16, error) {
	v, err := strconv.ParseUint(s, 10, 16)
	if err != nil {
		return 0, tx.Errorf(tx.CodeInvalidMessage, "netuid %q is not a number from 0 to 65535", s)
	}
	return uint16(v), nil
}

// Query implements module.Module. Paths: "list", "params", "emission",
// "subnet/<netuid>", "hyperparams/<netuid>", "metagraph/<netuid>",
// "neuron/<netuid>/<uid>", "commitment/<netuid>/<hotkey>", "epoch_state/<netuid>".
func (m *Module) Query(r store.Reader, path string, _ []byte) (any, error) {
	parts := strings.Split(path, "/")
	p, err := GetParams(r)
	if err != nil {
		return nil, err
	}
	switch parts[0] {
	case "params":
		return p, nil
	case "list":
		ids, err := Netuids(r)
		if err != nil {
			return nil, err
		}
		out := []SubnetView{}
		for _, id := range ids {
			v, err := subnetView(r, p, id)
			if err != nil {
				return nil, err
			}
			out = append(out, *v)
		}
		return out, nil
	case "emission":
		ids, err := Netuids(r)
		if err != nil {
			return nil, err
		}
		shares, err := EmissionShares(r, p, ids)
		if err != nil {
			return nil, err
		}
		out := map[string]string{}
		for id, v := range shares {
			out[strconv.Itoa(int(id))] = strconv.FormatUint(v, 10)
		}
		return out, nil
	}
	if len(parts) < 2 {
		return nil, tx.Errorf(tx.CodeNotFound, "unknown subnets query %q", path)
	}
	netuid, err := parseNetuid(parts[1])
	if err != nil {
		return nil, err
	}
	s, err := GetSubnet(r, netuid)
	if err != nil {
		return nil, err
	}
	switch {
	case parts[0] == "subnet" && len(parts) == 2:
		return subnetView(r, p, netuid)
	case parts[0] == "hyperparams" && len(parts) == 2:
		return s.Hyper, nil
	case parts[0] == "metagraph" && len(parts) == 2:
		return metagraph(r, s)
	case parts[0] == "neuron" && len(parts) == 3:
		uid, err := strconv.ParseUint(parts[2], 10, 16)
		if err != nil {
			return nil, tx.Errorf(tx.CodeInvalidMessage, "uid %q is not a number", parts[2])
		}
		mg, err := metagraph(r, s)
		if err != nil {
			return nil, err
		}
		if int(uid) >= int(mg.N) {
			return nil, tx.Errorf(tx.CodeNotFound, "uid %d does not exist on subnet %d", uid, netuid)
		}
		return neuronView(mg, int(uid)), nil
	case parts[0] == "commitment" && len(parts) == 3:
		hot, err := keys.ParsePublicKey(parts[2])
		if err != nil {
			return nil, tx.Errorf(tx.CodeInvalidMessage, "%v", err)
		}
		c, ok, err := GetCommitment(r, netuid, hot)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, tx.Errorf(tx.CodeNotFound, "hotkey %s has no commitment on subnet %d", hot, netuid)
		}
		return c, nil
	case parts[0] == "epoch_state" && len(parts) == 2:
		return epochStateView(r, p, s)
	}
	return nil, tx.Errorf(tx.CodeNotFound, "unknown subnets query %q", path)
}

func subnetView(r store.Reader, p Params, netuid uint16) (*SubnetView, error) {
	s, err := GetSubnet(r, netuid)
	if err != nil {
		return nil, err
	}
	ids, err := Netuids(r)
	if err != nil {
		return nil, err
	}
	shares, err := EmissionShares(r, p, ids)
	if err != nil {
		return nil, err
	}
	v := &SubnetView{Netuid: s.Netuid, Mechanism: s.Mechanism, Owner: keys.PublicKey(s.Owner).String(), OwnerHotkey: keys.PublicKey(s.OwnerHotkey).String(),
		CreatedAt: s.CreatedAt, N: s.N, Burn: s.Burn, Pending: s.Pending, EmissionPerBlk: shares[netuid], LastEpochBlock: s.LastEpochBlock,
		Locked: s.Locked, Hyperparams: s.Hyper}
	if netuid == RootNetuid {
		v.Owner, v.OwnerHotkey = "", "" // root has no owner
	}
	if s.Hyper.Tempo > 0 && netuid != RootNetuid {
		// The next block b > last at which (b + netuid + 1) % (tempo + 1) == 0.
		period := uint64(s.Hyper.Tempo) + 1
		from := max(s.LastEpochBlock, uint64(max(s.CreatedAt, 0))) + 1
		v.NextEpochBlock = from + (period-(from+uint64(netuid)+1)%period)%period
	}
	return v, nil
}

func metagraph(r store.Reader, s *Subnet) (*Metagraph, error) {
	neurons, err := Neurons(r, s)
	if err != nil {
		return nil, err
	}
	n := len(neurons)
	mg := &Metagraph{Netuid: s.Netuid, N: s.N, Hyperparams: s.Hyper,
		UIDs: make([]uint16, n), Hotkeys: make([]string, n), Coldkeys: make([]string, n), Active: make([]bool, n),
		Stake: make([]uint64, n), StakeWeight: make([]uint16, n), LastUpdate: make([]uint64, n), BlockAtRegistration: make([]uint64, n),
		ValidatorPermit: make([]bool, n), Consensus: make([]uint16, n), Incentive: make([]uint16, n), Dividends: make([]uint16, n),
		ValidatorTrust: make([]uint16, n), Emission: make([]uint64, n), Axons: make([]AxonView, n),
		Weights: make([][][2]uint16, n), Bonds: make([][][2]uint16, n)}
	for uid, nr := range neurons {
		hot := keys.PublicKey(nr.Hotkey)
		mg.UIDs[uid] = uint16(uid)
		mg.Hotkeys[uid] = hot.String()
		mg.Coldkeys[uid] = keys.PublicKey(nr.Coldkey).String()
		if mg.Stake[uid], err = stake.TotalStake(r, hot); err != nil {
			return nil, err
		}
		mg.Active[uid], mg.StakeWeight[uid], mg.LastUpdate[uid], mg.BlockAtRegistration[uid] = nr.Active, nr.StakeWeight, nr.LastUpdate, nr.BlockAtRegistration
		mg.ValidatorPermit[uid], mg.Consensus[uid], mg.Incentive[uid], mg.Dividends[uid] = nr.ValidatorPermit, nr.Consensus, nr.Incentive, nr.Dividends
		mg.ValidatorTrust[uid], mg.Emission[uid] = nr.ValidatorTrust, nr.Emission
		mg.Axons[uid] = AxonView{Hotkey: mg.Hotkeys[uid], Coldkey: mg.Coldkeys[uid]}
		if a := nr.Axon; a != nil {
			mg.Axons[uid].IP, mg.Axons[uid].Port, mg.Axons[uid].Protocol, mg.Axons[uid].Version = a.IP, a.Port, a.Protocol, a.Version
		}
		mg.Weights[uid], mg.Bonds[uid] = rows(nr.Weights), rows(nr.Bonds)
	}
	return mg, nil
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

func neuronView(mg *Metagraph, uid int) NeuronView {
	return NeuronView{UID: uid, Hotkey: mg.Hotkeys[uid], Coldkey: mg.Coldkeys[uid], Active: mg.Active[uid], Stake: mg.Stake[uid],
		StakeWeight: mg.StakeWeight[uid], LastUpdate: mg.LastUpdate[uid], BlockAtRegistration: mg.BlockAtRegistration[uid],
		ValidatorPermit: mg.ValidatorPermit[uid], Consensus: mg.Consensus[uid], Incentive: mg.Incentive[uid], Dividends: mg.Dividends[uid],
		ValidatorTrust: mg.ValidatorTrust[uid], Emission: mg.Emission[uid], Axon: mg.Axons[uid], Weights: mg.Weights[uid], Bonds: mg.Bonds[uid]}
}

// epochStateView is the epoch state (research/yuma.md §9 JSON) that the subnet's epoch
// would see if it ran in the next block with no transaction in it: feed it to
// `tessera yuma simulate` to try hyperparameters on the live state.
func epochStateView(r store.Reader, p Params, s *Subnet) (json.RawMessage, error) {
	ids, err := Netuids(r)
	if err != nil {
		return nil, err
	}
	shares, err := EmissionShares(r, p, ids)
	if err != nil {
		return nil, err
	}
	pending := s.Pending + shares[s.Netuid]
	emission := pending - mulDiv(pending, uint64(p.OwnerCut), 65535)
	next := max(s.LastEpochBlock, uint64(max(s.CreatedAt, 0)))
	if h, ok := r.(interface{ Version() int64 }); ok {
		next = uint64(h.Version())
	}
	es, _, err := EpochState(r, s, next+1, emission)
	if err != nil {
		return nil, err
	}
	return yumajson.MarshalState(&yumajson.State{EpochState: *es, Sparse: true})
}
