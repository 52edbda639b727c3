package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/tessera-net/tessera/keys"
	"github.com/tessera-net/tessera/sdk/subnet"
	"github.com/tessera-net/tessera/subnets/kernelbench"
	"github.com/tessera-net/tessera/subnets/kernelbench/sandbox"
)

// The kernel league's sandbox starts this binary again as its init: that process must
// turn into the init before anything else runs.
func init() { sandbox.Main() }

// newKernelbenchCmd is `tessera kernelbench`: the kernel league (docs/kernelbench.md).
func newKernelbenchCmd(env *cliEnv) *cobra.Command {
	var nf nodeFlag
	cmd := &cobra.Command{Use: "kernelbench", Aliases: []string{"league"},
		Short: "The kernel league: define a competition, submit kernels, judge them in a sandbox, read the leaderboard, mine"}
	nf.register(cmd, env)
	cmd.AddCommand(
		newKBInitTargetCmd(env),
		newKBDefinitionCmd(env),
		newKBTryCmd(env),
		newKBDefineCmd(env, &nf),
		newKBSubmitCmd(env, &nf),
		newKBJudgeCmd(env, &nf),
		newKBLeaderboardCmd(env),
		newKBMineCmd(env, &nf),
	)
	return cmd
}

func kbLogger(env *cliEnv) *slog.Logger {
	return slog.New(slog.NewTextHandler(env.stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

func readDefinition(path string) ([]byte, *kernelbench.Definition, error) {
	if path == "" {
		return nil, nil, usagef("--definition is required")
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, usagef("--definition: %v", err)
	}
	d, err := kernelbench.DecodeDefinition(raw)
	if err != nil {
		return nil, nil, usagef("--definition %s: %v", path, err)
	}
	return raw, d, nil
}

func newKBInitTargetCmd(env *cliEnv) *cobra.Command {
	return &cobra.Command{
		Use:   "init-target DIR",
		Short: "Write the shipped target (a chunked linear-attention kernel and its harness) as a new git repository",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			commit, err := kernelbench.WriteTarget(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			abs, _ := filepath.Abs(args[0])
			return env.emit(map[string]string{"repo": "file://" + abs, "commit": commit}, func(w io.Writer) error {
				_, err := fmt.Fprintf(w, "target written to %s at commit %s\n", abs, commit)
				return err
			})
		},
	}
}

func newKBDefinitionCmd(env *cliEnv) *cobra.Command {
	var repo, commit, out string
	var roots []string
	var margin float64
	cmd := &cobra.Command{
		Use:   "definition",
		Short: "Print a competition definition with the defaults (league table 100k → 0.5× … 1M → 3.0×, payout 50/30/15/5)",
		Example: `  tessera kernelbench definition --target-repo https://github.com/me/target --target-commit 0123…
  tessera kernelbench definition --target-repo file:///srv/league/target --target-commit 0123… --allow-file-root /srv/league`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			d := kernelbench.NewDefinition(repo, commit)
			if len(roots) > 0 {
				d.Fetch.AllowFile, d.Fetch.FileRoots = true, roots
			}
			if cmd.Flags().Changed("margin") {
				d.Margin = margin
			}
			if err := d.Validate(); err != nil {
				return usagef("%v", err)
			}
			raw, err := jsonIndent(d)
			if err != nil {
				return err
			}
			if out != "" {
				return os.WriteFile(out, raw, 0o644)
			}
			_, err = env.stdout.Write(raw)
			return err
		},
	}
	cmd.Flags().StringVar(&repo, "target-repo", "", "the target repository (https://github.com/OWNER/NAME or file:///PATH)")
	cmd.Flags().StringVar(&commit, "target-commit", "", "the target's commit (40 hex digits)")
	cmd.Flags().StringArrayVar(&roots, "allow-file-root", nil, "allow file:// repositories below this directory (a devnet's); repeatable")
	cmd.Flags().Float64Var(&margin, "margin", 0.02, "how much better than the leader a challenger must be")
	cmd.Flags().StringVar(&out, "out", "", "write the definition to this file instead of standard output")
	return cmd
}

func newKBTryCmd(env *cliEnv) *cobra.Command {
	var defPath, repo, commit, work string
	var length int
	cmd := &cobra.Command{
		Use:   "try",
		Short: "Judge one submission here, exactly as a validator would (fetch, checks, sandboxed build and benchmark)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, d, err := readDefinition(defPath)
			if err != nil {
				return err
			}
			if repo == "" || commit == "" || length <= 0 {
				return usagef("--repo, --commit and --length are required")
			}
			if work == "" {
				work = filepath.Join(env.home, "kernelbench", "try")
			}
			r := &kernelbench.Runner{Def: d, Work: work, Log: kbLogger(env)}
			ev := r.Evaluate(cmd.Context(), repo, commit, length)
			return env.emit(ev, func(w io.Writer) error {
				if !ev.OK {
					fmt.Fprintf(w, "failed (%s): %s\n", ev.Reason, ev.Message)
					if ev.Log != "" {
						fmt.Fprintf(w, "log:\n%s\n", ev.Log)
					}
				} else {
					fmt.Fprintf(w, "ok: %d tokens at the %d league (×%g): %.0f tokens/s, score %.0f (median of %d, largest relative error %.2g)\n",
						ev.Length, ev.League.Length, ev.League.Multiplier, ev.TokensPerSec, ev.Score, len(ev.Times), ev.RelErr)
				}
				_, err := fmt.Fprintf(w, "stages: fetch %v, checks %v, build %v, benchmark %v\n", ev.Stages.Fetch.Round(time.Millisecond),
					ev.Stages.Check.Round(time.Millisecond), ev.Stages.Build.Round(time.Millisecond), ev.Stages.Bench.Round(time.Millisecond))
				for _, n := range ev.Notes {
					fmt.Fprintf(w, "note: %s\n", n)
				}
				return err
			})
		},
	}
	cmd.Flags().StringVar(&defPath, "definition", "", "the competition definition (JSON)")
	cmd.Flags().StringVar(&repo, "repo", "", "the submission's repository URL")
	cmd.Flags().StringVar(&commit, "commit", "", "the submission's commit (40 hex digits)")
	cmd.Flags().IntVar(&length, "length", 0, "the target sequence length")
	cmd.Flags().StringVar(&work, "work", "", "the judge's work directory (default <home>/kernelbench/try)")
	return cmd
}

func newKBDefineCmd(env *cliEnv, nf *nodeFlag) *cobra.Command {
	sf := newSendFlags(coldkeyRole)
	var defPath, uri string
	var netuid uint16
	var delay, window uint64
	cmd := &cobra.Command{
		Use:   "define",
		Short: "Record a subnet's competition on chain by its definition's hash (the subnet owner's coldkey signs)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			raw, _, err := readDefinition(defPath)
			if err != nil {
				return err
			}
			msg, err := kbDefineMsg(netuid, raw, uri, delay, window)
			if err != nil {
				return err
			}
			return sf.send(cmd, env, nf, msg, fmt.Sprintf("competition of subnet %d defined: definition %s", netuid, kernelbench.Hash(raw)))
		},
	}
	sf.register(cmd)
	cmd.Flags().StringVar(&defPath, "definition", "", "the competition definition (JSON)")
	cmd.Flags().StringVar(&uri, "uri", "", "where the definition is published")
	cmd.Flags().Uint16Var(&netuid, "netuid", 0, "the subnet")
	cmd.Flags().Uint64Var(&delay, "reveal-delay", 2, "blocks between a commit and its reveal, at least")
	cmd.Flags().Uint64Var(&window, "reveal-window", 0, "blocks after a commit its reveal may come, at most (0: no limit)")
	return cmd
}

