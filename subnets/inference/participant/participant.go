// Package participant is the PoC side of an inference participant: it follows its
// subnet's epochs on chain, mines each PoC round on its MLNodes with the engine's
// integer forward pass (package poc), commits a Merkle root and count per MLNode, serves
// the proofs validators sample, and — when its hotkey has stake — judges every
// participant's sample and sends its verdict.
//
// The decisions are pure functions (Mine, Sample, Judge); Participant is the thin loop
// around them, with the chain and the other participants behind interfaces (Chain,
// Peers), so the devnet runs three participants in one process and the MLNode service
// (docs/inference.md) runs the same code over HTTP.
package participant

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/tessera-net/tessera/modules/inference"
	"github.com/tessera-net/tessera/modules/models"
	"github.com/tessera-net/tessera/poc"
	"github.com/tessera-net/tessera/tx"
)

// Chain is what a participant needs of a node: application queries (the JSON answers
// of the inference module) and sending messages signed by its hotkey — all submitted
// at once, returning once every one is committed, or with the first refusal.
type Chain interface {
	Query(ctx context.Context, path string, out any) error
	Send(ctx context.Context, msgs ...tx.Msg) error
}

// LeafRef names one leaf of a participant's commitments: an MLNode and the leaf's index
// in its tree.
type LeafRef struct {
	MLNode string `json:"mlnode"`
	Leaf   uint64 `json:"leaf"`
}

// Prover serves a participant's Merkle proofs for epoch's round, one per ref, each in
// poc.Proof's binary form; a leaf it cannot serve is nil.
type Prover interface {
	Proofs(ctx context.Context, epoch uint64, refs []LeafRef) ([][]byte, error)
}

// Peers finds a participant's prover.
type Peers interface {
	Prover(hotkey inference.Account) (Prover, bool)
}

// Directory is Peers for participants in one process (the devnet's).
type Directory struct {
	mu sync.Mutex
	m  map[inference.Account]Prover
}

// Add registers a participant's prover.
func (d *Directory) Add(hot inference.Account, p Prover) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.m == nil {
		d.m = map[inference.Account]Prover{}
	}
	d.m[hot] = p
}

// Prover implements Peers.
func (d *Directory) Prover(hot inference.Account) (Prover, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	p, ok := d.m[hot]
	return p, ok
}

// Config configures a participant.
type Config struct {
	Netuid uint16
	Hotkey inference.Account
	Chain  Chain
	Peers  Peers
	// Budget is how many nonces each MLNode tries per PoC round (0: 256). A GPU MLNode
	// mines until the window closes; the devnet's in-process nodes share two cores.
	Budget uint64
	// Threads for the forward pass (0: 1).
	Threads int
	// Forge, when positive, makes the participant a cheater: it commits Forge nonces it
	// never computed for each valid one (for the tests and the devnet's demonstration).
	Forge uint64
	// Poll is how often it reads the chain (0: 250 ms).
	Poll time.Duration
	Log  *slog.Logger
}

// Participant follows one hotkey's PoC rounds.
type Participant struct {
	cfg Config

	mu     sync.Mutex
	trees  map[uint64]map[string]*poc.Tree // epoch → MLNode → tree of valid nonces
	mined  map[uint64]bool
	judged map[uint64]bool
	cache  runnerCache
}

