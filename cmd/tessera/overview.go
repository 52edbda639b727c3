package main

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/tessera-net/tessera/client"
	"github.com/tessera-net/tessera/keys"
	"github.com/tessera-net/tessera/modules/accounts"
	"github.com/tessera-net/tessera/modules/stake"
	"github.com/tessera-net/tessera/modules/subnets"
)

// overview is what `wallet overview` shows of a coldkey: its balance, its stake
// positions, and every uid it owns on a subnet.
type overview struct {
	Wallet        string           `json:"wallet"`
	Coldkey       string           `json:"coldkey"`
	Balance       uint64           `json:"balance,string"`
	Stake         []stake.Position `json:"stake"`
	TotalStake    uint64           `json:"total_stake,string"`
	Registrations []registration   `json:"registrations"`
}

// registration is one uid of the coldkey on a subnet.
type registration struct {
	Netuid    uint16 `json:"netuid"`
	UID       uint16 `json:"uid"`
	Hotkey    string `json:"hotkey"`
	Stake     uint64 `json:"stake,string"`
	Incentive uint16 `json:"incentive"`
	Dividends uint16 `json:"dividends"`
	Emission  uint64 `json:"emission,string"`
	Permit    bool   `json:"validator_permit"`
}

// newWalletOverviewCmd is `wallet overview`, btcli's: a wallet's balance, stake and
// registrations, read from a node.
func newWalletOverviewCmd(env *cliEnv) *cobra.Command {
	var wf walletFlags
	var nf nodeFlag
	cmd := &cobra.Command{
		Use:   "overview",
		Short: "Show a wallet's balance, stake positions and registrations on every subnet (reads a node)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			w, err := wf.open(cmd, env)
			if err != nil {
				return err
			}
			cold, err := w.ColdkeyPub()
			if err != nil {
				return usagef("wallet %q has no readable coldkey: %v", w.Name, err)
			}
			c, err := nf.client()
			if err != nil {
				return err
			}
			o, err := readOverview(cmd.Context(), c, cold)
			if err != nil {
				return err
			}
			o.Wallet = w.Name
			return env.emit(o, func(out io.Writer) error { return printOverview(out, o) })
		},
	}
	wf.register(cmd)
	nf.register(cmd, env)
	return cmd
}

// readOverview reads a coldkey's account, stake positions and the uids it owns on each
// subnet, all from the latest state.
func readOverview(ctx context.Context, c *client.Client, cold keys.PublicKey) (*overview, error) {
	a, err := c.Account(ctx, cold)
	if err != nil {
		return nil, err
	}
	o := &overview{Coldkey: cold.String(), Balance: a.Balance, Stake: []stake.Position{}, Registrations: []registration{}}
	if _, err := c.Query(ctx, "/stake/coldkey/"+cold.Hex(), 0, &o.Stake); err != nil {
		return nil, err
	}
	for _, p := range o.Stake {
		o.TotalStake += p.TAOValue // TAO on root; alpha at what selling it would return
	}
	var list []subnets.SubnetView
	if _, err := c.Query(ctx, "/subnets/list", 0, &list); err != nil {
		return nil, err
	}
	for _, s := range list {
		var mg subnets.Metagraph
		if _, err := c.Query(ctx, "/subnets/metagraph_lite/"+strconv.Itoa(int(s.Netuid)), 0, &mg); err != nil {
			return nil, err
		}
		for uid, ck := range mg.Coldkeys {
			if ck == o.Coldkey {
				o.Registrations = append(o.Registrations, registration{Netuid: s.Netuid, UID: uint16(uid), Hotkey: mg.Hotkeys[uid], Stake: mg.Stake[uid],
					Incentive: mg.Incentive[uid], Dividends: mg.Dividends[uid], Emission: mg.Emission[uid], Permit: mg.ValidatorPermit[uid]})
			}
		}
	}
	return o, nil
}

func printOverview(w io.Writer, o *overview) error {
	fmt.Fprintf(w, "wallet %s  coldkey %s\nbalance      %s\nstake total  %s (TAO value)\n", o.Wallet, o.Coldkey, accounts.FormatAmount(o.Balance), accounts.FormatAmount(o.TotalStake))
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	if len(o.Stake) > 0 {
		fmt.Fprintln(tw, "\nNETUID\tSTAKED ON HOTKEY\tSTAKE\tTAO VALUE")
		for _, p := range o.Stake {
			fmt.Fprintf(tw, "%d\t%s\t%s %s\t%s\n", p.Netuid, p.Hotkey, accounts.FormatAmount(p.Stake), netuidUnit(p.Netuid), accounts.FormatAmount(p.TAOValue))
		}
	}
	if len(o.Registrations) == 0 {
		fmt.Fprintln(tw, "\nno registrations (tessera subnet register)")
		return tw.Flush()
	}
	fmt.Fprintln(tw, "\nNETUID\tUID\tHOTKEY\tSTAKE\tINCENTIVE\tDIVIDENDS\tEMISSION\tVPERMIT")
	for _, r := range o.Registrations {
		fmt.Fprintf(tw, "%d\t%d\t%s\t%s\t%.5f\t%.5f\t%s\t%v\n", r.Netuid, r.UID, r.Hotkey, accounts.FormatAmount(r.Stake),
			u16f(r.Incentive), u16f(r.Dividends), accounts.FormatAmount(r.Emission), r.Permit)
	}
	return tw.Flush()
}
