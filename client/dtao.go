package client

import (
	"context"
	"fmt"
	"strconv"

	"github.com/tessera-net/tessera/dtao"
	"github.com/tessera-net/tessera/internal/safemath"
	"github.com/tessera-net/tessera/modules/accounts"
	"github.com/tessera-net/tessera/modules/stake"
)

// Pool reads a subnet's dTAO pool.
func (c *Client) Pool(ctx context.Context, netuid uint16) (stake.PoolView, error) {
	var v stake.PoolView
	_, err := c.Query(ctx, "/stake/pool/"+strconv.Itoa(int(netuid)), 0, &v)
	return v, err
}

// Pools reads every dTAO pool (none on a chain without dTAO).
func (c *Client) Pools(ctx context.Context) ([]stake.PoolView, error) {
	var v []stake.PoolView
	_, err := c.Query(ctx, "/stake/pools", 0, &v)
	return v, err
}

// Side reads what staking on a subnet swaps against: its pool, or on root (netuid 0) a
// 1:1 pool over the root stake.
func (c *Client) Side(ctx context.Context, netuid uint16) (dtao.Side, error) {
	if netuid == 0 {
		var t map[string]string
		if _, err := c.Query(ctx, "/stake/total", 0, &t); err != nil {
			return dtao.Side{}, err
		}
		total, _ := strconv.ParseUint(t["total_staked"], 10, 64)
		return dtao.Side{Pool: dtao.Pool{TAO: total, Alpha: total, Stable: true}, AlphaOut: total}, nil
	}
	p, err := c.Pool(ctx, netuid)
	if err != nil {
		return dtao.Side{}, err
	}
	return p.Side(), nil
}

// Quote is what a stake operation would do now, simulated on the pools as the chain
// computes it (package dtao, no side effect): In of the origin's unit (TAO for an add,
// alpha for a remove) is taken, Out of the destination's unit is received, Fee (TAO) goes
// to the block author; prices are in rao per alpha (1e9 = 1.0) before and after.
type Quote struct {
	In, Out, Fee            uint64
	PriceBefore, PriceAfter uint64
	// Restaked is false for a move whose result is below the minimum stake: the TAO is
	// paid to the balance instead.
	Restaked bool
}

// QuoteAdd simulates stake/add of tao on a side with a limit.
func QuoteAdd(sd dtao.Side, tao uint64, lim dtao.Limit) (Quote, error) {
	n, r, err := dtao.AddStake(sd, tao, lim, dtao.DefaultStakeParams())
	if err != nil {
		return Quote{}, err
	}
	return Quote{In: r.TAOTaken, Out: r.Alpha, Fee: r.Fee, PriceBefore: stake.RaoPrice(sd.Pool.Price()), PriceAfter: stake.RaoPrice(n.Pool.Price()), Restaked: true}, nil
}

// QuoteRemove simulates stake/remove of alpha out of a position of have.
func QuoteRemove(sd dtao.Side, alpha, have uint64, lim dtao.Limit) (Quote, error) {
	n, r, err := dtao.RemoveStake(sd, alpha, have, lim, dtao.DefaultStakeParams())
	if err != nil {
		return Quote{}, err
	}
	return Quote{In: r.AlphaTaken, Out: r.TAO, Fee: r.AuthorTAO, PriceBefore: stake.RaoPrice(sd.Pool.Price()), PriceAfter: stake.RaoPrice(n.Pool.Price()), Restaked: true}, nil
}

// QuoteMove simulates a move of alpha across two subnets (stake/move, transfer or swap);
// PriceBefore and PriceAfter are the destination's.
func QuoteMove(from, to dtao.Side, alpha, have uint64, lim dtao.Limit) (Quote, error) {
	_, nt, r, err := dtao.MoveStake(from, to, alpha, have, lim, dtao.DefaultStakeParams())
	if err != nil {
		return Quote{}, err
	}
	out := r.Alpha
	if !r.Restaked {
		out = r.TAO
	}
	return Quote{In: r.AlphaTaken, Out: out, Fee: r.AuthorTAO, PriceBefore: stake.RaoPrice(to.Pool.Price()), PriceAfter: stake.RaoPrice(nt.Pool.Price()), Restaked: r.Restaked}, nil
}

// SafeLimit is the limit price --safe uses: the current price moved by tolerance (parts
// per million) against the trader: up for a buy, down for a sale.
func SafeLimit(price uint64, tolerancePPM uint64, buy bool) uint64 {
	d := safemath.MulDiv(price, tolerancePPM, 1_000_000)
	if buy {
		return price + d
	}
	if d >= price {
		return 1
	}
	return price - d
}

// FormatPrice writes a price in rao per alpha as TAO per alpha.
func FormatPrice(rao uint64) string { return accounts.FormatAmount(rao) }

// Slippage is how far the price moves, in percent of the price before (informational).
func (q Quote) Slippage() string {
	if q.PriceBefore == 0 {
		return "n/a"
	}
	d := int64(q.PriceAfter) - int64(q.PriceBefore)
	return fmt.Sprintf("%+.3f%%", float64(d)/float64(q.PriceBefore)*100)
}
