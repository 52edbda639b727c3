// Package participant is the PoC side of an inference participant: it follows its
// subnet's epochs on chain, mines each PoC round on its MLNodes with the engine's
// integer forward pass (package poc), commits a Merkle root and count per MLNode, serves
// the proofs validators sample, and — when its hotkey has stake — judges every
// participant's sample and sends its verdict.
//
// The decisions are pure functions (Jobs, Mine, Sample, Judge); Participant is the thin
// loop around them, with the chain, the other participants and the compute behind
// interfaces (Chain, Peers, Worker): the devnet runs three participants in one process
// on a LocalWorker, and the API node (package apinode) runs the same loop over its
// MLNodes' management API and the other API nodes' proof routes over HTTP.
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
	// Worker mines on the participant's MLNodes and re-runs other participants' nonces
	// (nil: a LocalWorker in this process, with Threads).
	Worker Worker
	// Budget is how many nonces each MLNode tries per PoC round (0: 256). A GPU MLNode
	// mines until the window closes; the devnet's in-process nodes share two cores.
	Budget uint64
	// Threads for the in-process forward pass (0: 1); unused with a Worker.
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
	cfg   Config
	local *LocalWorker // the worker when Config.Worker is nil

	mu     sync.Mutex
	mined  map[uint64]bool
	judged map[uint64]bool
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
	p := &Participant{cfg: cfg, mined: map[uint64]bool{}, judged: map[uint64]bool{}}
	if cfg.Worker == nil {
		p.local = NewLocalWorker(cfg.Threads)
		p.cfg.Worker = p.local
	}
	return p
}

// Run follows the chain until ctx ends. A failed step is logged and retried at the next
// poll: the chain is the state, so nothing is lost.
func (p *Participant) Run(ctx context.Context) error {
	t := time.NewTicker(p.cfg.Poll)
	defer t.Stop()
	if p.local != nil {
		defer p.local.Close()
	}
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
	return p.StepAt(ctx, &v)
}

// StepAt is Step over an epoch view already read (the API node reads it once a block
// for everything it drives).
func (p *Participant) StepAt(ctx context.Context, v *inference.EpochView) error {
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

// Jobs are the mining jobs of participant hot in round rd: one per rostered MLNode that
// mines (PRE_POC_SLOT; a POC_SLOT node keeps serving), on its first model, in roster
// order. A node whose model the round does not carry is skipped.
func Jobs(rd *inference.Round, hot inference.Account, budget, forge uint64) []MineJob {
	var jobs []MineJob
	for _, m := range rd.Roster {
		if m.Hotkey != hot {
			continue
		}
		for _, n := range m.Nodes {
			if n.Slot == poc.PoCSlot || len(n.Models) == 0 {
				continue
			}
			spec, ok := rd.Model(n.Models[0])
			if !ok {
				continue
			}
			jobs = append(jobs, MineJob{Epoch: rd.Epoch, Seed: rd.PoCSeed, Model: n.Models[0], PoC: spec,
				Threshold: rd.Params.PoCThreshold, Hotkey: hot, MLNode: n.ID, Budget: budget, Forge: forge})
		}
	}
	return jobs
}

// mine runs the round on every MLNode of ours that mines (PRE_POC_SLOT), all at once
// through the worker, each until its budget or two blocks before validation starts, and
// commits each node's root and count.
func (p *Participant) mine(ctx context.Context, rd *inference.Round) error {
	p.mark(p.mined, rd.Epoch)
	jobs := Jobs(rd, p.cfg.Hotkey, p.cfg.Budget, p.cfg.Forge)
	for _, m := range rd.Roster {
		if m.Hotkey != p.cfg.Hotkey {
			continue
		}
		for _, n := range m.Nodes {
			if n.Slot == poc.PoCSlot {
				p.cfg.Log.Info("poc: serving through PoC", "epoch", rd.Epoch, "mlnode", n.ID)
			}
		}
	}
	if len(jobs) == 0 {
		return nil
	}
	stop := func() bool {
		h, err := p.height(ctx)
		return err != nil || h+2 >= rd.ValidationStart
	}
	results := make([]Mined, len(jobs))
	errs := make([]error, len(jobs))
	var wg sync.WaitGroup
	for i := range jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i], errs[i] = p.cfg.Worker.Mine(ctx, jobs[i], stop)
		}()
	}
	wg.Wait()
	var msgs []tx.Msg
	var failed []error
	for i, job := range jobs {
		if errs[i] != nil {
			failed = append(failed, fmt.Errorf("mlnode %s: %w", job.MLNode, errs[i]))
			continue
		}
		c := results[i].Commitment
		p.cfg.Log.Info("poc: mined", "epoch", rd.Epoch, "mlnode", job.MLNode, "tried", results[i].Tried, "valid", results[i].Valid, "committing", c.Count)
		if c.Count == 0 {
			continue
		}
		m, err := inference.NewCommit(inference.Commit{Netuid: rd.Netuid, Epoch: rd.Epoch, MLNode: job.MLNode, Root: c.Root, Count: c.Count})
		if err != nil {
			return err
		}
		msgs = append(msgs, m)
	}
	if len(msgs) > 0 {
		if err := p.cfg.Chain.Send(ctx, msgs...); err != nil {
			return fmt.Errorf("commit: %w", err)
		}
	}
	return errors.Join(failed...)
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

