package devnet

import (
	"context"
	"strconv"
	"time"

	"github.com/tessera-net/tessera/client"
	"github.com/tessera-net/tessera/genesis"
	"github.com/tessera-net/tessera/modules/accounts"
	"github.com/tessera-net/tessera/modules/stake"
	"github.com/tessera-net/tessera/modules/subnets"
	"github.com/tessera-net/tessera/tx"
)

// Dynamic TAO on the devnet (docs/dtao.md): with Options.DTAO (tessera devnet's default,
// --dtao) the genesis turns the subnets parameter dtao on — without it, off — so subnet 1's lock seeds its pool (1000 TAO and 1000 alpha at
// 1.0 when it is the first subnet); each validator stakes its layout stake on root and a
// tenth of it into subnet 1's pool; and the devnet logs every subnet's price, moving
// price and emission share at each of its epochs.

// Moving prices on the devnet. Subtensor's moving alpha (0.000003, ramped over 201,600
// blocks) keeps every moving price near 0 for weeks, so on a devnet the emission would
// never follow price and root dividends (paid only once the moving prices sum past 1)
// would never flow. The devnet's follow the spot price within about a minute of blocks.
const (
	devnetMovingAlpha uint64 = 1 << 32 / 20 // 0.05 a block
	devnetEMAHalving  uint64 = 20
)

// dtaoGenesis is the genesis hook: dTAO on, or explicitly off (the root-weights split
// that the package's own tests of the classic emission use), with the devnet's moving
// prices.
func dtaoGenesis(st *genesis.AppState, on bool) error {
	if err := st.SetDTAO(on); err != nil || !on {
		return err
	}
	if err := st.SetSubnetsParam("moving_alpha", devnetMovingAlpha); err != nil {
		return err
	}
	return st.SetSubnetsParam("ema_price_halving_blocks", devnetEMAHalving)
}

// dtaoStake is the message a validator of the layout sends besides its root stake: its
// stake bought into the subnet's pool (nil without dTAO).
func (d *Devnet) dtaoStake(l SubnetLayout, a *DevAccountRef) func() (tx.Msg, error) {
	if !d.dtao {
		return nil
	}
	return func() (tx.Msg, error) { return stake.NewAddOn(l.Netuid, a.pub, l.Stake/10, 0, false) }
}

// watchDTAO logs each subnet's pool after each of its epochs until ctx ends.
func (d *Devnet) watchDTAO(ctx context.Context) {
	if !d.dtao {
		return
	}
	last := map[uint16]uint64{}
	t := time.NewTicker(250 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		var list []subnets.SubnetView
		if _, err := d.Client.Query(ctx, "/subnets/list", 0, &list); err != nil {
			continue
		}
		for _, s := range list {
			if s.Netuid == subnets.RootNetuid || s.LastEpochBlock == last[s.Netuid] {
				continue
			}
			first := last[s.Netuid] == 0
			last[s.Netuid] = s.LastEpochBlock
			if first && s.LastEpochBlock < uint64(max(s.CreatedAt, 0)) {
				continue // the stagger's initial value, not an epoch
			}
			if p, err := d.Client.Pool(ctx, s.Netuid); err == nil {
				d.Log.Info("dtao epoch", DTAOAttrs(s.Netuid, s.LastEpochBlock, p)...)
			}
		}
	}
}

// DTAOAttrs are the log attributes of a subnet's pool at an epoch: price and moving price
// in TAO per alpha, emission share, reserves.
func DTAOAttrs(netuid uint16, block uint64, p stake.PoolView) []any {
	return []any{"netuid", netuid, "block", block, "price", client.FormatPrice(p.PriceRao), "moving_price", client.FormatPrice(p.MovingPriceRao),
		"emission_share", strconv.FormatFloat(float64(p.SharePPB)/1e7, 'f', 3, 64) + "%", "tao_in", accounts.FormatAmount(p.TAO),
		"alpha_in", accounts.FormatAmount(p.AlphaIn), "alpha_out", accounts.FormatAmount(p.AlphaOut)}
}
