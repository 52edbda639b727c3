package keeper

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/big"
	"strconv"

	"github.com/tessera-net/tessera/dtao"
	"github.com/tessera-net/tessera/keys"
	"github.com/tessera-net/tessera/module"
	"github.com/tessera-net/tessera/modules/accounts"
	"github.com/tessera-net/tessera/modules/stake"
	"github.com/tessera-net/tessera/store"
	"github.com/tessera-net/tessera/tx"
)

// The dTAO ledger (docs/dtao.md): a pool per subnet, alpha stake per (hotkey, netuid) as
// a share pool, and the chain's TAO issuance. Root stake (netuid 0) is the TAO ledger
// above (prefixStake), one for one. Big integers are stored as big-endian bytes.
var (
	prefixPool   = []byte("stk/p/")  // netuid → stake.Pool
	prefixHotA   = []byte("stk/ah/") // netuid ‖ hotkey → hotkeyRecord (V, D)
	prefixShares = []byte("stk/as/") // netuid ‖ hotkey ‖ coldkey → shares (big-endian)
	prefixColdA  = []byte("stk/ac/") // coldkey ‖ netuid ‖ hotkey → empty (a coldkey's alpha positions)
	keyIssuance  = []byte("stk/issuance")
)

type hotkeyRecord struct {
	Value uint64 `cbor:"1,keyasint"`
	Denom []byte `cbor:"2,keyasint"`
}

func u16(v uint16) []byte { return binary.BigEndian.AppendUint16(nil, v) }

// StakeParams are the chain's staking parameters (the runtime's: fee 33/65535, minimum
// reserve 1e6 rao, minimum stake 2e6 rao).
func StakeParams() dtao.StakeParams { return dtao.DefaultStakeParams() }

// Pool reads a subnet's pool; ok is false if the subnet has none (root, or a chain
// without dTAO).
func (sk *Keeper) Pool(r store.Reader, netuid uint16) (stake.Pool, bool, error) {
	var p stake.Pool
	ok, err := module.Get(r, module.Key(prefixPool, u16(netuid)), &p)
	return p, ok, err
}

func (sk *Keeper) putPool(kv store.KV, p *stake.Pool) error {
	return module.Put(kv, module.Key(prefixPool, u16(p.Netuid)), p)
}

// Pools lists every pool in ascending netuid order.
func (sk *Keeper) Pools(r store.Reader) ([]stake.Pool, error) {
	var out []stake.Pool
	err := r.Iterate(prefixPool, func(_, v []byte) (bool, error) {
		var p stake.Pool
		if err := tx.UnmarshalState(v, &p); err != nil {
			return false, err
		}
		out = append(out, p)
		return true, nil
	})
	return out, err
}

// Issuance is the chain's TAO issuance under dTAO: free balances (the accounts supply) +
// root stake + every pool's TAO reserve. It is stored from the first dTAO operation on and
// changes only by the coinbase's spent emission and by recycling; the invariant
// Issuance = supply + root stake + Σ reserves is what TestConservation checks.
func (sk *Keeper) Issuance(r store.Reader) (uint64, error) {
	b, err := r.Get(keyIssuance)
	if err != nil {
		return 0, err
	}
	if b != nil {
		var v uint64
		err := tx.UnmarshalState(b, &v)
		return v, err
	}
	return sk.Backing(r)
}

// Backing is supply + root stake + Σ pool TAO reserves: where the issuance is.
func (sk *Keeper) Backing(r store.Reader) (uint64, error) {
	supply, err := sk.accounts.Supply(r)
	if err != nil {
		return 0, err
	}
	root, err := sk.TotalStaked(r)
	if err != nil {
		return 0, err
	}
	total := supply + root
	pools, err := sk.Pools(r)
	for _, p := range pools {
		total += p.TAO
	}
	return total, err
}

// ensureIssuance stores the issuance if it is not yet stored: called before any dTAO
// operation changes the state, so it is taken while the invariant holds.
func (sk *Keeper) ensureIssuance(kv store.KV) (uint64, error) {
	b, err := kv.Get(keyIssuance)
	if err != nil || b != nil {
		if err != nil {
			return 0, err
		}
		var v uint64
		err := tx.UnmarshalState(b, &v)
		return v, err
	}
	v, err := sk.Backing(kv)
	if err != nil {
		return 0, err
	}
	return v, module.PutUint64(kv, keyIssuance, v)
}

