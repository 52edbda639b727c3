package keeper

import (
	"encoding/binary"
	"fmt"

	"github.com/fxamacker/cbor/v2"

	"github.com/tessera-net/tessera/internal/parallel"
	"github.com/tessera-net/tessera/module"
	"github.com/tessera-net/tessera/modules/subnets"

	"github.com/tessera-net/tessera/keys"
	"github.com/tessera-net/tessera/store"
	"github.com/tessera-net/tessera/tx"
)

var (
	prefixSubnet = []byte("sn/s/")  // netuid → subnets.Subnet
	prefixNeuron = []byte("sn/n/")  // netuid ‖ page (uid / 64) → subnets.NeuronPage: the records (identity) of 64 uids
	prefixWRow   = []byte("sn/wt/") // netuid ‖ uid → Row: the neuron's weights, if any
	prefixHotkey = []byte("sn/h/")  // netuid ‖ hotkey → uid
	prefixCommit = []byte("sn/c/")  // netuid ‖ hotkey → subnets.Commitment
	prefixWCmt   = []byte("sn/wc/") // netuid ‖ hotkey → subnets.WeightCommit
	prefixTerms  = []byte("sn/t/")  // netuid → the epoch terms of every uid, termsRow bytes each (raw, not CBOR)
	prefixBonds  = []byte("sn/b/")  // netuid ‖ uid → Row: the neuron's bonds, if any
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

// The epoch's terms of a subnet are one vector: termsRow bytes per uid, big-endian —
// flags (permit, active, has bonds, has weights), stake weight, consensus, incentive,
// dividends, validator trust (u16 each), emission (u64). A uid past its end has zero
// terms and no weights or bonds. The flags spare the epoch a read of every miner's absent
// weights and bonds.
const termsRow = 19

const (
	flagPermit  = 1 << 0
	flagActive  = 1 << 1
	flagBonds   = 1 << 2
	flagWeights = 1 << 3
)

func termsKey(netuid uint16) []byte { return module.Key(prefixTerms, u16(netuid)) }

// encodeTerms writes n's terms into row (len termsRow).
func encodeTerms(row []byte, n *subnets.Neuron) {
	var f byte
	if n.ValidatorPermit {
		f |= flagPermit
	}
	if n.Active {
		f |= flagActive
	}
	if len(n.Bonds) > 0 {
		f |= flagBonds
	}
	if len(n.Weights) > 0 {
		f |= flagWeights
	}
	row[0] = f
	binary.BigEndian.PutUint16(row[1:], n.StakeWeight)
	binary.BigEndian.PutUint16(row[3:], n.Consensus)
	binary.BigEndian.PutUint16(row[5:], n.Incentive)
	binary.BigEndian.PutUint16(row[7:], n.Dividends)
	binary.BigEndian.PutUint16(row[9:], n.ValidatorTrust)
	binary.BigEndian.PutUint64(row[11:], n.Emission)
}

// decodeTerms reads a row into n and returns its flags.
func decodeTerms(row []byte, n *subnets.Neuron) byte {
	f := row[0]
	n.ValidatorPermit, n.Active = f&flagPermit != 0, f&flagActive != 0
	n.StakeWeight = binary.BigEndian.Uint16(row[1:])
	n.Consensus = binary.BigEndian.Uint16(row[3:])
	n.Incentive = binary.BigEndian.Uint16(row[5:])
	n.Dividends = binary.BigEndian.Uint16(row[7:])
	n.ValidatorTrust = binary.BigEndian.Uint16(row[9:])
	n.Emission = binary.BigEndian.Uint64(row[11:])
	return f
}

// pageKey is the key of the page holding uid's record.
func pageKey(netuid, uid uint16) []byte {
	return module.Key(prefixNeuron, u16(netuid), u16(uid/subnets.NeuronsPerPage))
}

// getPage reads the page holding uid's record (all slots empty where none is stored).
func getPage(r store.Reader, netuid, uid uint16) (subnets.NeuronPage, error) {
	b, err := r.Get(pageKey(netuid, uid))
	if err != nil || b == nil {
		return subnets.NeuronPage{}, err
	}
	return decodePage(b, netuid, uid)
}

// decodePage decodes the stored page holding uid's record. A page that is one neuron
// record is state from before records were paged (one key per uid, the same key shape):
// the error says so, since only a fresh data directory mends it.
func decodePage(b []byte, netuid, uid uint16) (subnets.NeuronPage, error) {
	var p subnets.NeuronPage
	err := p.UnmarshalCBOR(b)
	switch {
	case err == nil:
		return p, nil
	case subnets.IsStoredForm(b):
		return p, fmt.Errorf("subnet %d, uid %d: the state holds a neuron record where a page of 64 is expected: it was written by an older tessera, which stored one record per uid, and this one cannot continue that state (there is no migration): start a new chain on a fresh data directory", netuid, uid)
	}
	return p, fmt.Errorf("subnet %d, uid %d: %w", netuid, uid, err)
}

// getNeuron reads a uid's record and, by the flags of its row in vec, its weights and bonds.
func getNeuron(r store.Reader, netuid, uid uint16, vec []byte) (*subnets.Neuron, error) {
	p, err := getPage(r, netuid, uid)
	if err != nil {
		return nil, err
	}
	rec := p[uid%subnets.NeuronsPerPage]
	if rec == nil {
		return nil, tx.Errorf(tx.CodeNotFound, "uid %d does not exist on subnet %d", uid, netuid)
	}
	var n subnets.Neuron
	if err := decodeStored(rec, &n); err != nil {
		return nil, fmt.Errorf("subnet %d, uid %d: %w", netuid, uid, err)
	}
	return &n, readRows(r, netuid, uid, vec, &n)
}

// putRecord stores a uid's record into its page.
func putRecord(kv store.KV, netuid, uid uint16, n *subnets.Neuron) error {
	p, err := getPage(kv, netuid, uid)
	if err != nil {
		return err
	}
	rec, err := n.MarshalCBOR()
	if err != nil {
		return err
	}
	p[uid%subnets.NeuronsPerPage] = rec
	b, err := p.MarshalCBOR()
	if err != nil {
		return err
	}
	return kv.Set(pageKey(netuid, uid), b)
}

// readRows fills n's terms from its row of vec and reads the weights and bonds its flags
// say it has.
func readRows(r store.Reader, netuid, uid uint16, vec []byte, n *subnets.Neuron) error {
	var f byte
	if off := int(uid) * termsRow; off+termsRow <= len(vec) {
		f = decodeTerms(vec[off:off+termsRow], n)
	}
	if f&flagWeights != 0 {
		if _, err := module.Get(r, module.Key(prefixWRow, u16(netuid), u16(uid)), &n.Weights); err != nil {
			return err
		}
	}
	if f&flagBonds != 0 {
		if _, err := module.Get(r, module.Key(prefixBonds, u16(netuid), u16(uid)), &n.Bonds); err != nil {
			return err
		}
	}
	return nil
}

// GetNeuron reads a uid of a subnet.
func GetNeuron(r store.Reader, netuid, uid uint16) (*subnets.Neuron, error) {
	vec, err := r.Get(termsKey(netuid))
	if err != nil {
		return nil, err
	}
	return getNeuron(r, netuid, uid, vec)
}

// putRow stores a weights or bonds row under key, deleting the key when the row is empty.
func putRow(kv store.KV, key []byte, row subnets.Row) error {
	if len(row) > 0 {
		b, err := row.MarshalCBOR() // its stored form, without the encoder's copies
		if err != nil {
			return err
		}
		return kv.Set(key, b)
	}
	if b, err := kv.Get(key); err != nil || b == nil {
		return err
	}
	return kv.Delete(key)
}

// putTermsRow writes uid's row of the terms vector if it changed (keepWeights: keep the
// stored has-weights flag, for a write that does not carry the weights).
func putTermsRow(kv store.KV, netuid, uid uint16, n *subnets.Neuron, keepWeights bool) error {
	vec, err := kv.Get(termsKey(netuid))
	if err != nil {
		return err
	}
	var row [termsRow]byte
	encodeTerms(row[:], n)
	off := int(uid) * termsRow
	if keepWeights {
		row[0] &^= flagWeights
		if off+termsRow <= len(vec) {
			row[0] |= vec[off] & flagWeights
		}
	}
	if off+termsRow <= len(vec) && string(vec[off:off+termsRow]) == string(row[:]) {
		return nil
	}
	if off+termsRow > len(vec) && row == [termsRow]byte{} {
		return nil // past the end reads as zero already
	}
	nv := make([]byte, max(len(vec), off+termsRow))
	copy(nv, vec)
	copy(nv[off:], row[:])
	return kv.Set(termsKey(netuid), nv)
}

// putNeuron stores a neuron: its record, weights, bonds and terms.
func putNeuron(kv store.KV, netuid, uid uint16, n *subnets.Neuron) error {
	if err := putRecord(kv, netuid, uid, n); err != nil {
		return err
	}
	if err := putRow(kv, module.Key(prefixWRow, u16(netuid), u16(uid)), n.Weights); err != nil {
		return err
	}
	if err := putRow(kv, module.Key(prefixBonds, u16(netuid), u16(uid)), n.Bonds); err != nil {
		return err
	}
	return putTermsRow(kv, netuid, uid, n, false)
}

// putNeuronTerms stores a neuron without touching its weights, which are kept under their
// own key: a validator's weights row (thousands of entries) would otherwise be rewritten,
// hashed and committed by every write of its record.
func putNeuronTerms(kv store.KV, netuid, uid uint16, n *subnets.Neuron) error {
	if err := putRecord(kv, netuid, uid, n); err != nil {
		return err
	}
	if err := putRow(kv, module.Key(prefixBonds, u16(netuid), u16(uid)), n.Bonds); err != nil {
		return err
	}
	return putTermsRow(kv, netuid, uid, n, true)
}

// putEpochTerms stores what an epoch changed on every neuron of a subnet: the terms
// vector, written once, and the bonds of every uid that has or had some (hadBonds). The
// records (identity) are not written: an epoch does not change them.
func putEpochTerms(kv store.KV, netuid uint16, neurons []*subnets.Neuron, hadBonds []bool) error {
	old, err := kv.Get(termsKey(netuid))
	if err != nil {
		return err
	}
	vec := make([]byte, max(len(old), len(neurons)*termsRow))
	copy(vec, old)
	for uid, n := range neurons {
		off := uid * termsRow
		w := vec[off] & flagWeights
		encodeTerms(vec[off:off+termsRow], n)
		vec[off] = vec[off]&^flagWeights | w
		if len(n.Bonds) > 0 || hadBonds[uid] {
			if err := putRow(kv, module.Key(prefixBonds, u16(netuid), u16(uint16(uid))), n.Bonds); err != nil {
				return err
			}
		}
	}
	return kv.Set(termsKey(netuid), vec)
}

// Neurons reads every uid of a subnet, indexed by uid. The records are read in one range
// scan over their pages (an epoch reads thousands: a scan costs a fraction of as many
// point reads, and a page holds 64), and so are the weights and the bonds, taken only for
// the uids whose flags say they have some (what readRows would read point by point).
func Neurons(r store.Reader, s *subnets.Subnet) ([]*subnets.Neuron, error) {
	vec, err := r.Get(termsKey(s.Netuid))
	if err != nil {
		return nil, err
	}
	out := make([]*subnets.Neuron, s.N)
	flags := make([]byte, s.N)
	var withWeights, withBonds int
	prefix := module.Key(prefixNeuron, u16(s.Netuid))
	all := make([]subnets.Neuron, s.N) // one allocation for every record
	err = r.Iterate(prefix, func(k, v []byte) (bool, error) {
		if len(k) != len(prefix)+2 {
			return false, fmt.Errorf("subnet %d: a neuron page key of %d bytes", s.Netuid, len(k))
		}
		first := int(binary.BigEndian.Uint16(k[len(prefix):])) * subnets.NeuronsPerPage
		if first >= int(s.N) {
			return false, nil // stale uids past N are not neurons (keys sort by uid)
		}
		p, err := decodePage(v, s.Netuid, uint16(first))
		if err != nil {
			return false, err
		}
		for i, rec := range p[:min(len(p), int(s.N)-first)] {
			if rec == nil {
				continue
			}
			uid, n := first+i, &all[first+i]
			if err := decodeStored(rec, n); err != nil {
				return false, fmt.Errorf("subnet %d, uid %d: %w", s.Netuid, uid, err)
			}
			if off := uid * termsRow; off+termsRow <= len(vec) {
				flags[uid] = decodeTerms(vec[off:off+termsRow], n)
			}
			if flags[uid]&flagWeights != 0 {
				withWeights++
			}
			if flags[uid]&flagBonds != 0 {
				withBonds++
			}
			out[uid] = n
		}
		return true, nil
	})
	if err != nil {
		return nil, err
	}
	for uid, n := range out {
		if n == nil {
			return nil, tx.Errorf(tx.CodeNotFound, "uid %d does not exist on subnet %d", uid, s.Netuid)
		}
	}
	var pending []pendingRow
	for _, rows := range []struct {
		prefix []byte
		flag   byte
		count  int
		row    func(*subnets.Neuron) *subnets.Row
	}{
		{prefixWRow, flagWeights, withWeights, func(n *subnets.Neuron) *subnets.Row { return &n.Weights }},
		{prefixBonds, flagBonds, withBonds, func(n *subnets.Neuron) *subnets.Row { return &n.Bonds }},
	} {
		if rows.count == 0 {
			continue
		}
		rp := module.Key(rows.prefix, u16(s.Netuid))
		if err := r.Iterate(rp, func(k, v []byte) (bool, error) {
			if len(k) != len(rp)+2 {
				return false, fmt.Errorf("subnet %d: a row key of %d bytes", s.Netuid, len(k))
			}
			uid := binary.BigEndian.Uint16(k[len(rp):])
			if uid >= s.N {
				return false, nil
			}
			if flags[uid]&rows.flag == 0 {
				return true, nil
			}
			pending = append(pending, pendingRow{v, uid, rows.row(out[uid])})
			return true, nil
		}); err != nil {
			return nil, err
		}
	}
	// The rows are decoded after the scans, on the machine's cores: the scans hand out the
	// tree's own value bytes, valid after them (store.Reader), and each row decodes into
	// its own neuron.
	errs := make([]error, len(pending))
	parallel.ForEach(len(pending), 16, func(i int) {
		p := pending[i]
		if err := decodeStored(p.v, p.into); err != nil {
			errs[i] = fmt.Errorf("subnet %d, uid %d: %w", s.Netuid, p.uid, err)
		}
	})
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// pendingRow is a weights or bonds row found by Neurons' scans, decoded after them.
type pendingRow struct {
	v    []byte
	uid  uint16
	into *subnets.Row
}

// decodeStored is tx.UnmarshalState for a neuron record or a row, straight to its decoder
// when it is in the stored form (subnets.IsStoredForm).
func decodeStored(v []byte, into cbor.Unmarshaler) error {
	if subnets.IsStoredForm(v) {
		return into.UnmarshalCBOR(v)
	}
	return tx.UnmarshalState(v, into)
}

// UIDOf returns the uid of a hotkey on a subnet.
func UIDOf(r store.Reader, netuid uint16, hotkey keys.PublicKey) (uint16, bool, error) {
	b, err := r.Get(module.Key(prefixHotkey, u16(netuid), hotkey[:]))
	if err != nil || b == nil {
		return 0, false, err
	}
	return binary.BigEndian.Uint16(b), true, nil
}
