package stake

import (
	"math/bits"

	"github.com/tessera-net/tessera/dtao"
)

// Pool is a subnet's dTAO state as stored (key "stk/p/" ‖ netuid): its protocol-owned
// pool, the alpha outstanding, the moving price, what the coinbase has accumulated for
// the next epoch, and statistics for queries. Fixed-point values are held as their raw
// bits (U64F64/U96F32: Hi, Lo words). docs/dtao.md explains each.
type Pool struct {
	Netuid        uint16 `cbor:"1,keyasint" json:"netuid"`
	TAO           uint64 `cbor:"2,keyasint" json:"tao_in,string"`   // SubnetTAO
	AlphaIn       uint64 `cbor:"3,keyasint" json:"alpha_in,string"` // SubnetAlphaIn
	QuoteWeight   uint64 `cbor:"4,keyasint" json:"quote_weight,string"`
	AlphaOut      uint64 `cbor:"5,keyasint" json:"alpha_out,string"` // SubnetAlphaOut
	ProtocolAlpha uint64 `cbor:"6,keyasint" json:"protocol_alpha,string"`
	EMAHi         uint64 `cbor:"7,keyasint" json:"-"` // SubnetMovingPrice, U96F32 bits
	EMALo         uint64 `cbor:"8,keyasint" json:"-"`
	// FirstEmissionBlock is the block the subnet's emission starts (the block after its
	// creation: Tessera makes no start_call).
	FirstEmissionBlock uint64 `cbor:"9,keyasint" json:"first_emission_block"`
	PendingServer      uint64 `cbor:"10,keyasint" json:"pending_server,string"`
	PendingValidator   uint64 `cbor:"11,keyasint" json:"pending_validator,string"`
	PendingRoot        uint64 `cbor:"12,keyasint" json:"pending_root,string"`
	PendingOwnerCut    uint64 `cbor:"13,keyasint" json:"pending_owner_cut,string"`
	// AlphaDust is alpha inside AlphaOut that no one owns: the coinbase's floors.
	AlphaDust     uint64 `cbor:"14,keyasint" json:"alpha_dust,string"`
	MinerBurnedHi uint64 `cbor:"15,keyasint" json:"-"`
	MinerBurnedLo uint64 `cbor:"16,keyasint" json:"-"`
	// Volume is the TAO that has gone through the pool in swaps (stake, unstake, chain buys).
	Volume uint64 `cbor:"17,keyasint" json:"volume,string"`
	// ShareHi/Lo is the last block's emission share (U64F64 bits), LastEmission its TAO.
	ShareHi      uint64 `cbor:"18,keyasint" json:"-"`
	ShareLo      uint64 `cbor:"19,keyasint" json:"-"`
	LastEmission uint64 `cbor:"20,keyasint" json:"tao_emission,string"`
	// RootHeld is alpha inside AlphaOut held for root stakers: root dividends accrued and
	// not yet claimed (stake/claim_root). What the claim rates' floors leave stays here.
	RootHeld uint64 `cbor:"21,keyasint" json:"root_held,string"`
}

// DPool is the pool as package dtao computes on it.
func (p *Pool) DPool() dtao.Pool {
	return dtao.Pool{TAO: p.TAO, Alpha: p.AlphaIn, QuoteWeight: p.QuoteWeight}
}

// SetDPool writes back what dtao changed.
func (p *Pool) SetDPool(d dtao.Pool) { p.TAO, p.AlphaIn, p.QuoteWeight = d.TAO, d.Alpha, d.QuoteWeight }

// Side is the pool and AlphaOut, what staking changes.
func (p *Pool) Side() dtao.Side { return dtao.Side{Pool: p.DPool(), AlphaOut: p.AlphaOut} }

// SetSide writes back a side.
func (p *Pool) SetSide(s dtao.Side) { p.SetDPool(s.Pool); p.AlphaOut = s.AlphaOut }

// MovingPrice is the EMA price.
func (p *Pool) MovingPrice() dtao.U96F32 { return dtao.U96F32{Hi: p.EMAHi, Lo: p.EMALo} }

// MinerBurned is the share of the last epoch's incentive withheld from owner hotkeys.
func (p *Pool) MinerBurned() dtao.U96F32 {
	return dtao.U96F32{Hi: p.MinerBurnedHi, Lo: p.MinerBurnedLo}
}

// Share is the last block's emission share.
func (p *Pool) Share() dtao.U64F64 { return dtao.U64F64{Hi: p.ShareHi, Lo: p.ShareLo} }

// Price is the spot price, TAO per alpha.
func (p *Pool) Price() dtao.U64F64 { return p.DPool().Price() }

// PoolView answers "pool/<netuid>" and each entry of "pools": the stored pool and its
// prices in rao per alpha (1e9 = 1.0), its emission share in parts per billion.
type PoolView struct {
	Pool
	PriceRao       uint64 `json:"price,string"`
	MovingPriceRao uint64 `json:"moving_price,string"`
	SharePPB       uint64 `json:"emission_share_ppb,string"`
}

// ViewOf builds a pool's view.
func ViewOf(p Pool) PoolView {
	return PoolView{Pool: p, PriceRao: RaoPrice(p.Price()), MovingPriceRao: RaoPrice(p.MovingPrice().ToU64F64()),
		SharePPB: RaoPrice(p.Share())}
}

// RaoPrice is a U64F64 price in rao per alpha, floored (saturating).
func RaoPrice(v dtao.U64F64) uint64 {
	hi, lo := v.Hi, v.Lo
	// floor(v · 1e9) = hi·1e9 + floor(lo·1e9 / 2^64)
	h, _ := bits.Mul64(lo, 1_000_000_000)
	if hi > (^uint64(0)-h)/1_000_000_000 {
		return ^uint64(0)
	}
	return hi*1_000_000_000 + h
}