// Recycle removes amount of TAO from the issuance: TAO that left the supply and went
// nowhere (a registration burn, a swap fee) under dTAO.
func (sk *Keeper) Recycle(kv store.KV, amount uint64) error {
	v, err := sk.ensureIssuance(kv)
	if err != nil || amount == 0 {
		return err
	}
	if amount > v {
		amount = v
	}
	return module.PutUint64(kv, keyIssuance, v-amount)
}

// CreatePool seeds a new subnet's pool with its lock (dtao.SeedPool: TAO = the lock,
// alpha = lock / the median price of the other pools, no alpha to the owner). The lock,
// already debited from the owner, becomes the reserve: the issuance does not change.
func (sk *Keeper) CreatePool(kv store.KV, netuid uint16, lock, block uint64) error {
	if _, err := sk.ensureIssuance(kv); err != nil {
		return err
	}
	pools, err := sk.Pools(kv)
	if err != nil {
		return err
	}
	var prices []dtao.U64F64
	for _, p := range pools {
		if p.Netuid != netuid {
			if pr := p.Price(); !pr.IsZero() {
				prices = append(prices, pr)
			}
		}
	}
	seed := dtao.SeedPool(lock, lock, prices)
	p := stake.Pool{Netuid: netuid, FirstEmissionBlock: block + 1}
	p.SetDPool(seed)
	return sk.putPool(kv, &p)
}

func hotAKey(netuid uint16, hot keys.PublicKey) []byte {
	return module.Key(prefixHotA, u16(netuid), hot[:])
}

func sharesKey(netuid uint16, hot, cold keys.PublicKey) []byte {
	return module.Key(prefixShares, u16(netuid), hot[:], cold[:])
}

func (sk *Keeper) hotkeyStake(r store.Reader, netuid uint16, hot keys.PublicKey) (dtao.HotkeyStake, error) {
	var rec hotkeyRecord
	_, err := module.Get(r, hotAKey(netuid, hot), &rec)
	h := dtao.HotkeyStake{Value: rec.Value}
	if len(rec.Denom) > 0 {
		h.Denom = new(big.Int).SetBytes(rec.Denom)
	}
	return h, err
}

func (sk *Keeper) putHotkeyStake(kv store.KV, netuid uint16, hot keys.PublicKey, h dtao.HotkeyStake) error {
	k := hotAKey(netuid, hot)
	if h.Value == 0 && (h.Denom == nil || h.Denom.Sign() == 0) {
		return kv.Delete(k)
	}
	rec := hotkeyRecord{Value: h.Value}
	if h.Denom != nil {
		rec.Denom = h.Denom.Bytes()
	}
	return module.Put(kv, k, rec)
}

func (sk *Keeper) shares(r store.Reader, netuid uint16, hot, cold keys.PublicKey) (*big.Int, error) {
	b, err := r.Get(sharesKey(netuid, hot, cold))
	if err != nil || b == nil {
		return new(big.Int), err
	}
	return new(big.Int).SetBytes(b), nil
}

func (sk *Keeper) putShares(kv store.KV, netuid uint16, hot, cold keys.PublicKey, s *big.Int) error {
	idx := module.Key(prefixColdA, cold[:], u16(netuid), hot[:])
	if s == nil || s.Sign() == 0 {
		if err := kv.Delete(sharesKey(netuid, hot, cold)); err != nil {
			return err
		}
		return kv.Delete(idx)
	}
	if err := kv.Set(sharesKey(netuid, hot, cold), s.Bytes()); err != nil {
		return err
	}
	return kv.Set(idx, []byte{})
}

// HotkeyAlpha is the alpha staked on a hotkey on a subnet, by every coldkey together.
func (sk *Keeper) HotkeyAlpha(r store.Reader, netuid uint16, hot keys.PublicKey) (uint64, error) {
	h, err := sk.hotkeyStake(r, netuid, hot)
	return h.Value, err
}