func newKBSubmitCmd(env *cliEnv, nf *nodeFlag) *cobra.Command {
	kf := keyFlags{role: hotkeyRole}
	var repo, commit string
	var netuid uint16
	var length int
	cmd := &cobra.Command{
		Use:   "submit",
		Short: "Submit a kernel with commit-reveal: commit its hash, wait the reveal delay, reveal it (the hotkey signs)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if repo == "" || commit == "" || length <= 0 {
				return usagef("--repo, --commit and --length are required")
			}
			chain, me, err := kbChain(cmd, env, nf, &kf)
			if err != nil {
				return err
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), 5*time.Minute)
			defer cancel()
			v, err := kernelbench.Publish(ctx, chain, me, netuid, repo, commit, length)
			if err != nil {
				return err
			}
			return env.emit(v, func(w io.Writer) error {
				_, err := fmt.Fprintf(w, "submission revealed (block %d, tx %s)\n", v.Height, v.Hash)
				return err
			})
		},
	}
	kf.register(cmd)
	cmd.Flags().StringVar(&repo, "repo", "", "the repository URL")
	cmd.Flags().StringVar(&commit, "commit", "", "the commit (40 hex digits)")
	cmd.Flags().Uint16Var(&netuid, "netuid", 0, "the subnet")
	cmd.Flags().IntVar(&length, "length", 0, "the target sequence length (its league's multiplier applies)")
	return cmd
}

