package main

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/big"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/tessera-net/tessera/client"
	"github.com/tessera-net/tessera/modules/accounts"
	"github.com/tessera-net/tessera/modules/inference"
	inferencekeeper "github.com/tessera-net/tessera/modules/inference/keeper"
	"github.com/tessera-net/tessera/modules/models"
	"github.com/tessera-net/tessera/tx"
)

// ppmPercent renders parts per million as a percentage ("10" for 100000).
func ppmPercent(ppm uint64) string {
	return new(big.Rat).SetFrac64(int64(ppm), 10_000).FloatString(2)
}

// hitRate renders a PoC threshold's hit rate, threshold / 2^64, as a fraction ("1/16").
func hitRate(threshold uint64) string {
	r := new(big.Rat).SetFrac(new(big.Int).SetUint64(threshold), new(big.Int).Lsh(big.NewInt(1), 64))
	return r.String()
}

// newMLNodeCmd is `tessera mlnode`: a participant's MLNode declarations.
func newMLNodeCmd(env *cliEnv) *cobra.Command {
	var nf nodeFlag
	cmd := &cobra.Command{Use: "mlnode", Aliases: []string{"mlnodes"}, Short: "Declare, remove and list a participant's MLNodes on an inference (poc) subnet"}
	nf.register(cmd, env)
	cmd.AddCommand(newMLNodeAddCmd(env, &nf), newMLNodeRemoveCmd(env, &nf), newMLNodeListCmd(env, &nf))
	cmd.AddCommand(newMLNodeServeCmd(env))
	return cmd
}

func newMLNodeAddCmd(env *cliEnv, nf *nodeFlag) *cobra.Command {
	sf := newSendFlags(hotkeyRole)
	var netuid uint16
	var n inference.MLNode
	var hardware []string
	cmd := &cobra.Command{
		Use:   "add",
		Short: "Declare an MLNode (or replace the one with its id), signed by the participant's hotkey",
		Long: `Declare an MLNode of the signing hotkey on an inference subnet: its id (unique per
participant), where it listens, its hardware and the models it serves (registry ids; the
first is the one it mines PoC for and serves first). Every model must be in the governance
registry, or the transaction is refused with the unknown ids named. The declaration takes
effect at the next PoC start and so in the epoch group formed from it.`,
		Example: `  tessera mlnode add --from-uri //Alice --netuid 2 --id gpu-0 --host 10.0.0.5 \
      --inference-port 8000 --poc-port 8080 --hardware H100:8 --model llama-3.1-8b,qwen-2.5-7b`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !cmd.Flags().Changed("netuid") {
				return usagef("--netuid is required")
			}
			for _, h := range hardware {
				typ, count, ok := strings.Cut(h, ":")
				c, err := strconv.ParseUint(count, 10, 32)
				if !ok || err != nil || c == 0 {
					return usagef("--hardware %q is not TYPE:COUNT (H100:8)", h)
				}
				n.Hardware = append(n.Hardware, inference.Hardware{Type: typ, Count: uint32(c)})
			}
			m, err := inference.NewHardwareDiff(inference.HardwareDiff{Netuid: netuid, Add: []inference.MLNode{n}})
			if err != nil {
				return usagef("%v", err)
			}
			return sf.send(cmd, env, nf, m, fmt.Sprintf("MLNode %s declared on subnet %d (in force from the next PoC start)", n.ID, netuid))
		},
	}
	sf.register(cmd)
	cmd.Flags().Uint16Var(&netuid, "netuid", 0, "the inference subnet")
	cmd.Flags().StringVar(&n.ID, "id", "", "the MLNode's id, unique for the participant")
	cmd.Flags().StringVar(&n.Host, "host", "", "its host (an IP address or DNS name)")
	cmd.Flags().Uint16Var(&n.InferencePort, "inference-port", 0, "its inference port")
	cmd.Flags().Uint16Var(&n.PoCPort, "poc-port", 0, "its PoC port (control and proofs)")
	cmd.Flags().StringSliceVar(&hardware, "hardware", nil, "TYPE:COUNT, repeatable or comma-separated (H100:8)")
	cmd.Flags().StringSliceVar(&n.Models, "model", nil, "model ids from the registry, the PoC one first; repeatable or comma-separated")
	return cmd
}

