package main

import (
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/tessera-net/tessera/client"
	"github.com/tessera-net/tessera/dtao"
	"github.com/tessera-net/tessera/keys"
	"github.com/tessera-net/tessera/modules/accounts"
	"github.com/tessera-net/tessera/modules/stake"
	"github.com/tessera-net/tessera/tx"
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

// newStakeCmd is `stake`: add, remove, move, transfer and swap stake, list positions,
// set a take. On root (--netuid 0, the default) stake is TAO one for one; on a subnet with
// a dTAO pool it is the subnet's alpha, bought and sold through the pool: those commands
// show a quote (what the chain would do now: amounts, fee, price before and after) and
// ask before signing, unless --yes.
func newStakeCmd(env *cliEnv) *cobra.Command {
	var nf nodeFlag
	cmd := &cobra.Command{Use: "stake", Aliases: []string{"st"}, Short: "Stake on hotkeys and subnets, unstake, move, transfer, swap, list positions"}
	nf.register(cmd, env)
	cmd.AddCommand(newStakeAddRemoveCmd(env, &nf, false), newStakeAddRemoveCmd(env, &nf, true), newStakeListCmd(env, &nf),
		newStakeSetTakeCmd(env, &nf), newStakeMoveCmd(env, &nf, "move"), newStakeMoveCmd(env, &nf, "transfer"), newStakeMoveCmd(env, &nf, "swap"),
		newStakeClaimRootCmd(env, &nf), newStakeClaimableCmd(env, &nf),
		newStakeClaimTypeCmd(env, &nf))
	cmd.AddCommand(newStakeChildCmd(env, &nf))
	return cmd
}

// limitFlags are --limit-price, --safe, --tolerance and --partial.
type limitFlags struct {
	price     string
	safe      bool
	tolerance float64
	partial   bool
	yes       bool
}

func (l *limitFlags) register(cmd *cobra.Command, limits bool) {
	if limits {
		cmd.Flags().StringVar(&l.price, "limit-price", "", "refuse if the price would pass this many TAO per alpha (for a swap: the least origin/destination price ratio, which caps the amount swapped)")
		cmd.Flags().BoolVar(&l.safe, "safe", false, "safe staking: a limit price --tolerance away from the current price")
		cmd.Flags().Float64Var(&l.tolerance, "tolerance", 0.005, "with --safe, how far the price may move (0.005 = 0.5%)")
		cmd.Flags().BoolVar(&l.partial, "partial", false, "with a limit, run the part of the amount the limit admits instead of refusing")
	}
	cmd.Flags().BoolVarP(&l.yes, "yes", "y", false, "do not ask for confirmation of the quote")
}

// limit is the limit price in rao per alpha (0: none) for an operation at price.
func (l *limitFlags) limit(price uint64, buy bool) (dtao.Limit, error) {
	lim := dtao.Limit{AllowPartial: l.partial}
	switch {
	case l.price != "" && l.safe:
		return lim, usagef("--limit-price and --safe are exclusive")
	case l.price != "":
		v, err := accounts.ParseAmount(l.price)
		if err != nil || v == 0 {
			return lim, usagef("--limit-price must be a positive price in TAO per alpha, not %q", l.price)
		}
		lim.Price = v
	case l.safe:
		if l.tolerance < 0 || l.tolerance >= 1 || math.IsNaN(l.tolerance) {
			return lim, usagef("--tolerance must be a fraction from 0 to 1, not %v", l.tolerance)
		}
		lim.Price = client.SafeLimit(price, uint64(math.Round(l.tolerance*1e6)), buy)
	}
	return lim, nil
}

func netuidUnit(netuid uint16) string {
	if netuid == 0 {
		return "TAO"
	}
	return "α" + strconv.Itoa(int(netuid))
}

// quoteLine says what a quote means, for the confirmation.
func quoteLine(what string, q client.Quote, inUnit, outUnit string, lim dtao.Limit) string {
	s := fmt.Sprintf("%s: pay %s %s, receive %s %s; fee %s TAO; price %s → %s TAO per alpha (%s)",
		what, accounts.FormatAmount(q.In), inUnit, accounts.FormatAmount(q.Out), outUnit, accounts.FormatAmount(q.Fee),
		client.FormatPrice(q.PriceBefore), client.FormatPrice(q.PriceAfter), q.Slippage())
	if lim.Price != 0 {
		s += fmt.Sprintf("; limit %s", client.FormatPrice(lim.Price))
		if lim.AllowPartial {
			s += " (partial allowed)"
		}
	}
	if !q.Restaked {
		s += "; below the minimum stake: the TAO goes to the balance"
	}
	return s
}

// quoteError explains a refused simulation as the chain would: lim is the limit given,
// swapRatio a swap's origin/destination price ratio now (0 for a stake or unstake).
func quoteError(err error, netuid uint16, lim dtao.Limit, swapRatio uint64) error {
	var me *dtao.MoveLimitError
	if errors.As(err, &me) {
		return fmt.Errorf("the chain would refuse this from subnet %d: at the limit ratio the swap may take at most %s (the origin/destination price ratio is %s; --partial swaps that much)",
			netuid, accounts.FormatAmount(me.Max), client.FormatPrice(stake.RaoPrice(me.Ratio)))
	}
	if errors.Is(err, dtao.ErrSlippageTooHigh) {
		return fmt.Errorf("the chain would refuse this on subnet %d: the limit price admits only part of the amount (--partial runs that part; a smaller amount or a larger --tolerance passes)", netuid)
	}
	var le *dtao.LimitError
	if errors.As(err, &le) {
		limit := lim.Price
		if limit == 0 {
			limit = stake.RaoPrice(le.Limit)
		}
		if swapRatio != 0 {
			return fmt.Errorf("the chain would refuse this from subnet %d: the origin/destination price ratio is %s, below the least accepted %s",
				netuid, client.FormatPrice(swapRatio), client.FormatPrice(limit))
		}
		return fmt.Errorf("the chain would refuse this on subnet %d: limit price not met: the price is %s TAO per alpha, the limit %s",
			netuid, client.FormatPrice(stake.RaoPrice(le.Current)), client.FormatPrice(limit))
	}
	return fmt.Errorf("the chain would refuse this on subnet %d: %v", netuid, err)
}

// newStakeAddRemoveCmd is `stake add` and `stake remove`.
func newStakeAddRemoveCmd(env *cliEnv, nf *nodeFlag, remove bool) *cobra.Command {
	sf := newSendFlags(coldkeyRole)
	var hot, amount string
	var netuid uint16
	var lf limitFlags
	var all, allAlpha bool
	use, short := "add", "Stake TAO from the coldkey's balance on a hotkey (on a dTAO subnet: buy its alpha)"
	if remove {
		use, short = "remove", "Unstake from a hotkey back to the coldkey (on a dTAO subnet: sell alpha)"
	}
	c := &cobra.Command{
		Use: use, Short: short, Args: cobra.NoArgs,
		Example: fmt.Sprintf(`  tessera stake %[1]s --wallet.name alice --amount 10
  tessera stake %[1]s --wallet.name alice --netuid 1 --amount 10 --safe --yes
  tessera stake %[1]s --from-uri //Bob --hotkey 5FHn... --netuid 1 --amount 10 --limit-price 1.2 --partial`, use),
		RunE: func(cmd *cobra.Command, _ []string) error {
			pub, err := sf.hotkeyPub(cmd, env, hot)
			if err != nil {
				return err
			}
			if all && cmd.Flags().Changed("netuid") {
				if allAlpha || amount != "" || lf.partial {
					return usagef("--all with --netuid unstakes that subnet's whole position: give neither --amount, --all-alpha nor --partial")
				}
				return removeFull(cmd, env, nf, sf, pub, netuid, &lf)
			}
			if all || allAlpha {
				if all && allAlpha || amount != "" || cmd.Flags().Changed("netuid") || lf.price != "" || lf.safe {
					return usagef("--all and --all-alpha take every subnet's stake of the hotkey: give neither --amount, --netuid (but --all --netuid N: one subnet's), a limit nor the other")
				}
				return unstakeAll(cmd, env, nf, sf, pub, allAlpha, lf.yes)
			}
			units, err := accounts.ParseAmount(amount)
			if err != nil || units == 0 {
				return usagef("--amount must be a positive number of tokens, not %q", amount)
			}
			if netuid == 0 {
				if lf.price != "" || lf.safe {
					return usagef("root stake (--netuid 0) is TAO one for one: it has no price to limit")
				}
				build, verb := stake.NewAdd, "staked"
				if remove {
					build, verb = stake.NewRemove, "unstaked"
				}
				m, err := build(pub, units)
				if err != nil {
					return err
				}
				return sf.send(cmd, env, nf, m, fmt.Sprintf("%s %s on %s", verb, accounts.FormatAmount(units), pub))
			}
			c, err := nf.client()
			if err != nil {
				return err
			}
			sd, err := c.Side(cmd.Context(), netuid)
			if err != nil {
				return err
			}
			price := stake.RaoPrice(sd.Pool.Price())
			lim, err := lf.limit(price, !remove)
			if err != nil {
				return err
			}
			var q client.Quote
			var m tx.Msg
			if remove {
				_, have, err := signerStake(cmd, env, sf, c, pub, netuid)
				if err != nil {
					return err
				}
				if q, err = client.QuoteRemove(sd, units, have, lim); err != nil {
					return quoteError(err, netuid, lim, 0)
				}
				if err := confirm(env, lf.yes, quoteLine("Unstake", q, netuidUnit(netuid), "TAO", lim)); err != nil {
					return err
				}
				m, err = stake.NewRemoveOn(netuid, pub, units, lim.Price, lim.AllowPartial)
				if err != nil {
					return err
				}
			} else {
				if q, err = client.QuoteAdd(sd, units, lim); err != nil {
					return quoteError(err, netuid, lim, 0)
				}
				if err := confirm(env, lf.yes, quoteLine("Stake", q, "TAO", netuidUnit(netuid), lim)); err != nil {
					return err
				}
				if m, err = stake.NewAddOn(netuid, pub, units, lim.Price, lim.AllowPartial); err != nil {
					return err
				}
			}
			return sf.sendTelling(cmd, env, nf, m, func(v *client.TxView) string {
				if remove {
					a, _ := eventAttr(v, "stake_removed", "alpha")
					t, _ := eventAttr(v, "stake_removed", "amount")
					return fmt.Sprintf("unstaked %s %s from %s for %s TAO", rao(a), netuidUnit(netuid), pub, rao(t))
				}
				t, _ := eventAttr(v, "stake_added", "amount")
				a, _ := eventAttr(v, "stake_added", "alpha")
				return fmt.Sprintf("staked %s TAO on %s on subnet %d for %s %s", rao(t), pub, netuid, rao(a), netuidUnit(netuid))
			})
		},
	}
	sf.register(c)
	lf.register(c, true)
	c.Flags().StringVar(&hot, "hotkey", "", "hotkey address (default: the wallet's hotkey)")
	c.Flags().StringVar(&amount, "amount", "", "tokens: TAO to stake, or the stake to remove (alpha on a dTAO subnet)")
	c.Flags().Uint16Var(&netuid, "netuid", 0, "the subnet (0: root, TAO one for one)")
	if remove {
		c.Flags().BoolVar(&all, "all", false, "unstake all of the coldkey's stake on the hotkey, on every subnet, to the balance (unstake_all); with --netuid, that subnet's whole position (remove_stake_full_limit)")
		c.Flags().BoolVar(&allAlpha, "all-alpha", false, "sell all of the coldkey's alpha on the hotkey, on every subnet, and stake the TAO on root (unstake_all_alpha)")
	}
	return c
}

// rao formats an event's decimal amount as tokens.
func rao(s string) string {
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return s
	}
	return accounts.FormatAmount(v)
}

