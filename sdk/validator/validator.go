// Package validator is the SDK's validator runtime. Given a subnet Definition it runs
// rounds: it keeps the metagraph in step with the chain (resizing its scores when the
// subnet grows or shrinks and restarting a uid's score when its hotkey changes), samples
// miners that serve an axon, fans the round's query out to them with a timeout, scores
// the answers with the subnet's function, keeps moving-average scores, and turns them
// into weights within the chain's limits, set as soon as the rate limit allows, with
// the chain's reason logged when it refuses. Its state is saved after every round and
// resumed on start.
package validator

import (
	"context"
	crand "crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"reflect"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tessera-net/tessera/client"
	"github.com/tessera-net/tessera/internal/prom"
	"github.com/tessera-net/tessera/keys"
	"github.com/tessera-net/tessera/modules/subnets"
	"github.com/tessera-net/tessera/sdk/metagraph"
	"github.com/tessera-net/tessera/sdk/subnet"
	"github.com/tessera-net/tessera/sdk/weights"
	"github.com/tessera-net/tessera/tx"
	"github.com/tessera-net/tessera/wire"
)

// Chain is what a validator needs of the chain (subnet.Chain; subnet.ClientChain has it).
type Chain = subnet.Chain

// Options configure a Validator.
type Options struct {
	// Config holds the netuid, sample size, timeout, α, epoch length, step interval and
	// state directory (required: resolve the default with Config.ResolveStateDir).
	Config subnet.Config
	// Hotkey signs the queries and the weights.
	Hotkey *keys.Pair
	// Chain reads the metagraph and sends set_weights.
	Chain Chain
	// Dendrite sends the queries (one is made from Hotkey when nil).
	Dendrite *wire.Dendrite
	// Registerer receives the validator's and its dendrite's metrics (none when nil).
	Registerer prometheus.Registerer
	// Logger receives the validator's logs (discarded when nil).
	Logger *slog.Logger
}

// Validator runs a subnet's validation loop.
type Validator[P wire.Synapse] struct {
	def  *subnet.Definition[P]
	o    Options
	cfg  subnet.Config
	dend *wire.Dendrite
	log  *slog.Logger
	met  *metrics
	seed uint64
	me   string

	mu    sync.Mutex // guards st for Snapshot
	st    State
	graph *metagraph.Graph
	owner string // the subnet owner's hotkey, which may set weights without a permit
	// why is the last reason weights were not set, logged once per change.
	why string
}