func newMLNodeRemoveCmd(env *cliEnv, nf *nodeFlag) *cobra.Command {
	sf := newSendFlags(hotkeyRole)
	var netuid uint16
	var ids []string
	cmd := &cobra.Command{
		Use: "remove", Short: "Remove MLNodes by id (from the next PoC start)", Args: cobra.NoArgs,
		Example: `  tessera mlnode remove --from-uri //Alice --netuid 2 --id gpu-0`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !cmd.Flags().Changed("netuid") || len(ids) == 0 {
				return usagef("--netuid and --id are required")
			}
			m, err := inference.NewHardwareDiff(inference.HardwareDiff{Netuid: netuid, Remove: ids})
			if err != nil {
				return usagef("%v", err)
			}
			return sf.send(cmd, env, nf, m, fmt.Sprintf("MLNode %s removed from subnet %d", strings.Join(ids, ", "), netuid))
		},
	}
	sf.register(cmd)
	cmd.Flags().Uint16Var(&netuid, "netuid", 0, "the inference subnet")
	cmd.Flags().StringSliceVar(&ids, "id", nil, "MLNode ids, repeatable or comma-separated")
	return cmd
}

func newMLNodeListCmd(env *cliEnv, nf *nodeFlag) *cobra.Command {
	var netuid uint16
	var hotkey string
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the MLNodes of a subnet's participants, or one participant's with their allocation and weight",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !cmd.Flags().Changed("netuid") {
				return usagef("--netuid is required")
			}
			if hotkey != "" {
				var out []inferencekeeper.MLNodeView
				if err := nf.query(cmd.Context(), fmt.Sprintf("/inference/mlnodes/%d/%s", netuid, hotkey), &out); err != nil {
					return err
				}
				return env.emit(out, func(w io.Writer) error {
					tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
					fmt.Fprintln(tw, "ID\tHOST\tPORTS\tHARDWARE\tMODELS\tSLOT\tPRESERVED\tWEIGHT\tPENDING CHANGE")
					for _, n := range out {
						slot := "(next PoC)"
						if n.InRound && n.Slot != nil {
							slot = n.Slot.String()
						}
						fmt.Fprintf(tw, "%s\t%s\t%d,%d\t%s\t%s\t%s\t%d\t%d\t%v\n", n.ID, n.Host, n.InferencePort, n.PoCPort, hardwareString(n.Hardware),
							strings.Join(n.Models, ","), slot, n.Preserved, n.Weight, n.PendingChange)
					}
					return tw.Flush()
				})
			}
			var out []inference.ParticipantView
			if err := nf.query(cmd.Context(), fmt.Sprintf("/inference/participants/%d", netuid), &out); err != nil {
				return err
			}
			return env.emit(out, func(w io.Writer) error {
				tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "UID\tHOTKEY\tMLNODE\tHOST\tHARDWARE\tMODELS")
				for _, p := range out {
					for _, n := range p.Nodes {
						fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\n", p.UID, p.Hotkey, n.ID, n.Host, hardwareString(n.Hardware), strings.Join(n.Models, ","))
					}
				}
				return tw.Flush()
			})
		},
	}
	cmd.Flags().Uint16Var(&netuid, "netuid", 0, "the inference subnet")
	cmd.Flags().StringVar(&hotkey, "hotkey", "", "one participant's hotkey (SS58): its MLNodes with their allocation")
	return cmd
}

func hardwareString(hs []inference.Hardware) string {
	parts := make([]string, len(hs))
	for i, h := range hs {
		parts[i] = fmt.Sprintf("%s:%d", h.Type, h.Count)
	}
	if len(parts) == 0 {
		return "-"
	}
	return strings.Join(parts, ",")
}