// Proofs implements Prover: the proofs of the requested leaves of our MLNodes' trees,
// asked of the worker one MLNode at a time; a leaf it cannot serve is nil.
func (p *Participant) Proofs(ctx context.Context, epoch uint64, refs []LeafRef) ([][]byte, error) {
	out := make([][]byte, len(refs))
	var order []string
	byNode := map[string][]int{}
	for i, ref := range refs {
		if _, ok := byNode[ref.MLNode]; !ok {
			order = append(order, ref.MLNode)
		}
		byNode[ref.MLNode] = append(byNode[ref.MLNode], i)
	}
	for _, id := range order {
		idx := byNode[id]
		leaves := make([]uint64, len(idx))
		for j, i := range idx {
			leaves[j] = refs[i].Leaf
		}
		proofs, err := p.cfg.Worker.Proofs(ctx, epoch, id, leaves)
		if err != nil {
			p.cfg.Log.Warn("poc: proofs", "epoch", epoch, "mlnode", id, "err", err)
			continue // those leaves stay unserved
		}
		for j, i := range idx {
			if j < len(proofs) {
				out[i] = proofs[j]
			}
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
		failures, err := JudgeWith(ctx, rd, m, plan, proofs, p.cfg.Worker)
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

// Judge is JudgeWith re-running the nonces in process on the runners of runner.
func Judge(rd *inference.Round, m *inference.RosterMember, pl Plan, proofs [][]byte, runner RunnerFor) (int, error) {
	return JudgeWith(context.Background(), rd, m, pl, proofs, runnerChecker{rd: rd, runner: runner})
}

// JudgeWith counts the failures of a plan's leaves: a proof not served, one that does
// not verify against its node's commitment, or a re-run nonce that is not valid. The
// verified nonces are re-run through c, one NonceJob per MLNode in plan order.
func JudgeWith(ctx context.Context, rd *inference.Round, m *inference.RosterMember, pl Plan, proofs [][]byte, c Checker) (int, error) {
	failures := 0
	jobs := map[int]*NonceJob{} // by roster node
	var order []int
	for i, ref := range pl.Refs {
		var pr poc.Proof
		if i >= len(proofs) || proofs[i] == nil || pr.UnmarshalBinary(proofs[i]) != nil || pl.Commitments[pl.nodes[i]].Verify(ref.Leaf, pr) != nil {
			failures++
			continue
		}
		node := pl.nodes[i]
		j := jobs[node]
		if j == nil {
			model := m.Nodes[node].Models[0]
			spec, ok := rd.Model(model)
			if !ok {
				return 0, fmt.Errorf("round %d has no PoC model %s", rd.Epoch, model)
			}
			j = &NonceJob{Seed: rd.PoCSeed, Model: model, PoC: spec, Threshold: rd.Params.PoCThreshold, Hotkey: m.Hotkey, MLNode: ref.MLNode}
			jobs[node] = j
			order = append(order, node)
		}
		j.Nonces = append(j.Nonces, pr.Nonce)
	}
	for _, node := range order {
		j := jobs[node]
		valid, err := c.Validate(ctx, *j)
		if err != nil {
			return 0, fmt.Errorf("re-run %s/%s: %w", j.Hotkey, j.MLNode, err)
		}
		if len(valid) != len(j.Nonces) {
			return 0, fmt.Errorf("re-run %s/%s: %d answers for %d nonces", j.Hotkey, j.MLNode, len(valid), len(j.Nonces))
		}
		for _, ok := range valid {
			if !ok {
				failures++
			}
		}
	}
	return failures, nil
}

// runnerChecker is a Checker over a RunnerFor.
type runnerChecker struct {
	rd     *inference.Round
	runner RunnerFor
}

func (c runnerChecker) Validate(_ context.Context, j NonceJob) ([]bool, error) {
	r, err := c.runner(c.rd, j.Model)
	if err != nil {
		return nil, err
	}
	return checkNonces(r, j), nil
}

func checkNonces(r *poc.Runner, j NonceJob) []bool {
	ins := make([]poc.Input, len(j.Nonces))
	for i, n := range j.Nonces {
		ins[i] = poc.Input{Participant: j.Hotkey, MLNode: j.MLNode, Nonce: n}
	}
	out := make([]bool, len(ins))
	for i, res := range r.Compute(ins) {
		out[i] = poc.Valid(res.Distance, j.Threshold)
	}
	return out
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

// lookup returns the runner of (seed, spec) whatever its epoch, building it under the
// newest epoch cached when there is none.
func (c *runnerCache) lookup(seed inference.Hash, spec models.PoC, threads int) (*poc.Runner, error) {
	c.mu.Lock()
	var newest uint64
	for k, r := range c.m {
		if k.seed == seed && k.dims == spec {
			c.mu.Unlock()
			return r, nil
		}
		newest = max(newest, k.epoch)
	}
	c.mu.Unlock()
	return c.get(newest, seed, spec, threads)
}