// signerPub is the signing coldkey's public key, read without unlocking a wallet (the
// quote needs it before the confirmation; the key is unlocked once, to sign).
func signerPub(cmd *cobra.Command, env *cliEnv, sf *sendFlags) (keys.PublicKey, error) {
	uri := sf.uri
	if uri == "" {
		uri = env.getenv("TESSERA_FROM_URI")
	}
	if uri != "" {
		p, err := keys.FromURI(uri)
		if err != nil {
			return keys.PublicKey{}, usagef("--from-uri: %v", err)
		}
		return p.Public(), nil
	}
	w, err := sf.wf.open(cmd, env)
	if err != nil {
		return keys.PublicKey{}, err
	}
	pub, err := w.ColdkeyPub()
	if err != nil {
		return keys.PublicKey{}, usagef("wallet %q has no readable coldkey: %v", w.Name, err)
	}
	return pub, nil
}

// alphaOf reads a coldkey's stake on (hotkey, netuid) from its positions.
// removeFull is `stake remove --all --netuid N`: the whole position on one subnet, as
// it is when the transaction runs, with an optional limit (never partial); the quote is
// of the position now.
func removeFull(cmd *cobra.Command, env *cliEnv, nf *nodeFlag, sf *sendFlags, hot keys.PublicKey, netuid uint16, lf *limitFlags) error {
	c, err := nf.client()
	if err != nil {
		return err
	}
	cold, have, err := signerStake(cmd, env, sf, c, hot, netuid)
	if err != nil {
		return err
	}
	if have == 0 {
		return fmt.Errorf("%s has no stake on %s on subnet %d", cold, hot, netuid)
	}
	var lim dtao.Limit
	if netuid == 0 {
		if lf.price != "" || lf.safe {
			return usagef("root stake (--netuid 0) is TAO one for one: it has no price to limit")
		}
		if err := confirm(env, lf.yes, fmt.Sprintf("Unstake all %s TAO of root stake on %s to the balance", accounts.FormatAmount(have), hot)); err != nil {
			return err
		}
	} else {
		sd, err := c.Side(cmd.Context(), netuid)
		if err != nil {
			return err
		}
		if lim, err = lf.limit(stake.RaoPrice(sd.Pool.Price()), false); err != nil {
			return err
		}
		q, err := client.QuoteRemove(sd, have, have, lim)
		if err != nil {
			return quoteError(err, netuid, lim, 0)
		}
		if err := confirm(env, lf.yes, quoteLine("Unstake all", q, netuidUnit(netuid), "TAO", lim)); err != nil {
			return err
		}
	}
	m, err := stake.NewRemoveFull(netuid, hot, lim.Price)
	if err != nil {
		return err
	}
	return sf.sendTelling(cmd, env, nf, m, func(v *client.TxView) string {
		t, _ := eventAttr(v, "stake_removed", "amount")
		if a, ok := eventAttr(v, "stake_removed", "alpha"); ok {
			return fmt.Sprintf("unstaked %s %s from %s for %s TAO", rao(a), netuidUnit(netuid), hot, rao(t))
		}
		return fmt.Sprintf("unstaked %s TAO from %s", rao(t), hot)
	})
}

