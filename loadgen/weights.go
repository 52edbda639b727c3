package loadgen

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/tessera-net/tessera/client"
	"github.com/tessera-net/tessera/keys"
	"github.com/tessera-net/tessera/modules/accounts"
	"github.com/tessera-net/tessera/modules/stake"
	"github.com/tessera-net/tessera/modules/subnets"
	"github.com/tessera-net/tessera/tx"
)

// WeightValidators is how many validators the set_weights load uses; with the owner and
// the miners the subnet has WeightUIDs uids.
const (
	WeightValidators = 64
	WeightUIDs       = 256
)

// weightsSubnet creates subnet 1 with 256 uids: the owner, the validators (each its own
// coldkey and hotkey, staked) and miners registered by the owner; then waits for the epoch
// that gives the validators their permits. Validators use nonces 0 and 1 here; their
// set_weights transactions start at nonce 2.
func weightsSubnet(ctx context.Context, c *client.Client, owner *keys.Pair, validators []*keys.Pair) error {
	os := c.Signer(owner)
	var last string
	sendAs := func(s *client.Signer) func(tx.Msg, error) error {
		return func(m tx.Msg, err error) error {
			if err != nil {
				return err
			}
			var raw []byte
			raw, err = s.Sign(ctx, m)
			if err != nil {
				return err
			}
			last, err = c.Broadcast(ctx, raw)
			return err
		}
	}
	for _, step := range []func() error{
		func() error { return sendAs(os)(subnets.NewCreate(owner.Public(), "")) },
		func() error { return sendAs(os)(subnets.NewSetHyperparam(1, "tempo", 3)) },
		func() error { return sendAs(os)(subnets.NewSetHyperparam(1, "weights_rate_limit", 0)) },
		func() error { return sendAs(os)(subnets.NewSetHyperparam(1, "immunity_period", 1_000_000)) },
		// A permit for every uid: with the default 64, the owner's hotkey (which the owner
		// cut stakes every epoch) would in time take a validator's permit, and the pending
		// set_weights of that validator would fail their recheck.
		func() error { return sendAs(os)(subnets.NewSetHyperparam(1, "max_validators", WeightUIDs)) },
	} {
		if err := step(); err != nil {
			return err
		}
	}
	if _, err := c.WaitTx(ctx, last); err != nil {
		return err
	}
	for _, v := range validators {
		vs := c.Signer(v)
		if err := sendAs(vs)(subnets.NewRegister(1, v.Public(), 0)); err != nil {
			return err
		}
		if err := sendAs(vs)(stake.NewAdd(v.Public(), 100*accounts.UnitsPerToken)); err != nil {
			return err
		}
	}
	for i := 0; i < WeightUIDs-1-len(validators); i++ {
		m, err := keys.FromURI("//load/miner/" + strconv.Itoa(i))
		if err != nil {
			return err
		}
		if err := sendAs(os)(subnets.NewRegister(1, m.Public(), 0)); err != nil {
			return err
		}
	}
	if _, err := c.WaitTx(ctx, last); err != nil {
		return err
	}
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		var mg subnets.Metagraph
		if _, err := c.Query(ctx, "/subnets/metagraph_lite/1", 0, &mg); err != nil {
			return err
		}
		permits := 0
		for _, p := range mg.ValidatorPermit {
			if p {
				permits++
			}
		}
		if mg.N == WeightUIDs && permits >= len(validators) {
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("validators did not get permits within 30 s")
}

// signWeights pre-signs perSender set_weights transactions of 256 entries for each
// validator, with nonces from 2 (after its register and stake transactions).
func signWeights(chainID string, validators []*keys.Pair, perSender int) [][][]byte {
	uids := make([]uint16, WeightUIDs)
	for i := range uids {
		uids[i] = uint16(i)
	}
	return presign(chainID, validators, perSender, 2, func(i, n int) tx.Msg {
		vals := make([]uint16, WeightUIDs)
		for j := range vals {
			vals[j] = uint16(1 + (i*31+j*7+n)%1000)
		}
		m, _ := subnets.NewSetWeights(1, uids, vals, 0)
		return m
	})
}
