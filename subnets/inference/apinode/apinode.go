// Package apinode is an inference participant's API node (docs/inference-api.md): the
// process between the chain, the participant's MLNodes (package mlnode) and the users.
//
//   - It follows the subnet's epochs and drives its MLNodes: each PoC round through the
//     participant loop (package participant) over the MLNodes' management API — mining
//     on PRE_POC_SLOT nodes, committing, serving proofs to validators and judging the
//     others' samples through their API nodes — and, once a group is in force, loads
//     the epoch snapshot's model with its args on every node (inference/up).
//   - It publishes where it serves (serve_axon) and declares its MLNodes (a hardware
//     diff) whenever the chain's view differs from its configuration.
//   - As a transfer agent (TA) it takes users' signed OpenAI-compatible requests,
//     checks that the user can pay the worst case, draws an executor by weight among the
//     group's members serving the model (inference.Eligible, inference.Choose), forwards
//     the request and records its start on chain in batches (inference/start).
//   - As an executor it runs a TA's forward on its least-busy MLNode serving the model
//     with log-probabilities, top-k and the seed, keeps the payload off chain for the
//     validators, and records the finish (inference/finish).
//   - As a validator it samples the finished inferences of other executors
//     (inference.ShouldValidate with a secret per-epoch seed), re-checks each on its own
//     MLNode (exact replay for engine models) and sends its checks and votes.
//
// Everything that costs a user money is checked before anything is forwarded: an
// unsigned, replayed or stale request, an unknown model or an account that cannot pay
// gets an OpenAI-style error and nothing is recorded.
package apinode

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tessera-net/tessera/keys"
	"github.com/tessera-net/tessera/modules/inference"
	"github.com/tessera-net/tessera/subnets/inference/mlnode"
	"github.com/tessera-net/tessera/subnets/inference/participant"
	"github.com/tessera-net/tessera/subnets/inference/signed"
)

// Chain is what the API node needs of a node: application queries and messages sent by
// its hotkey (participant.Chain).
type Chain = participant.Chain

// MLNode is one of the participant's MLNodes as the API node drives it: its id on chain,
// its management client, the models it serves (the first is the one it mines PoC for)
// and its hardware, declared on chain with the hosts and ports of the client's URLs.
type MLNode struct {
	ID       string
	Client   *mlnode.Client
	Models   []string
	Hardware []inference.Hardware
}

// Config configures an API node.
type Config struct {
	Netuid uint16
	// Key is the participant's hotkey: it signs transactions, the forwards to executors,
	// the management calls to its MLNodes and its requests to other API nodes.
	Key   *keys.Pair
	Chain Chain
	// PublicURL is where other API nodes and users reach this one (http://IP:PORT): it is
	// published on chain with serve_axon.
	PublicURL string
	MLNodes   []MLNode
	// Budget is the nonces each MLNode mines per PoC round (0: 256); Forge makes the
	// participant a PoC cheater (participant.Config.Forge).
	Budget, Forge uint64
	// NoValidate turns off the validation of other executors' inferences.
	NoValidate bool
	// PayloadDir, when set, keeps the executed payloads as files too (bounded like the
	// memory's, MaxPayloads).
	PayloadDir  string
	MaxPayloads int // 0: 4096
	// MaxBody bounds a request body (0: 4 MiB).
	MaxBody int64
	// Poll is how often the chain is read (0: 250 ms); BatchEvery how often the queued
	// records are submitted (0: Poll).
	Poll, BatchEvery time.Duration
	// HTTP reaches the other API nodes (nil: a client with a 10-minute timeout).
	HTTP *http.Client
	Now  func() time.Time
	Log  *slog.Logger
}

