package main

import (
	"errors"
	"fmt"
	"os"
	"strings"

	cmtjson "github.com/cometbft/cometbft/libs/json"
	"github.com/cometbft/cometbft/privval"
	"github.com/spf13/cobra"

	"github.com/tessera-net/tessera/client"
	"github.com/tessera-net/tessera/modules/stake"
	"github.com/tessera-net/tessera/node"
	"github.com/tessera-net/tessera/tx"
)

// newNodeBindAuthorCmd is `node bind-author`: the validator of a node home binds its
// consensus key to an account (stake/set_author), so that the staking fees of the blocks
// it proposes go to that account's balance instead of being recycled.
func newNodeBindAuthorCmd(env *cliEnv) *cobra.Command {
	sf := newSendFlags(coldkeyRole)
	var nf nodeFlag
	var yes bool
	cmd := &cobra.Command{
		Use:   "bind-author",
		Short: "Bind this node's validator (its consensus key) to an account that receives its blocks' staking fees",
		Long: `Reads the node home's config/priv_validator_key.json (--home), signs with the consensus
key "tessera/stake/set_author/v1" ‖ chain id ‖ the account's public key, and sends
stake/set_author signed by the account (--from-uri or a wallet). From then on the TAO
fees of the stake operations in the blocks this validator proposes go to the account's
balance. Binding again (to another account) replaces the binding. The node is the one
the home configures (its RPC address) unless --node or TESSERA_NODE says otherwise.`,
		Example: `  tessera node bind-author --home ./mynode --from-uri //Alice
  tessera node bind-author --home ~/.tessera --wallet.name validator --wallet.path ~/.tessera-wallets --yes`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := node.LoadConfig(env.home)
			if err != nil {
				return usageError{err}
			}
			keyFile := cfg.PrivValidatorKeyFile()
			raw, err := os.ReadFile(keyFile)
			if err != nil {
				return usagef("read the validator key: %v", err)
			}
			var pv privval.FilePVKey
			if err := cmtjson.Unmarshal(raw, &pv); err != nil {
				return fmt.Errorf("parse %s: %w", keyFile, err)
			}
			if pv.PubKey == nil || pv.PrivKey == nil || pv.PubKey.Type() != "ed25519" {
				return fmt.Errorf("%s holds no ed25519 consensus key", keyFile)
			}
			if !cmd.PersistentFlags().Changed("node") && env.getenv(envNode) == "" {
				if err := cmd.PersistentFlags().Set("node", cfg.RPC.ListenAddress); err != nil {
					return err
				}
			}
			acct, err := signerPub(cmd, env, sf)
			if err != nil {
				return err
			}
			c, err := nf.client()
			if err != nil {
				return err
			}
			chainID, err := c.ChainID(cmd.Context())
			if err != nil {
				return err
			}
			pub := pv.PubKey.Bytes()
			addr := fmt.Sprintf("%X", stake.ConsensusAddress(pub))
			now := "no account (its blocks' staking fees are recycled)"
			var cur stake.AuthorView
			var te *client.QueryError
			if err := nf.query(cmd.Context(), "/stake/author/"+addr, &cur); err == nil {
				now = cur.Account
			} else if !errors.As(err, &te) || te.Code != tx.CodeNotFound {
				return err
			}
			if err := confirm(env, yes, fmt.Sprintf("Validator %s (consensus address %s, chain %s) is bound to %s.\nBind it to %s: the staking fees of the blocks it proposes go to that account's balance.",
				strings.TrimSuffix(keyFile, "/config/priv_validator_key.json"), addr, chainID, now, acct)); err != nil {
				return err
			}
			sig, err := pv.PrivKey.Sign(stake.AuthorSignBytes(chainID, acct))
			if err != nil {
				return err
			}
			m, err := stake.NewSetAuthor(pub, sig)
			if err != nil {
				return err
			}
			return sf.send(cmd, env, &nf, m, fmt.Sprintf("consensus address %s bound to %s as block author", addr, acct))
		},
	}
	nf.register(cmd, env)
	sf.register(cmd)
	cmd.Flags().BoolVarP(&yes, "yes", "y", false, "do not ask for confirmation")
	return cmd
}
