package kernelbench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"time"

	"github.com/tessera-net/tessera/client"
	"github.com/tessera-net/tessera/modules/league"
	"github.com/tessera-net/tessera/modules/subnets"
	"github.com/tessera-net/tessera/sdk/metagraph"
	"github.com/tessera-net/tessera/sdk/subnet"
	"github.com/tessera-net/tessera/sdk/validator"
	"github.com/tessera-net/tessera/sdk/weights"
)

// JudgeConfig configures a Judge.
type JudgeConfig struct {
	Netuid uint16
	// Definition is the competition definition file's bytes: its hash must be the one
	// the chain records for the subnet.
	Definition []byte
	// Work is the runner's directory (repositories, checkouts, the build cache).
	Work string
	// StateDir keeps the judge's saved state (sdk/validator's state file: the shares
	// by uid and the last weights' block).
	StateDir string
	// Hotkey is the judge's hotkey (SS58), for the saved state.
	Hotkey string
	// Poll is how often the chain's height is read (default one second).
	Poll time.Duration
	// Log receives the judge's logs (discarded when nil).
	Log *slog.Logger
	// OnRound, when set, is called with each round recorded.
	OnRound func(*Round)
}

// Judge is a kernel-league validator: it is not query-based like the SDK's validator
// (no axons, no moving average); each round it reads the revealed submissions from
// the chain, evaluates the new ones, ranks every registered hotkey's and sets the
// resulting weights exactly.
type Judge struct {
	cfg    JudgeConfig
	chain  subnet.Chain
	store  *Store
	def    *Definition
	hash   string
	runner *Runner
	log    *slog.Logger
}

// NewJudge checks the definition and builds a judge over chain (signing as the
// judge's hotkey) and store.
func NewJudge(cfg JudgeConfig, chain subnet.Chain, store *Store) (*Judge, error) {
	def, err := DecodeDefinition(cfg.Definition)
	if err != nil {
		return nil, err
	}
	if cfg.Poll <= 0 {
		cfg.Poll = time.Second
	}
	log := cfg.Log
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return &Judge{cfg: cfg, chain: chain, store: store, def: def, hash: Hash(cfg.Definition),
		runner: &Runner{Def: def, Work: cfg.Work, Log: log}, log: log}, nil
}

// Definition is the judge's competition.
func (j *Judge) Definition() *Definition { return j.def }

// Runner is the judge's runner.
func (j *Judge) Runner() *Runner { return j.runner }