// unstakeAll is `stake remove --all` and `--all-alpha`: it lists what will be sold, with
// its TAO value now, asks, and sends stake/unstake_all or stake/unstake_all_alpha.
func unstakeAll(cmd *cobra.Command, env *cliEnv, nf *nodeFlag, sf *sendFlags, hot keys.PublicKey, toRoot, yes bool) error {
	c, err := nf.client()
	if err != nil {
		return err
	}
	cold, err := signerPub(cmd, env, sf)
	if err != nil {
		return err
	}
	var ps []stake.Position
	if _, err := c.Query(cmd.Context(), "/stake/coldkey/"+cold.Hex(), 0, &ps); err != nil {
		return err
	}
	var parts []string
	var value uint64
	for _, p := range ps {
		if p.Hotkey != hot.String() || p.Stake == 0 || (toRoot && p.Netuid == 0) {
			continue
		}
		parts = append(parts, fmt.Sprintf("%s %s (%s TAO)", accounts.FormatAmount(p.Stake), netuidUnit(p.Netuid), accounts.FormatAmount(p.TAOValue)))
		value += p.TAOValue
	}
	if len(parts) == 0 {
		return fmt.Errorf("%s has no stake on %s to unstake", cold, hot)
	}
	dest := "to the balance"
	if toRoot {
		dest = "and stake the TAO on root under the hotkey"
	}
	if err := confirm(env, yes, fmt.Sprintf("Unstake from %s: %s, about %s TAO with fees and slippage, %s", hot, strings.Join(parts, ", "),
		accounts.FormatAmount(value), dest)); err != nil {
		return err
	}
	m, err := stake.NewUnstakeAll(hot, toRoot)
	if err != nil {
		return err
	}
	return sf.sendTelling(cmd, env, nf, m, func(v *client.TxView) string {
		var got uint64
		n := 0
		for _, e := range v.Events {
			if e.Type == "stake_removed" {
				t, _ := strconv.ParseUint(e.Attributes["amount"], 10, 64)
				got, n = got+t, n+1
			}
		}
		positions := "positions"
		if n == 1 {
			positions = "position"
		}
		if toRoot {
			return fmt.Sprintf("sold %d alpha %s on %s for %s TAO, staked on root", n, positions, hot, accounts.FormatAmount(got))
		}
		return fmt.Sprintf("unstaked %d %s from %s: %s TAO to the balance", n, positions, hot, accounts.FormatAmount(got))
	})
}