// newInferenceCmd is `tessera inference`: the inference network's epochs and participants.
func newInferenceCmd(env *cliEnv) *cobra.Command {
	var nf nodeFlag
	cmd := &cobra.Command{Use: "inference", Short: "Follow an inference (poc) subnet: its epoch, stages, groups, PoC and participants"}
	nf.register(cmd, env)
	var netuid uint16
	cmd.PersistentFlags().Uint16Var(&netuid, "netuid", 0, "the inference subnet")
	need := func(cmd *cobra.Command) error {
		if !cmd.Flags().Changed("netuid") {
			return usagef("--netuid is required")
		}
		return nil
	}
	cmd.AddCommand(newInferenceChatCmd(env))
	cmd.AddCommand(
		&cobra.Command{
			Use: "epoch", Short: "Show the epoch's stage, the group in force, the next one and the PoC round", Args: cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				if err := need(cmd); err != nil {
					return err
				}
				var v struct {
					inference.EpochView
					Params models.Params `json:"params"`
				}
				if err := nf.query(cmd.Context(), fmt.Sprintf("/inference/epoch/%d", netuid), &v); err != nil {
					return err
				}
				return env.emit(v, func(w io.Writer) error { return printEpoch(w, &v.EpochView) })
			},
		},
		&cobra.Command{
			Use: "participants", Short: "List the group in force's participants with their weight, acceptance and coverage", Args: cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				if err := need(cmd); err != nil {
					return err
				}
				var v inference.EpochView
				if err := nf.query(cmd.Context(), fmt.Sprintf("/inference/epoch/%d", netuid), &v); err != nil {
					return err
				}
				out := []inference.Member{}
				if v.Current != nil {
					out = v.Current.Members
				}
				return env.emit(out, func(w io.Writer) error {
					if v.Current == nil {
						_, err := fmt.Fprintln(w, "no epoch group in force yet (the first forms at the end of the first validation)")
						return err
					}
					return printMembers(w, v.Current)
				})
			},
		},
		newInferenceRoundCmd(&nf, env, &netuid, need),
	)
	cmd.AddCommand(newInferencePaymentCmds(&nf, env, &netuid, need)...)
	return cmd
}

