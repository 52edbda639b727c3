package main

import (
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tessera-net/tessera/client"
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
// as two transactions, a remove and then an add. The chain has no move message, so the
// move is not atomic: when the add fails the amount stays in the coldkey's balance.
func newStakeMoveCmd(env *cliEnv, nf *nodeFlag) *cobra.Command {
	sf := newSendFlags(coldkeyRole)
	var from, to, amount string
	cmd := &cobra.Command{
		Use:   "move",
		Short: "Move stake from one hotkey to another: an unstake, then a stake (two transactions, not atomic)",
		Long: `Move stake of the signing coldkey from --from-hotkey to --to-hotkey. The chain has no
single message for it, so this sends two transactions in order: stake remove on the
first hotkey, then stake add on the second. If the second fails, the amount is back in
the coldkey's balance (unstaked), and the error says so.`,
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
			remove, err := stake.NewRemove(src, units)
			if err != nil {
				return err
			}
			add, err := stake.NewAdd(dst, units)
			if err != nil {
				return err
			}
			pair, err := sf.pair(cmd, env)
			if err != nil {
				return err
			}
			c, err := nf.client()
			if err != nil {
				return err
			}
			removed, err := sf.sendWith(cmd.Context(), env, c, pair, remove)
			if err != nil {
				return fmt.Errorf("unstake from %s (nothing moved): %w", src, err)
			}
			added, err := sf.sendWith(cmd.Context(), env, c, pair, add)
			if err != nil {
				return fmt.Errorf("%s unstaked from %s in block %d, but staking it on %s failed; it is in the coldkey's balance: %w",
					accounts.FormatAmount(units), src, removed.Height, dst, err)
			}
			out := map[string]*client.TxView{"remove": removed, "add": added}
			return env.emit(out, func(w io.Writer) error {
				_, err := fmt.Fprintf(w, "moved %s from %s to %s (unstaked in block %d, staked in block %d)\n",
					accounts.FormatAmount(units), src, dst, removed.Height, added.Height)
				return err
			})
		},
	}
	sf.register(cmd)
	cmd.Flags().StringVar(&from, "from-hotkey", "", "the hotkey to unstake from (default: the wallet's hotkey)")
	cmd.Flags().StringVar(&to, "to-hotkey", "", "the hotkey to stake on (default: the wallet's hotkey)")
	cmd.Flags().StringVar(&amount, "amount", "", "tokens")
	return cmd
}
