package apinode

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/tessera-net/tessera/modules/inference"
	"github.com/tessera-net/tessera/modules/models"
	"github.com/tessera-net/tessera/subnets/inference/mlnode"
	"github.com/tessera-net/tessera/subnets/inference/signed"
	"github.com/tessera-net/tessera/tx"
)

// maxScan bounds the heights one validation step scans (a node catching up).
const maxScan = 64

// validator checks a sample of the other executors' finished inferences and votes on
// those in voting.
type validator struct {
	n       *Node
	running atomic.Bool
	checks  *Batcher[inference.Check]
	votes   *Batcher[inference.Check]

	mu      sync.Mutex
	seeds   map[uint64]inference.Hash // epoch → this validator's secret seed
	scanned uint64                    // the last height scanned
	results map[inference.Hash]bool   // id → this validator's check
	voted   map[inference.Hash]bool
	params  *models.Params
	// Checked and Sampled count the records checked and those the draw picked.
	checked, sampled, invalid uint64
}

func newValidator(n *Node) *validator {
	v := &validator{n: n, seeds: map[uint64]inference.Hash{}, results: map[inference.Hash]bool{}, voted: map[inference.Hash]bool{}}
	// A submission that failed on its way (not refused by the chain) is sent again: the
	// checks at the next flush, the votes at the next scan that finds their records
	// still in voting. An entry the chain took already is refused as a duplicate.
	v.checks = NewBatcher(CheckBatch, func(ctx context.Context, chunks [][]inference.Check) error {
		err := v.send(ctx, chunks, func(c []inference.Check) (tx.Msg, error) {
			return inference.NewValidate(inference.Validate{Netuid: n.cfg.Netuid, Entries: c})
		})
		if transient(ctx, err) {
			for _, c := range chunks {
				v.checks.Add(c...)
			}
		}
		return err
	})
	v.votes = NewBatcher(CheckBatch, func(ctx context.Context, chunks [][]inference.Check) error {
		err := v.send(ctx, chunks, func(c []inference.Check) (tx.Msg, error) {
			return inference.NewVote(inference.Vote{Netuid: n.cfg.Netuid, Entries: c})
		})
		if transient(ctx, err) {
			v.mu.Lock()
			for _, c := range chunks {
				for _, e := range c {
					delete(v.voted, e.ID)
				}
			}
			v.mu.Unlock()
		}
		return err
	})
	return v
}

func (v *validator) send(ctx context.Context, chunks [][]inference.Check, build func([]inference.Check) (tx.Msg, error)) error {
	msgs := make([]tx.Msg, 0, len(chunks))
	for _, c := range chunks {
		m, err := build(c)
		if err != nil {
			return err
		}
		msgs = append(msgs, m)
	}
	return v.n.cfg.Chain.Send(ctx, msgs...)
}

func (v *validator) flush(ctx context.Context) error {
	return errors.Join(v.checks.Flush(ctx), v.votes.Flush(ctx))
}

// seed is this validator's secret seed of an epoch: random, kept in memory, so that no
// executor can tell which of its inferences will be checked.
func (v *validator) seed(epoch uint64) inference.Hash {
	v.mu.Lock()
	defer v.mu.Unlock()
	s, ok := v.seeds[epoch]
	if !ok {
		_, _ = rand.Read(s[:])
		v.seeds[epoch] = s
		for e := range v.seeds {
			if e+2 < epoch {
				delete(v.seeds, e)
			}
		}
	}
	return s
}

// step starts a scan unless one is running (checks re-run models: they take a while).
func (v *validator) step(ctx context.Context, vw *view) error {
	if !v.running.CompareAndSwap(false, true) {
		return nil
	}
	go func() {
		defer v.running.Store(false)
		if err := v.scan(ctx, vw); err != nil && ctx.Err() == nil {
			v.n.cfg.Log.Warn("inference validation", "err", err)
		}
	}()
	return nil
}

// stakes are this validator's stake in group g and the total of its validators'.
func stakes(g *inference.Group, who inference.Account) (mine, total uint64, ok bool) {
	for _, val := range g.Validators {
		total += val.Stake
		if val.Hotkey == who {
			mine, ok = val.Stake, true
		}
	}
	return mine, total, ok
}

func stakeOf(g *inference.Group, who inference.Account) uint64 {
	for _, val := range g.Validators {
		if val.Hotkey == who {
			return val.Stake
		}
	}
	return 0
}

