package apinode

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/tessera-net/tessera/keys"
	"github.com/tessera-net/tessera/modules/inference"
	"github.com/tessera-net/tessera/modules/subnets"
)

// view is what the API node last read of the chain, replaced whole at each poll.
type view struct {
	epoch inference.EpochView
	// registered: the subnet's registered hotkeys, each with its axon's URL ("" when it
	// serves none).
	registered map[inference.Account]string
	// eligible are the executors of each model of the group in force as the chain
	// checks them now (inference/eligible).
	eligible map[string]inference.EligibleView
	ok       bool // read at least once
}

func (v *view) height() uint64 { return v.epoch.Phase.Height }

// group is the group in force (nil before the first).
func (v *view) group() *inference.Group { return v.epoch.Current }

// duringPoC: a round is in progress (from its PoC start to its switch), when only the
// POC_SLOT nodes serve.
func (v *view) duringPoC() bool { return inference.DuringPoC(v.epoch.Round) }

// candidates are model's executors now: the chain's list when it was read, else
// inference.Eligible over the group in force with the round's slots.
func (v *view) candidates(model string) []inference.Candidate {
	if e, ok := v.eligible[model]; ok {
		return e.Candidates
	}
	g := v.group()
	if v.duringPoC() {
		return inference.Eligible(inference.WithSlots(g, v.epoch.Round), model, true)
	}
	return inference.Eligible(g, model, false)
}

// subgroup is model's subgroup in the group in force.
func (v *view) subgroup(model string) (*inference.Subgroup, bool) {
	g := v.group()
	if g == nil {
		return nil, false
	}
	for i := range g.Models {
		if g.Models[i].Model.ID == model {
			return &g.Models[i], true
		}
	}
	return nil, false
}

// url is a registered participant's API node URL.
func (v *view) url(a inference.Account) (string, bool) {
	u, ok := v.registered[a]
	return u, ok && u != ""
}

// refresh reads the epoch view and the subnet's neurons.
func (n *Node) refresh(ctx context.Context) (*view, error) {
	v := &view{registered: map[inference.Account]string{}, eligible: map[string]inference.EligibleView{}, ok: true}
	if err := n.cfg.Chain.Query(ctx, fmt.Sprintf("/inference/epoch/%d", n.cfg.Netuid), &v.epoch); err != nil {
		return nil, err
	}
	var mg subnets.Metagraph
	if err := n.cfg.Chain.Query(ctx, fmt.Sprintf("/subnets/metagraph_lite/%d", n.cfg.Netuid), &mg); err != nil {
		return nil, err
	}
	for i, h := range mg.Hotkeys {
		pub, err := keys.ParsePublicKey(h)
		if err != nil {
			continue
		}
		u := ""
		if i < len(mg.Axons) && mg.Axons[i].Port != 0 && mg.Axons[i].IP != "" {
			u = "http://" + joinHostPort(mg.Axons[i].IP, mg.Axons[i].Port)
		}
		v.registered[inference.Account(pub)] = u
	}
	if g := v.group(); g != nil {
		for _, sg := range g.Models {
			var e inference.EligibleView
			if err := n.cfg.Chain.Query(ctx, fmt.Sprintf("/inference/eligible/%d/%s", n.cfg.Netuid, sg.Model.ID), &e); err == nil {
				v.eligible[sg.Model.ID] = e
			}
		}
	}
	n.clock.observe(v.height(), n.now())
	n.view.Store(v)
	return v, nil
}

// current is the last view read.
func (n *Node) current() *view { return n.view.Load() }

// blockClock estimates the chain's block interval from the heights the polls read: an
// average over the height changes seen, each sample weighing 1/8. Nothing of the
// chain's state depends on it; it sizes how early a request waits for a PoC start.
type blockClock struct {
	mu       sync.Mutex
	height   uint64
	at       time.Time
	interval time.Duration // 0 until two heights were seen
}

func (c *blockClock) observe(h uint64, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.height != 0 && h > c.height {
		sample := now.Sub(c.at) / time.Duration(h-c.height)
		if c.interval == 0 {
			c.interval = sample
		} else {
			c.interval += (sample - c.interval) / 8
		}
	}
	if h != c.height {
		c.height, c.at = h, now
	}
}

func (c *blockClock) blockInterval() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.interval
}

// pocLead is how many blocks before a PoC start a start entry queued now may land after
// it: a view may be a poll old, the batch goes out within BatchEvery and lands in a
// block after that, so about 2 polls and a batch interval, in blocks, and the block it
// lands in. With no interval measured yet, 2.
func pocLead(interval, poll, batchEvery time.Duration) uint64 {
	if interval <= 0 {
		return 2
	}
	return uint64((2*poll+batchEvery+interval-1)/interval) + 1
}

// nearPoCStart reports whether a start queued at v may land after the next PoC start:
// the group in force serves, no round is under way, and the PoC start is within lead
// blocks.
func nearPoCStart(v *view, lead uint64) bool {
	next := v.epoch.Phase.NextPoC
	return v.group() != nil && !v.duringPoC() && next > v.height() && v.height()+lead >= next
}

// awaitRound holds a request that arrives within the lead of the next PoC start until
// a view shows the round, at most the lead and three blocks more. A start that lands
// after the PoC start is judged against the round's slots (during PoC only the POC_SLOT
// MLNodes serve), which the PoC-start block's hash draws and no one can know before:
// an executor drawn from the group alone might serve the request unrecorded.
func (n *Node) awaitRound(ctx context.Context, v *view) *view {
	interval := n.clock.blockInterval()
	lead := pocLead(interval, n.cfg.Poll, n.cfg.BatchEvery)
	if !nearPoCStart(v, lead) {
		return v
	}
	if interval <= 0 {
		interval = time.Second
	}
	next := v.epoch.Phase.NextPoC
	steps := int(time.Duration(lead+3) * interval / awaitStep) // by ticks: Config.Now may stand still
	t := time.NewTicker(awaitStep)
	defer t.Stop()
	for ; steps > 0 && v.height() < next && !v.duringPoC(); steps-- {
		select {
		case <-ctx.Done():
			return v
		case <-t.C:
		}
		v = n.current()
	}
	return v
}

// awaitStep is how often a held request looks at the node's view.
const awaitStep = 20 * time.Millisecond

// nearSwitch reports whether a start queued at v may land after the round's switch,
// within lead blocks, when the group it formed takes over: v shows that group.
func nearSwitch(v *view, lead uint64) bool {
	rd := v.epoch.Round
	return v.duringPoC() && rd.Formed && v.epoch.Upcoming != nil && rd.Switch > v.height() && v.height()+lead >= rd.Switch
}

// routable are model's executors for a start queued at v: the candidates now, and
// within lead blocks of the switch only those the next group also takes (a start that
// lands after it is judged against that group), unless that leaves none.
func routable(v *view, model string, lead uint64) []inference.Candidate {
	cands := v.candidates(model)
	if !nearSwitch(v, lead) {
		return cands
	}
	next := map[inference.Account]bool{}
	for _, c := range inference.Eligible(v.epoch.Upcoming, model, false) {
		next[c.Hotkey] = true
	}
	var both []inference.Candidate
	for _, c := range cands {
		if next[c.Hotkey] {
			both = append(both, c)
		}
	}
	if len(both) == 0 {
		return cands
	}
	return both
}
