package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/tessera-net/tessera/client"
	"github.com/tessera-net/tessera/modules/accounts"
	"github.com/tessera-net/tessera/modules/gov"
	"github.com/tessera-net/tessera/modules/models"
)

// newGovCmd is `tessera gov`: proposals, votes and their tallies.
func newGovCmd(env *cliEnv) *cobra.Command {
	var nf nodeFlag
	cmd := &cobra.Command{Use: "gov", Aliases: []string{"governance"}, Short: "Propose changes (models, parameters), vote on them with stake, follow their tally"}
	nf.register(cmd, env)
	cmd.AddCommand(
		newGovProposeCmd(env, &nf),
		newGovVoteCmd(env, &nf),
		newGovListCmd(env, &nf),
		newGovShowCmd(env, &nf),
		newGovParamsCmd(env, &nf),
	)
	return cmd
}

// actionFile is one action as `gov propose --action-file` reads it, the shape `gov show
// --output json` prints: {"type": "models/add", "value": {"model": {...}}}.
type actionFile struct {
	Type  string          `json:"type"`
	Value json.RawMessage `json:"value"`
}

// actionTypes are the action types the CLI can build from JSON.
var actionTypes = []string{gov.ActionParams, models.ActionAdd, models.ActionUpdate, models.ActionParams}

// readActions reads a JSON file of one action or a list of them.
func readActions(path string) ([]gov.Action, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, usagef("--action-file: %v", err)
	}
	var list []actionFile
	if t := bytes.TrimSpace(raw); len(t) > 0 && t[0] == '{' {
		var one actionFile
		if err := strictJSON(t, &one); err != nil {
			return nil, usagef("--action-file %s: %v", path, err)
		}
		list = []actionFile{one}
	} else if err := strictJSON(t, &list); err != nil {
		return nil, usagef("--action-file %s: %v (want an action {\"type\": ..., \"value\": ...} or a list of them)", path, err)
	}
	out := make([]gov.Action, 0, len(list))
	for i, a := range list {
		act, err := buildAction(a)
		if err != nil {
			return nil, usagef("--action-file %s: action %d: %v", path, i+1, err)
		}
		out = append(out, act)
	}
	return out, nil
}

func buildAction(a actionFile) (gov.Action, error) {
	if a.Type == gov.ActionParams {
		var p gov.Params
		if err := strictJSON(a.Value, &p); err != nil {
			return gov.Action{}, fmt.Errorf("%s: %v", a.Type, err)
		}
		return gov.NewParamsAction(p)
	}
	m, ok, err := models.ActionFromJSON(a.Type, a.Value)
	if !ok {
		return gov.Action{}, fmt.Errorf("unknown action type %q (the CLI builds %s)", a.Type, strings.Join(actionTypes, ", "))
	}
	return m, err
}

func strictJSON(raw []byte, v any) error {
	d := json.NewDecoder(bytes.NewReader(raw))
	d.DisallowUnknownFields()
	return d.Decode(v)
}

// readModels reads a JSON file of one model (a models.Spec) or a list of them.
func readModels(flag, path string) ([]models.Spec, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, usagef("%s: %v", flag, err)
	}
	t := bytes.TrimSpace(raw)
	var specs []models.Spec
	if len(t) > 0 && t[0] == '{' {
		var s models.Spec
		if err := strictJSON(t, &s); err != nil {
			return nil, usagef("%s %s: %v", flag, path, err)
		}
		specs = []models.Spec{s}
	} else if err := strictJSON(t, &specs); err != nil {
		return nil, usagef("%s %s: %v (want a model or a list of models)", flag, path, err)
	}
	for i := range specs {
		if err := specs[i].Validate(); err != nil {
			return nil, usagef("%s %s: model %d: %v", flag, path, i+1, err)
		}
	}
	return specs, nil
}

