package main

import (
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tessera-net/tessera/client"
	"github.com/tessera-net/tessera/keys"
	"github.com/tessera-net/tessera/modules/accounts"
	"github.com/tessera-net/tessera/modules/stake"
)

// newStakeClaimTypeCmd is `stake claim-type`: a coldkey's root claim type — what its
// claims without --keep and the chain's auto-claim do with the alpha its root stake
// earned — shown, or set with --set (after a confirmation, or --yes).
func newStakeClaimTypeCmd(env *cliEnv, nf *nodeFlag) *cobra.Command {
	sf := newSendFlags(coldkeyRole)
	var set string
	var netuids []uint
	var yes bool
	cmd := &cobra.Command{
		Use:   "claim-type [COLDKEY]",
		Short: "Show or set (--set swap|keep|keep-subnets) how your root dividends are claimed",
		Long: `Show or set a coldkey's root claim type. Each block the chain claims the root
dividends of 5 root stakers chosen from the previous block's hash (amounts of at least
0.0005 alpha on a subnet), and "stake claim-root" without --keep claims by the same type:
  swap          sell the alpha on the subnet's pool, fee-free, and stake the TAO on root (the default)
  keep          stake the alpha on the subnet under the same hotkey
  keep-subnets  keep the alpha on the subnets given with --netuids, swap it on the others`,
		Example: `  tessera stake claim-type --wallet.name w
  tessera stake claim-type --wallet.name w --set keep-subnets --netuids 1,3 --yes`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if set == "" {
				if len(netuids) > 0 {
					return usagef("--netuids goes with --set keep-subnets")
				}
				var cold keys.PublicKey
				var err error
				if len(args) == 1 {
					if cold, err = keys.ParsePublicKey(args[0]); err != nil {
						return usageError{err}
					}
				} else if cold, err = signerPub(cmd, env, sf); err != nil {
					return err
				}
				var v stake.RootClaimTypeView
				if err := nf.query(cmd.Context(), "/stake/root_claim_type/"+cold.Hex(), &v); err != nil {
					return err
				}
				return env.emit(v, func(w io.Writer) error { return printClaimType(w, v) })
			}
			if len(args) == 1 {
				return usagef("--set sets the signer's own claim type: give no COLDKEY")
			}
			typ, err := stake.ParseClaimType(set)
			if err != nil {
				return usagef("--set: %v", err)
			}
			ns := make([]uint16, 0, len(netuids))
			for _, n := range netuids {
				if n > math.MaxUint16 {
					return usagef("--netuids: %d is not a netuid", n)
				}
				ns = append(ns, uint16(n))
			}
			ct, err := stake.RootClaimType{Type: typ, Netuids: ns}.Validate()
			if err != nil {
				return usagef("%v", err)
			}
			cold, err := signerPub(cmd, env, sf)
			if err != nil {
				return err
			}
			var now stake.RootClaimTypeView
			if err := nf.query(cmd.Context(), "/stake/root_claim_type/"+cold.Hex(), &now); err != nil {
				return err
			}
			want := describeClaimType(ct.Type, ct.Netuids)
			if err := confirm(env, yes, fmt.Sprintf("Root claim type of %s: %s → %s.\nFrom now on its claims without --keep and the auto-claim %s.",
				cold, describeClaimType(mustClaimType(now.Type), now.Netuids), want, claimTypeEffect(ct.Type, ct.Netuids))); err != nil {
				return err
			}
			m, err := stake.NewSetRootClaimType(ct.Type, ct.Netuids)
			if err != nil {
				return err
			}
			return sf.send(cmd, env, nf, m, "root claim type of "+cold.String()+" set to "+want)
		},
	}
	sf.register(cmd)
	cmd.Flags().StringVar(&set, "set", "", "set the claim type: swap, keep or keep-subnets")
	cmd.Flags().UintSliceVar(&netuids, "netuids", nil, "with --set keep-subnets: the subnets whose alpha is kept (comma-separated)")
	cmd.Flags().BoolVarP(&yes, "yes", "y", false, "do not ask for confirmation")
	return cmd
}

