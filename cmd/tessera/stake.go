package main

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tessera-net/tessera/modules/accounts"
	"github.com/tessera-net/tessera/modules/stake"
)

// newStakeSetTakeCmd is `stake set-take`: the owner of a hotkey sets the share of its
// nominators' rewards the hotkey keeps (the delegate take).
func newStakeSetTakeCmd(env *cliEnv, nf *nodeFlag) *cobra.Command {
	sf := newSendFlags(coldkeyRole)
	var hot, take string
	cmd := &cobra.Command{
		Use:   "set-take",
		Short: fmt.Sprintf("Set the delegate take of a hotkey you own (at most %s, the chain's MaxTake)", formatTake(stake.MaxTake)),
		Example: `  tessera stake set-take --wallet.name owner --take 9%
  tessera stake set-take --from-uri //Bob --hotkey 5FHn... --take 0.09`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			t, err := parseTake(take)
			if err != nil {
				return err
			}
			pub, err := sf.hotkeyPub(cmd, env, hot)
			if err != nil {
				return err
			}
			m, err := stake.NewSetTake(pub, t)
			if err != nil {
				return err
			}
			return sf.send(cmd, env, nf, m, fmt.Sprintf("take of %s set to %s", pub, formatTake(t)))
		},
	}
	sf.register(cmd)
	cmd.Flags().StringVar(&hot, "hotkey", "", "hotkey address (default: the wallet's hotkey)")
	cmd.Flags().StringVar(&take, "take", "", "the take: a fraction (0.09) or a percentage (9%)")
	return cmd
}

// parseTake reads a take given as a fraction ("0.09") or a percentage ("9%") into
// 65535ths, refusing one above stake.MaxTake.
func parseTake(s string) (uint16, error) {
	num, pct := strings.CutSuffix(strings.TrimSpace(s), "%")
	f, err := strconv.ParseFloat(num, 64)
	if err != nil || math.IsNaN(f) || f < 0 {
		return 0, usagef("--take must be a fraction such as 0.09 or a percentage such as 9%%, not %q", s)
	}
	if pct {
		f /= 100
	}
	v := math.Round(f * 65535)
	if v > float64(stake.MaxTake) {
		return 0, usagef("--take %s is above the chain's maximum take, %s", s, formatTake(stake.MaxTake))
	}
	return uint16(v), nil
}

// formatTake shows a take in 65535ths as a percentage.
func formatTake(t uint16) string { return strconv.FormatFloat(float64(t)/65535*100, 'f', 2, 64) + "%" }

// newStakeMoveCmd is `stake move`: stake of the signer's moved from one hotkey to another
// in one stake/move transaction (nothing passes through the balance).
func newStakeMoveCmd(env *cliEnv, nf *nodeFlag) *cobra.Command {
	sf := newSendFlags(coldkeyRole)
	var from, to, amount string
	cmd := &cobra.Command{
		Use:   "move",
		Short: "Move stake from one hotkey to another, in one transaction",
		Long: `Move stake of the signing coldkey from --from-hotkey to --to-hotkey in one stake/move
transaction: it moves all of the amount or, refused, nothing. The second hotkey must be
registered on a subnet.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			src, err := sf.hotkeyPub(cmd, env, from)
			if err != nil {
				return err
			}
			dst, err := sf.hotkeyPub(cmd, env, to)
			if err != nil {
				return err
			}
			if src == dst {
				return usagef("--from-hotkey and --to-hotkey are the same hotkey")
			}
			units, err := accounts.ParseAmount(amount)
			if err != nil || units == 0 {
				return usagef("--amount must be a positive number of tokens, not %q", amount)
			}
			m, err := stake.NewMove(src, dst, units)
			if err != nil {
				return err
			}
			return sf.send(cmd, env, nf, m, fmt.Sprintf("moved %s from %s to %s", accounts.FormatAmount(units), src, dst))
		},
	}
	sf.register(cmd)
	cmd.Flags().StringVar(&from, "from-hotkey", "", "the hotkey to unstake from (default: the wallet's hotkey)")
	cmd.Flags().StringVar(&to, "to-hotkey", "", "the hotkey to stake on (default: the wallet's hotkey)")
	cmd.Flags().StringVar(&amount, "amount", "", "tokens")
	return cmd
}
