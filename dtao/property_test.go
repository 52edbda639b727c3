package dtao

import (
	"math/big"
	"math/rand/v2"
	"testing"
)

// The conservation property. A model chain of coldkeys, hotkeys, a root pool and several
// subnets runs random stakes, unstakes, moves, coinbases and epoch drains through this
// package's functions. After every operation it checks, exactly:
//
//	TAO:   TotalIssuance = Σ free balances + block author + RootTAO + Σ subnet TAO reserves
//	alpha: AlphaOut_n = Σ_h V(h,n) + pending(n) + ProtocolAlpha_n + dust_n   (each subnet)
//	       Σ_c value(h,c,n) ≤ V(h,n) ≤ Σ_c value(h,c,n) + holders(h,n)       (each share pool)
//
// where dust_n is the alpha the coinbase minted into AlphaOut that its floors left unowned
// (SubnetEmission.AlphaDust) plus what a drain's take and payouts floor away. Stake value
// in TAO is not conserved by swaps (price moves), so the invariant is on TAO and on alpha
// separately: nothing is created or lost in either.

type key struct {
	hot, cold, net int
}

type model struct {
	st      State
	bal     []uint64
	author  uint64
	rootOut uint64
	pools   map[[2]int]*HotkeyStake // (hot, net)
	shares  map[key]*big.Int
	dust    []uint64
	touches map[[2]int]uint64
	ok      map[string]int
	sp      StakeParams
	t       *testing.T
}

const nCold, nHot = 4, 3

func newModel(t *testing.T, r *rand.Rand, nSub int) *model {
	m := &model{st: DefaultState(), bal: make([]uint64, nCold), pools: map[[2]int]*HotkeyStake{},
		shares: map[key]*big.Int{}, touches: map[[2]int]uint64{}, ok: map[string]int{}, dust: make([]uint64, nSub+1), sp: DefaultStakeParams(), t: t}
	m.st.TaoWeight = r.Uint64()
	var total uint64
	for i := range m.bal {
		m.bal[i] = 1e12 + r.Uint64N(1e13)
		total += m.bal[i]
	}
	for n := 1; n <= nSub; n++ {
		tao := 1e11 + r.Uint64N(1e12)
		s := started(uint16(n), tao, tao/(1+r.Uint64N(20)), U96F32{0, r.Uint64N(1 << 32)})
		m.st.Subnets = append(m.st.Subnets, s)
		total += tao
	}
	m.st.TotalIssuance = total
	return m
}

func (m *model) side(n int) Side {
	if n == 0 {
		return Side{Pool: Pool{Stable: true, TAO: m.st.RootTAO}, AlphaOut: m.rootOut}
	}
	s := &m.st.Subnets[n-1]
	return Side{Pool: s.Pool, AlphaOut: s.AlphaOut}
}

func (m *model) setSide(n int, sd Side) {
	if n == 0 {
		m.st.RootTAO, m.rootOut = sd.Pool.TAO, sd.AlphaOut
		return
	}
	s := &m.st.Subnets[n-1]
	s.Pool, s.AlphaOut = sd.Pool, sd.AlphaOut
}

func (m *model) pool(h, n int) *HotkeyStake {
	p := m.pools[[2]int{h, n}]
	if p == nil {
		p = &HotkeyStake{}
		m.pools[[2]int{h, n}] = p
	}
	return p
}

func (m *model) credit(h, c, n int, u uint64) {
	k := key{h, c, n}
	s, err := m.pool(h, n).Credit(m.shares[k], u)
	if err != nil {
		// too small to get shares: the alpha stays unowned (counted as dust)
		m.dust[n] += u
		return
	}
	m.shares[k] = s
	m.touches[[2]int{h, n}]++
}

func (m *model) value(h, c, n int) uint64 { return m.pool(h, n).ValueOf(m.shares[key{h, c, n}]) }

func (m *model) stake(r *rand.Rand) {
	c, h, n := r.IntN(nCold), r.IntN(nHot), r.IntN(len(m.st.Subnets)+1)
	amt := r.Uint64N(m.bal[c]/4 + 1)
	lim := Limit{}
	if r.IntN(3) == 0 && n != 0 {
		p := m.side(n).Pool.Price()
		lim = Limit{Price: p.mulU64(1_000_000_000) + r.Uint64N(1e8) + 1, AllowPartial: r.IntN(2) == 0}
	}
	sd, res, err := AddStake(m.side(n), amt, lim, m.sp)
	if err != nil {
		return
	}
	m.bal[c] -= res.TAOTaken
	m.author += res.Fee
	m.setSide(n, sd)
	m.credit(h, c, n, res.Alpha)
	m.ok["stake"]++
}

func (m *model) unstake(r *rand.Rand) {
	c, h, n := r.IntN(nCold), r.IntN(nHot), r.IntN(len(m.st.Subnets)+1)
	v := m.value(h, c, n)
	if v == 0 {
		return
	}
	amt := v
	if r.IntN(2) == 0 {
		amt = r.Uint64N(v) + 1
	}
	sd, res, err := RemoveStake(m.side(n), amt, v, Limit{}, m.sp)
	if err != nil {
		return
	}
	k := key{h, c, n}
	s, err := m.pool(h, n).Debit(m.shares[k], res.AlphaTaken)
	if err != nil {
		m.t.Fatalf("debit %d of %d: %v", res.AlphaTaken, v, err)
	}
	m.shares[k] = s
	m.touches[[2]int{h, n}]++
	m.ok["unstake"]++
	m.setSide(n, sd)
	m.bal[c] += res.TAO
	m.author += res.AuthorTAO
}