// newInferencePaymentCmds are the paid inference's queries (docs/inference-payments.md):
// `inference record ID`, `executors`, `usage`, `voting`, `finished`, `eligible`.
func newInferencePaymentCmds(nf *nodeFlag, env *cliEnv, netuid *uint16, need func(*cobra.Command) error) []*cobra.Command {
	record := &cobra.Command{
		Use: "record ID", Short: "Show an inference record: its user, TA, executor, tokens, cost, status, checks and votes", Args: cobra.ExactArgs(1),
		Example: `  tessera inference record 5d41402abc4b2a76b9719d911017c592…  (64 hex digits: the X-Tessera-Inference-Id of the answer)`,
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := inferencekeeper.ParseID(args[0])
			if err != nil {
				return usagef("%v", err)
			}
			c, err := nf.client()
			if err != nil {
				return err
			}
			var v inference.RecordView
			if _, err := c.Query(cmd.Context(), "/inference/record/"+hex.EncodeToString(id[:]), 0, &v); err != nil {
				return withRefusals(cmd.Context(), c, id, err)
			}
			return env.emit(v, func(w io.Writer) error { return printRecord(w, &v) })
		},
	}
	var hotkey string
	executors := &cobra.Command{
		Use: "executors", Short: "List the executors' service and reputation (or one with --hotkey)", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := need(cmd); err != nil {
				return err
			}
			var out []inference.ExecutorView
			if hotkey != "" {
				var v inference.ExecutorView
				if err := nf.query(cmd.Context(), fmt.Sprintf("/inference/executor/%d/%s", *netuid, hotkey), &v); err != nil {
					return err
				}
				out = []inference.ExecutorView{v}
			} else if err := nf.query(cmd.Context(), fmt.Sprintf("/inference/executors/%d", *netuid), &out); err != nil {
				return err
			}
			return env.emit(out, func(w io.Writer) error {
				tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "HOTKEY\tSTATUS\tREPUTATION\tEPOCHS\tSERVED\tVALIDATED\tINVALIDATED\tMISSED\tINVALID THIS EPOCH")
				for _, e := range out {
					fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\n", e.Hotkey, e.Status, e.Reputation, e.Epochs, e.Served, e.Validated, e.Invalidated, e.Missed, e.EpochInvalid)
				}
				return tw.Flush()
			})
		},
	}
	executors.Flags().StringVar(&hotkey, "hotkey", "", "one executor's hotkey (SS58)")
	var epoch uint64
	usage := &cobra.Command{
		Use: "usage", Short: "Show the usage per model of an epoch's inferences: requests, tokens, refunds, payments (default: the group in force's epoch)", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := need(cmd); err != nil {
				return err
			}
			if !cmd.Flags().Changed("epoch") {
				var v inference.EpochView
				if err := nf.query(cmd.Context(), fmt.Sprintf("/inference/epoch/%d", *netuid), &v); err != nil {
					return err
				}
				if v.Current != nil {
					epoch = v.Current.Epoch
				}
			}
			var v inference.UsageView
			if err := nf.query(cmd.Context(), fmt.Sprintf("/inference/usage/%d/%d", *netuid, epoch), &v); err != nil {
				return err
			}
			return env.emit(v, func(w io.Writer) error {
				fmt.Fprintf(w, "usage of subnet %d's inferences in epoch %d:\n", v.Netuid, v.Epoch)
				tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "MODEL\tREQUESTS\tPROMPT TOKENS\tCOMPLETION TOKENS\tREFUNDS\tINVALIDATED\tPAID")
				for _, m := range v.Models {
					fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t%s\n", m.Model, m.Requests, m.PromptTokens, m.CompletionTokens, m.Refunds, m.Invalidated, accounts.FormatAmount(m.Paid))
				}
				return tw.Flush()
			})
		},
	}
	usage.Flags().Uint64Var(&epoch, "epoch", 0, "the epoch (default: the group in force's)")
	listRecords := func(cmd *cobra.Command, path string) error {
		var out []inference.RecordView
		if err := nf.query(cmd.Context(), path, &out); err != nil {
			return err
		}
		return env.emit(out, func(w io.Writer) error {
			tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tSTATUS\tEXECUTOR\tMODEL\tTOKENS\tCOST\tFINISHED\tSETTLES\tVOTE ENDS")
			for _, r := range out {
				fmt.Fprintf(tw, "%x\t%s\t%s\t%s\t%d+%d\t%s\t%d\t%d\t%d\n", r.ID[:], r.Status, r.Executor, r.Model, r.PromptTokens, r.CompletionTokens,
					accounts.FormatAmount(r.Cost), r.FinishHeight, r.SettleHeight, r.VoteDeadline)
			}
			return tw.Flush()
		})
	}
	voting := &cobra.Command{
		Use: "voting", Short: "List the records in voting (a validator reported them invalid)", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := need(cmd); err != nil {
				return err
			}
			return listRecords(cmd, fmt.Sprintf("/inference/voting/%d", *netuid))
		},
	}
	var height uint64
	finished := &cobra.Command{
		Use: "finished", Short: "List the records finished at a height (what validators scan)", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := need(cmd); err != nil {
				return err
			}
			if !cmd.Flags().Changed("height") {
				return usagef("--height is required")
			}
			return listRecords(cmd, fmt.Sprintf("/inference/finished/%d/%d", *netuid, height))
		},
	}
	finished.Flags().Uint64Var(&height, "height", 0, "the block height the records finished at")
	var model string
	eligible := &cobra.Command{
		Use: "eligible", Short: "List the executors a TA may route a model's requests to now, with their weights", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := need(cmd); err != nil {
				return err
			}
			if model == "" {
				return usagef("--model is required")
			}
			var v inference.EligibleView
			if err := nf.query(cmd.Context(), fmt.Sprintf("/inference/eligible/%d/%s", *netuid, model), &v); err != nil {
				return err
			}
			return env.emit(v, func(w io.Writer) error {
				fmt.Fprintf(w, "%s on subnet %d, epoch %d's group, price %s per token, during PoC: %v\n", model, *netuid, v.Epoch, accounts.FormatAmount(v.Price), v.DuringPoC)
				tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "HOTKEY\tWEIGHT")
				for _, c := range v.Candidates {
					fmt.Fprintf(tw, "%s\t%d\n", c.Hotkey, c.Weight)
				}
				return tw.Flush()
			})
		},
	}
	eligible.Flags().StringVar(&model, "model", "", "the model id")
	return []*cobra.Command{record, executors, usage, voting, finished, eligible}
}