// mustClaimType reads a claim type's name from a query answer (swap if unknown).
func mustClaimType(name string) uint8 {
	t, _ := stake.ParseClaimType(name)
	return t
}

// describeClaimType writes a claim type as "swap", "keep" or "keep-subnets [1 3]".
func describeClaimType(t uint8, netuids []uint16) string {
	if t == stake.ClaimKeepSubnets {
		return fmt.Sprintf("%s %v", stake.ClaimTypeName(t), netuids)
	}
	return stake.ClaimTypeName(t)
}

// claimTypeEffect says what claims of a type do, to finish a sentence.
func claimTypeEffect(t uint8, netuids []uint16) string {
	switch t {
	case stake.ClaimKeep:
		return "stake the alpha on each subnet under the same hotkey"
	case stake.ClaimKeepSubnets:
		return fmt.Sprintf("keep the alpha staked on subnets %v and sell it for root stake on the others", netuids)
	}
	return "sell the alpha fee-free and stake the TAO on root under the same hotkey"
}

func printClaimType(w io.Writer, v stake.RootClaimTypeView) error {
	var b strings.Builder
	fmt.Fprintf(&b, "Coldkey:     %s\n", v.Coldkey)
	fmt.Fprintf(&b, "Claim type:  %s (%s)\n", describeClaimType(mustClaimType(v.Type), v.Netuids), claimTypeEffect(mustClaimType(v.Type), v.Netuids))
	if v.AutoClaim {
		fmt.Fprintf(&b, "Auto-claim:  yes, position %d of the %d root stakers (5 are claimed each block)\n", v.Index, v.Indexed)
	} else {
		fmt.Fprintf(&b, "Auto-claim:  no (no root stake; %d root stakers are indexed)\n", v.Indexed)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// claimRootHow is what `stake claim-root` says a claim does: how (the Swap sentence) when
// --keep is given or the coldkey's claim type is swap, else its claim type's effect.
func claimRootHow(cmd *cobra.Command, nf *nodeFlag, cold keys.PublicKey, keep bool, how string) string {
	if keep {
		return how
	}
	var v stake.RootClaimTypeView
	if err := nf.query(cmd.Context(), "/stake/root_claim_type/"+cold.Hex(), &v); err != nil || v.Type == stake.ClaimTypeName(stake.ClaimSwap) {
		return how
	}
	t := mustClaimType(v.Type)
	return fmt.Sprintf("by your claim type, %s: it will %s", describeClaimType(t, v.Netuids), claimTypeEffect(t, v.Netuids))
}

// claimRootDone tells what a claim_root did, from its root_claimed events: the alpha
// claimed, how much of it was kept as alpha stake and how much sold for root stake.
func claimRootDone(v *client.TxView) string {
	var keptAlpha, soldAlpha, tao uint64
	var kept, sold int
	for _, e := range v.Events {
		if e.Type != "root_claimed" {
			continue
		}
		a, _ := strconv.ParseUint(e.Attributes["alpha"], 10, 64)
		if e.Attributes["kept"] == "true" {
			keptAlpha, kept = keptAlpha+a, kept+1
			continue
		}
		t, _ := strconv.ParseUint(e.Attributes["tao"], 10, 64)
		soldAlpha, tao, sold = soldAlpha+a, tao+t, sold+1
	}
	var parts []string
	if kept > 0 {
		parts = append(parts, fmt.Sprintf("%s alpha in %d claims kept as alpha stake", accounts.FormatAmount(keptAlpha), kept))
	}
	if sold > 0 || kept == 0 {
		parts = append(parts, fmt.Sprintf("%s alpha in %d claims sold, %s TAO staked on root", accounts.FormatAmount(soldAlpha), sold, accounts.FormatAmount(tao)))
	}
	return "claimed " + strings.Join(parts, "; ")
}