// Node is a running API node. Its Handler serves the public routes; Run follows the
// chain. Both may run before the other.
type Node struct {
	cfg  Config
	self inference.Account
	now  func() time.Time

	users    *signed.Verifier // users' requests to the TA
	forwards *signed.Verifier // TAs' forwards, validators' payload fetches, proof fetches
	execs    *signed.Verifier // the users' signatures carried by forwards (one run per request)

	view  atomic.Pointer[view]
	clock blockClock

	part    *participant.Participant
	starts  *Batcher[inference.StartEntry]
	holds   holds
	exec    *executor
	payload *payloadStore
	val     *validator

	pocRunning atomic.Bool // a PoC step is under way

	mu          sync.Mutex
	loaded      map[string]string         // MLNode → the model it was last brought up with
	pendingCost map[inference.Hash]uint64 // the holds of queued starts
	pocWarn     repeats                   // the PoC step's failures (one step runs at a time)
	synced      bool                      // MLNodes and axon checked against the chain once
	syncAt      uint64                    // the height of the next check
}

// New returns an API node.
func New(cfg Config) (*Node, error) {
	if cfg.Key == nil || cfg.Chain == nil {
		return nil, errors.New("apinode: a hotkey and a chain are required")
	}
	if cfg.Budget == 0 {
		cfg.Budget = 256
	}
	if cfg.MaxPayloads <= 0 {
		cfg.MaxPayloads = 4096
	}
	if cfg.MaxBody <= 0 {
		cfg.MaxBody = 4 << 20
	}
	if cfg.Poll <= 0 {
		cfg.Poll = 250 * time.Millisecond
	}
	if cfg.BatchEvery <= 0 {
		cfg.BatchEvery = cfg.Poll
	}
	if cfg.HTTP == nil {
		cfg.HTTP = &http.Client{Timeout: 10 * time.Minute}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	seen := map[string]bool{}
	for i, m := range cfg.MLNodes {
		if m.Client == nil || len(m.Models) == 0 || seen[m.ID] {
			return nil, fmt.Errorf("apinode: mlnode %d (%q): an id of its own, a client and at least one model are required", i, m.ID)
		}
		seen[m.ID] = true
		if m.Client.Key == nil {
			cfg.MLNodes[i].Client.Key = cfg.Key
		}
	}
	if cfg.PublicURL != "" {
		if _, _, err := AxonOf(cfg.PublicURL); err != nil {
			return nil, err
		}
	}
	n := &Node{cfg: cfg, self: inference.Account(cfg.Key.Public()), now: cfg.Now,
		users: signed.NewVerifier(cfg.Now), forwards: signed.NewVerifier(cfg.Now), execs: signed.NewVerifier(cfg.Now),
		loaded: map[string]string{}, pendingCost: map[inference.Hash]uint64{}}
	n.view.Store(&view{})
	n.payload = newPayloadStore(cfg.PayloadDir, cfg.MaxPayloads)
	n.part = participant.New(participant.Config{Netuid: cfg.Netuid, Hotkey: n.self, Chain: cfg.Chain,
		Peers: &Peers{node: n}, Worker: &Workers{nodes: cfg.MLNodes, Poll: cfg.Poll}, Budget: cfg.Budget, Forge: cfg.Forge,
		Poll: cfg.Poll, Log: cfg.Log.With("part", "poc")})
	n.starts = NewBatcher(StartBatch, n.sendStarts)
	n.exec = newExecutor(n)
	n.val = newValidator(n)
	return n, nil
}

// Hotkey is the participant's hotkey.
func (n *Node) Hotkey() inference.Account { return n.self }

// AxonOf splits a public URL into the IP and port serve_axon publishes.
func AxonOf(public string) (string, uint16, error) {
	u, err := url.Parse(public)
	if err != nil || u.Scheme != "http" || u.Host == "" {
		return "", 0, fmt.Errorf("public url %q is not http://IP:PORT", public)
	}
	host, port, err := net.SplitHostPort(u.Host)
	if err != nil {
		return "", 0, fmt.Errorf("public url %q has no port: %v", public, err)
	}
	if net.ParseIP(host) == nil {
		return "", 0, fmt.Errorf("public url %q: the host must be an IP address (serve_axon publishes an IP and a port)", public)
	}
	p, err := strconv.ParseUint(port, 10, 16)
	if err != nil || p == 0 {
		return "", 0, fmt.Errorf("public url %q: port %q is not 1..65535", public, port)
	}
	return host, uint16(p), nil
}

// Run follows the chain until ctx ends: every Poll it refreshes its view, keeps the
// MLNodes and the axon declared, loads the models of the group in force, runs the PoC
// round's step and the validation scan; every BatchEvery it submits the queued
// records. A failed step is logged and retried.
func (n *Node) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		n.flushLoop(ctx)
	}()
	t := time.NewTicker(n.cfg.Poll)
	defer t.Stop()
	var steps repeats
	for {
		if err := n.Step(ctx); ctx.Err() == nil {
			steps.warn(n.cfg.Log, n.now(), "api node step", err)
		}
		select {
		case <-ctx.Done():
			wg.Wait()
			return nil
		case <-t.C:
		}
	}
}