// New returns a participant.
func New(cfg Config) *Participant {
	if cfg.Budget == 0 {
		cfg.Budget = 256
	}
	if cfg.Threads <= 0 {
		cfg.Threads = 1
	}
	if cfg.Poll <= 0 {
		cfg.Poll = 250 * time.Millisecond
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	return &Participant{cfg: cfg, trees: map[uint64]map[string]*poc.Tree{}, mined: map[uint64]bool{}, judged: map[uint64]bool{}}
}

// Run follows the chain until ctx ends. A failed step is logged and retried at the next
// poll: the chain is the state, so nothing is lost.
func (p *Participant) Run(ctx context.Context) error {
	t := time.NewTicker(p.cfg.Poll)
	defer t.Stop()
	defer p.cache.close()
	for {
		if err := p.Step(ctx); err != nil && ctx.Err() == nil {
			p.cfg.Log.Warn("poc step", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// Step reads where the subnet stands and does what is due: mine the open round, or
// judge the round in validation.
func (p *Participant) Step(ctx context.Context) error {
	var v inference.EpochView
	if err := p.cfg.Chain.Query(ctx, fmt.Sprintf("/inference/epoch/%d", p.cfg.Netuid), &v); err != nil {
		return err
	}
	rd := v.Round
	if rd == nil || rd.Abandoned {
		return nil
	}
	h := v.Phase.Height
	switch {
	case !rd.Validated && h >= rd.PoCStart && h+1 < rd.ValidationStart && !p.done(p.mined, rd.Epoch):
		return p.mine(ctx, rd)
	case rd.Validated && !rd.Formed && h+1 < rd.Formation && !p.done(p.judged, rd.Epoch):
		return p.judge(ctx, rd)
	}
	return nil
}

func (p *Participant) done(m map[uint64]bool, epoch uint64) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return m[epoch]
}

func (p *Participant) mark(m map[uint64]bool, epoch uint64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	m[epoch] = true
	for e := range m {
		if e+2 < epoch {
			delete(m, e)
		}
	}
}

// mine computes the round's nonces on every MLNode of ours that mines (PRE_POC_SLOT),
// builds each tree and commits its root and count.
func (p *Participant) mine(ctx context.Context, rd *inference.Round) error {
	var me *inference.RosterMember
	for i := range rd.Roster {
		if rd.Roster[i].Hotkey == p.cfg.Hotkey {
			me = &rd.Roster[i]
		}
	}
	p.mark(p.mined, rd.Epoch)
	if me == nil {
		return nil
	}
	// Mine the nodes in turns of a chunk each, so that every node has nonces when the
	// window nears its end; stop at the budget or two blocks before validation starts.
	var miners []*nodeMiner
	for _, n := range me.Nodes {
		if n.Slot == poc.PoCSlot {
			p.cfg.Log.Info("poc: serving through PoC", "epoch", rd.Epoch, "mlnode", n.ID)
			continue
		}
		r, err := p.runner(rd, n.Models[0])
		if err != nil {
			return err
		}
		miners = append(miners, &nodeMiner{id: n.ID, r: r})
	}
	const chunk = 32
	for from := uint64(0); from < p.cfg.Budget && len(miners) > 0; from += chunk {
		count := min(chunk, p.cfg.Budget-from)
		for _, nm := range miners {
			nm.valid = append(nm.valid, Mine(nm.r, p.cfg.Hotkey, nm.id, from, count, rd.Params.PoCThreshold)...)
			nm.tried = from + count
		}
		if h, err := p.height(ctx); err != nil || h+2 >= rd.ValidationStart {
			break
		}
	}
	trees := map[string]*poc.Tree{}
	var msgs []tx.Msg
	for _, nm := range miners {
		leaves := nm.valid
		if p.cfg.Forge > 0 {
			leaves = Forge(nm.valid, nm.tried, p.cfg.Forge)
		}
		if len(leaves) == 0 {
			continue
		}
		t, err := poc.NewTree(leaves)
		if err != nil {
			return err
		}
		trees[nm.id] = t
		c := t.Commitment()
		m, err := inference.NewCommit(inference.Commit{Netuid: rd.Netuid, Epoch: rd.Epoch, MLNode: nm.id, Root: c.Root, Count: c.Count})
		if err != nil {
			return err
		}
		msgs = append(msgs, m)
		p.cfg.Log.Info("poc: mined", "epoch", rd.Epoch, "mlnode", nm.id, "tried", nm.tried, "valid", len(nm.valid), "committing", c.Count)
	}
	p.mu.Lock()
	p.trees[rd.Epoch] = trees // served from now on
	for e := range p.trees {
		if e+2 < rd.Epoch {
			delete(p.trees, e)
		}
	}
	p.mu.Unlock()
	if len(msgs) > 0 {
		if err := p.cfg.Chain.Send(ctx, msgs...); err != nil {
			return fmt.Errorf("commit: %w", err)
		}
	}
	return nil
}

// nodeMiner is one MLNode's mining in progress.
type nodeMiner struct {
	id    string
	r     *poc.Runner
	valid []uint64
	tried uint64
}

// height is the chain's latest height.
func (p *Participant) height(ctx context.Context) (uint64, error) {
	var v inference.EpochView
	err := p.cfg.Chain.Query(ctx, fmt.Sprintf("/inference/epoch/%d", p.cfg.Netuid), &v)
	return v.Phase.Height, err
}

// Mine runs nonces from, from+1, …, from+count−1 of one MLNode and returns the valid
// ones in ascending order: the leaves of its tree.
func Mine(r *poc.Runner, hot inference.Account, mlnode string, from, count, threshold uint64) []uint64 {
	nonces := make([]uint64, count)
	for i := range nonces {
		nonces[i] = from + uint64(i)
	}
	var valid []uint64
	for _, res := range r.Run(hot, mlnode, nonces) {
		if poc.Valid(res.Distance, threshold) {
			valid = append(valid, res.Nonce)
		}
	}
	return valid
}

// Forge is a cheater's leaves: the valid nonces and, for each, per nonces it never
// computed (numbered from tried on, so the list stays sorted and distinct).
func Forge(valid []uint64, tried, per uint64) []uint64 {
	out := append([]uint64(nil), valid...)
	for i := uint64(0); i < uint64(len(valid))*per; i++ {
		out = append(out, tried+i)
	}
	return out
}

// Proofs implements Prover: the proofs of the requested leaves of our trees.
func (p *Participant) Proofs(_ context.Context, epoch uint64, refs []LeafRef) ([][]byte, error) {
	p.mu.Lock()
	trees := p.trees[epoch]
	p.mu.Unlock()
	out := make([][]byte, len(refs))
	for i, ref := range refs {
		t := trees[ref.MLNode]
		if t == nil || ref.Leaf >= t.Count() {
			continue
		}
		pr, err := t.Proof(ref.Leaf)
		if err != nil {
			continue
		}
		if out[i], err = pr.MarshalBinary(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// judge samples, fetches, verifies and re-runs every rostered participant's nonces and
// sends the verdict. It judges only as a validator of the round.
func (p *Participant) judge(ctx context.Context, rd *inference.Round) error {
	p.mark(p.judged, rd.Epoch)
	isValidator := false
	for _, v := range rd.Validators {
		isValidator = isValidator || v.Hotkey == p.cfg.Hotkey
	}
	if !isValidator {
		return nil
	}
	var commits []inference.CommitmentView
	if err := p.cfg.Chain.Query(ctx, fmt.Sprintf("/inference/commitments/%d/%d", rd.Netuid, rd.Epoch), &commits); err != nil {
		return err
	}
	var js []inference.Judgement
	for i := range rd.Roster {
		m := &rd.Roster[i]
		plan := Sample(rd, m, commits, p.cfg.Hotkey)
		if plan.Total == 0 {
			continue
		}
		proofs, err := p.fetch(ctx, rd.Epoch, m.Hotkey, plan.Refs)
		if err != nil {
			p.cfg.Log.Warn("poc: proofs", "participant", m.Hotkey, "err", err)
		}
		failures, err := Judge(rd, m, plan, proofs, p.runner)
		if err != nil {
			return err
		}
		js = append(js, inference.Judgement{Participant: m.Hotkey[:], Sampled: uint32(len(plan.Refs)), Failures: uint32(failures)})
		p.cfg.Log.Info("poc: judged", "epoch", rd.Epoch, "participant", m.Hotkey, "sampled", len(plan.Refs), "failures", failures)
	}
	var msgs []tx.Msg
	for lo := 0; lo < len(js); lo += inference.MaxVerdicts {
		msg, err := inference.NewVerdict(inference.Verdict{Netuid: rd.Netuid, Epoch: rd.Epoch, Judgements: js[lo:min(lo+inference.MaxVerdicts, len(js))]})
		if err != nil {
			return err
		}
		msgs = append(msgs, msg)
	}
	if len(msgs) > 0 {
		if err := p.cfg.Chain.Send(ctx, msgs...); err != nil {
			return fmt.Errorf("verdict: %w", err)
		}
	}
	return nil
}

func (p *Participant) fetch(ctx context.Context, epoch uint64, hot inference.Account, refs []LeafRef) ([][]byte, error) {
	pr, ok := p.cfg.Peers.Prover(hot)
	if !ok {
		return make([][]byte, len(refs)), errors.New("no prover known for the participant: every sampled leaf fails")
	}
	out, err := pr.Proofs(ctx, epoch, refs)
	if err != nil || len(out) != len(refs) {
		return make([][]byte, len(refs)), fmt.Errorf("proofs: %v (%d of %d answered)", err, len(out), len(refs))
	}
	return out, nil
}

// Plan is a validator's sample of one participant: the participant's commitments in
// roster order (a node without one counts 0) and the sampled leaves.
type Plan struct {
	Commitments []poc.Commitment // by roster node
	Total       uint64
	Refs        []LeafRef
	nodes       []int // roster node of each ref
}

// Sample draws a validator's sample of participant m in round rd: poc.SampleIndices
// over the participant's commitments in roster order, min(rd.Params.ValidationSample, total) indices.
func Sample(rd *inference.Round, m *inference.RosterMember, commits []inference.CommitmentView, validator inference.Account) Plan {
	var pl Plan
	counts := make([]uint64, len(m.Nodes))
	pl.Commitments = make([]poc.Commitment, len(m.Nodes))
	for i, n := range m.Nodes {
		for _, c := range commits {
			if c.Participant == m.Hotkey && c.MLNode == n.ID {
				pl.Commitments[i] = poc.Commitment{Root: c.Root, Count: c.Count}
				counts[i] = c.Count
			}
		}
	}
	total, err := poc.Total(counts)
	if err != nil || total == 0 {
		return pl // counts are bounded on chain; an overflow cannot be committed
	}
	pl.Total = total
	for _, idx := range poc.SampleIndices(validator, rd.ValidationSeed, m.Hotkey, total, int(rd.Params.ValidationSample)) {
		node, leaf, err := poc.Locate(counts, idx)
		if err != nil {
			continue // cannot happen: idx < total
		}
		pl.Refs = append(pl.Refs, LeafRef{MLNode: m.Nodes[node].ID, Leaf: leaf})
		pl.nodes = append(pl.nodes, node)
	}
	return pl
}

// RunnerFor returns the PoC runner of a model in a round.
type RunnerFor func(rd *inference.Round, model string) (*poc.Runner, error)

// Judge counts the failures of a plan's leaves: a proof not served, one that does not
// verify against its node's commitment, or a re-run nonce that is not valid.
func Judge(rd *inference.Round, m *inference.RosterMember, pl Plan, proofs [][]byte, runner RunnerFor) (int, error) {
	failures := 0
	byModel := map[string][]poc.Input{}
	var order []string
	for i, ref := range pl.Refs {
		var pr poc.Proof
		if i >= len(proofs) || proofs[i] == nil || pr.UnmarshalBinary(proofs[i]) != nil || pl.Commitments[pl.nodes[i]].Verify(ref.Leaf, pr) != nil {
			failures++
			continue
		}
		model := m.Nodes[pl.nodes[i]].Models[0]
		if _, ok := byModel[model]; !ok {
			order = append(order, model)
		}
		byModel[model] = append(byModel[model], poc.Input{Participant: m.Hotkey, MLNode: ref.MLNode, Nonce: pr.Nonce})
	}
	for _, model := range order {
		r, err := runner(rd, model)
		if err != nil {
			return 0, err
		}
		for _, res := range r.Compute(byModel[model]) {
			if !poc.Valid(res.Distance, rd.Params.PoCThreshold) {
				failures++
			}
		}
	}
	return failures, nil
}

// runner returns the round's runner for a model, built once per round and model.
func (p *Participant) runner(rd *inference.Round, model string) (*poc.Runner, error) {
	spec, ok := rd.Model(model)
	if !ok {
		return nil, fmt.Errorf("round %d has no PoC model %s", rd.Epoch, model)
	}
	return p.cache.get(rd.Epoch, rd.PoCSeed, spec, p.cfg.Threads)
}

// DimsOf is a model's PoC shape as package poc takes it.
func DimsOf(m models.PoC) poc.Dims {
	return poc.Dims{Layers: int(m.Layers), Width: int(m.Width), Heads: int(m.Heads), KVHeads: int(m.KVHeads),
		FFN: int(m.FFN), Vocab: int(m.Vocab), SeqLen: int(m.SeqLen)}
}

// runnerCache keeps the runners of the latest rounds (a runner holds its random model).
type runnerCache struct {
	mu sync.Mutex
	m  map[runnerKey]*poc.Runner
}

type runnerKey struct {
	epoch uint64
	seed  inference.Hash
	dims  models.PoC
}

func (c *runnerCache) get(epoch uint64, seed inference.Hash, spec models.PoC, threads int) (*poc.Runner, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	k := runnerKey{epoch, seed, spec}
	if r := c.m[k]; r != nil {
		return r, nil
	}
	r, err := poc.NewRunner(DimsOf(spec), seed, threads)
	if err != nil {
		return nil, err
	}
	if c.m == nil {
		c.m = map[runnerKey]*poc.Runner{}
	}
	for old, or := range c.m {
		if old.epoch+1 < epoch {
			or.Close()
			delete(c.m, old)
		}
	}
	c.m[k] = r
	return r, nil
}

func (c *runnerCache) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, r := range c.m {
		r.Close()
		delete(c.m, k)
	}
}