// Round runs one judging round and returns what it recorded.
func (j *Judge) Round(ctx context.Context) (*Round, error) {
	var comp league.Competition
	if _, err := j.chain.Query(ctx, fmt.Sprintf("/league/competition/%d", j.cfg.Netuid), 0, &comp); err != nil {
		return nil, fmt.Errorf("the competition of subnet %d: %w", j.cfg.Netuid, err)
	}
	if comp.HashHex != j.hash {
		return nil, fmt.Errorf("the chain records definition %s for subnet %d, this judge has %s: fetch the published definition (%s)",
			comp.HashHex, j.cfg.Netuid, j.hash, comp.URI)
	}
	g, err := metagraph.Fetch(ctx, j.chain, j.cfg.Netuid)
	if err != nil {
		return nil, err
	}
	var subs league.Submissions
	if _, err := j.chain.Query(ctx, fmt.Sprintf("/league/submissions/%d", j.cfg.Netuid), 0, &subs); err != nil {
		return nil, fmt.Errorf("the submissions of subnet %d: %w", j.cfg.Netuid, err)
	}
	var sn subnets.SubnetView
	if _, err := j.chain.Query(ctx, fmt.Sprintf("/subnets/subnet/%d", j.cfg.Netuid), 0, &sn); err != nil {
		return nil, fmt.Errorf("subnet %d: %w", j.cfg.Netuid, err)
	}
	ownerUID, ok := g.UID(sn.OwnerHotkey)
	if !ok {
		ownerUID = 0
	}
	var entries []Entry
	var cands []league.Submission
	for _, s := range subs.Submissions {
		uid, ok := g.UID(s.Hotkey)
		if !ok {
			j.log.Info("submission of an unregistered hotkey ignored", "hotkey", s.Hotkey)
			continue
		}
		if uid == ownerUID {
			continue // the owner's uid is the burn
		}
		ev, err := j.evaluation(ctx, s)
		if err != nil {
			return nil, err
		}
		e := Entry{Hotkey: s.Hotkey, UID: uid, Repo: s.Repo, Commit: s.Commit, TargetLength: int(s.TargetLength),
			CommitBlock: s.CommitBlock, Seq: s.Seq}
		e.judged(ev)
		entries, cands = append(entries, e), append(cands, s)
	}
	prev := ""
	if last, err := j.store.LastRound(ctx); err != nil {
		return nil, err
	} else if last != nil && last.DefHash == j.hash {
		prev = last.Leader
	}
	st, err := j.settle(ctx, entries, cands, prev)
	if err != nil {
		return nil, err
	}
	rd := &Round{Block: g.Block, DefHash: j.hash, Leader: Leader(st), Standings: st, At: time.Now().UTC()}
	scores, err := Scores(st, g.Size(), ownerUID)
	if err == nil {
		n, minAllowed, maxLimit := g.Limits()
		var vec weights.Vector
		if vec, err = weights.Compute(scores, weights.Limits{N: n, MinAllowedWeights: minAllowed, MaxWeightLimit: maxLimit}); err == nil {
			rd.Weights = Weights{UIDs: vec.UIDs, Values: vec.Values}
			rd.WeightsBlock, err = j.setWeights(ctx, vec, g.Hyperparams.WeightsVersionKey)
		}
	}
	if err != nil {
		rd.WeightsError = err.Error()
		j.log.Warn("weights not set", "err", err)
	}
	if rd.Round, err = j.store.PutRound(ctx, rd); err != nil {
		return nil, err
	}
	j.saveState(g, scores, rd)
	if j.cfg.OnRound != nil {
		j.cfg.OnRound(rd)
	}
	j.log.Info("round judged", "round", rd.Round, "block", rd.Block, "leader", rd.Leader, "entries", len(entries),
		"weights_uids", rd.Weights.UIDs, "weights_values", rd.Weights.Values, "weights_block", rd.WeightsBlock)
	return rd, nil
}

// judged fills e's evaluation fields from ev.
func (e *Entry) judged(ev *Evaluation) {
	e.Length, e.ContentHash, e.OK, e.Score, e.TokensPerSec, e.Reason, e.Beside = ev.Length, ev.ContentHash, ev.OK, ev.Score,
		ev.TokensPerSec, ev.Reason, ev.Beside
}

// key is s's key in the store.
func (j *Judge) key(s league.Submission) SubmissionKey {
	return SubmissionKey{DefHash: j.hash, Hotkey: s.Hotkey, Repo: s.Repo, Commit: s.Commit, TargetLength: int(s.TargetLength)}
}

// evaluation returns the stored evaluation of s, evaluating it first if it is new.
func (j *Judge) evaluation(ctx context.Context, s league.Submission) (*Evaluation, error) {
	k := j.key(s)
	ev, err := j.store.Evaluation(ctx, k)
	if err != nil || ev != nil {
		return ev, err
	}
	j.log.Info("evaluating", "hotkey", s.Hotkey, "repo", s.Repo, "commit", s.Commit, "target_length", s.TargetLength)
	ev = j.runner.Evaluate(ctx, s.Repo, s.Commit, int(s.TargetLength))
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	j.log.Info("evaluated", "hotkey", s.Hotkey, "ok", ev.OK, "reason", ev.Reason, "message", ev.Message,
		"tokens_per_sec", int64(ev.TokensPerSec), "score", int64(ev.Score), "overhead", ev.Stages.Overhead().Round(time.Millisecond),
		"bench", ev.Stages.Bench.Round(time.Millisecond), "notes", ev.Notes)
	if ev.Reason == "setup" {
		return nil, errors.New(ev.Message)
	}
	return ev, j.store.PutEvaluation(ctx, k, ev)
}