// scan checks the sampled records finished since the last scan and votes on the
// records in voting.
func (v *validator) scan(ctx context.Context, vw *view) error {
	n := v.n
	g := vw.group()
	if g == nil {
		return nil
	}
	mine, total, ok := stakes(g, n.self)
	if !ok {
		return nil // not a validator of the group in force
	}
	p, err := v.paramsOf(ctx)
	if err != nil {
		return err
	}
	h := vw.height()
	v.mu.Lock()
	from := v.scanned + 1
	if v.scanned == 0 || h > v.scanned+maxScan {
		from = h - min(h, uint64(maxScan))
	}
	v.mu.Unlock()
	seed := v.seed(g.Epoch)
	var errs []error
	for height := max(from, 1); height <= h; height++ {
		var recs []inference.RecordView
		if err := n.cfg.Chain.Query(ctx, fmt.Sprintf("/inference/finished/%d/%d", n.cfg.Netuid, height), &recs); err != nil {
			errs = append(errs, err)
			break
		}
		for i := range recs {
			rec := &recs[i]
			if rec.Executor == n.self || rec.Status != inference.StatusFinished {
				continue
			}
			var ex inference.ExecutorView
			if err := n.cfg.Chain.Query(ctx, fmt.Sprintf("/inference/executor/%d/%s", n.cfg.Netuid, rec.Executor), &ex); err != nil {
				ex = inference.ExecutorView{} // unknown: reputation 0, checked most
			}
			others := total - stakeOf(g, rec.Executor)
			if !inference.ShouldValidate(seed, rec.ID, ex.Reputation, mine, others, p) {
				continue
			}
			v.count(&v.sampled)
			valid, err := v.check(ctx, vw, rec)
			if err != nil {
				errs = append(errs, fmt.Errorf("record %x: %w", rec.ID[:8], err))
				continue
			}
			v.remember(rec.ID, valid)
			n.cfg.Log.Info("inference checked", "id", hex.EncodeToString(rec.ID[:]), "executor", rec.Executor, "valid", valid)
			v.checks.Add(inference.Check{ID: rec.ID, Valid: valid})
		}
		v.mu.Lock()
		v.scanned = height
		v.mu.Unlock()
	}
	var voting []inference.RecordView
	if err := n.cfg.Chain.Query(ctx, fmt.Sprintf("/inference/voting/%d", n.cfg.Netuid), &voting); err != nil {
		return errors.Join(append(errs, err)...)
	}
	for i := range voting {
		rec := &voting[i]
		if rec.Executor == n.self || v.hasVoted(rec) {
			continue
		}
		valid, ok := v.result(rec.ID)
		if !ok {
			var err error
			if valid, err = v.check(ctx, vw, rec); err != nil {
				errs = append(errs, fmt.Errorf("vote on %x: %w", rec.ID[:8], err))
				continue
			}
			v.remember(rec.ID, valid)
		}
		v.mu.Lock()
		v.voted[rec.ID] = true
		v.mu.Unlock()
		v.votes.Add(inference.Check{ID: rec.ID, Valid: valid})
	}
	return errors.Join(errs...)
}

func (v *validator) count(c *uint64) {
	v.mu.Lock()
	*c++
	v.mu.Unlock()
}

func (v *validator) hasVoted(rec *inference.RecordView) bool {
	if rec.Validator != nil && *rec.Validator == v.n.self {
		return true // the reporter's check counts as its vote
	}
	for _, vv := range rec.Votes {
		if vv.Validator == v.n.self {
			return true
		}
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.voted[rec.ID]
}

func (v *validator) remember(id inference.Hash, valid bool) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.checked++
	if !valid {
		v.invalid++
	}
	v.results[id] = valid
	if len(v.results) > 1<<16 { // bounded: forget the oldest half at random
		i := 0
		for k := range v.results {
			if i++; i > 1<<15 {
				break
			}
			delete(v.results, k)
		}
	}
}

func (v *validator) result(id inference.Hash) (bool, bool) {
	v.mu.Lock()
	defer v.mu.Unlock()
	r, ok := v.results[id]
	return r, ok
}

func (v *validator) paramsOf(ctx context.Context) (models.Params, error) {
	v.mu.Lock()
	p := v.params
	v.mu.Unlock()
	if p != nil {
		return *p, nil
	}
	var np models.Params
	if err := v.n.cfg.Chain.Query(ctx, "/models/params", &np); err != nil {
		return models.Params{}, err
	}
	v.mu.Lock()
	v.params = &np
	v.mu.Unlock()
	return np, nil
}