// newGovProposeCmd is `gov propose`: a proposal of actions, paying its deposit.
func newGovProposeCmd(env *cliEnv, nf *nodeFlag) *cobra.Command {
	sf := newSendFlags(coldkeyRole)
	var title, summary, deposit string
	var actionFiles, addFiles, updateFiles []string
	cmd := &cobra.Command{
		Use:   "propose",
		Short: "Propose actions (add or update a model, change parameters), paying a deposit",
		Long: `Propose a list of actions, signed by a coldkey that pays the deposit (default: the
chain's minimum). The proposal is open for the voting period; at its end it is tallied:
it passes with the quorum and the threshold reached and its actions run, all or none.
The deposit is refunded when the quorum is reached and burned when it is not.

Actions come from --add-model and --update-model (a JSON model, or a list) and from
--action-file (an action {"type": "models/add", "value": {"model": {...}}}, or a list;
types: ` + strings.Join(actionTypes, ", ") + `), in that order. See docs/governance.md.`,
		Example: `  tessera gov propose --from-uri //Alice --title "Add Llama 3.1 8B" --add-model llama.json
  tessera gov propose --wallet.name me --title "Coverage bonus 20%" --action-file bonus.json --deposit 150`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if title == "" {
				return usagef("--title is required")
			}
			var actions []gov.Action
			for _, src := range []struct {
				flag  string
				files []string
				make  func(models.Spec) (gov.Action, error)
			}{{"--add-model", addFiles, models.NewAddAction}, {"--update-model", updateFiles, models.NewUpdateAction}} {
				for _, f := range src.files {
					specs, err := readModels(src.flag, f)
					if err != nil {
						return err
					}
					for _, s := range specs {
						a, err := src.make(s)
						if err != nil {
							return err
						}
						actions = append(actions, a)
					}
				}
			}
			for _, f := range actionFiles {
				as, err := readActions(f)
				if err != nil {
					return err
				}
				actions = append(actions, as...)
			}
			if len(actions) == 0 {
				return usagef("no action: give --add-model, --update-model or --action-file")
			}
			var p gov.Params
			if err := nf.query(cmd.Context(), "/gov/params", &p); err != nil {
				return err
			}
			units := p.MinDeposit
			if deposit != "" {
				var err error
				if units, err = accounts.ParseAmount(deposit); err != nil {
					return usagef("--deposit must be a number of tokens, not %q", deposit)
				}
			}
			m, err := gov.NewSubmit(title, summary, units, actions)
			if err != nil {
				return err
			}
			return sf.sendTelling(cmd, env, nf, m, func(v *client.TxView) string {
				id, _ := eventAttr(v, "proposal_submitted", "proposal")
				end, _ := eventAttr(v, "proposal_submitted", "voting_end")
				return fmt.Sprintf("proposal %s submitted with a deposit of %s tokens; voting ends with block %s", id, accounts.FormatAmount(units), end)
			})
		},
	}
	sf.register(cmd)
	cmd.Flags().StringVar(&title, "title", "", "the proposal's title (at most 140 bytes)")
	cmd.Flags().StringVar(&summary, "summary", "", "what the proposal does and why (at most 4096 bytes)")
	cmd.Flags().StringVar(&deposit, "deposit", "", "tokens (default: the chain's minimum deposit)")
	cmd.Flags().StringArrayVar(&addFiles, "add-model", nil, "a JSON file of a model (or a list) to add; repeatable")
	cmd.Flags().StringArrayVar(&updateFiles, "update-model", nil, "a JSON file of a model's new parameters in full (or a list); repeatable")
	cmd.Flags().StringArrayVar(&actionFiles, "action-file", nil, "a JSON file of an action {\"type\":..., \"value\":...} (or a list); repeatable")
	return cmd
}

