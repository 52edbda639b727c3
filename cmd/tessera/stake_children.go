package main

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/tessera-net/tessera/client"
	"github.com/tessera-net/tessera/dtao"
	"github.com/tessera-net/tessera/keys"
	"github.com/tessera-net/tessera/modules/stake"
)

// newStakeChildCmd is `stake child` (btcli's `stake child`): a hotkey's owner lends
// proportions of the hotkey's stake on one subnet to child hotkeys, which validate with it
// and share their dividends back less their childkey take (docs/dtao.md §9, Child keys).
func newStakeChildCmd(env *cliEnv, nf *nodeFlag) *cobra.Command {
	cmd := &cobra.Command{Use: "child", Aliases: []string{"children"},
		Short: "Child hotkeys: lend a hotkey's stake on a subnet to child hotkeys (get, set, revoke, take)"}
	cmd.AddCommand(newStakeChildGetCmd(env, nf), newStakeChildSetCmd(env, nf, false), newStakeChildSetCmd(env, nf, true),
		newStakeChildTakeCmd(env, nf))
	return cmd
}

// netuidFlag registers a required --netuid of a subnet (not root).
func netuidFlag(cmd *cobra.Command, netuid *uint16) {
	cmd.Flags().Uint16Var(netuid, "netuid", 0, "the subnet (child keys are per subnet; not root)")
}

func requireSubnet(cmd *cobra.Command, netuid uint16) error {
	if !cmd.Flags().Changed("netuid") {
		return usagef("--netuid is required")
	}
	if netuid == 0 {
		return usagef("--netuid 0 is the root subnet: child keys are set on a subnet")
	}
	return nil
}

func childrenView(cmd *cobra.Command, nf *nodeFlag, hot keys.PublicKey, netuid uint16) (stake.ChildrenView, error) {
	var v stake.ChildrenView
	err := nf.query(cmd.Context(), "/stake/children/"+hot.Hex()+"/"+strconv.Itoa(int(netuid)), &v)
	return v, err
}

// writeChildren prints a list of (proportion, hotkey) under a title.
func writeChildren(w io.Writer, title string, cs []stake.ChildView) {
	fmt.Fprintf(w, "%s:", title)
	if len(cs) == 0 {
		fmt.Fprintln(w, " none")
		return
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, c := range cs {
		fmt.Fprintf(tw, "  %s\t%s\n", stake.FormatProportion(c.Proportion), c.Hotkey)
	}
	tw.Flush()
}

// newStakeChildGetCmd is `stake child get [HOTKEY] --netuid N`.
func newStakeChildGetCmd(env *cliEnv, nf *nodeFlag) *cobra.Command {
	var wf walletFlags
	var netuid uint16
	cmd := &cobra.Command{
		Use: "get [HOTKEY]", Short: "Show a hotkey's children and parents on a subnet, the set pending and its childkey take (default: the wallet's hotkey)",
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := requireSubnet(cmd, netuid); err != nil {
				return err
			}
			k := keyFlags{role: hotkeyRole, wf: wf}
			given := ""
			if len(args) == 1 {
				given = args[0]
			}
			hot, err := k.hotkeyPub(cmd, env, given)
			if err != nil {
				return err
			}
			v, err := childrenView(cmd, nf, hot, netuid)
			if err != nil {
				return err
			}
			return env.emit(v, func(w io.Writer) error {
				fmt.Fprintf(w, "hotkey %s on subnet %d\n", v.Hotkey, v.Netuid)
				writeChildren(w, "children", v.Children)
				writeChildren(w, "parents", v.Parents)
				if v.Pending != nil {
					writeChildren(w, fmt.Sprintf("pending (replaces the children at subnet %d's first epoch after block %d)", v.Netuid, v.Pending.CooldownBlock), v.Pending.Children)
				}
				_, err := fmt.Fprintf(w, "childkey take: %s\n", formatTake(v.Take))
				return err
			})
		},
	}
	wf.register(cmd)
	netuidFlag(cmd, &netuid)
	return cmd
}

// parseChildFlags reads --child PROP:HOTKEY values.
func parseChildFlags(vals []string) ([]stake.ChildEntry, []dtao.Child[keys.PublicKey], error) {
	var es []stake.ChildEntry
	var cs []dtao.Child[keys.PublicKey]
	for _, v := range vals {
		ps, hs, ok := strings.Cut(v, ":")
		if !ok {
			return nil, nil, usagef("--child %q: want PROPORTION:HOTKEY, such as 0.5:5FHn… or 50%%:5FHn…", v)
		}
		p, err := stake.ParseProportion(ps)
		if err != nil {
			return nil, nil, usagef("--child %q: %v", v, err)
		}
		h, err := keys.ParsePublicKey(hs)
		if err != nil {
			return nil, nil, usagef("--child %q: the hotkey: %v", v, err)
		}
		es = append(es, stake.ChildEntry{Proportion: p, Hotkey: h[:]})
		cs = append(cs, dtao.Child[keys.PublicKey]{Proportion: dtao.Proportion(p), Hotkey: h})
	}
	return es, cs, nil
}