// errNoPayload is an executor that does not serve a payload it must keep: its
// inference counts as invalid.
var errNoPayload = errors.New("the executor serves no payload")

// check fetches rec's payload from its executor, checks it against the record's hashes
// and re-runs it on this participant's MLNode. A payload that cannot be had or does
// not match is invalid; an error is this side's (no MLNode answered) and decides nothing.
func (v *validator) check(ctx context.Context, vw *view, rec *inference.RecordView) (bool, error) {
	p, err := v.fetch(ctx, vw, rec)
	if err != nil {
		v.n.cfg.Log.Info("inference payload refused", "id", hex.EncodeToString(rec.ID[:]), "err", err)
		return false, nil
	}
	return Verify(ctx, rec, p, v.validateOn)
}

// validateOn asks this participant's MLNodes serving the model to re-check an
// inference, failing over from one to the next.
func (v *validator) validateOn(ctx context.Context, ic mlnode.InferenceCheck) (mlnode.CheckResult, error) {
	if sg, ok := v.n.current().subgroup(ic.Model); ok && ic.ThresholdPPM == 0 {
		ic.ThresholdPPM = uint64(sg.Model.ValidationThresholdPPM) // the epoch snapshot's threshold
	}
	var errs []error
	for _, m := range v.n.cfg.MLNodes {
		if !serves(m, ic.Model) {
			continue
		}
		r, err := m.Client.Validate(ctx, ic)
		if err == nil {
			return r, nil
		}
		errs = append(errs, fmt.Errorf("mlnode %s: %w", m.ID, err))
	}
	if len(errs) == 0 {
		return mlnode.CheckResult{}, fmt.Errorf("no mlnode of this validator serves model %s", ic.Model)
	}
	return mlnode.CheckResult{}, errors.Join(errs...)
}

// Verify is a validator's check of a payload against its record: the body's and the
// response's SHA-256 must be the record's, the body as run is rebuilt from the signed
// body and the seed (RunBody), and the re-run (validate: an MLNode's
// inference/validate) decides.
func Verify(ctx context.Context, rec *inference.RecordView, p *Payload, validate func(context.Context, mlnode.InferenceCheck) (mlnode.CheckResult, error)) (bool, error) {
	if p.ID != rec.ID || inference.Hash(sha256.Sum256(p.Body)) != rec.BodyHash || inference.Hash(sha256.Sum256(p.Response)) != rec.ResponseHash {
		return false, nil
	}
	run, err := RunBody(rec.Path, p.Body, p.Seed)
	if err != nil {
		return false, nil
	}
	var parsed struct {
		Usage *Usage `json:"usage"`
	}
	if json.Unmarshal(p.Response, &parsed) != nil || parsed.Usage == nil ||
		parsed.Usage.PromptTokens != rec.PromptTokens || parsed.Usage.CompletionTokens != rec.CompletionTokens {
		return false, nil // the tokens billed are not the answer's
	}
	r, err := validate(ctx, mlnode.InferenceCheck{Model: rec.Model, Path: rec.Path, Request: run, Response: p.Response})
	if err != nil {
		return false, err
	}
	return r.Valid, nil
}

// fetch is GET {executor's API node}/v1/inferences/{id}/payload, signed.
func (v *validator) fetch(ctx context.Context, vw *view, rec *inference.RecordView) (*Payload, error) {
	if rec.Executor == v.n.self {
		if p, ok := v.n.payload.get(rec.ID); ok {
			return p, nil
		}
		return nil, errNoPayload
	}
	u, ok := vw.url(rec.Executor)
	if !ok {
		return nil, fmt.Errorf("executor %s serves no API node on chain", rec.Executor)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(u, "/")+PathInferences+hex.EncodeToString(rec.ID[:])+"/payload", nil)
	if err != nil {
		return nil, err
	}
	signed.SignRequest(req, nil, v.n.cfg.Key, v.n.now())
	resp, err := v.n.cfg.HTTP.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 2*maxResponse+(8<<20)))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, mlnode.ErrorOf(resp.StatusCode, data)
	}
	var p Payload
	if err := json.Unmarshal(data, &p); err != nil {
		return nil, fmt.Errorf("the payload is not JSON: %v", err)
	}
	return &p, nil
}