// newGovVoteCmd is `gov vote`: the signing coldkey's vote, weighted by its stake.
func newGovVoteCmd(env *cliEnv, nf *nodeFlag) *cobra.Command {
	sf := newSendFlags(coldkeyRole)
	var id uint64
	var option string
	cmd := &cobra.Command{
		Use:   "vote",
		Short: "Vote yes, no or abstain on a proposal, with the weight of the coldkey's stake at the tally",
		Example: `  tessera gov vote --from-uri //Bob --proposal 1 --option yes
  tessera gov vote --wallet.name me --proposal 1 --option abstain`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !cmd.Flags().Changed("proposal") {
				return usagef("--proposal is required")
			}
			o, ok := gov.ParseOption(option)
			if !ok {
				return usagef("--option must be yes, no or abstain, not %q", option)
			}
			m, err := gov.NewVote(id, o)
			if err != nil {
				return err
			}
			return sf.send(cmd, env, nf, m, fmt.Sprintf("voted %s on proposal %d", o, id))
		},
	}
	sf.register(cmd)
	cmd.Flags().Uint64Var(&id, "proposal", 0, "the proposal's id")
	cmd.Flags().StringVar(&option, "option", "", "yes, no or abstain")
	return cmd
}

// newGovListCmd is `gov list`: every proposal with its status.
func newGovListCmd(env *cliEnv, nf *nodeFlag) *cobra.Command {
	return &cobra.Command{
		Use: "list", Short: "List the proposals with their status", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var out []gov.ProposalView
			if err := nf.query(cmd.Context(), "/gov/proposals", &out); err != nil {
				return err
			}
			return env.emit(out, func(w io.Writer) error {
				tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "ID\tSTATUS\tVOTING END\tDEPOSIT\tACTIONS\tTITLE")
				for _, p := range out {
					types := make([]string, len(p.Actions))
					for i, a := range p.Actions {
						types[i] = a.Type
					}
					fmt.Fprintf(tw, "%d\t%s\t%d\t%s\t%s\t%s\n", p.ID, p.Status, p.VotingEnd, accounts.FormatAmount(p.Deposit), strings.Join(types, ","), p.Title)
				}
				return tw.Flush()
			})
		},
	}
}

// govShow is what `gov show` prints: the proposal, its tally (final, or today's) and the
// votes.
type govShow struct {
	Proposal gov.ProposalView `json:"proposal"`
	Tally    gov.TallyView    `json:"tally"`
	Votes    []gov.VoteView   `json:"votes"`
}

// newGovShowCmd is `gov show ID`.
func newGovShowCmd(env *cliEnv, nf *nodeFlag) *cobra.Command {
	return &cobra.Command{
		Use: "show ID", Short: "Show a proposal, its actions, its tally and its votes", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if _, err := strconv.ParseUint(args[0], 10, 64); err != nil {
				return usagef("proposal id %q is not a number", args[0])
			}
			c, err := nf.client()
			if err != nil {
				return err
			}
			var s govShow
			if _, err := c.Query(cmd.Context(), "/gov/proposal/"+args[0], 0, &s.Proposal); err != nil {
				return err
			}
			if _, err := c.Query(cmd.Context(), "/gov/tally/"+args[0], 0, &s.Tally); err != nil {
				return err
			}
			if _, err := c.Query(cmd.Context(), "/gov/votes/"+args[0], 0, &s.Votes); err != nil {
				return err
			}
			return env.emit(s, func(w io.Writer) error {
				p, t := s.Proposal, s.Tally
				fmt.Fprintf(w, "proposal %d: %s\nstatus:     %s\nproposer:   %s\ndeposit:    %s (%s)\nvoting:     blocks %d to %d\n",
					p.ID, p.Title, p.Status, p.Proposer, accounts.FormatAmount(p.Deposit), p.DepositOutcome, p.SubmitHeight, p.VotingEnd)
				if p.Summary != "" {
					fmt.Fprintf(w, "summary:    %s\n", p.Summary)
				}
				if p.Reason != "" {
					fmt.Fprintf(w, "reason:     %s\n", p.Reason)
				}
				kind := "so far, with today's stake"
				if t.Final {
					kind = "final"
				}
				fmt.Fprintf(w, "tally (%s): yes %s, no %s, abstain %s of %s staked; quorum %s, threshold %s\n", kind,
					accounts.FormatAmount(t.Yes), accounts.FormatAmount(t.No), accounts.FormatAmount(t.Abstain), accounts.FormatAmount(t.Staked),
					reached(t.QuorumReached), reached(t.ThresholdReached))
				fmt.Fprintf(w, "actions:\n")
				for i, a := range p.Actions {
					body, _ := json.Marshal(a.Value)
					if a.Value == nil {
						body, _ = json.Marshal(a.Body)
					}
					fmt.Fprintf(w, "  %d. %s %s\n", i+1, a.Type, body)
				}
				fmt.Fprintf(w, "votes:\n")
				for _, v := range s.Votes {
					fmt.Fprintf(w, "  %s %-7s stake %s\n", v.Voter, v.Option, accounts.FormatAmount(v.Weight))
				}
				return nil
			})
		},
	}
}