// newStakeChildSetCmd is `stake child set` and (revoke) `stake child revoke`: one
// stake/set_children, shown with the cooldown before signing.
func newStakeChildSetCmd(env *cliEnv, nf *nodeFlag, revoke bool) *cobra.Command {
	sf := newSendFlags(coldkeyRole)
	var hot string
	var netuid uint16
	var children []string
	var yes bool
	use, short := "set", "Set the children of a hotkey you own on a subnet (replacing any): each gets a proportion of its stake there"
	example := `  tessera stake child set --wallet.name owner --netuid 1 --child 0.5:5FHn... --child 25%:5DAA...
  tessera stake child set --from-uri //Bob --hotkey 5FHn... --netuid 1 --child 1:5DAA... --yes`
	if revoke {
		use, short = "revoke", "Revoke every child of a hotkey you own on a subnet"
		example = `  tessera stake child revoke --wallet.name owner --netuid 1 --yes`
	}
	cmd := &cobra.Command{
		Use: use, Short: short, Example: example, Args: cobra.NoArgs,
		Long: short + `. The hotkey's owner (the coldkey) signs. The chain checks the set at once
(at most 5 children, proportions summing to at most 1, no child twice, not the hotkey itself,
no child that is a parent of the hotkey, one set per 150 blocks) and applies it at the
subnet's first epoch after the cooldown (the chain's pending_child_key_cooldown).`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := requireSubnet(cmd, netuid); err != nil {
				return err
			}
			es, cs, err := parseChildFlags(children)
			if err != nil {
				return err
			}
			if !revoke && len(es) == 0 {
				return usagef("give at least one --child PROPORTION:HOTKEY (stake child revoke removes them all)")
			}
			pub, err := sf.hotkeyPub(cmd, env, hot)
			if err != nil {
				return err
			}
			if err := dtao.CheckChildren(pub, netuid, cs, nil); err != nil {
				return usagef("%v", err)
			}
			cur, err := childrenView(cmd, nf, pub, netuid)
			if err != nil {
				return err
			}
			var b strings.Builder
			if revoke {
				fmt.Fprintf(&b, "Revoke the children of %s on subnet %d.\n", pub, netuid)
			} else {
				fmt.Fprintf(&b, "Set the children of %s on subnet %d to:\n", pub, netuid)
				tw := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
				for _, e := range es {
					fmt.Fprintf(tw, "  %s\t%s\n", stake.FormatProportion(e.Proportion), keys.AddressOf(e.Hotkey))
				}
				tw.Flush()
			}
			writeChildren(&b, "now", cur.Children)
			if cur.Pending != nil {
				writeChildren(&b, "replacing the pending set", cur.Pending.Children)
			}
			fmt.Fprintf(&b, "It takes effect at subnet %d's first epoch after a cooldown of %d blocks.", netuid, cur.Cooldown)
			if err := confirm(env, yes, b.String()); err != nil {
				return err
			}
			m, err := stake.NewSetChildren(pub, netuid, es)
			if err != nil {
				return err
			}
			return sf.sendTelling(cmd, env, nf, m, func(v *client.TxView) string {
				at, _ := eventAttr(v, "children_scheduled", "cooldown_block")
				what := fmt.Sprintf("%d children of %s", len(es), pub)
				if revoke {
					what = "the revocation of the children of " + pub.String()
				}
				return fmt.Sprintf("scheduled %s on subnet %d: applied at the subnet's first epoch after block %s", what, netuid, at)
			})
		},
	}
	sf.register(cmd)
	cmd.Flags().StringVar(&hot, "hotkey", "", "the parent hotkey (default: the wallet's hotkey)")
	netuidFlag(cmd, &netuid)
	if !revoke {
		cmd.Flags().StringArrayVar(&children, "child", nil, "PROPORTION:HOTKEY, the proportion a fraction (0.5) or a percentage (50%); repeat for up to 5 children")
	}
	cmd.Flags().BoolVarP(&yes, "yes", "y", false, "do not ask for confirmation")
	return cmd
}

// newStakeChildTakeCmd is `stake child take`: show, or (with --take) set, the share a
// child hotkey keeps of what its parents of other coldkeys earn through it.
func newStakeChildTakeCmd(env *cliEnv, nf *nodeFlag) *cobra.Command {
	sf := newSendFlags(coldkeyRole)
	var hot, take string
	var netuid uint16
	cmd := &cobra.Command{
		Use:   "take",
		Short: fmt.Sprintf("Show or set (--take) the childkey take of a hotkey on a subnet (at most %s)", formatTake(dtao.MaxChildkeyTake)),
		Example: `  tessera stake child take --hotkey 5FHn... --netuid 1
  tessera stake child take --wallet.name child --netuid 1 --take 9%`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := requireSubnet(cmd, netuid); err != nil {
				return err
			}
			pub, err := sf.hotkeyPub(cmd, env, hot)
			if err != nil {
				return err
			}
			if take == "" {
				v, err := childrenView(cmd, nf, pub, netuid)
				if err != nil {
					return err
				}
				out := map[string]any{"hotkey": v.Hotkey, "netuid": v.Netuid, "take": v.Take}
				return env.emit(out, func(w io.Writer) error {
					_, err := fmt.Fprintf(w, "childkey take of %s on subnet %d: %s (%d/65535)\n", v.Hotkey, v.Netuid, formatTake(v.Take), v.Take)
					return err
				})
			}
			t, err := parseTake(take)
			if err != nil {
				return err
			}
			if !dtao.ValidChildkeyTake(t) {
				return usagef("--take %s is above the maximum childkey take, %s", take, formatTake(dtao.MaxChildkeyTake))
			}
			m, err := stake.NewSetChildkeyTake(pub, netuid, t)
			if err != nil {
				return err
			}
			return sf.send(cmd, env, nf, m, fmt.Sprintf("childkey take of %s on subnet %d set to %s", pub, netuid, formatTake(t)))
		},
	}
	sf.register(cmd)
	cmd.Flags().StringVar(&hot, "hotkey", "", "the child hotkey (default: the wallet's hotkey)")
	netuidFlag(cmd, &netuid)
	cmd.Flags().StringVar(&take, "take", "", "set the take: a fraction (0.09) or a percentage (9%); without it the take is shown")
	return cmd
}
