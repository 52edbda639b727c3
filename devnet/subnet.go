// This file creates and populates the devnet's subnet 1 on chain (modules/subnets); the
// subnet's off-chain code is defined with sdk/subnet and lives under subnets/.

package devnet

import (
	"context"
	"fmt"

	"github.com/tessera-net/tessera/client"
	"github.com/tessera-net/tessera/keys"
	"github.com/tessera-net/tessera/modules/accounts"
	"github.com/tessera-net/tessera/modules/stake"
	"github.com/tessera-net/tessera/modules/subnets"
	"github.com/tessera-net/tessera/tx"
)

// SubnetLayout says who does what on the devnet's subnet 1. Each development account is
// its own coldkey and hotkey, so `--from-uri //Bob` signs for both.
type SubnetLayout struct {
	Netuid     uint16
	Tempo      uint16
	Owner      string   // creates the subnet; its hotkey is uid 0
	Validators []string // registered and staked
	Miners     []string // registered
	Stake      uint64   // staked on each validator
}

// DefaultSubnetLayout: Alice owns subnet 1 (tempo 20: an epoch every 21 blocks), Bob and
// Charlie validate with 1,000 tokens staked each, Dave, Eve and Ferdie mine.
func DefaultSubnetLayout() SubnetLayout {
	return NewSubnetLayout(2, 3, 20)
}

// NewSubnetLayout names the accounts of a subnet with the given numbers of validators and
// miners: validators are Bob and Charlie, then Validator3, Validator4, …; miners are Dave,
// Eve and Ferdie, then Miner4, Miner5, …. Accounts beyond the six development accounts
// are derived the same way (//Validator3) and funded at genesis.
func NewSubnetLayout(validators, miners int, tempo uint16) SubnetLayout {
	l := SubnetLayout{Netuid: 1, Tempo: tempo, Owner: "Alice", Stake: 1000 * accounts.UnitsPerToken}
	named := []string{"Bob", "Charlie"}
	for i := 0; i < validators; i++ {
		if i < len(named) {
			l.Validators = append(l.Validators, named[i])
		} else {
			l.Validators = append(l.Validators, fmt.Sprintf("Validator%d", i+1))
		}
	}
	named = []string{"Dave", "Eve", "Ferdie"}
	for i := 0; i < miners; i++ {
		if i < len(named) {
			l.Miners = append(l.Miners, named[i])
		} else {
			l.Miners = append(l.Miners, fmt.Sprintf("Miner%d", i+1))
		}
	}
	return l
}

// Names lists every account of the layout: owner, validators, miners.
func (l SubnetLayout) Names() []string {
	return append(append([]string{l.Owner}, l.Validators...), l.Miners...)
}

func (d *Devnet) account(name string) (*DevAccountRef, error) {
	for _, a := range d.Accounts {
		if a.Name == name {
			return &DevAccountRef{Name: a.Name, signer: d.Client.Signer(a.Pair), pub: a.Pair.Public()}, nil
		}
	}
	return nil, fmt.Errorf("no development account %q", name)
}

// DevAccountRef is a development account with a signer on the devnet.
type DevAccountRef struct {
	Name   string
	signer *client.Signer
	pub    keys.PublicKey
}

// SetupSubnet creates the subnet and registers and stakes the accounts, in two blocks.
func (d *Devnet) SetupSubnet(ctx context.Context, l SubnetLayout) error {
	owner, err := d.account(l.Owner)
	if err != nil {
		return err
	}
	var last string
	send := func(a *DevAccountRef, build func() (tx.Msg, error)) error {
		m, err := build()
		if err != nil {
			return err
		}
		raw, err := a.signer.Sign(ctx, m)
		if err != nil {
			return err
		}
		last, err = d.Client.Broadcast(ctx, raw)
		if err != nil {
			return fmt.Errorf("%s: %w", a.Name, err)
		}
		return nil
	}
	wait := func() error {
		_, err := d.Client.WaitTx(ctx, last)
		return err
	}
	if err := send(owner, func() (tx.Msg, error) { return subnets.NewCreate(owner.pub, "") }); err != nil {
		return err
	}
	if err := send(owner, func() (tx.Msg, error) { return subnets.NewSetHyperparam(l.Netuid, "tempo", uint64(l.Tempo)) }); err != nil {
		return err
	}
	if err := send(owner, func() (tx.Msg, error) { return subnets.NewSetHyperparam(l.Netuid, "weights_rate_limit", 1) }); err != nil {
		return err
	}
	if err := wait(); err != nil {
		return fmt.Errorf("create subnet %d: %w", l.Netuid, err)
	}
	for _, name := range append(append([]string{}, l.Validators...), l.Miners...) {
		a, err := d.account(name)
		if err != nil {
			return err
		}
		if err := send(a, func() (tx.Msg, error) { return subnets.NewRegister(l.Netuid, a.pub, 0) }); err != nil {
			return err
		}
		for _, v := range l.Validators {
			if v == name {
				if err := send(a, func() (tx.Msg, error) { return stake.NewAdd(a.pub, l.Stake) }); err != nil {
					return err
				}
				if m := d.dtaoStake(l, a); m != nil {
					if err := send(a, m); err != nil {
						return err
					}
				}
			}
		}
	}
	if err := wait(); err != nil {
		return fmt.Errorf("register on subnet %d: %w", l.Netuid, err)
	}
	d.Log.Info("subnet ready", "netuid", l.Netuid, "tempo", l.Tempo, "owner", l.Owner, "validators", l.Validators, "miners", l.Miners)
	return nil
}