// AlphaOf is one coldkey's alpha on (hotkey, netuid): ⌊V·S/D⌋.
func (sk *Keeper) AlphaOf(r store.Reader, netuid uint16, hot, cold keys.PublicKey) (uint64, error) {
	h, err := sk.hotkeyStake(r, netuid, hot)
	if err != nil {
		return 0, err
	}
	s, err := sk.shares(r, netuid, hot, cold)
	return h.ValueOf(s), err
}

// creditAlpha adds u alpha to (hot, cold) on a subnet (the pool's AlphaOut is the
// caller's). A credit too small to get a share is refused with ErrStakeTooSmall.
func (sk *Keeper) creditAlpha(kv store.KV, netuid uint16, hot, cold keys.PublicKey, u uint64) error {
	if u == 0 {
		return nil
	}
	h, err := sk.hotkeyStake(kv, netuid, hot)
	if err != nil {
		return err
	}
	s, err := sk.shares(kv, netuid, hot, cold)
	if err != nil {
		return err
	}
	had := s.Sign() != 0
	ns, err := h.Credit(s, u)
	if err != nil {
		return err
	}
	if err := sk.putHotkeyStake(kv, netuid, hot, h); err != nil {
		return err
	}
	if had {
		// The coldkey's index lists the position already: only the shares change (an
		// epoch credits thousands of miners).
		return kv.Set(sharesKey(netuid, hot, cold), ns.Bytes())
	}
	return sk.putShares(kv, netuid, hot, cold, ns)
}

func (sk *Keeper) debitAlpha(kv store.KV, netuid uint16, hot, cold keys.PublicKey, u uint64) error {
	if u == 0 {
		return nil
	}
	h, err := sk.hotkeyStake(kv, netuid, hot)
	if err != nil {
		return err
	}
	s, err := sk.shares(kv, netuid, hot, cold)
	if err != nil {
		return err
	}
	ns, err := h.Debit(s, u)
	if err != nil {
		return tx.Errorf(tx.CodeInsufficientFunds, "%s has %s alpha staked on %s on subnet %d, cannot take %s",
			cold, accounts.FormatAmount(h.ValueOf(s)), hot, netuid, accounts.FormatAmount(u))
	}
	if err := sk.putHotkeyStake(kv, netuid, hot, h); err != nil {
		return err
	}
	return sk.putShares(kv, netuid, hot, cold, ns)
}

// distributeAlpha is a hotkey-wide credit: every staker of the hotkey on the subnet gains
// pro rata (V grows). A hotkey without stakers there gets it as its owner's stake.
func (sk *Keeper) distributeAlpha(kv store.KV, netuid uint16, hot keys.PublicKey, u uint64) error {
	if u == 0 {
		return nil
	}
	h, err := sk.hotkeyStake(kv, netuid, hot)
	if err != nil {
		return err
	}
	if h.Value == 0 || h.Denom == nil || h.Denom.Sign() == 0 {
		owner, ok, err := sk.Owner(kv, hot)
		if err != nil || !ok {
			return fmt.Errorf("pay %s on subnet %d: hotkey has no owner (%v)", hot, netuid, err)
		}
		return sk.creditAlpha(kv, netuid, hot, owner, u)
	}
	h.Distribute(u)
	return sk.putHotkeyStake(kv, netuid, hot, h)
}