// New checks the definition and options.
func New[P wire.Synapse](def *subnet.Definition[P], o Options) (*Validator[P], error) {
	if err := def.Check(); err != nil {
		return nil, fmt.Errorf("validator: %w", err)
	}
	if o.Hotkey == nil {
		return nil, errors.New("validator: no hotkey")
	}
	if o.Chain == nil {
		return nil, errors.New("validator: no chain client")
	}
	if err := o.Config.Validate(); err != nil {
		return nil, fmt.Errorf("validator: %w", err)
	}
	if o.Config.StateDir == "" {
		return nil, errors.New("validator: no state directory")
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	v := &Validator[P]{def: def, o: o, cfg: o.Config, me: o.Hotkey.Public().String()}
	v.log = o.Logger.With("role", "validator", "subnet", def.Name, "netuid", o.Config.Netuid)
	var err error
	if v.met, err = newMetrics(def.Name, o.Registerer); err != nil {
		return nil, fmt.Errorf("validator metrics: %w", err)
	}
	v.dend = o.Dendrite
	if v.dend == nil {
		if v.dend, err = wire.NewDendrite(o.Hotkey, wire.DendriteConfig{Registerer: o.Registerer, Logger: o.Logger}); err != nil {
			return nil, fmt.Errorf("validator: %w", err)
		}
	}
	var b [8]byte
	crand.Read(b[:])
	v.seed = binary.LittleEndian.Uint64(b[:])
	return v, nil
}

// Snapshot returns a copy of the validator's state.
func (v *Validator[P]) Snapshot() State {
	v.mu.Lock()
	defer v.mu.Unlock()
	s := v.st
	s.Hotkeys, s.Scores = slices.Clone(s.Hotkeys), slices.Clone(s.Scores)
	return s
}

// Run resumes the saved state, then runs rounds until ctx ends. It returns nil when ctx
// ends, and an error only for what it cannot go on without (the state, the hotkey's
// registration).
func (v *Validator[P]) Run(ctx context.Context) error {
	defer v.dend.Close()
	if err := v.resume(); err != nil {
		return err
	}
	for ctx.Err() == nil {
		height, err := v.height(ctx)
		if err != nil {
			v.log.Warn("cannot read the chain's height; retrying", "err", err)
			sleep(ctx, time.Duration(v.cfg.StepInterval)+time.Second)
			continue
		}
		if err := v.sync(ctx, height, false); err != nil {
			if ctx.Err() != nil {
				break
			}
			if v.graph == nil {
				v.log.Warn("no metagraph yet; retrying", "err", err)
				sleep(ctx, time.Second)
				continue
			}
			v.log.Warn("metagraph sync failed; going on with the previous one", "err", err)
		}
		if _, ok := v.graph.UID(v.me); !ok {
			return fmt.Errorf("validator: hotkey %s is not registered on subnet %d (it may have been replaced): register it again", v.me, v.cfg.Netuid)
		}
		v.round(ctx, height)
		if ctx.Err() != nil {
			break
		}
		v.maybeSetWeights(ctx)
		sleep(ctx, time.Duration(v.cfg.StepInterval))
	}
	v.log.Info("validator stopped", "step", v.st.Step)
	return nil
}

func sleep(ctx context.Context, d time.Duration) {
	if d <= 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

func (v *Validator[P]) height(ctx context.Context) (int64, error) {
	s, err := v.o.Chain.Status(ctx)
	if err != nil {
		return 0, err
	}
	return s.Height, nil
}

// resume loads the saved state, or starts afresh when there is none.
func (v *Validator[P]) resume() error {
	st, ok, err := LoadState(v.cfg.StateDir)
	if err != nil {
		return err
	}
	if !ok {
		v.mu.Lock()
		v.st = State{Version: StateVersion, Netuid: v.cfg.Netuid, Hotkey: v.me}
		v.mu.Unlock()
		v.log.Info("no saved state; starting afresh", "state_dir", v.cfg.StateDir)
		return nil
	}
	if st.Netuid != v.cfg.Netuid || st.Hotkey != v.me {
		return fmt.Errorf("validator: the state in %s is for subnet %d and hotkey %s, not subnet %d and hotkey %s: use another --state-dir",
			v.cfg.StateDir, st.Netuid, st.Hotkey, v.cfg.Netuid, v.me)
	}
	v.mu.Lock()
	v.st = *st
	v.mu.Unlock()
	v.log.Info("resumed saved state", "state_dir", v.cfg.StateDir, "step", st.Step, "uids", len(st.Scores),
		"scores", fmtScores(st.Scores), "last_weights_block", st.LastWeightsBlock, "saved_at", st.SavedAt)
	v.setScoreMetrics()
	return nil
}

func fmtScores(s []float64) string {
	b := []byte{'['}
	for i, x := range s {
		if i > 0 {
			b = append(b, ' ')
		}
		b = strconv.AppendFloat(b, x, 'f', 4, 64)
	}
	return string(append(b, ']'))
}

// sync refreshes the metagraph every EpochLength blocks (or when forced) and carries
// the scores over.
func (v *Validator[P]) sync(ctx context.Context, height int64, force bool) error {
	if !force && v.graph != nil && height < v.graph.Block+v.cfg.EpochLength {
		return nil
	}
	g, err := metagraph.Fetch(ctx, v.o.Chain, v.cfg.Netuid)
	if err != nil {
		return err
	}
	var sv subnets.SubnetView
	if _, err := v.o.Chain.Query(ctx, fmt.Sprintf("/subnets/subnet/%d", v.cfg.Netuid), 0, &sv); err != nil {
		return fmt.Errorf("subnet %d: %w", v.cfg.Netuid, err)
	}
	v.owner = sv.OwnerHotkey
	v.mu.Lock()
	before := len(v.st.Scores)
	reset := v.st.Resync(g)
	v.mu.Unlock()
	v.graph = g
	for _, uid := range reset {
		v.log.Info("uid has a new hotkey: its score restarts from zero", "uid", uid, "hotkey", g.Hotkeys[uid])
	}
	if before != g.Size() {
		v.log.Info("metagraph size changed", "from", before, "to", g.Size())
	}
	v.met.syncs.Inc()
	v.met.uids.Set(float64(g.Size()))
	v.setScoreMetrics()
	return nil
}

func (v *Validator[P]) setScoreMetrics() {
	v.met.score.Reset()
	for uid, s := range v.st.Scores {
		v.met.score.WithLabelValues(strconv.Itoa(uid)).Set(s)
	}
}

// round queries a sample of miners once and folds the scores in.
func (v *Validator[P]) round(ctx context.Context, height int64) {
	start := time.Now()
	self := -1
	if uid, ok := v.graph.UID(v.me); ok {
		self = int(uid)
	}
	step := v.st.Step + 1
	rng := rand.New(rand.NewPCG(v.seed, step))
	uids := SelectMiners(v.graph, self, v.cfg.SampleSize, v.cfg.VpermitLimit, rng)
	if len(uids) == 0 {
		v.setWhy("no miner serves an axon on the subnet yet: nothing to query")
		return
	}
	q, err := guard(func() (*P, error) {
		q, err := v.def.Query(ctx, subnet.Round{Step: step, Block: height, Rand: rng, Miners: uids})
		return &q, err
	})
	if err != nil {
		v.log.Error("the subnet's Query function failed; round skipped", "step", step, "err", err)
		return
	}
	if rv := reflect.ValueOf(*q); !rv.IsValid() || (rv.Kind() == reflect.Pointer && rv.IsNil()) {
		v.log.Error("the subnet's Query function returned no synapse; round skipped", "step", step)
		return
	}
	(*q).SynapseBase().Timeout = wire.Float(time.Duration(v.cfg.Timeout).Seconds())
	axons := make([]wire.AxonInfo, len(uids))
	for i, uid := range uids {
		axons[i], _ = v.graph.Axon(uid)
	}
	results := v.dend.Fanout(ctx, axons, *q)
	if ctx.Err() != nil {
		return // a round cut short by shutdown is not scored
	}
	responses := make([]subnet.Response[P], len(uids))
	for i, r := range results {
		resp := subnet.Response[P]{UID: uids[i], Hotkey: axons[i].Hotkey, Status: r.StatusCode, Message: r.StatusMessage, Latency: r.Latency, Err: r.Err}
		if r.Err == nil {
			if p, ok := r.Synapse.(P); ok {
				resp.Synapse = p
			} else {
				resp.Err = fmt.Errorf("answer of type %T, not %T", r.Synapse, resp.Synapse)
			}
		}
		v.met.responses.WithLabelValues(strconv.Itoa(r.StatusCode)).Inc()
		responses[i] = resp
	}
	rewards, err := guard(func() ([]float64, error) { return v.def.Score(ctx, *q, responses) })
	if err == nil && len(rewards) != len(responses) {
		err = fmt.Errorf("%d scores for %d responses", len(rewards), len(responses))
	}
	if err != nil {
		v.log.Error("the subnet's Score function failed; round not scored", "step", step, "err", err)
		return
	}
	v.mu.Lock()
	UpdateScores(v.st.Scores, uids, rewards, v.cfg.Alpha)
	v.st.Step, v.st.Block, v.st.SavedAt = step, height, time.Now().UTC()
	st := v.st
	v.mu.Unlock()
	if err := st.Save(v.cfg.StateDir); err != nil {
		v.log.Error("saving the state failed; it will be retried after the next round", "err", err)
	}
	v.setScoreMetrics()
	v.met.rounds.Inc()
	v.met.roundSeconds.Observe(time.Since(start).Seconds())
	ok := 0
	for _, r := range responses {
		if r.OK() {
			ok++
		}
	}
	v.log.Debug("round", "step", step, "block", height, "queried", len(uids), "answered", ok, "rewards", fmtScores(rewards), "took", time.Since(start))
}

// guard runs a subnet's function, turning a panic into an error so that a bug in one
// round does not stop the validator.
func guard[T any](fn func() (T, error)) (out T, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	return fn()
}

// setWhy logs why weights were not set (or a round did nothing), once per new reason.
func (v *Validator[P]) setWhy(why string) {
	if why != v.why {
		v.log.Warn(why)
		v.why = why
	}
}

// maybeSetWeights sets weights when they are due and the rate limit allows; on a
// subnet with commit-reveal it commits them, and reveals them in the epoch the chain
// expects.
func (v *Validator[P]) maybeSetWeights(ctx context.Context) {
	if v.cfg.DisableSetWeights {
		return
	}
	height, err := v.height(ctx)
	if err != nil {
		return
	}
	g := v.graph
	uid, _ := g.UID(v.me)
	h := g.Hyperparams
	if v.st.Pending != nil {
		v.maybeReveal(ctx, height, h)
		return
	}
	last := max(v.st.LastWeightsBlock, int64(g.LastUpdate[uid]))
	if v.st.LastWeightsBlock == 0 && g.LastUpdate[uid] == g.BlockAtRegistration[uid] {
		last = 0 // never set: the chain lets a new neuron set weights at once
	}
	// The transaction lands in a later block than height: at height+1 at the earliest.
	next := last + max(v.cfg.EpochLength, int64(h.WeightsRateLimit))
	if last > 0 && height+1 < next {
		return
	}
	if !g.ValidatorPermit[uid] && v.owner != v.me {
		v.refused(ctx, fmt.Sprintf("weights not set: uid %d has no validator permit on subnet %d yet (permits go to the top %d uids by stake at each epoch)", uid, v.cfg.Netuid, h.MaxValidators), true)
		return
	}
	if v.def.VersionKey < h.WeightsVersionKey {
		v.refused(ctx, fmt.Sprintf("weights not set: this validator's version key %d is older than the subnet's weights_version %d: update the validator", v.def.VersionKey, h.WeightsVersionKey), false)
		return
	}
	n, minAllowed, maxLimit := g.Limits()
	v.mu.Lock()
	vec, err := weights.Compute(v.st.Scores, weights.Limits{N: n, MinAllowedWeights: minAllowed, MaxWeightLimit: maxLimit})
	v.mu.Unlock()
	if err != nil {
		v.refused(ctx, "weights not set: "+err.Error(), false)
		return
	}
	if h.CommitReveal {
		v.commit(ctx, vec, h)
		return
	}
	msg, err := subnets.NewSetWeights(v.cfg.Netuid, vec.UIDs, vec.Values, v.def.VersionKey)
	if err != nil {
		v.refused(ctx, "weights not set: "+err.Error(), false)
		return
	}
	view, _ := v.send(ctx, msg, "weights")
	if view == nil {
		return
	}
	v.landed(view.Height, nil)
	v.log.Info("weights set", "block", view.Height, "tx", view.Hash, "uids", vec.UIDs, "values", vec.Values)
}

// commit sends the hash of vec with a fresh salt and keeps what the reveal needs.
func (v *Validator[P]) commit(ctx context.Context, vec weights.Vector, h subnets.Hyperparams) {
	var b [16]byte
	crand.Read(b[:])
	salt := make([]uint16, 8)
	for i := range salt {
		salt[i] = binary.LittleEndian.Uint16(b[2*i:])
	}
	msg, err := subnets.NewCommitWeights(v.o.Hotkey.Public(), v.cfg.Netuid, vec.UIDs, vec.Values, salt, v.def.VersionKey)
	if err != nil {
		v.refused(ctx, "weights not committed: "+err.Error(), false)
		return
	}
	view, _ := v.send(ctx, msg, "commit")
	if view == nil {
		return
	}
	p := &PendingReveal{UIDs: vec.UIDs, Values: vec.Values, Salt: salt, VersionKey: v.def.VersionKey,
		Block: view.Height, Epoch: subnets.EpochIndex(v.cfg.Netuid, h.Tempo, uint64(view.Height))}
	v.mu.Lock()
	v.st.Pending, v.st.LastWeightsError = p, ""
	st := v.st
	v.mu.Unlock()
	v.why = ""
	if err := st.Save(v.cfg.StateDir); err != nil {
		v.log.Error("saving the state failed", "err", err)
	}
	v.log.Info("weights committed", "block", view.Height, "epoch", p.Epoch, "reveal_epoch", p.Epoch+h.RevealPeriod, "uids", vec.UIDs, "values", vec.Values)
}

// maybeReveal reveals committed weights once their reveal epoch has come, and drops a
// commit whose epoch has passed.
func (v *Validator[P]) maybeReveal(ctx context.Context, height int64, h subnets.Hyperparams) {
	p := v.st.Pending
	now := subnets.EpochIndex(v.cfg.Netuid, h.Tempo, uint64(height+1))
	due := p.Epoch + h.RevealPeriod
	if now < due {
		return
	}
	drop := func(why string) {
		v.mu.Lock()
		v.st.Pending = nil
		st := v.st
		v.mu.Unlock()
		v.refused(ctx, why, true)
		if err := st.Save(v.cfg.StateDir); err != nil {
			v.log.Error("saving the state failed", "err", err)
		}
	}
	if now > due {
		drop(fmt.Sprintf("the weights committed at block %d (epoch %d) were not revealed in epoch %d and expired; they will be committed again", p.Block, p.Epoch, due))
		return
	}
	msg, err := subnets.NewRevealWeights(v.cfg.Netuid, p.UIDs, p.Values, p.Salt, p.VersionKey)
	if err != nil {
		drop("weights not revealed: " + err.Error())
		return
	}
	view, te := v.send(ctx, msg, "reveal")
	if view == nil {
		if te != nil && te.Code != tx.CodeRateLimited {
			// Expired, missing or not matching: the commit is of no more use.
			drop("the chain refused the reveal: " + te.Log)
		}
		return
	}
	v.landed(view.Height, func(st *State) { st.Pending = nil })
	v.log.Info("weights revealed", "block", view.Height, "tx", view.Hash, "uids", p.UIDs, "values", p.Values)
}

// send sends a weights transaction (what: weights, commit or reveal), counting the
// result and reporting a refusal. It returns the committed transaction, or nil and the
// chain's refusal (nil when the failure was not the chain's).
func (v *Validator[P]) send(ctx context.Context, msg tx.Msg, what string) (*client.TxView, *client.TxError) {
	tctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	view, err := v.o.Chain.Send(tctx, msg)
	if err == nil {
		v.met.weights.WithLabelValues("ok").Inc()
		return view, nil
	}
	var te *client.TxError
	if errors.As(err, &te) {
		v.met.weights.WithLabelValues(te.Code.String()).Inc()
		// The chain's state moved on (a permit lost, a rate limit): resync now.
		v.refused(ctx, "the chain refused the "+what+": "+te.Log, true)
		return nil, te
	}
	v.met.weights.WithLabelValues("error").Inc()
	v.refused(ctx, "sending the "+what+" failed: "+err.Error(), false)
	return nil, nil
}

// landed records weights that reached the chain at block and saves the state.
func (v *Validator[P]) landed(block int64, also func(*State)) {
	v.met.lastWeights.Set(float64(block))
	v.mu.Lock()
	v.st.LastWeightsBlock, v.st.LastWeightsError = block, ""
	if also != nil {
		also(&v.st)
	}
	st := v.st
	v.mu.Unlock()
	v.why = ""
	if err := st.Save(v.cfg.StateDir); err != nil {
		v.log.Error("saving the state failed", "err", err)
	}
}

// refused records why weights were not set; resync forces a metagraph sync so that the
// next attempt sees the chain's current state.
func (v *Validator[P]) refused(ctx context.Context, why string, resync bool) {
	v.mu.Lock()
	v.st.LastWeightsError = why
	v.mu.Unlock()
	v.setWhy(why)
	if resync {
		if h, err := v.height(ctx); err == nil {
			if err := v.sync(ctx, h, true); err != nil {
				v.log.Warn("metagraph sync failed", "err", err)
			}
		}
	}
}

type metrics struct {
	rounds       prometheus.Counter
	syncs        prometheus.Counter
	roundSeconds prometheus.Histogram
	responses    *prometheus.CounterVec
	weights      *prometheus.CounterVec
	score        *prometheus.GaugeVec
	uids         prometheus.Gauge
	lastWeights  prometheus.Gauge
}

func newMetrics(name string, reg prometheus.Registerer) (*metrics, error) {
	s := prom.NewSet(prometheus.Labels{"subnet": name})
	m := &metrics{
		rounds:       s.Counter("tessera_validator_rounds_total", "Rounds scored."),
		syncs:        s.Counter("tessera_validator_metagraph_syncs_total", "Metagraph syncs."),
		roundSeconds: s.Histogram("tessera_validator_round_seconds", "Time a round takes, query to saved scores.", prometheus.ExponentialBuckets(0.005, 2, 14)),
		responses:    s.CounterVec("tessera_validator_responses_total", "Miner responses by status (200, or the dendrite's 408/503/422).", "status"),
		weights:      s.CounterVec("tessera_validator_weights_set_total", "Weight settings by result: ok, the chain's refusal code, or error.", "result"),
		score:        s.GaugeVec("tessera_validator_score", "Moving-average score per uid.", "uid"),
		uids:         s.Gauge("tessera_validator_metagraph_uids", "Uids in the latest metagraph."),
		lastWeights:  s.Gauge("tessera_validator_last_weights_block", "Block the last accepted weights landed in."),
	}
	if err := s.Register(reg); err != nil {
		return nil, err
	}
	return m, nil
}
