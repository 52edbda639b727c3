package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/tessera-net/tessera/client"
	"github.com/tessera-net/tessera/keys"
	"github.com/tessera-net/tessera/modules/accounts"
)

func newTxCmd(env *cliEnv) *cobra.Command {
	var nf nodeFlag
	cmd := &cobra.Command{Use: "tx", Short: "Sign and send transactions"}
	nf.register(cmd, env)
	cmd.AddCommand(newTransferCmd(env, &nf))
	return cmd
}

func newTransferCmd(env *cliEnv, nf *nodeFlag) *cobra.Command {
	var (
		kf      = keyFlags{role: coldkeyRole}
		to      string
		amount  string
		fee     string
		noWait  bool
		timeout time.Duration
	)
	cmd := &cobra.Command{
		Use:     "transfer",
		Short:   "Transfer tokens to another account",
		Example: `  tessera tx transfer --from-uri //Alice --to 5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty --amount 1.5`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			dst, err := keys.ParsePublicKey(to)
			if err != nil {
				return usagef("--to: %v", err)
			}
			units, err := accounts.ParseAmount(amount)
			if err != nil {
				return usagef("--amount: %v", err)
			}
			if units == 0 {
				return usagef("--amount must be greater than zero")
			}
			pair, err := kf.pair(cmd, env)
			if err != nil {
				return err
			}
			c, err := nf.client()
			if err != nil {
				return err
			}
			msg, err := accounts.NewTransfer(dst, units)
			if err != nil {
				return err
			}
			s := env.signer(c, pair)
			if fee != "" {
				if s.Fee, err = accounts.ParseAmount(fee); err != nil {
					return usagef("--fee: %v", err)
				}
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), timeout)
			defer cancel()
			hash, err := s.Submit(ctx, msg)
			if err != nil {
				return err
			}
			if noWait {
				return env.emit(map[string]string{"hash": hash}, func(w io.Writer) error {
					_, err := fmt.Fprintf(w, "sent %s\n", hash)
					return err
				})
			}
			v, err := c.WaitTx(ctx, hash)
			if err != nil {
				return err
			}
			return env.emit(v, func(w io.Writer) error {
				_, err := fmt.Fprintf(w, "transferred %s to %s in block %d (tx %s)\n", accounts.FormatAmount(units), dst, v.Height, v.Hash)
				return err
			})
		},
	}
	kf.register(cmd)
	cmd.Flags().StringVar(&to, "to", "", "recipient address (SS58 or 0x-hex public key)")
	cmd.Flags().StringVar(&amount, "amount", "", "amount in tokens, up to 9 decimals")
	cmd.Flags().StringVar(&fee, "fee", "", "fee in tokens (default: the chain's minimum)")
	cmd.Flags().BoolVar(&noWait, "no-wait", false, "return once the node accepted it, without waiting for a block")
	cmd.Flags().DurationVar(&timeout, "timeout", 30*time.Second, "how long to wait for the transaction to be committed")
	return cmd
}

// addressOrColdkey is the account a command reads: the address given as its argument,
// else the coldkey of the wallet the flags select.
func addressOrColdkey(cmd *cobra.Command, env *cliEnv, wf *walletFlags, args []string) (keys.PublicKey, error) {
	if len(args) == 1 {
		pub, err := keys.ParsePublicKey(args[0])
		if err != nil {
			return pub, usageError{err}
		}
		return pub, nil
	}
	w, err := wf.open(cmd, env)
	if err != nil {
		return keys.PublicKey{}, err
	}
	pub, err := w.ColdkeyPub()
	if err != nil {
		return pub, usagef("give an address or a wallet (--wallet.name): %v", err)
	}
	return pub, nil
}