// EpochStakes are, by hotkey, the alpha staked on it on the subnet and its root (TAO)
// stake: what a dTAO epoch weighs (alpha + root × tao_weight). Where the subnet has child
// keys they are the inherited stakes (inheritStakes).
func (sk *Keeper) EpochStakes(r store.Reader, netuid uint16, hotkeys []keys.PublicKey) (alpha, root []uint64, err error) {
	alpha = make([]uint64, len(hotkeys))
	root = make([]uint64, len(hotkeys))
	// The subnet's staked hotkeys in one range scan rather than a point read per uid.
	values := map[keys.PublicKey]uint64{}
	prefix := module.Key(prefixHotA, u16(netuid))
	if err := r.Iterate(prefix, func(k, v []byte) (bool, error) {
		var rec hotkeyRecord
		if err := tx.UnmarshalState(v, &rec); err != nil {
			return false, err
		}
		values[keys.PublicKey(k[len(prefix):])] = rec.Value
		return true, nil
	}); err != nil {
		return nil, nil, err
	}
	// Root stakes: a scan of every hotkey's total when there are fewer such hotkeys than
	// uids (an epoch of thousands of miners, most without root stake), else a point read
	// per uid. Both read the same values.
	n, err := module.GetUint64(r, keyRootHotkeys)
	if err != nil {
		return nil, nil, err
	}
	var totals map[keys.PublicKey]uint64
	if n <= uint64(len(hotkeys)) {
		totals = make(map[keys.PublicKey]uint64, n)
		if err := r.Iterate(prefixTotal, func(k, v []byte) (bool, error) {
			var t uint64
			if err := tx.UnmarshalState(v, &t); err != nil {
				return false, err
			}
			totals[keys.PublicKey(k[len(prefixTotal):])] = t
			return true, nil
		}); err != nil {
			return nil, nil, err
		}
	}
	for i, h := range hotkeys {
		alpha[i] = values[h]
		if totals != nil {
			root[i] = totals[h]
		} else if root[i], err = sk.TotalStake(r, h); err != nil {
			return nil, nil, err
		}
	}
	// With child keys on the subnet, the inherited stakes (one prefix scan without).
	return alpha, root, sk.inheritStakes(r, netuid, hotkeys, alpha, root)
}

// stakeError turns a dtao refusal into a coded error that names what failed.
func stakeError(err error, netuid uint16, p dtao.Pool, amount uint64, lim dtao.Limit) error {
	var le *dtao.LimitError
	var me *dtao.MoveLimitError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &me):
		return tx.Errorf(tx.CodeInvalidAmount, "limit price not met swapping from subnet %d: at the least origin/destination price ratio %s "+
			"(the ratio is %s) the swap may take at most %s, not %s; allow_partial swaps that much", netuid, fmtRao(lim.Price),
			fmtRao(stake.RaoPrice(me.Ratio)), accounts.FormatAmount(me.Max), accounts.FormatAmount(amount))
	case errors.As(err, &le):
		limit := lim.Price
		if limit == 0 {
			limit = stake.RaoPrice(le.Limit)
		}
		return tx.Errorf(tx.CodeInvalidAmount, "limit price not met on subnet %d: the price is %s TAO per alpha, the limit %s",
			netuid, fmtRao(stake.RaoPrice(le.Current)), fmtRao(limit))
	case errors.Is(err, dtao.ErrSlippageTooHigh):
		return tx.Errorf(tx.CodeInvalidAmount, "limit price not met on subnet %d: at the limit %s TAO per alpha (the price is %s) "+
			"the pool takes less than %s; allow_partial runs the part it takes", netuid, fmtRao(lim.Price), fmtRao(stake.RaoPrice(p.Price())), accounts.FormatAmount(amount))
	case errors.Is(err, dtao.ErrAmountTooLow):
		return tx.Errorf(tx.CodeInvalidAmount, "amount below the minimum stake of %s on subnet %d (or it would leave less than that staked)",
			accounts.FormatAmount(dtao.DefaultMinStake), netuid)
	case errors.Is(err, dtao.ErrSwapTooLarge):
		return tx.Errorf(tx.CodeInvalidAmount, "%s is more than 1000 times the pool's reserve on subnet %d", accounts.FormatAmount(amount), netuid)
	case errors.Is(err, dtao.ErrStakeTooSmall):
		return tx.Errorf(tx.CodeInvalidAmount, "%s is too small to get a share of the stake on subnet %d", accounts.FormatAmount(amount), netuid)
	case errors.Is(err, dtao.ErrReservesTooLow), errors.Is(err, dtao.ErrInsufficientLiquidity):
		return tx.Errorf(tx.CodeInvalidAmount, "the pool of subnet %d cannot take %s: %v", netuid, accounts.FormatAmount(amount), err)
	case errors.Is(err, dtao.ErrZeroAmount):
		return tx.Errorf(tx.CodeInvalidAmount, "amount must be greater than zero")
	}
	return tx.Errorf(tx.CodeInvalidAmount, "subnet %d: %v", netuid, err)
}

// fmtRao writes a price in rao per alpha as a decimal TAO amount (1e9 = 1.0).
func fmtRao(v uint64) string { return accounts.FormatAmount(v) }