// signerStake is the signing coldkey and its stake on (hot, netuid): TAO on root, alpha
// elsewhere.
func signerStake(cmd *cobra.Command, env *cliEnv, sf *sendFlags, c *client.Client, hot keys.PublicKey, netuid uint16) (keys.PublicKey, uint64, error) {
	cold, err := signerPub(cmd, env, sf)
	if err != nil {
		return keys.PublicKey{}, 0, err
	}
	have, err := alphaOf(cmd, c, cold, hot, netuid)
	return cold, have, err
}

func alphaOf(cmd *cobra.Command, c *client.Client, cold, hot keys.PublicKey, netuid uint16) (uint64, error) {
	var ps []stake.Position
	if _, err := c.Query(cmd.Context(), "/stake/coldkey/"+cold.Hex(), 0, &ps); err != nil {
		return 0, err
	}
	for _, p := range ps {
		if p.Netuid == netuid && p.Hotkey == hot.String() {
			return p.Stake, nil
		}
	}
	return 0, nil
}

// newStakeMoveCmd is `stake move` (to another hotkey and/or subnet), `stake transfer` (to
// another coldkey) and `stake swap` (to another subnet, same hotkey): one transaction,
// nothing passes through the balance.
func newStakeMoveCmd(env *cliEnv, nf *nodeFlag, kind string) *cobra.Command {
	sf := newSendFlags(coldkeyRole)
	var from, to, dest, amount string
	var fromNet, toNet uint16
	var lf limitFlags
	short := map[string]string{
		"move":     "Move stake to another hotkey and/or subnet, in one transaction",
		"transfer": "Give stake to another coldkey (same hotkey), optionally onto another subnet",
		"swap":     "Swap stake of a hotkey from one subnet to another through both pools",
	}[kind]
	c := &cobra.Command{
		Use: kind, Short: short, Args: cobra.NoArgs,
		Long: short + `. On one subnet the stake's shares move with no swap and no fee; across subnets
the stake is sold on the origin's pool and the TAO buys the destination's alpha (one fee),
and a quote is shown before signing (--yes skips the question).`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			src, err := sf.hotkeyPub(cmd, env, from)
			if err != nil {
				return err
			}
			dst := src
			if kind == "move" {
				if dst, err = sf.hotkeyPub(cmd, env, to); err != nil {
					return err
				}
				if src == dst && fromNet == toNet {
					return usagef("--from-hotkey and --to-hotkey are the same hotkey on the same subnet")
				}
			}
			if kind == "swap" && fromNet == toNet {
				return usagef("--origin-netuid and --dest-netuid are the same subnet")
			}
			units, err := accounts.ParseAmount(amount)
			if err != nil || units == 0 {
				return usagef("--amount must be a positive number of tokens, not %q", amount)
			}
			var destCold keys.PublicKey
			if kind == "transfer" {
				if destCold, err = keys.ParsePublicKey(dest); err != nil {
					return usagef("--dest must be the SS58 address of a coldkey: %v", err)
				}
			}
			var m tx.Msg
			switch kind {
			case "move":
				m, err = stake.NewMoveOn(src, fromNet, dst, toNet, units)
			case "transfer":
				m, err = stake.NewTransfer(destCold, src, fromNet, toNet, units)
			}
			if err != nil {
				return err
			}
			if fromNet != toNet || kind == "swap" {
				c, err := nf.client()
				if err != nil {
					return err
				}
				fs, err := c.Side(cmd.Context(), fromNet)
				if err != nil {
					return err
				}
				ts, err := c.Side(cmd.Context(), toNet)
				if err != nil {
					return err
				}
				var lim dtao.Limit
				ratio := stake.RaoPrice(fs.Pool.Price().Div(ts.Pool.Price()))
				if kind == "swap" {
					if lim, err = lf.limit(ratio, false); err != nil {
						return err
					}
					if m, err = stake.NewSwap(src, fromNet, toNet, units, lim.Price, lim.AllowPartial); err != nil {
						return err
					}
				}
				_, have, err := signerStake(cmd, env, sf, c, src, fromNet)
				if err != nil {
					return err
				}
				q, err := client.QuoteMove(fs, ts, units, have, lim)
				if err != nil {
					swapRatio := uint64(0)
					if kind == "swap" {
						swapRatio = ratio
					}
					return quoteError(err, fromNet, lim, swapRatio)
				}
				what := fmt.Sprintf("%s from subnet %d to subnet %d", strings.ToUpper(kind[:1])+kind[1:], fromNet, toNet)
				line := quoteLine(what, q, netuidUnit(fromNet), netuidUnit(toNet), dtao.Limit{}) // the price is the destination's
				if lim.Price != 0 {
					// A swap's limit is on the origin/destination price ratio, not a price.
					line += fmt.Sprintf("; origin/destination price ratio %s, least accepted %s", client.FormatPrice(ratio), client.FormatPrice(lim.Price))
					if lim.AllowPartial {
						line += " (partial allowed)"
					}
				}
				if err := confirm(env, lf.yes, line); err != nil {
					return err
				}
			}
			return sf.sendTelling(cmd, env, nf, m, func(v *client.TxView) string {
				ev := map[string]string{"move": "stake_moved", "transfer": "stake_transferred", "swap": "stake_swapped"}[kind]
				got, _ := eventAttr(v, ev, "received")
				verb := map[string]string{"move": "moved", "transfer": "transferred", "swap": "swapped"}[kind]
				if got == "" { // root to root: the message has no received amount
					return fmt.Sprintf("%s %s from %s to %s", verb, accounts.FormatAmount(units), src, dst)
				}
				taken := accounts.FormatAmount(units)
				if a, ok := eventAttr(v, ev, "amount"); ok {
					taken = rao(a) // less than asked where --partial cut it
				}
				return fmt.Sprintf("%s %s %s on %s from subnet %d: received %s %s on subnet %d", verb, taken, netuidUnit(fromNet), src, fromNet, rao(got), netuidUnit(toNet), toNet)
			})
		},
	}
	sf.register(c)
	lf.register(c, kind == "swap")
	switch kind {
	case "move":
		c.Flags().StringVar(&from, "from-hotkey", "", "the hotkey to unstake from (default: the wallet's hotkey)")
		c.Flags().StringVar(&to, "to-hotkey", "", "the hotkey to stake on (default: the wallet's hotkey)")
	default:
		c.Flags().StringVar(&from, "hotkey", "", "the hotkey the stake is on (default: the wallet's hotkey)")
	}
	if kind == "transfer" {
		c.Flags().StringVar(&dest, "dest", "", "the coldkey (SS58) that receives the stake")
	}
	c.Flags().StringVar(&amount, "amount", "", "the stake to move (TAO on root, alpha on a dTAO subnet)")
	c.Flags().Uint16Var(&fromNet, "origin-netuid", 0, "the subnet the stake is on (0: root)")
	c.Flags().Uint16Var(&toNet, "dest-netuid", 0, "the subnet it goes to (0: root)")
	return c
}