func newQueryCmd(env *cliEnv) *cobra.Command {
	var nf nodeFlag
	cmd := &cobra.Command{Use: "query", Aliases: []string{"q"}, Short: "Read accounts, blocks and transactions from a node"}
	nf.register(cmd, env)
	accountCmd := func(use, short string, balanceOnly bool) *cobra.Command {
		var wf walletFlags
		c := &cobra.Command{
			Use: use + " [ADDRESS]", Short: short + " (default: the wallet's coldkey, --wallet.name)", Args: cobra.MaximumNArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				pub, err := addressOrColdkey(cmd, env, &wf, args)
				if err != nil {
					return err
				}
				c, err := nf.client()
				if err != nil {
					return err
				}
				a, err := c.Account(cmd.Context(), pub)
				if err != nil {
					return err
				}
				if balanceOnly {
					return env.emit(map[string]string{"address": a.Address, "balance": strconv.FormatUint(a.Balance, 10)}, func(w io.Writer) error {
						_, err := fmt.Fprintf(w, "%s\n", accounts.FormatAmount(a.Balance))
						return err
					})
				}
				return env.emit(a, func(w io.Writer) error {
					_, err := fmt.Fprintf(w, "address:    %s\npublic key: %s\nbalance:    %s\nnonce:      %d\n", a.Address, a.PubKey, accounts.FormatAmount(a.Balance), a.Nonce)
					return err
				})
			},
		}
		wf.register(c)
		return c
	}
	block := &cobra.Command{
		Use: "block [HEIGHT]", Short: "Show a block (the latest without a height)", Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var h int64
			if len(args) == 1 {
				var err error
				if h, err = strconv.ParseInt(args[0], 10, 64); err != nil || h <= 0 {
					return usagef("height must be a positive integer, not %q", args[0])
				}
			}
			c, err := nf.client()
			if err != nil {
				return err
			}
			b, err := c.Block(cmd.Context(), h)
			if err != nil {
				return err
			}
			return env.emit(b, func(w io.Writer) error {
				fmt.Fprintf(w, "height:   %d\nhash:     %s\ntime:     %s\nproposer: %s\napp hash: %s\ntxs:      %d\n", b.Height, b.Hash, b.Time.Format(time.RFC3339Nano), b.Proposer, b.AppHash, b.NumTxs)
				for _, t := range b.Txs {
					fmt.Fprintf(w, "  %s %-20s code=%d %s\n", t.Hash, t.MsgType, t.Code, t.Log)
				}
				return nil
			})
		},
	}
	txc := &cobra.Command{
		Use: "tx HASH", Short: "Show a committed transaction and its result", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := nf.client()
			if err != nil {
				return err
			}
			t, err := c.Tx(cmd.Context(), args[0])
			if errors.Is(err, client.ErrInvalidInput) {
				return usageError{err}
			}
			if err != nil {
				return err
			}
			return env.emit(t, func(w io.Writer) error {
				msg := t.MsgType + " " + t.MsgBody
				if t.Message != nil {
					msg = t.Message.String()
				}
				fmt.Fprintf(w, "hash:    %s\nheight:  %d (index %d)\nresult:  %s (code %d) %s\nsigner:  %s\nnonce:   %d\nfee:     %s\nmessage: %s\n",
					t.Hash, t.Height, t.Index, t.CodeName, t.Code, t.Log, t.Signer, t.Nonce, accounts.FormatAmount(t.Fee), msg)
				return nil
			})
		},
	}
	status := &cobra.Command{
		Use: "status", Short: "Show the node's chain, height and app hash", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := nf.client()
			if err != nil {
				return err
			}
			s, err := c.Status(cmd.Context())
			if err != nil {
				return err
			}
			return env.emit(s, func(w io.Writer) error {
				_, err := fmt.Fprintf(w, "chain:    %s\nheight:   %d\napp hash: %s\ntime:     %s\nnode:     %s (%s)\n", s.ChainID, s.Height, s.AppHash, s.BlockTime.Format(time.RFC3339), s.Moniker, s.NodeID)
				return err
			})
		},
	}
	cmd.AddCommand(accountCmd("balance", "Show an account's balance", true), accountCmd("account", "Show an account's balance and nonce", false), block, txc, status)
	return cmd
}
