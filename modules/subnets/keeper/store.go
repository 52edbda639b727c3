package keeper

import (
	"encoding/binary"

	"github.com/tessera-net/tessera/module"
	"github.com/tessera-net/tessera/modules/subnets"

	"github.com/tessera-net/tessera/keys"
	"github.com/tessera-net/tessera/store"
	"github.com/tessera-net/tessera/tx"
)

var (
	prefixSubnet = []byte("sn/s/")  // netuid → subnets.Subnet
	prefixNeuron = []byte("sn/n/")  // netuid ‖ uid → subnets.Neuron (without its weights)
	prefixWRow   = []byte("sn/wt/") // netuid ‖ uid → Row: the neuron's weights, if any
	prefixHotkey = []byte("sn/h/")  // netuid ‖ hotkey → uid
	prefixCommit = []byte("sn/c/")  // netuid ‖ hotkey → subnets.Commitment
	prefixWCmt   = []byte("sn/wc/") // netuid ‖ hotkey → subnets.WeightCommit
	keyParams    = []byte("sn/params")
)

func u16(v uint16) []byte { return binary.BigEndian.AppendUint16(nil, v) }

// GetParams reads the module parameters.
func GetParams(r store.Reader) (subnets.Params, error) {
	p := subnets.DefaultParams()
	_, err := module.Get(r, keyParams, &p)
	return p, err
}

// GetSubnet reads a subnet.
func GetSubnet(r store.Reader, netuid uint16) (*subnets.Subnet, error) {
	var s subnets.Subnet
	ok, err := module.Get(r, module.Key(prefixSubnet, u16(netuid)), &s)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, tx.Errorf(tx.CodeNotFound, "subnet %d does not exist", netuid)
	}
	return &s, nil
}

func putSubnet(kv store.KV, s *subnets.Subnet) error {
	return module.Put(kv, module.Key(prefixSubnet, u16(s.Netuid)), s)
}

// Netuids lists the existing subnets in ascending order, root included.
func Netuids(r store.Reader) ([]uint16, error) {
	var out []uint16
	err := r.Iterate(prefixSubnet, func(key, _ []byte) (bool, error) {
		out = append(out, binary.BigEndian.Uint16(key[len(prefixSubnet):]))
		return true, nil
	})
	return out, err
}

// GetNeuron reads a uid of a subnet.
func GetNeuron(r store.Reader, netuid, uid uint16) (*subnets.Neuron, error) {
	var n subnets.Neuron
	ok, err := module.Get(r, module.Key(prefixNeuron, u16(netuid), u16(uid)), &n)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, tx.Errorf(tx.CodeNotFound, "uid %d does not exist on subnet %d", uid, netuid)
	}
	if _, err := module.Get(r, module.Key(prefixWRow, u16(netuid), u16(uid)), &n.Weights); err != nil {
		return nil, err
	}
	return &n, nil
}

// putNeuron stores a neuron and its weights.
func putNeuron(kv store.KV, netuid, uid uint16, n *subnets.Neuron) error {
	if err := putNeuronTerms(kv, netuid, uid, n); err != nil {
		return err
	}
	wk := module.Key(prefixWRow, u16(netuid), u16(uid))
	if len(n.Weights) > 0 {
		return module.Put(kv, wk, n.Weights)
	}
	if b, err := kv.Get(wk); err != nil || b == nil {
		return err
	}
	return kv.Delete(wk)
}

// putNeuronTerms stores a neuron without touching its weights, which are kept under their
// own key: an epoch rewrites every neuron's terms and bonds but no weights, and a
// validator's weights row (thousands of entries) would otherwise be rewritten, hashed and
// committed every epoch.
func putNeuronTerms(kv store.KV, netuid, uid uint16, n *subnets.Neuron) error {
	return module.Put(kv, module.Key(prefixNeuron, u16(netuid), u16(uid)), n)
}

// Neurons reads every uid of a subnet, indexed by uid.
func Neurons(r store.Reader, s *subnets.Subnet) ([]*subnets.Neuron, error) {
	out := make([]*subnets.Neuron, s.N)
	for uid := uint16(0); uid < s.N; uid++ {
		n, err := GetNeuron(r, s.Netuid, uid)
		if err != nil {
			return nil, err
		}
		out[uid] = n
	}
	return out, nil
}

// UIDOf returns the uid of a hotkey on a subnet.
func UIDOf(r store.Reader, netuid uint16, hotkey keys.PublicKey) (uint16, bool, error) {
	b, err := r.Get(module.Key(prefixHotkey, u16(netuid), hotkey[:]))
	if err != nil || b == nil {
		return 0, false, err
	}
	return binary.BigEndian.Uint16(b), true, nil
}