// newStakeListCmd is `stake list`: a coldkey's positions, TAO on root and alpha on each
// dTAO subnet, each with its TAO value (what selling it all would return now).
func newStakeListCmd(env *cliEnv, nf *nodeFlag) *cobra.Command {
	var wf walletFlags
	list := &cobra.Command{
		Use: "list [COLDKEY]", Short: "List a coldkey's stake positions with their TAO value (default: the wallet's coldkey)", Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cold, err := addressOrColdkey(cmd, env, &wf, args)
			if err != nil {
				return err
			}
			var out []stake.Position
			if err := nf.query(cmd.Context(), "/stake/coldkey/"+cold.Hex(), &out); err != nil {
				return err
			}
			return env.emit(out, func(w io.Writer) error {
				tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "NETUID\tHOTKEY\tSTAKE\tTAO VALUE")
				var total uint64
				for _, p := range out {
					fmt.Fprintf(tw, "%d\t%s\t%s %s\t%s\n", p.Netuid, p.Hotkey, accounts.FormatAmount(p.Stake), netuidUnit(p.Netuid), accounts.FormatAmount(p.TAOValue))
					total += p.TAOValue
				}
				fmt.Fprintf(tw, "total\t\t\t%s\n", accounts.FormatAmount(total))
				return tw.Flush()
			})
		},
	}
	wf.register(list)
	return list
}

