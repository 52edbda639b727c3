// Package infdev is the devnet's inference network: a devnet.Extension that votes two
// models in at genesis, creates a subnet whose mechanism is poc, registers and stakes
// three participants, declares their MLNodes, and runs their Proof of Compute in this
// process (package participant) — mining, committing, serving proofs and judging each
// other — while it prints each epoch's stages, the valid nonces per MLNode and the
// rewards as they happen.
package infdev

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/tessera-net/tessera/client"
	"github.com/tessera-net/tessera/devnet"
	"github.com/tessera-net/tessera/genesis"
	"github.com/tessera-net/tessera/keys"
	"github.com/tessera-net/tessera/modules/accounts"
	"github.com/tessera-net/tessera/modules/inference"
	"github.com/tessera-net/tessera/modules/models"
	"github.com/tessera-net/tessera/modules/stake"
	"github.com/tessera-net/tessera/modules/subnets"
	"github.com/tessera-net/tessera/subnets/inference/participant"
	"github.com/tessera-net/tessera/tx"
)

// Participant is one of the devnet's participants: its key's derivation path, the
// MLNodes it declares, and whether it forges.
type Participant struct {
	URI   string
	Nodes []inference.MLNode
	// Forge makes it commit this many nonces it never computed per valid one.
	Forge uint64
	// AlterEvery makes its MLNodes alter every AlterEvery-th completion they serve (a
	// cheater the validators' replays catch); 0 is honest. Off-chain processes only.
	AlterEvery uint64
}

// Options configure the extension.
type Options struct {
	// Participants (default: DefaultParticipants()).
	Participants []Participant
	// Models voted in at genesis (default: DefaultModels()).
	Models []models.Spec
	// Params are the inference parameters at genesis (default: DevParams()).
	Params *models.Params
	// Tempo of the inference subnet: how often its emission is paid (default 10).
	Tempo uint16
	// Stake on each participant's hotkey, which makes it a validator (default 100 tokens;
	// into the subnet's pool under dTAO).
	Stake uint64
	// Budget is the nonces each MLNode tries per PoC (default 256).
	Budget uint64
	// Binary is the tessera executable. When set, each participant runs as processes of
	// it — an MLNode service per MLNode and an API node (offchain.go) — and a devnet
	// user sends requests through them; when empty the participants' PoC runs in this
	// process and nothing serves inference (the in-process mode of package tests).
	Binary string
	// ModelFile is the GGUF the MLNodes serve for every model ("": an engine random
	// model of the tiny preset).
	ModelFile string
	// RequestEvery is how often the devnet user sends a request (default 2 s).
	RequestEvery time.Duration
	// Out, when set, receives the running commentary (stages, nonces, rewards).
	Out    io.Writer
	Logger *slog.Logger
}

// DefaultModels are the devnet's two models: small PoC shapes, so that three
// participants mine on two shared cores.
func DefaultModels() []models.Spec {
	base := models.Spec{Name: "Devnet model", Version: "1", HFRepo: "tessera-net/devnet", HFCommit: "0123456789abcdef0123456789abcdef01234567",
		Quantization: "int8", ContextSize: 2048, KVCacheQuant: "int8", Args: []string{}, VRAMGB: 1, ThroughputPerNonce: 100, PricePerToken: 1000}
	a, b := base, base
	a.ID, a.Name, a.PricePerToken = "devnet-small", "Devnet small", 1000
	a.PoC = models.PoC{Layers: 1, Width: 64, Heads: 4, KVHeads: 2, FFN: 128, Vocab: 4096, SeqLen: 4}
	b.ID, b.Name, b.PricePerToken = "devnet-large", "Devnet large", 3000
	b.PoC = models.PoC{Layers: 2, Width: 128, Heads: 4, KVHeads: 2, FFN: 256, Vocab: 4096, SeqLen: 4}
	return []models.Spec{a, b}
}

// DevParams are the devnet's inference parameters: a 30-block epoch (PoC 4 + 2 blocks,
// validation 4 + 2, model loading 2).
func DevParams() models.Params {
	p := models.DefaultParams()
	p.EpochBlocks, p.PoCBlocks, p.PoCExchange, p.ValidationBlocks, p.ValidationXchg, p.LoadingBlocks = 30, 4, 2, 4, 2, 2
	return p
}

func node(id string, port uint16, ms ...string) inference.MLNode {
	return inference.MLNode{ID: id, Host: "127.0.0.1", InferencePort: port, PoCPort: port + 1,
		Hardware: []inference.Hardware{{Type: "cpu", Count: 1}}, Models: ms}
}

