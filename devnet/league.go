// This file adds the kernel league (subnets/kernelbench) to a devnet: a subnet of its
// own whose competition is the shipped linear-attention kernel, three miners (fast and
// correct, slow and correct, fast and wrong) that submit with commit-reveal, and a
// judge that benchmarks them in the sandbox every round, sets the weights and logs the
// leaderboard.

package devnet

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/tessera-net/tessera/genesis"
	"github.com/tessera-net/tessera/keys"
	"github.com/tessera-net/tessera/modules/accounts"
	"github.com/tessera-net/tessera/modules/subnets"
	"github.com/tessera-net/tessera/sdk/subnet"
	"github.com/tessera-net/tessera/subnets/kernelbench"
	"github.com/tessera-net/tessera/tx"
)

// LeagueOptions configure the devnet's kernel league.
type LeagueOptions struct {
	// APIAddr is where the judge's leaderboard API listens (default 127.0.0.1:0).
	APIAddr string
	// RoundBlocks is the judging round (default 10 blocks).
	RoundBlocks int64
	// Length is the miners' target length (default 100,000 tokens, the 0.5× league).
	Length int
	// Margin is how much faster a challenger must be to take first place (default 0.5:
	// a devnet on a shared machine measures noisily).
	Margin float64
	Logger *slog.Logger
}

// LeagueMiners are the league's miners: their account names and behaviour.
var LeagueMiners = []struct{ Name, Behaviour string }{
	{"LeagueFast", "fast and correct (chunks of 16, two workers)"},
	{"LeagueSlow", "slow and correct (chunks of 256, one worker)"},
	{"LeagueWrong", "fast and wrong (drops the state between chunks)"},
}

// League is the devnet extension of the kernel league.
type League struct {
	o      LeagueOptions
	pairs  map[string]*keys.Pair
	root   string
	apiURL string
	netuid uint16
	wg     sync.WaitGroup
}