// newStakeClaimRootCmd is `stake claim-root`: the root dividends a coldkey's root stake
// has accrued, shown (what is owed on each subnet and its TAO value now) and claimed in
// one transaction: sold for root stake (Swap, the default) or kept as alpha (--keep).
func newStakeClaimRootCmd(env *cliEnv, nf *nodeFlag) *cobra.Command {
	sf := newSendFlags(coldkeyRole)
	var netuids []uint
	var hot string
	var keep, yes bool
	cmd := &cobra.Command{
		Use:   "claim-root",
		Short: "Claim the root dividends your root stake has accrued (sold into root stake, or --keep as alpha)",
		Example: `  tessera stake claim-root --wallet.name w
  tessera stake claim-root --wallet.name w --netuid 1 --keep --yes`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cold, err := signerPub(cmd, env, sf)
			if err != nil {
				return err
			}
			var hotPub *keys.PublicKey
			if hot != "" {
				p, err := keys.ParsePublicKey(hot)
				if err != nil {
					return usagef("--hotkey: %v", err)
				}
				hotPub = &p
			}
			var all []stake.RootClaimable
			if err := nf.query(cmd.Context(), "/stake/root_claimable/"+cold.Hex(), &all); err != nil {
				return err
			}
			ns := make([]uint16, 0, len(netuids))
			for _, n := range netuids {
				if n > math.MaxUint16 {
					return usagef("--netuid %d is not a netuid", n)
				}
				ns = append(ns, uint16(n))
			}
			var owed []stake.RootClaimable
			for _, c := range all {
				if (len(ns) == 0 || slices.Contains(ns, c.Netuid)) && (hotPub == nil || c.Hotkey == hotPub.String()) {
					owed = append(owed, c)
				}
			}
			if len(owed) == 0 {
				return fmt.Errorf("%s has no root dividends to claim", cold)
			}
			var b strings.Builder
			tw := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "NETUID\tHOTKEY\tOWED\tTAO VALUE")
			var total uint64
			for _, c := range owed {
				fmt.Fprintf(tw, "%d\t%s\t%s %s\t%s\n", c.Netuid, c.Hotkey, accounts.FormatAmount(c.Owed), netuidUnit(c.Netuid), accounts.FormatAmount(c.TAOValue))
				total += c.TAOValue
			}
			tw.Flush()
			how := fmt.Sprintf("sells it fee-free and stakes about %s TAO on root under the same hotkeys", accounts.FormatAmount(total))
			if keep {
				how = "stakes the alpha on each subnet under the same hotkeys"
			}
			how = claimRootHow(cmd, nf, cold, keep, how) // by the coldkey's claim type (stake_claims.go)
			if err := confirm(env, yes, strings.TrimRight(b.String(), "\n")+"\nClaiming "+how+"."); err != nil {
				return err
			}
			m, err := stake.NewClaimRoot(ns, keep, hotPub)
			if err != nil {
				return err
			}
			return sf.sendTelling(cmd, env, nf, m, claimRootDone) // stake_claims.go
		},
	}
	sf.register(cmd)
	cmd.Flags().UintSliceVar(&netuids, "netuid", nil, "claim only on these subnets (repeatable; default: every subnet with something owed)")
	cmd.Flags().StringVar(&hot, "hotkey", "", "claim only what root stake under this hotkey accrued (default: every hotkey)")
	cmd.Flags().BoolVar(&keep, "keep", false, "keep the alpha staked on each subnet instead of selling it for root stake")
	cmd.Flags().BoolVarP(&yes, "yes", "y", false, "do not ask for confirmation")
	return cmd
}