// printRecord renders one inference record.
func printRecord(w io.Writer, r *inference.RecordView) error {
	fmt.Fprintf(w, "inference %x on subnet %d: %s\n", r.ID[:], r.Netuid, r.Status)
	fmt.Fprintf(w, "  user %s, TA %s, executor %s\n", r.User, r.TA, r.Executor)
	fmt.Fprintf(w, "  model %s, POST %s, epoch %d, during PoC %v\n", r.Model, r.Path, r.Epoch, r.DuringPoC)
	fmt.Fprintf(w, "  started %d (expires %d), finished %d, settles %d\n", r.StartHeight, r.ExpiryHeight, r.FinishHeight, r.SettleHeight)
	fmt.Fprintf(w, "  tokens %d prompt + %d completion (bounds %d + %d), price %s: cost %s of %s held\n", r.PromptTokens, r.CompletionTokens,
		r.MaxPromptTokens, r.MaxTokens, accounts.FormatAmount(r.Price), accounts.FormatAmount(r.Cost), accounts.FormatAmount(r.MaxCost))
	fmt.Fprintf(w, "  body %x, response %x\n", r.BodyHash[:], r.ResponseHash[:])
	if r.Validator != nil {
		fmt.Fprintf(w, "  first checked by %s\n", *r.Validator)
	}
	if len(r.Votes) > 0 {
		fmt.Fprintf(w, "  votes (ending at %d): %s of %s voter stake invalid\n", r.VoteDeadline, accounts.FormatAmount(r.InvalidStake), accounts.FormatAmount(r.VoterStake))
		for _, v := range r.Votes {
			verdict := "invalid"
			if v.Valid {
				verdict = "valid"
			}
			fmt.Fprintf(w, "    %s %s (stake %s, block %d)\n", v.Validator, verdict, accounts.FormatAmount(v.Stake), v.Height)
		}
	}
	return nil
}

// newInferenceRoundCmd is `inference round`: one PoC round with its roster, slots,
// commitments and verdicts.
func newInferenceRoundCmd(nf *nodeFlag, env *cliEnv, netuid *uint16, need func(*cobra.Command) error) *cobra.Command {
	var epoch uint64
	cmd := &cobra.Command{
		Use: "round", Short: "Show a PoC round: its roster with slots, the commitments and the validators' verdicts (default: the latest)", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := need(cmd); err != nil {
				return err
			}
			if !cmd.Flags().Changed("epoch") {
				var v inference.EpochView
				if err := nf.query(cmd.Context(), fmt.Sprintf("/inference/epoch/%d", *netuid), &v); err != nil {
					return err
				}
				if v.Round == nil {
					return fmt.Errorf("subnet %d has had no PoC round yet (the first starts at block %d)", *netuid, v.Phase.NextPoC)
				}
				epoch = v.Round.Epoch
			}
			var out struct {
				Round       inference.Round            `json:"round"`
				Commitments []inference.CommitmentView `json:"commitments"`
				Verdicts    []inference.JudgementView  `json:"verdicts"`
			}
			for _, q := range []struct {
				path string
				into any
			}{{"round", &out.Round}, {"commitments", &out.Commitments}, {"verdicts", &out.Verdicts}} {
				if err := nf.query(cmd.Context(), fmt.Sprintf("/inference/%s/%d/%d", q.path, *netuid, epoch), q.into); err != nil {
					return err
				}
			}
			return env.emit(out, func(w io.Writer) error {
				rd := &out.Round
				fmt.Fprintf(w, "PoC round of epoch %d on subnet %d: PoC start %d, validation start %d, formation %d, switch %d; threshold %s, sample %d\n",
					rd.Epoch, rd.Netuid, rd.PoCStart, rd.ValidationStart, rd.Formation, rd.Switch, hitRate(rd.Params.PoCThreshold), rd.Params.ValidationSample)
				tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "PARTICIPANT\tMLNODE\tMODEL\tSLOT\tPRESERVED\tCOMMITTED")
				for _, m := range rd.Roster {
					for _, n := range m.Nodes {
						committed := "-"
						for _, c := range out.Commitments {
							if c.Participant == m.Hotkey && c.MLNode == n.ID {
								committed = fmt.Sprintf("%d (block %d)", c.Count, c.Height)
							}
						}
						fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\n", m.Hotkey, n.ID, n.Models[0], n.Slot, n.Preserved, committed)
					}
				}
				if err := tw.Flush(); err != nil {
					return err
				}
				fmt.Fprintf(w, "\nverdicts (%d validators):\n", len(rd.Validators))
				tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "VALIDATOR\tPARTICIPANT\tSAMPLED\tFAILURES\tACCEPT")
				for _, j := range out.Verdicts {
					fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%v\n", j.Validator, j.Participant, j.Sampled, j.Failures, j.Accept)
				}
				return tw.Flush()
			})
		},
	}
	cmd.Flags().Uint64Var(&epoch, "epoch", 0, "the round's epoch (default: the latest; two are kept)")
	return cmd
}