// settle ranks the entries (cands[i] is entries[i]'s submission) and, before a
// challenger takes first place from prev, measures the two side by side
// (Runner.EvaluateSideBySide): their stored times may have been taken under loads far
// apart — the leader's while the machine built a dozen others, the challenger's on
// an idle one — and a dethronement must not be the machine's doing. The side-by-side
// evaluations replace both stored ones (so the next round ranks on them, and does not
// measure the pair again) and the entries are ranked again; a challenger that still
// beats the leader by more than the margin takes first place. Each challenger is
// measured beside the leader at most once a round; a leader that failed or left is
// not defended.
func (j *Judge) settle(ctx context.Context, entries []Entry, cands []league.Submission, prev string) ([]Standing, error) {
	tried := map[string]bool{}
	for {
		st := Rank(entries, j.def.Payout, j.def.Margin, prev)
		top := Leader(st)
		li := slices.IndexFunc(st, func(s Standing) bool { return s.Hotkey == prev })
		if top == "" || top == prev || li < 0 || st[li].Rank == 0 || tried[top] {
			return st, nil
		}
		tried[top] = true
		pair := [2]int{slices.IndexFunc(entries, func(e Entry) bool { return e.Hotkey == prev }),
			slices.IndexFunc(entries, func(e Entry) bool { return e.Hotkey == top })}
		j.log.Info("measuring a challenger beside the leader", "leader", prev, "challenger", top,
			"leader_score", int64(entries[pair[0]].Score), "challenger_score", int64(entries[pair[1]].Score))
		var cs []Candidate
		for _, i := range pair {
			s := cands[i]
			cs = append(cs, Candidate{Repo: s.Repo, Commit: s.Commit, Target: int(s.TargetLength)})
		}
		evs := j.runner.EvaluateSideBySide(ctx, cs)
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		for k, i := range pair {
			ev := evs[k]
			if ev.Reason == "setup" {
				return nil, errors.New(ev.Message)
			}
			ev.Beside = entries[pair[1-k]].Hotkey
			if err := j.store.PutEvaluation(ctx, j.key(cands[i]), ev); err != nil {
				return nil, err
			}
			entries[i].judged(ev)
		}
		j.log.Info("measured side by side", "leader", prev, "challenger", top,
			"leader_score", int64(entries[pair[0]].Score), "challenger_score", int64(entries[pair[1]].Score))
	}
}

func (j *Judge) setWeights(ctx context.Context, vec weights.Vector, version uint64) (int64, error) {
	msg, err := subnets.NewSetWeights(j.cfg.Netuid, vec.UIDs, vec.Values, version)
	if err != nil {
		return 0, err
	}
	tctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	view, err := j.chain.Send(tctx, msg)
	if err != nil {
		var te *client.TxError
		if errors.As(err, &te) {
			return 0, fmt.Errorf("the chain refused the weights: %s", te.Log)
		}
		return 0, err
	}
	return view.Height, nil
}

// saveState writes the SDK validator's state file: the shares by uid with the hotkeys
// that held them, and the last weights.
func (j *Judge) saveState(g *metagraph.Graph, scores []float64, rd *Round) {
	if j.cfg.StateDir == "" {
		return
	}
	st, _, err := validator.LoadState(j.cfg.StateDir)
	if err != nil || st == nil {
		st = &validator.State{}
	}
	st.Netuid, st.Hotkey, st.Step, st.Block = j.cfg.Netuid, j.cfg.Hotkey, uint64(rd.Round), g.Block
	st.Hotkeys = append([]string(nil), g.Hotkeys...)
	st.Scores = make([]float64, g.Size())
	copy(st.Scores, scores)
	if rd.WeightsError == "" {
		st.LastWeightsBlock, st.LastWeightsError = rd.WeightsBlock, ""
	} else {
		st.LastWeightsError = rd.WeightsError
	}
	st.SavedAt = time.Now().UTC()
	if err := st.Save(j.cfg.StateDir); err != nil {
		j.log.Error("saving the state failed", "err", err)
	}
}

// Run judges a round every RoundBlocks blocks (the first at once) until ctx ends. A
// round that fails (the chain unreachable, no competition defined yet) is logged and
// tried again a quarter of a round later.
func (j *Judge) Run(ctx context.Context) error {
	if err := j.runner.Setup(ctx); err != nil {
		return err
	}
	var last int64 = -1 << 62
	for {
		h, err := j.height(ctx)
		if err == nil && h-last >= j.def.RoundBlocks {
			if _, err := j.Round(ctx); err != nil {
				if ctx.Err() != nil {
					return nil
				}
				j.log.Warn("round failed", "err", err)
				last = h - j.def.RoundBlocks + max(1, j.def.RoundBlocks/4)
			} else {
				last = h
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(j.cfg.Poll):
		}
	}
}

func (j *Judge) height(ctx context.Context) (int64, error) {
	s, err := j.chain.Status(ctx)
	if err != nil {
		return 0, err
	}
	return s.Height, nil
}