// AlphaPositions lists a coldkey's alpha positions, by netuid then hotkey, each with its
// TAO value: what selling it all would return now (dtao.RemoveStake on a copy: fee and
// slippage included; 0 if the pool would refuse the sale).
func (sk *Keeper) AlphaPositions(r store.Reader, cold keys.PublicKey) ([]stake.Position, error) {
	out := []stake.Position{}
	prefix := module.Key(prefixColdA, cold[:])
	err := r.Iterate(prefix, func(k, _ []byte) (bool, error) {
		rest := k[len(prefix):]
		netuid := binary.BigEndian.Uint16(rest)
		hot := keys.PublicKey(rest[2:])
		a, err := sk.AlphaOf(r, netuid, hot, cold)
		if err != nil {
			return false, err
		}
		pos := stake.Position{Hotkey: hot.String(), Coldkey: cold.String(), Netuid: netuid, Stake: a}
		if p, ok, err := sk.Pool(r, netuid); err != nil {
			return false, err
		} else if ok && a > 0 {
			if _, u, err := dtao.RemoveStake(p.Side(), a, a, dtao.Limit{}, StakeParams()); err == nil {
				pos.TAOValue = u.TAO
			}
		}
		out = append(out, pos)
		return true, nil
	})
	return out, err
}

func (sk *Keeper) queryPools(q module.QueryRequest) (any, error) {
	pools, err := sk.Pools(q.State)
	out := make([]stake.PoolView, 0, len(pools))
	for _, p := range pools {
		out = append(out, stake.ViewOf(p))
	}
	return out, err
}

func (sk *Keeper) queryPool(q module.QueryRequest) (any, error) {
	n, err := strconv.ParseUint(q.Args[0], 10, 16)
	if err != nil {
		return nil, tx.Errorf(tx.CodeInvalidMessage, "netuid %q is not a number from 0 to 65535", q.Args[0])
	}
	p, ok, err := sk.Pool(q.State, uint16(n))
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, tx.Errorf(tx.CodeNotFound, "subnet %d has no dTAO pool", n)
	}
	return stake.ViewOf(p), nil
}

// DTAOView answers "dtao": the chain's TAO issuance and where it is.
type DTAOView struct {
	Issuance  uint64 `json:"issuance,string"`
	Backing   uint64 `json:"backing,string"`
	RootStake uint64 `json:"root_stake,string"`
}

func (sk *Keeper) queryDTAO(q module.QueryRequest) (any, error) {
	var v DTAOView
	var err error
	if v.Issuance, err = sk.Issuance(q.State); err != nil {
		return nil, err
	}
	if v.Backing, err = sk.Backing(q.State); err != nil {
		return nil, err
	}
	v.RootStake, err = sk.TotalStaked(q.State)
	return v, err
}

// CheckConservation checks that nothing was created or lost under dTAO: the TAO issuance
// equals the balances plus the root stake plus the pools' reserves, and on every subnet
// the alpha outstanding equals the alpha staked (Σ hotkey values) plus the pending
// emission, the protocol's alpha and the unowned dust; and no hotkey's stakers own more
// than its value. It returns the first violation.
func (sk *Keeper) CheckConservation(r store.Reader) error {
	b, err := r.Get(keyIssuance)
	if err != nil {
		return err
	}
	if b != nil {
		iss, err := sk.Issuance(r)
		if err != nil {
			return err
		}
		back, err := sk.Backing(r)
		if err != nil {
			return err
		}
		if iss != back {
			return fmt.Errorf("TAO issuance %d ≠ balances + root stake + reserves %d", iss, back)
		}
	}
	pools, err := sk.Pools(r)
	if err != nil {
		return err
	}
	for _, p := range pools {
		var staked uint64
		prefix := module.Key(prefixHotA, u16(p.Netuid))
		err := r.Iterate(prefix, func(k, v []byte) (bool, error) {
			var rec hotkeyRecord
			if err := tx.UnmarshalState(v, &rec); err != nil {
				return false, err
			}
			staked += rec.Value
			hot := keys.PublicKey(k[len(prefix):])
			h, _ := sk.hotkeyStake(r, p.Netuid, hot)
			var owned uint64
			sp := module.Key(prefixShares, u16(p.Netuid), hot[:])
			err := r.Iterate(sp, func(_, sv []byte) (bool, error) {
				owned += h.ValueOf(new(big.Int).SetBytes(sv))
				return true, nil
			})
			if err == nil && owned > rec.Value {
				err = fmt.Errorf("subnet %d: the stakers of %s own %d alpha, more than its %d", p.Netuid, hot, owned, rec.Value)
			}
			return err == nil, err
		})
		if err != nil {
			return err
		}
		want := staked + p.PendingServer + p.PendingValidator + p.PendingRoot + p.PendingOwnerCut + p.ProtocolAlpha + p.AlphaDust + p.RootHeld
		if p.AlphaOut != want {
			return fmt.Errorf("subnet %d: alpha outstanding %d ≠ staked %d + pending %d + protocol %d + dust %d + held for root claims %d (= %d)", p.Netuid,
				p.AlphaOut, staked, p.PendingServer+p.PendingValidator+p.PendingRoot+p.PendingOwnerCut, p.ProtocolAlpha, p.AlphaDust, p.RootHeld, want)
		}
	}
	return sk.CheckRootClaims(r)
}