// DefaultParticipants: Inference1 has an MLNode in both models (it earns the coverage
// bonus), Inference2 one in the small model, Inference3 two in the small model.
func DefaultParticipants() []Participant {
	return []Participant{
		{URI: "//Inference1", Nodes: []inference.MLNode{node("node-a", 9100, "devnet-small"), node("node-b", 9102, "devnet-large", "devnet-small")}},
		{URI: "//Inference2", Nodes: []inference.MLNode{node("node-a", 9110, "devnet-small")}},
		{URI: "//Inference3", Nodes: []inference.MLNode{node("node-a", 9120, "devnet-small"), node("node-b", 9122, "devnet-small")}},
	}
}

// Extension is the devnet's inference network.
type Extension struct {
	o     Options
	pairs []*keys.Pair
	wg    sync.WaitGroup

	mu     sync.Mutex
	netuid uint16
	procs  []*running
	served uint64
	failed uint64
	user   *keys.Pair
}

// New returns the extension.
func New(o Options) (*Extension, error) {
	if o.Participants == nil {
		o.Participants = DefaultParticipants()
	}
	if o.Models == nil {
		o.Models = DefaultModels()
	}
	if o.Params == nil {
		p := DevParams()
		o.Params = &p
	}
	if o.Tempo == 0 {
		o.Tempo = 10
	}
	if o.Stake == 0 {
		o.Stake = 100 * accounts.UnitsPerToken
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if err := o.Params.Validate(); err != nil {
		return nil, fmt.Errorf("inference devnet: params: %w", err)
	}
	if o.RequestEvery <= 0 {
		o.RequestEvery = 2 * time.Second
	}
	e := &Extension{o: o}
	user, err := keys.FromURI(UserURI)
	if err != nil {
		return nil, err
	}
	e.user = user
	for _, p := range o.Participants {
		pair, err := keys.FromURI(p.URI)
		if err != nil {
			return nil, fmt.Errorf("inference devnet: participant %s: %w", p.URI, err)
		}
		e.pairs = append(e.pairs, pair)
	}
	return e, nil
}

// Name implements devnet.Extension.
func (e *Extension) Name() string { return "inference" }

// Netuid is the inference subnet once Start has returned.
func (e *Extension) Netuid() uint16 {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.netuid
}

// Genesis implements devnet.Extension: the models and parameters, and the participants'
// funds.
func (e *Extension) Genesis(st *genesis.AppState) error {
	raw, err := json.Marshal(models.Genesis{Params: e.o.Params, Models: e.o.Models})
	if err != nil {
		return err
	}
	if st.Extra == nil {
		st.Extra = map[string]json.RawMessage{}
	}
	st.Extra[models.Name] = raw
	for _, p := range e.pairs {
		st.Fund(p.Public(), 10_000*accounts.UnitsPerToken)
	}
	st.Fund(e.user.Public(), 10_000*accounts.UnitsPerToken)
	gw, err := keys.FromURI(GatewayURI)
	if err != nil {
		return err
	}
	st.Fund(gw.Public(), 10_000*accounts.UnitsPerToken)
	return nil
}

// chain is participant.Chain over the devnet's client, signing as one key.
type chain struct {
	c *client.Client
	s *client.Signer
}

func (ch chain) Query(ctx context.Context, path string, out any) error {
	_, err := ch.c.Query(ctx, path, 0, out)
	return err
}

func (ch chain) Send(ctx context.Context, msgs ...tx.Msg) error {
	_, err := ch.s.SendAll(ctx, msgs...)
	return err
}

// Start implements devnet.Extension: it creates and populates the subnet (unless the
// devnet's home already holds it) and starts the participants and the commentary.
func (e *Extension) Start(ctx context.Context, d *devnet.Devnet) error {
	netuid, err := e.setup(ctx, d)
	if err != nil {
		return fmt.Errorf("inference devnet: %w", err)
	}
	e.mu.Lock()
	e.netuid = netuid
	e.mu.Unlock()
	names := map[inference.Account]string{}
	for i, p := range e.o.Participants {
		names[inference.Account(e.pairs[i].Public())] = p.URI[2:]
	}
	if e.o.Binary != "" {
		if err := e.startOffchain(ctx, d.Node.RPCAddress(), netuid); err != nil {
			return fmt.Errorf("inference devnet: %w", err)
		}
		e.wg.Add(1)
		go func() {
			defer e.wg.Done()
			e.userLoad(ctx, e.user, e.o.RequestEvery)
		}()
	} else {
		e.startInProcess(ctx, d, netuid)
	}
	if e.o.Out != nil {
		e.wg.Add(1)
		go func() {
			defer e.wg.Done()
			watch(ctx, e.o.Out, d.Client, netuid, names)
		}()
	}
	e.o.Logger.Info("inference subnet running", "netuid", netuid, "participants", len(e.o.Participants), "epoch_blocks", e.o.Params.EpochBlocks, "processes", e.o.Binary != "")
	return nil
}

// startInProcess runs the participants' PoC in this process.
func (e *Extension) startInProcess(ctx context.Context, d *devnet.Devnet, netuid uint16) {
	dir := &participant.Directory{}
	for i, p := range e.o.Participants {
		pair := e.pairs[i]
		pp := participant.New(participant.Config{Netuid: netuid, Hotkey: inference.Account(pair.Public()),
			Chain: chain{d.Client, d.Client.Signer(pair)}, Peers: dir, Budget: e.o.Budget, Forge: p.Forge,
			Log: e.o.Logger.With("part", "inference-participant", "participant", p.URI)})
		dir.Add(inference.Account(pair.Public()), pp)
		e.wg.Add(1)
		go func() {
			defer e.wg.Done()
			_ = pp.Run(ctx)
		}()
	}
}

// Wait waits for the participants to stop (after the context given to Start ends).
func (e *Extension) Wait() { e.wg.Wait() }

// setup creates the subnet, registers and stakes the participants and declares their
// MLNodes; on a reused home it finds the subnet instead.
func (e *Extension) setup(ctx context.Context, d *devnet.Devnet) (uint16, error) {
	var list []subnets.SubnetView
	if _, err := d.Client.Query(ctx, "/subnets/list", 0, &list); err != nil {
		return 0, err
	}
	for _, s := range list {
		if s.Mechanism == inference.Mechanism {
			return s.Netuid, nil
		}
	}
	alice, err := keys.FromURI("//Alice")
	if err != nil {
		return 0, err
	}
	owner := d.Client.Signer(alice)
	v, err := send(ctx, owner, func() (tx.Msg, error) { return subnets.NewCreate(alice.Public(), inference.Mechanism) })
	if err != nil {
		return 0, fmt.Errorf("create the subnet: %w", err)
	}
	netuid := uint16(0)
	for _, ev := range v.Events {
		if ev.Type == "subnet_created" {
			n, err := strconv.ParseUint(ev.Attributes["netuid"], 10, 16)
			if err != nil {
				return 0, fmt.Errorf("subnet_created netuid %q", ev.Attributes["netuid"])
			}
			netuid = uint16(n)
		}
	}
	tempo, err := subnets.NewSetHyperparam(netuid, "tempo", uint64(e.o.Tempo))
	if err != nil {
		return 0, err
	}
	if err := (chain{d.Client, owner}).Send(ctx, tempo); err != nil {
		return 0, err
	}
	// Under dTAO a participant stakes into the subnet's pool: its alpha weighs its
	// verdicts and earns the validator half of the emission.
	var params subnets.Params
	if _, err := d.Client.Query(ctx, "/subnets/params", 0, &params); err != nil {
		return 0, err
	}
	for i, p := range e.o.Participants {
		pair := e.pairs[i]
		reg, err1 := subnets.NewRegister(netuid, pair.Public(), 0)
		add, err2 := stake.NewAdd(pair.Public(), e.o.Stake)
		if params.DTAO {
			add, err2 = stake.NewAddOn(netuid, pair.Public(), e.o.Stake, 0, false)
		}
		decl, err3 := inference.NewHardwareDiff(inference.HardwareDiff{Netuid: netuid, Add: p.Nodes})
		if err := errors.Join(err1, err2, err3); err != nil {
			return 0, fmt.Errorf("participant %s: %w", p.URI, err)
		}
		// One block: the mempool's check state holds the registration when the
		// declaration is checked.
		if err := (chain{d.Client, d.Client.Signer(pair)}).Send(ctx, reg, add, decl); err != nil {
			return 0, fmt.Errorf("participant %s: %w", p.URI, err)
		}
	}
	return netuid, nil
}

func send(ctx context.Context, s *client.Signer, build func() (tx.Msg, error)) (*client.TxView, error) {
	m, err := build()
	if err != nil {
		return nil, err
	}
	v, err := s.Send(ctx, m)
	if err != nil {
		return nil, err
	}
	if v.Code != 0 {
		return nil, &tx.Error{Code: tx.Code(v.Code), Msg: v.Log}
	}
	return v, nil
}