// newStakeClaimableCmd is `stake claimable`: what a coldkey's root stake may claim, by
// hotkey and subnet, with its TAO value now.
func newStakeClaimableCmd(env *cliEnv, nf *nodeFlag) *cobra.Command {
	var wf walletFlags
	cmd := &cobra.Command{
		Use: "claimable [COLDKEY]", Short: "List the root dividends a coldkey may claim (default: the wallet's coldkey)", Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cold, err := addressOrColdkey(cmd, env, &wf, args)
			if err != nil {
				return err
			}
			var out []stake.RootClaimable
			if err := nf.query(cmd.Context(), "/stake/root_claimable/"+cold.Hex(), &out); err != nil {
				return err
			}
			return env.emit(out, func(w io.Writer) error {
				if len(out) == 0 {
					_, err := fmt.Fprintf(w, "%s has no root dividends to claim\n", cold)
					return err
				}
				tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "NETUID\tHOTKEY\tROOT STAKE\tOWED\tTAO VALUE")
				for _, c := range out {
					fmt.Fprintf(tw, "%d\t%s\t%s\t%s %s\t%s\n", c.Netuid, c.Hotkey, accounts.FormatAmount(c.RootStake), accounts.FormatAmount(c.Owed), netuidUnit(c.Netuid), accounts.FormatAmount(c.TAOValue))
				}
				return tw.Flush()
			})
		},
	}
	wf.register(cmd)
	return cmd
}