// DissolvePool dissolves a subnet's pool (remove_stake.rs l.442): its TAO is paid to the
// stakers' balances pro rata to their alpha values, the protocol alpha last, by largest
// remainder (dtao.DissolvePayout); the protocol's share (with the alpha held for root
// claims, which are dropped), and the whole pot when no one holds alpha, is recycled. Every alpha position, share pool and the pool itself are
// deleted. Nothing is created or lost: the reserve becomes balances or leaves the issuance.
func (sk *Keeper) DissolvePool(kv store.KV, netuid uint16) (stake.Dissolved, error) {
	var out stake.Dissolved
	p, ok, err := sk.Pool(kv, netuid)
	if err != nil || !ok {
		return out, err
	}
	if _, err := sk.ensureIssuance(kv); err != nil {
		return out, err
	}
	type holder struct {
		hot, cold keys.PublicKey
		value     uint64
	}
	var holders []holder
	prefix := module.Key(prefixShares, u16(netuid))
	hotStakes := map[keys.PublicKey]dtao.HotkeyStake{}
	err = kv.Iterate(prefix, func(k, v []byte) (bool, error) {
		rest := k[len(prefix):]
		hot, cold := keys.PublicKey(rest[:32]), keys.PublicKey(rest[32:])
		h, seen := hotStakes[hot]
		if !seen {
			var err error
			if h, err = sk.hotkeyStake(kv, netuid, hot); err != nil {
				return false, err
			}
			hotStakes[hot] = h
		}
		holders = append(holders, holder{hot, cold, h.ValueOf(new(big.Int).SetBytes(v))})
		return true, nil
	})
	if err != nil {
		return out, err
	}
	values := make([]uint64, len(holders)+1)
	for i, h := range holders {
		values[i] = h.value
	}
	values[len(holders)] = p.ProtocolAlpha + p.RootHeld // unclaimed root dividends go with the protocol's share
	pay := dtao.DissolvePayout(p.TAO, values)
	out.Pot, out.Positions = p.TAO, len(holders)
	for i, h := range holders {
		if pay[i] > 0 {
			if err := sk.accounts.Credit(kv, h.cold, pay[i]); err != nil {
				return out, err
			}
			out.Paid += pay[i]
		}
		if err := sk.putShares(kv, netuid, h.hot, h.cold, nil); err != nil {
			return out, err
		}
	}
	var hots []keys.PublicKey
	hp := module.Key(prefixHotA, u16(netuid))
	if err := kv.Iterate(hp, func(k, _ []byte) (bool, error) {
		hots = append(hots, keys.PublicKey(k[len(hp):]))
		return true, nil
	}); err != nil {
		return out, err
	}
	for _, h := range hots {
		if err := kv.Delete(hotAKey(netuid, h)); err != nil {
			return out, err
		}
	}
	if err := kv.Delete(module.Key(prefixPool, u16(netuid))); err != nil {
		return out, err
	}
	if err := sk.dropRootClaims(kv, netuid); err != nil {
		return out, err
	}
	out.Recycled = p.TAO - out.Paid
	return out, sk.Recycle(kv, out.Recycled)
}
