package poc

import (
	"fmt"
	"math/bits"
)

// Slot is an MLNode's timeslot allocation for an epoch's PoC: what it does while PoC
// runs. Every MLNode serves inference before PoC (PRE_POC_SLOT); a node allocated
// POC_SLOT keeps serving through PoC instead of mining, and keeps its previous weight.
type Slot uint8

const (
	// PrePoCSlot (PRE_POC_SLOT): the node serves until PoC starts, then mines.
	PrePoCSlot Slot = iota
	// PoCSlot (POC_SLOT): the node keeps serving inference during PoC.
	PoCSlot
)

func (s Slot) String() string {
	switch s {
	case PrePoCSlot:
		return "PRE_POC_SLOT"
	case PoCSlot:
		return "POC_SLOT"
	}
	return fmt.Sprintf("Slot(%d)", uint8(s))
}

// MarshalText writes the slot's name (PRE_POC_SLOT, POC_SLOT): its JSON form. The
// chain's state (CBOR) keeps the number.
func (s Slot) MarshalText() ([]byte, error) {
	if s > PoCSlot {
		return nil, fmt.Errorf("poc: no slot %d", uint8(s))
	}
	return []byte(s.String()), nil
}

// UnmarshalText reads a slot's name.
func (s *Slot) UnmarshalText(b []byte) error {
	switch string(b) {
	case "PRE_POC_SLOT":
		*s = PrePoCSlot
	case "POC_SLOT":
		*s = PoCSlot
	default:
		return fmt.Errorf("poc: %.40q is not a slot (PRE_POC_SLOT or POC_SLOT)", b)
	}
	return nil
}

// DefaultMaxPreservedEpochs is how many epochs in a row an MLNode may keep serving
// through PoC by default: 1, so that every node's weight is proven by PoC at least
// every other epoch.
const DefaultMaxPreservedEpochs = 1

// UptimeNode is an MLNode as the uptime selection sees it.
type UptimeNode struct {
	ID    string
	Model string // the model it serves this epoch
	// Throughput is its expected throughput for the model (from its weight and the
	// model's throughput per nonce); a node with none is never chosen.
	Throughput uint64
	// PendingChange: its declared models change at the next formation; not chosen.
	PendingChange bool
	// Preserved is how many epochs in a row, up to this one, it has been allocated
	// POC_SLOT; at MaxPreservedEpochs or more it is not chosen.
	Preserved uint32
}

// UptimeMember is a participant: its weight (the sum over all models) and its MLNodes
// in the order they were added.
type UptimeMember struct {
	Weight uint64
	Nodes  []UptimeNode
}

// ModelThroughput is a model of the epoch and its total throughput over all its nodes.
type ModelThroughput struct {
	Model string
	Total uint64
}

// SelectUptime chooses which MLNodes keep serving inference through the coming PoC,
// as the chain's EndBlocker does right before the PoC stage. For each model in the
// order given, independently:
//
//  1. A node is eligible when it serves the model, has Throughput > 0, has no pending
//     model change, has Preserved < maxPreserved, and is not chosen yet.
//  2. The draws come from ChaCha8 keyed by
//     SHA-256("tessera/poc/uptime/v1" ‖ blockHash ‖ len(model) (4 bytes LE) ‖ model).
//  3. While the chosen nodes' throughput c (summed, saturating at 2^64−1) is below half
//     the model's Total (c < Total − ⌊Total/2⌋): the candidates are the members, in
//     order, with Weight > 0 and an eligible node; W is their weight sum; r is drawn
//     uniform in [0, W) by the package's rejection rule; the member chosen is the
//     first whose running weight sum exceeds r; its first eligible node, in the order
//     added, gets POC_SLOT. The loop ends early when there is no candidate.
//
// The result is one Slot per node, per member, in the input's order. The caller sets
// each node's next Preserved: Preserved+1 for POC_SLOT, 0 otherwise (NextPreserved).
// It fails if the members' weights add up to more than 2^64.
func SelectUptime(blockHash [32]byte, members []UptimeMember, models []ModelThroughput, maxPreserved uint32) ([][]Slot, error) {
	out := make([][]Slot, len(members))
	var total uint64
	for i, m := range members {
		out[i] = make([]Slot, len(m.Nodes))
		var c uint64
		if total, c = bits.Add64(total, m.Weight, 0); c != 0 {
			return nil, fmt.Errorf("%w: the members' weights add up to more than 2^64", ErrOverflow)
		}
	}
	eligible := func(i, k int, model string) bool {
		n := members[i].Nodes[k]
		return n.Model == model && n.Throughput > 0 && !n.PendingChange && n.Preserved < maxPreserved && out[i][k] != PoCSlot
	}
	// first eligible node of member i for the model, or −1
	first := func(i int, model string) int {
		for k := range members[i].Nodes {
			if eligible(i, k, model) {
				return k
			}
		}
		return -1
	}
	for _, mt := range models {
		s := newHasher(domainUptime).key(blockHash).str(mt.Model).stream()
		need := mt.Total - mt.Total/2 // ⌈Total/2⌉
		var covered uint64
		next := make([]int, len(members)) // member's first eligible node, or −1
		for covered < need {
			var W uint64
			for i, m := range members {
				next[i] = -1
				if m.Weight > 0 {
					if next[i] = first(i, mt.Model); next[i] >= 0 {
						W += m.Weight
					}
				}
			}
			if W == 0 {
				break
			}
			r := uniform(s, W)
			var run uint64
			for i, m := range members {
				if next[i] < 0 {
					continue
				}
				if run += m.Weight; run > r {
					out[i][next[i]] = PoCSlot
					t := members[i].Nodes[next[i]].Throughput
					if covered+t < covered {
						covered = ^uint64(0)
					} else {
						covered += t
					}
					break
				}
			}
		}
	}
	return out, nil
}

// NextPreserved is a node's Preserved count for the next epoch given this epoch's
// slot: one more after POC_SLOT, reset to 0 after PRE_POC_SLOT (it mined).
func NextPreserved(prev uint32, s Slot) uint32 {
	if s == PoCSlot {
		return prev + 1
	}
	return 0
}