func reached(b bool) string {
	if b {
		return "reached"
	}
	return "not reached"
}

// newGovParamsCmd is `gov params`.
func newGovParamsCmd(env *cliEnv, nf *nodeFlag) *cobra.Command {
	return &cobra.Command{
		Use: "params", Short: "Show governance's parameters", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var p gov.Params
			if err := nf.query(cmd.Context(), "/gov/params", &p); err != nil {
				return err
			}
			return env.emit(p, func(w io.Writer) error {
				_, err := fmt.Fprintf(w, "min deposit:    %s\nvoting period:  %d blocks\nquorum:         %.2f%% of all stake\nthreshold:      more than %.2f%% of yes + no\n",
					accounts.FormatAmount(p.MinDeposit), p.VotingPeriod, u16f(p.Quorum)*100, u16f(p.Threshold)*100)
				return err
			})
		},
	}
}

// newModelCmd is `tessera model`: the model registry (changed only by governance).
func newModelCmd(env *cliEnv) *cobra.Command {
	var nf nodeFlag
	cmd := &cobra.Command{Use: "model", Aliases: []string{"models"}, Short: "Read the model registry (models change only by a passed gov proposal)"}
	nf.register(cmd, env)
	var netuid uint16
	list := &cobra.Command{
		Use: "list", Short: "List the registry's models, or with --netuid the epoch snapshot an inference subnet serves", Args: cobra.NoArgs,
		Long: `List the governance registry's models: the latest a vote approved. With --netuid, list
instead the models of the inference subnet's epoch group in force, with the parameters
frozen when the group formed: a change voted since takes effect at the next formation.`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var out []models.ModelView
			if cmd.Flags().Changed("netuid") {
				var specs []models.Spec
				if err := nf.query(cmd.Context(), fmt.Sprintf("/inference/models/%d", netuid), &specs); err != nil {
					return err
				}
				for _, sp := range specs {
					out = append(out, models.ModelView{Spec: sp})
				}
			} else if err := nf.query(cmd.Context(), "/models/list", &out); err != nil {
				return err
			}
			return env.emit(out, func(w io.Writer) error {
				tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "ID\tNAME\tVERSION\tHF REPO\tQUANT\tCONTEXT\tVRAM\tPRICE/TOKEN\tPOC (layers×width, heads/kv)")
				for _, m := range out {
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%d GB\t%s\t%d×%d, %d/%d\n", m.ID, m.Name, m.Version, m.HFRepo, m.Quantization, m.ContextSize,
						m.VRAMGB, accounts.FormatAmount(m.PricePerToken), m.PoC.Layers, m.PoC.Width, m.PoC.Heads, m.PoC.KVHeads)
				}
				return tw.Flush()
			})
		},
	}
	list.Flags().Uint16Var(&netuid, "netuid", 0, "an inference subnet: its epoch snapshot instead of the registry")
	var pricingNetuid uint16
	pricing := &cobra.Command{
		Use: "pricing", Short: "Show the price per token of each model: upcoming (the registry), or with --netuid in force on an inference subnet", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			path, what := "/models/pricing", "upcoming (governance registry; in force from the next formation)"
			if cmd.Flags().Changed("netuid") {
				path, what = fmt.Sprintf("/inference/pricing/%d", pricingNetuid), fmt.Sprintf("in force on subnet %d (its epoch snapshot)", pricingNetuid)
			}
			var out []models.PriceView
			if err := nf.query(cmd.Context(), path, &out); err != nil {
				return err
			}
			return env.emit(out, func(w io.Writer) error {
				fmt.Fprintf(w, "prices %s:\n", what)
				tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "MODEL\tPRICE/TOKEN")
				for _, p := range out {
					fmt.Fprintf(tw, "%s\t%s\n", p.ID, accounts.FormatAmount(p.PricePerToken))
				}
				return tw.Flush()
			})
		},
	}
	pricing.Flags().Uint16Var(&pricingNetuid, "netuid", 0, "an inference subnet: the prices of its epoch snapshot")
	cmd.AddCommand(
		list, pricing,
		&cobra.Command{
			Use: "show ID", Short: "Show one model", Args: cobra.ExactArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				if err := models.ValidateID(args[0]); err != nil {
					return usagef("model id: %v", err)
				}
				var m models.ModelView
				if err := nf.query(cmd.Context(), "/models/model/"+args[0], &m); err != nil {
					return err
				}
				return env.emit(m, func(w io.Writer) error {
					creator := m.Creator
					if creator == "" {
						creator = "(genesis)"
					}
					_, err := fmt.Fprintf(w, "model:          %s (%s, version %s)\nhugging face:   %s @ %s\nquantization:   %s, kv cache %s\ncontext:        %d tokens\nmodel args:     %s\nvram:           %d GB\nthroughput:     %d per PoC nonce\nprice:          %s per token\npoc:            layers %d, width %d, heads %d, kv heads %d, ffn %d, vocab %d, sequence %d\ncreator:        %s\nproposals:      added by %d (block %d), last changed by %d (block %d)\n",
						m.ID, m.Name, m.Version, m.HFRepo, m.HFCommit, m.Quantization, m.KVCacheQuant, m.ContextSize, strings.Join(m.Args, " "), m.VRAMGB,
						m.ThroughputPerNonce, accounts.FormatAmount(m.PricePerToken), m.PoC.Layers, m.PoC.Width, m.PoC.Heads, m.PoC.KVHeads, m.PoC.FFN,
						m.PoC.Vocab, m.PoC.SeqLen, creator, m.Proposal, m.AddedHeight, m.LastProposal, m.UpdatedHeight)
					return err
				})
			},
		},
		&cobra.Command{
			Use: "params", Short: "Show the inference network's parameters (coverage bonus, stage lengths)", Args: cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				var p models.Params
				if err := nf.query(cmd.Context(), "/models/params", &p); err != nil {
					return err
				}
				return env.emit(p, func(w io.Writer) error {
					_, err := fmt.Fprintf(w, "coverage bonus:       %s%%\nepoch:                %d blocks\nPoC:                  %d blocks, exchange %d\nvalidation:           %d blocks, exchange %d\nmodel loading:        %d blocks\nvalidation sample:    %d nonces\nPoC threshold:        %d (hit rate %s)\npreserved at most:    %d epochs in a row\nthroughput check:     %v\n",
						ppmPercent(uint64(p.CoverageBonusPPM)), p.EpochBlocks, p.PoCBlocks, p.PoCExchange, p.ValidationBlocks, p.ValidationXchg, p.LoadingBlocks, p.ValidationSample,
						p.PoCThreshold, hitRate(p.PoCThreshold), p.MaxPreservedEpochs, p.ThroughputCheck)
					return err
				})
			},
		},
	)
	return cmd
}