// NewLeague returns the kernel league extension.
func NewLeague(o LeagueOptions) *League {
	if o.APIAddr == "" {
		o.APIAddr = "127.0.0.1:0"
	}
	if o.RoundBlocks <= 0 {
		o.RoundBlocks = 10
	}
	if o.Length <= 0 {
		o.Length = 100_000
	}
	if o.Margin <= 0 {
		o.Margin = 0.5
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return &League{o: o, pairs: map[string]*keys.Pair{}}
}

// Name implements Extension.
func (*League) Name() string { return "kernel league" }

// APIURL is the judge's leaderboard API ("" before Start).
func (l *League) APIURL() string { return l.apiURL }

// Netuid is the league's subnet (0 before Start).
func (l *League) Netuid() uint16 { return l.netuid }

// Genesis implements Extension: the miners' accounts are funded.
func (l *League) Genesis(state *genesis.AppState) error {
	for _, m := range LeagueMiners {
		p, err := keys.FromURI("//" + m.Name)
		if err != nil {
			return err
		}
		l.pairs[m.Name] = p
		state.Fund(p.Public(), 1000*accounts.UnitsPerToken)
	}
	return nil
}

// Start implements Extension: it creates the subnet, registers the miners, defines the
// competition, then (in the background) publishes the miners' submissions and runs
// the judge.
func (l *League) Start(ctx context.Context, d *Devnet) error {
	if len(l.pairs) == 0 { // a reused home: the genesis ran before
		if err := l.Genesis(&genesis.AppState{}); err != nil {
			return err
		}
	}
	root, err := os.MkdirTemp("", "tessera-league-*") // every user may search it: the sandbox's uid reads it
	if err != nil {
		return err
	}
	if err := os.Chmod(root, 0o755); err != nil {
		return err
	}
	l.root = root
	log := l.o.Logger.With("part", "league")
	alice, err := d.account("Alice")
	if err != nil {
		return err
	}
	owner := subnet.ClientChain{Client: d.Client, Signer: alice.signer}
	// The subnet: Alice owns it (her hotkey is uid 0, the burn) and judges it.
	view, err := owner.Send(ctx, mustMsg(subnets.NewCreate(alice.pub, "")))
	if err != nil {
		return fmt.Errorf("league subnet: %w", err)
	}
	var netuid uint16
	for _, e := range view.Events {
		if e.Type == "subnet_created" {
			fmt.Sscan(e.Attributes["netuid"], &netuid)
		}
	}
	if netuid == 0 {
		return fmt.Errorf("league subnet: no subnet_created event")
	}
	l.netuid = netuid
	for _, hp := range []struct {
		name string
		v    uint64
	}{{"weights_rate_limit", 1}, {"tempo", 30}} {
		if _, err := owner.Send(ctx, mustMsg(subnets.NewSetHyperparam(netuid, hp.name, hp.v))); err != nil {
			return fmt.Errorf("league subnet %s: %w", hp.name, err)
		}
	}
	for _, m := range LeagueMiners {
		p := l.pairs[m.Name]
		c := subnet.ClientChain{Client: d.Client, Signer: d.Client.Signer(p)}
		if _, err := c.Send(ctx, mustMsg(subnets.NewRegister(netuid, p.Public(), 0))); err != nil {
			return fmt.Errorf("register %s on the league subnet: %w", m.Name, err)
		}
	}
	// The competition.
	target := filepath.Join(root, "target")
	commit, err := kernelbench.WriteTarget(ctx, target)
	if err != nil {
		return err
	}
	def := kernelbench.NewDefinition("file://"+target, commit)
	def.Fetch.AllowFile, def.Fetch.FileRoots = true, []string{root}
	def.Benchmark.Heads, def.Benchmark.Repetitions = 2, 5
	def.RoundBlocks, def.Margin = l.o.RoundBlocks, l.o.Margin
	raw, err := json.MarshalIndent(def, "", "  ")
	if err != nil {
		return err
	}
	defPath := filepath.Join(root, "definition.json")
	if err := os.WriteFile(defPath, raw, 0o644); err != nil {
		return err
	}
	if err := kernelbench.Define(ctx, owner, netuid, raw, "file://"+defPath, 2); err != nil {
		return fmt.Errorf("league definition: %w", err)
	}
	store, err := kernelbench.OpenStore(ctx, filepath.Join(root, "judge.db"))
	if err != nil {
		return err
	}
	j, err := kernelbench.NewJudge(kernelbench.JudgeConfig{Netuid: netuid, Definition: raw, Work: filepath.Join(root, "work"),
		StateDir: filepath.Join(root, "state"), Hotkey: alice.pub.String(), Log: log.With("role", "judge"),
		OnRound: func(rd *kernelbench.Round) {
			log.Info("league round", "round", rd.Round, "leaderboard", l.summary(rd), "weights", fmt.Sprint(rd.Weights.UIDs, rd.Weights.Values))
		},
	}, owner, store)
	if err != nil {
		store.Close()
		return err
	}
	ln, err := net.Listen("tcp", l.o.APIAddr)
	if err != nil {
		store.Close()
		return fmt.Errorf("league API: %w", err)
	}
	l.apiURL = "http://" + ln.Addr().String()
	srv := &http.Server{Handler: kernelbench.API(store, netuid), ReadHeaderTimeout: 10 * time.Second}
	log.Info("kernel league ready", "netuid", netuid, "definition", defPath, "leaderboard", l.apiURL+"/v1/leaderboard",
		"miners", "LeagueFast (fast, correct), LeagueSlow (slow, correct), LeagueWrong (fast, wrong)")
	l.wg.Add(4)
	go func() {
		defer l.wg.Done()
		srv.Serve(ln)
	}()
	go func() {
		defer l.wg.Done()
		<-ctx.Done()
		srv.Close()
	}()
	go func() {
		defer l.wg.Done()
		if err := l.publish(ctx, d, target); err != nil && ctx.Err() == nil {
			log.Error("league miners", "err", err)
		}
	}()
	go func() {
		defer l.wg.Done()
		defer store.Close()
		defer os.RemoveAll(root)
		if err := j.Run(ctx); err != nil && ctx.Err() == nil {
			log.Error("league judge", "err", err)
		}
	}()
	return nil
}

// Wait waits for the league's parts to stop (after the devnet's context ended).
func (l *League) Wait() { l.wg.Wait() }

// publish makes each miner's kernel and submits it.
func (l *League) publish(ctx context.Context, d *Devnet, target string) error {
	kernel, err := os.ReadFile(filepath.Join(target, "kernel", "kernel.go"))
	if err != nil {
		return err
	}
	knobsRaw, err := os.ReadFile(filepath.Join(target, "kernel", "knobs.go"))
	if err != nil {
		return err
	}
	knobs := func(chunk, workers int) string {
		s := kernelbench.SetKnob(string(knobsRaw), "ChunkSize", chunk)
		return kernelbench.SetKnob(s, "Workers", workers)
	}
	files := map[string]map[string]string{
		"LeagueFast": {"knobs.go": knobs(16, 2)},
		"LeagueSlow": {"knobs.go": knobs(256, 1)},
		"LeagueWrong": {"knobs.go": knobs(16, 2),
			"kernel.go": strings.Replace(string(kernel), "ot[j] = g * acc", "ot[j] = 0 * g * acc", 1)},
	}
	errs := make(chan error, len(LeagueMiners))
	for _, m := range LeagueMiners {
		go func() {
			dir := filepath.Join(l.root, "miners", m.Name)
			if err := kernelbench.CloneWork(ctx, "file://"+target, dir); err != nil {
				errs <- err
				return
			}
			for name, content := range files[m.Name] {
				if err := os.WriteFile(filepath.Join(dir, "kernel", name), []byte(content), 0o644); err != nil {
					errs <- err
					return
				}
			}
			commit, err := kernelbench.CommitAll(ctx, dir, m.Behaviour)
			if err != nil {
				errs <- err
				return
			}
			p := l.pairs[m.Name]
			c := subnet.ClientChain{Client: d.Client, Signer: d.Client.Signer(p)}
			_, err = kernelbench.Publish(ctx, c, p.Public(), l.netuid, "file://"+dir, commit, l.o.Length)
			if err != nil {
				err = fmt.Errorf("%s: %w", m.Name, err)
			}
			errs <- err
		}()
	}
	var first error
	for range LeagueMiners {
		if err := <-errs; err != nil && first == nil {
			first = err
		}
	}
	return first
}

// summary is a round on one line: "1. LeagueFast 123456 tok/s 50% | …".
func (l *League) summary(rd *kernelbench.Round) string {
	names := map[string]string{}
	for n, p := range l.pairs {
		names[p.Public().String()] = n
	}
	var parts []string
	for _, s := range rd.Standings {
		n := names[s.Hotkey]
		if n == "" {
			n = s.Hotkey
		}
		switch {
		case s.Rank > 0:
			parts = append(parts, fmt.Sprintf("%d. %s %.0f tok/s score %.0f %.0f%%", s.Rank, n, s.TokensPerSec, s.Score, 100*s.Share))
		case s.CopyOf != "":
			parts = append(parts, n+" copy")
		default:
			parts = append(parts, n+" failed ("+s.Reason+")")
		}
	}
	if len(parts) == 0 {
		return "no submissions yet"
	}
	return strings.Join(parts, " | ")
}

func mustMsg(m tx.Msg, err error) tx.Msg {
	if err != nil {
		panic(err)
	}
	return m
}