// Step does one poll's work (Run calls it; tests drive it directly).
func (n *Node) Step(ctx context.Context) error {
	v, err := n.refresh(ctx)
	if err != nil {
		return err
	}
	var errs []error
	if err := n.sync(ctx, v); err != nil {
		errs = append(errs, fmt.Errorf("declare: %w", err))
	}
	if err := n.loadModels(ctx, v); err != nil {
		errs = append(errs, fmt.Errorf("load models: %w", err))
	}
	// The PoC step may mine for the whole window: it runs on its own, once at a time.
	n.stepPoC(ctx, v)
	if !n.cfg.NoValidate {
		if err := n.val.step(ctx, v); err != nil {
			errs = append(errs, fmt.Errorf("validate: %w", err))
		}
	}
	return errors.Join(errs...)
}

func (n *Node) stepPoC(ctx context.Context, v *view) {
	if !n.pocRunning.CompareAndSwap(false, true) {
		return
	}
	ev := v.epoch
	go func() {
		defer n.pocRunning.Store(false)
		if err := n.part.StepAt(ctx, &ev); ctx.Err() == nil {
			n.pocWarn.warn(n.cfg.Log, n.now(), "poc step", err)
		}
	}()
}

// repeats logs a loop's failures without burying the log when one repeats each poll
// (an MLNode down): an error that says what the last one said is logged again only
// after repeatEvery, with how many times it recurred meanwhile; a success after
// failures is logged once. Calls must not overlap.
type repeats struct {
	last   string
	logged time.Time
	n      int
}

const repeatEvery = time.Minute

func (r *repeats) warn(log *slog.Logger, now time.Time, msg string, err error) {
	if err == nil {
		if r.last != "" {
			log.Info(msg + " succeeds again")
		}
		*r = repeats{}
		return
	}
	text := err.Error()
	if text == r.last && now.Sub(r.logged) < repeatEvery {
		r.n++
		return
	}
	if text == r.last {
		log.Warn(msg, "err", err, "repeated", r.n)
	} else {
		log.Warn(msg, "err", err)
	}
	r.last, r.logged, r.n = text, now, 0
}

// flushLoop submits the queued starts and finishes every BatchEvery.
func (n *Node) flushLoop(ctx context.Context) {
	t := time.NewTicker(n.cfg.BatchEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		n.Flush(ctx)
	}
}

// Flush submits the queued records now: the starts, then the finishes whose starts are
// on chain.
func (n *Node) Flush(ctx context.Context) {
	if err := n.starts.Flush(ctx); err != nil && ctx.Err() == nil {
		n.cfg.Log.Warn("submit starts", "err", err)
	}
	if err := n.exec.flush(ctx); err != nil && ctx.Err() == nil {
		n.cfg.Log.Warn("submit finishes", "err", err)
	}
	if err := n.val.flush(ctx); err != nil && ctx.Err() == nil {
		n.cfg.Log.Warn("submit checks", "err", err)
	}
}