// kbChain is the chain as the signing key sees it.
func kbChain(cmd *cobra.Command, env *cliEnv, nf *nodeFlag, kf *keyFlags) (subnet.ClientChain, keys.PublicKey, error) {
	pair, err := kf.pair(cmd, env)
	if err != nil {
		return subnet.ClientChain{}, keys.PublicKey{}, err
	}
	c, err := nf.client()
	if err != nil {
		return subnet.ClientChain{}, keys.PublicKey{}, err
	}
	return subnet.ClientChain{Client: c, Signer: env.signer(c, pair)}, pair.Public(), nil
}

func newKBJudgeCmd(env *cliEnv, nf *nodeFlag) *cobra.Command {
	kf := keyFlags{role: hotkeyRole}
	var defPath, db, work, listen string
	var netuid uint16
	var once bool
	cmd := &cobra.Command{
		Use:   "judge",
		Short: "Run a kernel-league validator: judge the revealed submissions each round, set the weights, serve the leaderboard",
		Long: `Every round_blocks blocks the judge reads the subnet's revealed submissions, fetches each
new one at its commit, checks that only the allowed directory changed and the import rules,
builds and runs the harness in a sandbox (no network, read-only source, limits) on fresh
inputs it draws itself, compares the output with its reference, times the runs, ranks the
registered hotkeys and sets the weights: the payout to the top places, the rest to the
owner's uid. Results go to an SQLite database served as JSON on --listen.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			raw, _, err := readDefinition(defPath)
			if err != nil {
				return err
			}
			chain, me, err := kbChain(cmd, env, nf, &kf)
			if err != nil {
				return err
			}
			base := filepath.Join(env.home, "kernelbench", fmt.Sprintf("judge-%d", netuid))
			if db == "" {
				db = filepath.Join(base, "judge.db")
			}
			if work == "" {
				work = filepath.Join(base, "work")
			}
			if err := os.MkdirAll(filepath.Dir(db), 0o755); err != nil {
				return err
			}
			store, err := kernelbench.OpenStore(cmd.Context(), db)
			if err != nil {
				return err
			}
			defer store.Close()
			log := kbLogger(env)
			j, err := kernelbench.NewJudge(kernelbench.JudgeConfig{Netuid: netuid, Definition: raw, Work: work, StateDir: filepath.Join(base, "state"),
				Hotkey: me.String(), Log: log}, chain, store)
			if err != nil {
				return err
			}
			if listen != "" {
				ln, err := net.Listen("tcp", listen)
				if err != nil {
					return fmt.Errorf("--listen: %w", err)
				}
				srv := &http.Server{Handler: kernelbench.API(store, netuid), ReadHeaderTimeout: 10 * time.Second}
				go srv.Serve(ln)
				defer srv.Close()
				log.Info("leaderboard API", "url", "http://"+ln.Addr().String()+"/v1/leaderboard")
			}
			if once {
				if err := j.Runner().Setup(cmd.Context()); err != nil {
					return err
				}
				rd, err := j.Round(cmd.Context())
				if err != nil {
					return err
				}
				return env.emit(rd, func(w io.Writer) error { return printRound(w, rd) })
			}
			return j.Run(cmd.Context())
		},
	}
	kf.register(cmd)
	cmd.Flags().StringVar(&defPath, "definition", "", "the competition definition (JSON); its hash must be the chain's")
	cmd.Flags().Uint16Var(&netuid, "netuid", 0, "the subnet")
	cmd.Flags().StringVar(&db, "db", "", "the SQLite database (default <home>/kernelbench/judge-N/judge.db)")
	cmd.Flags().StringVar(&work, "work", "", "the work directory (default <home>/kernelbench/judge-N/work)")
	cmd.Flags().StringVar(&listen, "listen", "127.0.0.1:7460", "where to serve the leaderboard API (empty: nowhere)")
	cmd.Flags().BoolVar(&once, "once", false, "judge one round, print it and exit")
	return cmd
}

func newKBLeaderboardCmd(env *cliEnv) *cobra.Command {
	var judge, db string
	cmd := &cobra.Command{
		Use:   "leaderboard",
		Short: "Print the newest round's standings and weights, from a judge's API or its database",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var lb *kernelbench.Leaderboard
			switch {
			case db != "":
				if _, err := os.Stat(db); err != nil {
					return usagef("--db: %v", err)
				}
				s, err := kernelbench.OpenStore(cmd.Context(), db)
				if err != nil {
					return err
				}
				defer s.Close()
				rd, err := s.LastRound(cmd.Context())
				if err != nil {
					return err
				}
				lb = &kernelbench.Leaderboard{}
				if rd != nil {
					lb.Round = *rd
				}
			default:
				var err error
				if lb, err = kernelbench.FetchLeaderboard(cmd.Context(), judge); err != nil {
					return err
				}
			}
			return env.emit(lb, func(w io.Writer) error { return printRound(w, &lb.Round) })
		},
	}
	cmd.Flags().StringVar(&judge, "judge", "http://127.0.0.1:7460", "the judge's leaderboard API")
	cmd.Flags().StringVar(&db, "db", "", "read the judge's SQLite database instead")
	return cmd
}

// printRound prints a round as a table.
func printRound(w io.Writer, rd *kernelbench.Round) error {
	if rd.Round == 0 {
		_, err := fmt.Fprintln(w, "no round judged yet")
		return err
	}
	fmt.Fprintf(w, "round %d at block %d, leader %s\n", rd.Round, rd.Block, orDash(rd.Leader))
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "RANK\tUID\tHOTKEY\tLENGTH\tTOKENS/S\tSCORE\tSHARE\tNOTE")
	for _, s := range rd.Standings {
		rank := "-"
		if s.Rank > 0 {
			rank = fmt.Sprint(s.Rank)
		}
		note := s.Note
		if !s.OK && s.CopyOf == "" {
			note = "failed: " + s.Reason
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%d\t%.0f\t%.0f\t%.0f%%\t%s\n", rank, s.UID, short(s.Hotkey), s.Length, s.TokensPerSec, s.Score, 100*s.Share, note)
	}
	tw.Flush()
	if rd.WeightsError != "" {
		_, err := fmt.Fprintf(w, "weights not set: %s\n", rd.WeightsError)
		return err
	}
	_, err := fmt.Fprintf(w, "weights set at block %d: uids %v values %v\n", rd.WeightsBlock, rd.Weights.UIDs, rd.Weights.Values)
	return err
}

func short(s string) string {
	if len(s) > 12 {
		return s[:6] + "…" + s[len(s)-4:]
	}
	return s
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return short(s)
}

func newKBMineCmd(env *cliEnv, nf *nodeFlag) *cobra.Command {
	kf := keyFlags{role: hotkeyRole}
	var defPath, repo, work, proposer, endpoint, model, pushURL string
	var length, iterations, retries int
	var netuid uint16
	var publish bool
	cmd := &cobra.Command{
		Use:   "mine",
		Short: "The miner's agent: propose kernel changes (a model or the knob search), judge them locally in the sandbox, submit the best",
		Long: `Loops: ask the proposer for a change to the allowed directory of --repo (a git clone of
the target), apply and commit it, judge it with the validator's own checks and sandbox,
feed a failure back (at most --retries times), keep a change that beats the best by the
competition's margin, and with --publish submit it with commit-reveal.

--proposer knobs searches the target's documented tuning knobs (no model needed);
--proposer openai asks the model --model at --endpoint, any OpenAI-compatible API (the
Tessera gateway, tessera lm serve, or an external one; the key in OPENAI_API_KEY).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			raw, d, err := readDefinition(defPath)
			if err != nil {
				return err
			}
			if repo == "" || length <= 0 {
				return usagef("--repo and --length are required")
			}
			var p kernelbench.Proposer
			switch proposer {
			case "knobs":
				p = &kernelbench.KnobProposer{}
			case "openai":
				if endpoint == "" || model == "" {
					return usagef("--proposer openai needs --endpoint and --model")
				}
				p = &kernelbench.OpenAIProposer{Endpoint: endpoint, Model: model, APIKey: env.getenv("OPENAI_API_KEY"),
					Rules: fmt.Sprintf("Only files under %s/ may change; forbidden imports: %s.", d.Target.AllowedDir, strings.Join(d.Rules.ForbiddenImports, ", "))}
			default:
				return usagef("--proposer must be knobs or openai, not %q", proposer)
			}
			if work == "" {
				work = filepath.Join(env.home, "kernelbench", "mine")
			}
			cfg := kernelbench.MinerConfig{Repo: repo, Definition: raw, Work: work, TargetLength: length, Iterations: iterations,
				Retries: retries, Proposer: p, Log: kbLogger(env)}
			if publish {
				chain, me, err := kbChain(cmd, env, nf, &kf)
				if err != nil {
					return err
				}
				url := pushURL
				if url == "" {
					abs, _ := filepath.Abs(repo)
					url = "file://" + abs
				}
				cfg.Publish = func(ctx context.Context, commit string, _ *kernelbench.Evaluation) error {
					_, err := kernelbench.Publish(ctx, chain, me, netuid, url, commit, length)
					return err
				}
			}
			res, err := kernelbench.Mine(cmd.Context(), cfg)
			if err != nil && !errors.Is(err, context.Canceled) {
				return err
			}
			return env.emit(res, func(w io.Writer) error {
				_, err := fmt.Fprintf(w, "best commit %s: score %.0f (%.0f tokens/s) after %d attempts, %d published\n",
					res.Commit, res.Evaluation.Score, res.Evaluation.TokensPerSec, res.Attempts, res.Published)
				return err
			})
		},
	}
	kf.register(cmd)
	cmd.Flags().StringVar(&defPath, "definition", "", "the competition definition (JSON)")
	cmd.Flags().StringVar(&repo, "repo", "", "the working copy (a git clone of the target)")
	cmd.Flags().IntVar(&length, "length", 0, "the target sequence length")
	cmd.Flags().StringVar(&proposer, "proposer", "knobs", "knobs or openai")
	cmd.Flags().StringVar(&endpoint, "endpoint", "", "the OpenAI-compatible API's base URL (with --proposer openai)")
	cmd.Flags().StringVar(&model, "model", "", "the model to ask (with --proposer openai)")
	cmd.Flags().IntVar(&iterations, "iterations", 10, "how many changes to try")
	cmd.Flags().IntVar(&retries, "retries", 3, "how many times a failed change goes back to the proposer with its error")
	cmd.Flags().BoolVar(&publish, "publish", false, "submit each new best on chain (commit-reveal)")
	cmd.Flags().Uint16Var(&netuid, "netuid", 0, "the subnet (with --publish)")
	cmd.Flags().StringVar(&pushURL, "repo-url", "", "the URL validators fetch the working copy from (default file://REPO)")
	cmd.Flags().StringVar(&work, "work", "", "the local judge's directory (default <home>/kernelbench/mine)")
	return cmd
}