func printEpoch(w io.Writer, v *inference.EpochView) error {
	ph := v.Phase
	fmt.Fprintf(w, "height %d: epoch %d, stage %s\n", ph.Height, ph.Epoch, ph.Stage)
	if ph.Epoch > 0 {
		fmt.Fprintf(w, "  PoC start %d, validation start %d, formation %d, switch %d, next PoC %d\n", ph.PoCStart, ph.ValidationStart, ph.Formation, ph.Switch, ph.NextPoC)
	} else {
		fmt.Fprintf(w, "  first PoC at block %d\n", ph.NextPoC)
	}
	for _, g := range []struct {
		name string
		g    *inference.Group
	}{{"in force", v.Current}, {"formed, switching", v.Upcoming}} {
		if g.g == nil {
			continue
		}
		fmt.Fprintf(w, "\ngroup %s: epoch %d (formed at %d, active from %d), total weight %d\n", g.name, g.g.Epoch, g.g.FormedAt, g.g.ActiveFrom, g.g.TotalWeight)
		for _, sg := range g.g.Models {
			fmt.Fprintf(w, "  model %s: %d participants, price %d, expected throughput %d (PRE_POC_SLOT) / %d (POC_SLOT), real %d / %d\n", sg.Model.ID, len(sg.Members),
				sg.Model.PricePerToken, sg.ExpectedThroughput[0], sg.ExpectedThroughput[1], sg.RealThroughput[0], sg.RealThroughput[1])
		}
		if err := printMembers(w, g.g); err != nil {
			return err
		}
	}
	if rd := v.Round; rd != nil {
		fmt.Fprintf(w, "\nPoC round of epoch %d: %d participants, %d validators, threshold %s", rd.Epoch, len(rd.Roster), len(rd.Validators), hitRate(rd.Params.PoCThreshold))
		switch {
		case rd.Switched:
			fmt.Fprintln(w, ", switched")
		case rd.Formed:
			fmt.Fprintln(w, ", group formed")
		case rd.Validated:
			fmt.Fprintln(w, ", validating")
		default:
			fmt.Fprintln(w, ", mining")
		}
	}
	return nil
}

func printMembers(w io.Writer, g *inference.Group) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  PARTICIPANT\tACCEPTED\tSTAKE ACCEPTING\tCOVERED\tWEIGHT\tMLNODES (id model slot committed→weight)")
	for _, m := range g.Members {
		var nodes []string
		for _, n := range m.Nodes {
			nodes = append(nodes, fmt.Sprintf("%s %s %s %d→%d", n.ID, n.PoCModel, n.Slot, n.Committed, n.Weight))
		}
		fmt.Fprintf(tw, "  %s\t%v\t%s/%s\t%v\t%d\t%s\n", m.Hotkey, m.Accepted, accounts.FormatAmount(m.Accepting), accounts.FormatAmount(m.Judged), m.Covered, m.Weight, strings.Join(nodes, "; "))
	}
	return tw.Flush()
}

// withRefusals adds to a record's not_found the chain's refusals of its entries, read
// from the node's transaction index: a served request whose start the chain refused
// (its executor no longer eligible, the user unable to pay, …) has no record, and this
// says why.
func withRefusals(ctx context.Context, c *client.Client, id inference.Hash, err error) error {
	var qe *client.QueryError
	if !errors.As(err, &qe) || qe.Code != tx.CodeNotFound {
		return err
	}
	rs, rerr := c.InferenceRefusals(ctx, id)
	if rerr != nil || len(rs) == 0 {
		return err
	}
	var b strings.Builder
	for _, r := range rs {
		fmt.Fprintf(&b, "; block %d refused an entry of it: %s (%s)", r.Height, r.Code, r.Reason)
	}
	return fmt.Errorf("%w%s", err, b.String())
}