func (m *model) move(r *rand.Rand) {
	c, h, n := r.IntN(nCold), r.IntN(nHot), r.IntN(len(m.st.Subnets)+1)
	n2 := r.IntN(len(m.st.Subnets) + 1)
	v := m.value(h, c, n)
	if v == 0 || n == n2 {
		return
	}
	// Half the moves are swaps with a limit up to 10 % under the ratio, half of those
	// partial: a cut swap debits only what it took.
	var lim Limit
	if r.IntN(2) == 0 {
		ratio := m.side(n).Pool.Price().Div(m.side(n2).Pool.Price()).mulU64(1_000_000_000)
		lim = Limit{Price: max(1, ratio/1000*uint64(900+r.IntN(101))), AllowPartial: r.IntN(2) == 0}
	}
	a, b, res, err := MoveStake(m.side(n), m.side(n2), v, v, lim, m.sp)
	if err != nil {
		return
	}
	if res.AlphaTaken > v {
		m.t.Fatalf("a move of %d took %d", v, res.AlphaTaken)
	}
	if lim.AllowPartial && res.AlphaTaken < v {
		m.ok["partial move"]++
	}
	k := key{h, c, n}
	s, err := m.pool(h, n).Debit(m.shares[k], res.AlphaTaken)
	if err != nil {
		m.t.Fatal(err)
	}
	m.shares[k] = s
	m.touches[[2]int{h, n}]++
	m.ok["move"]++
	m.setSide(n, a)
	m.setSide(n2, b)
	m.author += res.AuthorTAO
	if res.Restaked {
		m.credit(h, c, n2, res.Alpha)
	} else {
		m.bal[c] += res.TAO
	}
}

func (m *model) coinbase(block uint64) {
	st, res := Coinbase(m.st, block, EMAPriceShares)
	m.st = st
	for _, e := range res.Subnets {
		m.dust[e.Netuid] += e.AlphaDust
	}
}

// drain pays a subnet's pending emission into stakes: server and validator to a random
// hotkey's nominators after its take, owner cut and root to a holder.
func (m *model) drain(r *rand.Rand) {
	n := 1 + r.IntN(len(m.st.Subnets))
	s := &m.st.Subnets[n-1]
	h, c := r.IntN(nHot), r.IntN(nCold)
	pot := s.PendingServer + s.PendingValidator + s.PendingRoot
	take, rest := Take(pot, DefaultOwnerCut)
	if m.pool(h, n).Value > 0 {
		m.pool(h, n).Distribute(rest)
		m.touches[[2]int{h, n}]++
	} else {
		m.credit(h, c, n, rest)
	}
	m.credit(h, c, n, take)
	m.credit(h, (c+1)%nCold, n, s.PendingOwnerCut)
	s.PendingServer, s.PendingValidator, s.PendingRoot, s.PendingOwnerCut = 0, 0, 0, 0
}

func (m *model) check(step int, op string) {
	t := m.t
	t.Helper()
	var tao uint64 = m.author + m.st.RootTAO
	for _, b := range m.bal {
		tao += b
	}
	for _, s := range m.st.Subnets {
		tao += s.Pool.TAO
	}
	if tao != m.st.TotalIssuance {
		t.Fatalf("step %d (%s): TAO %d ≠ issuance %d (diff %d)", step, op, tao, m.st.TotalIssuance, int64(tao-m.st.TotalIssuance))
	}
	for n := 0; n <= len(m.st.Subnets); n++ {
		var sumV uint64
		for h := 0; h < nHot; h++ {
			p := m.pool(h, n)
			sumV += p.Value
			var vals, holders uint64
			for c := 0; c < nCold; c++ {
				if s := m.shares[key{h, c, n}]; s != nil && s.Sign() > 0 {
					vals += p.ValueOf(s)
					holders++
				}
			}
			if vals > p.Value || p.Value > vals+holders+m.poolDust(h, n) {
				t.Fatalf("step %d (%s): pool (%d,%d) V %d values %d holders %d", step, op, h, n, p.Value, vals, holders)
			}
		}
		out := m.rootOut
		var pend uint64
		if n > 0 {
			s := m.st.Subnets[n-1]
			out = s.AlphaOut
			pend = s.PendingServer + s.PendingValidator + s.PendingRoot + s.PendingOwnerCut + s.ProtocolAlpha
		}
		if out != sumV+pend+m.dust[n] {
			t.Fatalf("step %d (%s): subnet %d AlphaOut %d ≠ stakes %d + pending %d + dust %d", step, op, n, out, sumV, pend, m.dust[n])
		}
	}
}

// poolDust bounds the rounding dust a share pool keeps (V − Σ values): at most one rao
// per credit or debit it has seen, plus one per holder for the floors of the values.
func (m *model) poolDust(h, n int) uint64 { return m.touches[[2]int{h, n}] }

func TestConservationProperty(t *testing.T) {
	for seed := uint64(1); seed <= 6; seed++ {
		r := rand.New(rand.NewPCG(seed, 99))
		m := newModel(t, r, 2+int(seed%3))
		m.check(0, "init")
		block := uint64(1)
		for step := 1; step <= 400; step++ {
			op := ""
			switch k := r.IntN(10); {
			case k < 3:
				op = "stake"
				m.stake(r)
			case k < 5:
				op = "unstake"
				m.unstake(r)
			case k < 6:
				op = "move"
				m.move(r)
			case k < 9:
				op = "coinbase"
				block++
				m.coinbase(block)
			default:
				op = "drain"
				m.drain(r)
			}
			m.check(step, op)
		}
		t.Logf("seed %d: %v, issuance %d", seed, m.ok, m.st.TotalIssuance)
		if m.ok["stake"] == 0 || m.ok["unstake"] == 0 || m.ok["move"] == 0 || m.ok["partial move"] == 0 {
			t.Errorf("seed %d exercised too little: %v", seed, m.ok)
		}
	}
}
