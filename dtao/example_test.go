package dtao_test

import (
	"fmt"
	"math"

	"github.com/tessera-net/tessera/dtao"
)

// The worked example of docs/dtao.md §7: one block's coinbase over two subnets, then a
// stake and an unstake on the first one.
func Example() {
	st := dtao.DefaultState()
	st.RootTAO, st.TaoWeight = 1e18, math.MaxUint64
	for i, p := range []dtao.Pool{{TAO: 1e5, Alpha: 1e6}, {TAO: 1e5, Alpha: 5e5}} {
		st.Subnets = append(st.Subnets, dtao.Subnet{Netuid: uint16(i + 1), Pool: p,
			MovingPrice:        dtao.U96F32{Lo: []uint64{429496730, 858993459}[i]},
			FirstEmissionBlock: 1, SubtokenEnabled: true, RegistrationAllowed: true,
			EmissionEnabled: true, OwnerCutEnabled: true})
	}
	st, res := dtao.RunCoinbase(st, 1e8, dtao.EMAPriceShares)
	for k, e := range res.Subnets {
		s := st.Subnets[k]
		fmt.Printf("subnet %d: injected %d τ and %d α, pool %d τ / %d α, quote weight %d\n",
			e.Netuid, e.TAOIn, e.AlphaIn, s.Pool.TAO, s.Pool.Alpha, s.Pool.QuoteWeight)
	}
	fmt.Println("recycled", res.RecycledTAO, "issuance", st.TotalIssuance)

	sp := dtao.DefaultStakeParams()
	side := dtao.Side{Pool: st.Subnets[0].Pool, AlphaOut: st.Subnets[0].AlphaOut}
	side, r, err := dtao.AddStake(side, 1e7, dtao.Limit{}, sp)
	if err != nil {
		fmt.Println(err)
	}
	fmt.Printf("stake 1e7 τ: fee %d τ, %d α\n", r.Fee, r.Alpha)
	_, u, _ := dtao.RemoveStake(side, r.Alpha, r.Alpha, dtao.Limit{}, sp)
	fmt.Printf("unstake: fee %d α, %d τ back, %d τ to the author\n", u.FeeAlpha, u.TAO, u.AuthorTAO)
	// Output:
	// subnet 1: injected 33333333 τ and 333333334 α, pool 33433333 τ / 334333334 α, quote weight 499999997008973068
	// subnet 2: injected 66666666 τ and 333333333 α, pool 66766666 τ / 333833333 α, quote weight 499999997753369932
	// recycled 1 issuance 99999999
	// stake 1e7 τ: fee 5035 τ, 76946371 α
	// unstake: fee 38746 α, 9991089 τ back, 3875 τ to the author
}
