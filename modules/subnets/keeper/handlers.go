package keeper

import (
	"encoding/json"
	"errors"

	"fmt"
	"github.com/tessera-net/tessera/dtao"
	"net/netip"
	"strconv"

	"github.com/tessera-net/tessera/modules/subnets"

	"github.com/tessera-net/tessera/keys"
	"github.com/tessera-net/tessera/module"
	"github.com/tessera-net/tessera/modules/accounts"
	"github.com/tessera-net/tessera/store"
	"github.com/tessera-net/tessera/tx"
)

// Keeper is the subnets module: subnets, neurons, weights, and at every tempo the epoch
// of each subnet's incentive mechanism, whose results it pays as stake. What it needs of
// the accounts and staking modules is the AccountKeeper and StakeKeeper it is given.
type Keeper struct {
	accounts   AccountKeeper
	stake      StakeKeeper
	mechanisms subnets.Mechanisms
	// lastCoinbase is the last block's dTAO coinbase (LastCoinbase).
	lastCoinbase dtao.CoinbaseResult
	// dissolved are the other modules' hooks on a dissolved subnet (OnDissolve).
	dissolved []DissolveHook
}

// DissolveHook is a module's part when a subnet is dissolved: it deletes what the module
// keeps under the netuid, which a new subnet may reuse. An error halts the block.
type DissolveHook func(kv store.KV, netuid uint16) error

// OnDissolve registers a module's hook, run in registration order after the subnet's own
// state is gone (modules.Builtin wires them).
func (k *Keeper) OnDissolve(h DissolveHook) { k.dissolved = append(k.dissolved, h) }

// New returns the subnets keeper over the given accounts and stake, offering the given
// incentive mechanisms (by name; a subnet chooses one at creation).
func New(accounts AccountKeeper, stake StakeKeeper, mechanisms subnets.Mechanisms) *Keeper {
	return &Keeper{accounts: accounts, stake: stake, mechanisms: mechanisms}
}

// Name implements module.Module.
func (*Keeper) Name() string { return subnets.Name }

// InitGenesis writes the parameters and creates the root subnet.
func (k *Keeper) InitGenesis(ctx *module.Context, raw json.RawMessage) error {
	// Fields a genesis leaves out keep their defaults.
	g := subnets.Genesis{Params: new(subnets.Params)}
	*g.Params = subnets.DefaultParams()
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &g); err != nil {
			return fmt.Errorf("subnets genesis: %w", err)
		}
	}
	p := *g.Params
	if p.OwnerCut > 65535/2 {
		return fmt.Errorf("subnets genesis: owner_cut %d is above half", p.OwnerCut)
	}
	if p.MovingAlpha > 1<<32 {
		return fmt.Errorf("subnets genesis: moving_alpha %d is above 1.0 (%d: the fraction is value/2^32)", p.MovingAlpha, uint64(1)<<32)
	}
	if err := module.Put(ctx.KV, keyParams, p); err != nil {
		return err
	}
	root := &subnets.Subnet{Netuid: subnets.RootNetuid, Owner: make([]byte, 32), OwnerHotkey: make([]byte, 32), Hyper: subnets.DefaultHyperparams(), Mechanism: subnets.MechanismRoot}
	root.Hyper.MaxUIDs = p.RootValidators
	root.Hyper.MinAllowedWeights = 1
	root.Hyper.WeightsRateLimit = 1
	root.Burn = root.Hyper.MinBurn
	return putSubnet(ctx.KV, root)
}

// Handlers implements module.Module.
func (k *Keeper) Handlers() map[string]module.Handler {
	return map[string]module.Handler{
		subnets.MsgCreate:        k.create,
		subnets.MsgSetHyperparam: k.setHyperparam,
		subnets.MsgRegister:      k.register,
		subnets.MsgServeAxon:     k.serveAxon,
		subnets.MsgCommit:        k.commit,
		subnets.MsgSetWeights:    k.setWeights,
		subnets.MsgCommitWeights: k.commitWeights,
		subnets.MsgRevealWeights: k.revealWeights,
		subnets.MsgTriggerEpoch:  k.triggerEpoch,
	}
}

func blockOf(ctx *module.Context) uint64 { return uint64(max(ctx.Height, 0)) }

func (k *Keeper) create(ctx *module.Context, signer keys.PublicKey, msg tx.Msg) error {
	var c subnets.Create
	if err := msg.DecodeBody(&c); err != nil {
		return err
	}
	hot, err := module.PublicKey("hotkey", c.Hotkey)
	if err != nil {
		return err
	}
	mech, err := k.mechanismFor(c.Mechanism)
	if err != nil {
		return err
	}
	p, err := GetParams(ctx.KV)
	if err != nil {
		return err
	}
	if err := checkRegistrationRate(ctx.KV, p, blockOf(ctx)); err != nil { // lock.go
		return err
	}
	ids, err := Netuids(ctx.KV)
	if err != nil {
		return err
	}
	if len(ids)-1 >= int(p.MaxSubnets) {
		if !p.DTAO {
			return tx.Errorf(tx.CodeConflict, "the chain already has its maximum of %d subnets", p.MaxSubnets)
		}
		if ids, err = k.pruneSubnet(ctx, p, ids); err != nil {
			return err
		}
	}
	// The lowest free netuid above root.
	netuid := uint16(1)
	for _, id := range ids {
		if id == netuid {
			netuid++
		}
	}
	lv, err := k.LockCost(ctx.KV, blockOf(ctx))
	if err != nil {
		return err
	}
	lock := lv.LockCost
	if c.MaxLock > 0 && lock > c.MaxLock {
		return tx.Errorf(tx.CodeInvalidAmount, "the lock cost at block %d is %s, above the max_lock of %s", blockOf(ctx), accounts.FormatAmount(lock), accounts.FormatAmount(c.MaxLock))
	}
	if err := k.accounts.Debit(ctx.KV, signer, lock); err != nil {
		return tx.Errorf(tx.CodeInsufficientFunds, "creating a subnet locks %s: %v", accounts.FormatAmount(lock), err)
	}
	if lv.Dynamic {
		// The next cost doubles this one and decays from this block (dtao.LockCost).
		if err := module.Put(ctx.KV, keyLock, lockRecord{LastLock: lock, LastLockBlock: blockOf(ctx)}); err != nil {
			return err
		}
	}
	if err := recordRegistration(ctx.KV, blockOf(ctx)); err != nil { // lock.go
		return err
	}
	if err := k.stake.ClaimHotkey(ctx.KV, hot, signer); err != nil {
		return err
	}
	s := &subnets.Subnet{Netuid: netuid, Owner: signer[:], OwnerHotkey: hot[:], CreatedAt: ctx.Height, Hyper: subnets.DefaultHyperparams(), Locked: lock, Mechanism: mech}
	s.Burn = s.Hyper.MinBurn
	s.LastAdjustment = blockOf(ctx)
	if p.DTAO {
		// The lock seeds the subnet's pool, and epochs are staggered by netuid.
		if err := k.stake.CreatePool(ctx.KV, netuid, lock, blockOf(ctx)); err != nil {
			return err
		}
		s.LastEpochBlock = dtao.InitialLastEpoch(blockOf(ctx), netuid, s.Hyper.Tempo)
	}
	if _, err := appendNeuron(ctx, s, hot, signer); err != nil {
		return err
	}
	if err := putSubnet(ctx.KV, s); err != nil {
		return err
	}
	ctx.Emit("subnet_created", module.Attr("netuid", strconv.Itoa(int(netuid))), module.Attr("owner", signer.String()), module.Attr("owner_hotkey", hot.String()), module.Attr("mechanism", mech))
	return nil
}

// mechanismFor checks a requested mechanism name ("" is Yuma) against those the chain
// offers.
func (k *Keeper) mechanismFor(name string) (string, error) {
	if name == "" {
		name = subnets.MechanismYuma
	}
	if _, ok := k.mechanisms[name]; !ok {
		return "", tx.Errorf(tx.CodeInvalidMessage, "unknown incentive mechanism %q; this chain offers %v", name, k.mechanisms.Names())
	}
	return name, nil
}

// appendNeuron adds a new uid at the end of the subnet (the caller saves the subnet).
func appendNeuron(ctx *module.Context, s *subnets.Subnet, hot, cold keys.PublicKey) (uint16, error) {
	uid := s.N
	n := &subnets.Neuron{Hotkey: hot[:], Coldkey: cold[:], BlockAtRegistration: blockOf(ctx), LastUpdate: blockOf(ctx)}
	if err := putNeuron(ctx.KV, s.Netuid, uid, n); err != nil {
		return 0, err
	}
	if err := ctx.KV.Set(module.Key(prefixHotkey, u16(s.Netuid), hot[:]), u16(uid)); err != nil {
		return 0, err
	}
	s.N++
	return uid, nil
}

func (k *Keeper) subnetOwnedBy(ctx *module.Context, netuid uint16, signer keys.PublicKey) (*subnets.Subnet, error) {
	s, err := GetSubnet(ctx.KV, netuid)
	if err != nil {
		return nil, err
	}
	if netuid == subnets.RootNetuid {
		return nil, tx.Errorf(tx.CodeUnauthorized, "the root subnet's parameters are set at genesis")
	}
	if keys.PublicKey(s.Owner) != signer {
		return nil, tx.Errorf(tx.CodeUnauthorized, "only the owner of subnet %d may do this", netuid)
	}
	return s, nil
}

func (k *Keeper) setHyperparam(ctx *module.Context, signer keys.PublicKey, msg tx.Msg) error {
	var h subnets.SetHyperparam
	if err := msg.DecodeBody(&h); err != nil {
		return err
	}
	s, err := k.subnetOwnedBy(ctx, h.Netuid, signer)
	if err != nil {
		return err
	}
	if err := subnets.SetHyper(&s.Hyper, h.Name, h.Value); err != nil {
		return err
	}
	if s.Hyper.MaxUIDs < s.N {
		return tx.Errorf(tx.CodeInvalidMessage, "max_uids %d is below the %d registered uids", s.Hyper.MaxUIDs, s.N)
	}
	if s.Burn < s.Hyper.MinBurn {
		s.Burn = s.Hyper.MinBurn
	}
	if s.Burn > s.Hyper.MaxBurn {
		s.Burn = s.Hyper.MaxBurn
	}
	ctx.Emit("hyperparam_set", module.Attr("netuid", strconv.Itoa(int(h.Netuid))), module.Attr("name", h.Name), module.Attr("value", strconv.FormatUint(h.Value, 10)))
	return putSubnet(ctx.KV, s)
}

// triggerEpoch is trigger_epoch: the owner schedules the subnet's next epoch
// dtao.AdminFreezeWindow blocks on (dtao.TriggerEpoch's checks). It needs dTAO's epoch
// schedule (the classic one runs at fixed blocks).
func (k *Keeper) triggerEpoch(ctx *module.Context, signer keys.PublicKey, msg tx.Msg) error {
	var e subnets.TriggerEpoch
	if err := msg.DecodeBody(&e); err != nil {
		return err
	}
	p, err := GetParams(ctx.KV)
	if err != nil {
		return err
	}
	if !p.DTAO {
		return tx.Errorf(tx.CodeInvalidMessage, "trigger_epoch needs dTAO's epoch schedule: this chain runs the classic one (params dtao false)")
	}
	s, err := k.subnetOwnedBy(ctx, e.Netuid, signer)
	if err != nil {
		return err
	}
	now := blockOf(ctx)
	fires, err := dtao.TriggerEpoch(now, s.LastEpochBlock, s.PendingEpochAt, s.LastTrigger, s.Hyper.Tempo)
	switch {
	case errors.Is(err, dtao.ErrTriggerPending):
		return tx.Errorf(tx.CodeConflict, "subnet %d already has an epoch triggered for block %d", e.Netuid, s.PendingEpochAt)
	case errors.Is(err, dtao.ErrAutoEpochImminent):
		return tx.Errorf(tx.CodeInvalidMessage, "subnet %d's next epoch is due at block %d, within %d blocks: nothing to trigger",
			e.Netuid, s.LastEpochBlock+uint64(s.Hyper.Tempo), dtao.AdminFreezeWindow)
	case errors.Is(err, dtao.ErrTriggerRateLimited):
		return tx.Errorf(tx.CodeRateLimited, "the owner of subnet %d triggered an epoch at block %d: the next trigger may come at block %d (%d tempos later)",
			e.Netuid, s.LastTrigger, s.LastTrigger+dtao.OwnerRateLimitTempos*uint64(s.Hyper.Tempo), dtao.OwnerRateLimitTempos)
	case errors.Is(err, dtao.ErrNoEpochs):
		return tx.Errorf(tx.CodeInvalidMessage, "subnet %d has tempo 0: it runs no epochs", e.Netuid)
	case err != nil:
		return err
	}
	s.PendingEpochAt, s.LastTrigger = fires, now
	ctx.Emit("epoch_triggered", module.Attr("netuid", strconv.Itoa(int(e.Netuid))), module.Attr("by", signer.String()),
		module.Attr("fires_at", strconv.FormatUint(fires, 10)))
	return putSubnet(ctx.KV, s)
}

func (k *Keeper) register(ctx *module.Context, signer keys.PublicKey, msg tx.Msg) error {
	var r subnets.Register
	if err := msg.DecodeBody(&r); err != nil {
		return err
	}
	hot, err := module.PublicKey("hotkey", r.Hotkey)
	if err != nil {
		return err
	}
	s, err := GetSubnet(ctx.KV, r.Netuid)
	if err != nil {
		return err
	}
	if _, exists, err := UIDOf(ctx.KV, r.Netuid, hot); err != nil {
		return err
	} else if exists {
		return tx.Errorf(tx.CodeConflict, "hotkey %s is already registered on subnet %d", hot, r.Netuid)
	}
	if err := k.stake.ClaimHotkey(ctx.KV, hot, signer); err != nil {
		return err
	}
	if r.Netuid == subnets.RootNetuid {
		return k.registerRoot(ctx, s, hot, signer)
	}
	if r.MaxBurn > 0 && s.Burn > r.MaxBurn {
		return tx.Errorf(tx.CodeInsufficientFee, "registration costs %s, above your limit %s", accounts.FormatAmount(s.Burn), accounts.FormatAmount(r.MaxBurn))
	}
	if err := k.accounts.Debit(ctx.KV, signer, s.Burn); err != nil {
		return tx.Errorf(tx.CodeInsufficientFunds, "registration on subnet %d burns %s: %v", r.Netuid, accounts.FormatAmount(s.Burn), err)
	}
	if err := k.recycleUnderDTAO(ctx.KV, s.Burn); err != nil {
		return err
	}
	var uid uint16
	if s.N < s.Hyper.MaxUIDs {
		if uid, err = appendNeuron(ctx, s, hot, signer); err != nil {
			return err
		}
	} else if uid, err = k.replaceNeuron(ctx, s, hot, signer); err != nil {
		return err
	}
	s.RegsInInterval++
	ctx.Emit("neuron_registered", module.Attr("netuid", strconv.Itoa(int(r.Netuid))), module.Attr("uid", strconv.Itoa(int(uid))),
		module.Attr("hotkey", hot.String()), module.Attr("burn", strconv.FormatUint(s.Burn, 10)))
	return putSubnet(ctx.KV, s)
}

// registerRoot admits a hotkey to the root subnet by stake: while root has room anyone
// with stake joins; once full, a hotkey with more stake than the lowest member replaces it.
func (k *Keeper) registerRoot(ctx *module.Context, s *subnets.Subnet, hot, cold keys.PublicKey) error {
	st, err := k.stake.TotalStake(ctx.KV, hot)
	if err != nil {
		return err
	}
	if st == 0 {
		return tx.Errorf(tx.CodeUnauthorized, "hotkey %s has no stake; stake on it before registering on root", hot)
	}
	if s.N < s.Hyper.MaxUIDs {
		if _, err := appendNeuron(ctx, s, hot, cold); err != nil {
			return err
		}
		return putSubnet(ctx.KV, s)
	}
	neurons, err := Neurons(ctx.KV, s)
	if err != nil {
		return err
	}
	lowest, lowStake := -1, uint64(0)
	for uid, n := range neurons {
		ns, err := k.stake.TotalStake(ctx.KV, keys.PublicKey(n.Hotkey))
		if err != nil {
			return err
		}
		if lowest < 0 || ns < lowStake {
			lowest, lowStake = uid, ns
		}
	}
	if st <= lowStake {
		return tx.Errorf(tx.CodeUnauthorized, "root is full and hotkey %s has no more stake than its lowest member", hot)
	}
	if _, err := swapNeuron(ctx, s, uint16(lowest), hot, cold); err != nil {
		return err
	}
	return putSubnet(ctx.KV, s)
}

// replaceNeuron prunes the neuron with the lowest incentive outside its immunity period
// (the owner's hotkey never) and gives its uid to hot.
func (k *Keeper) replaceNeuron(ctx *module.Context, s *subnets.Subnet, hot, cold keys.PublicKey) (uint16, error) {
	neurons, err := Neurons(ctx.KV, s)
	if err != nil {
		return 0, err
	}
	now := blockOf(ctx)
	victim := -1
	for uid, n := range neurons {
		if keys.PublicKey(n.Hotkey) == keys.PublicKey(s.OwnerHotkey) {
			continue
		}
		if now-n.BlockAtRegistration < s.Hyper.ImmunityPeriod {
			continue
		}
		// Lowest incentive; ties go to the earlier registration, then the lower uid.
		if victim < 0 || n.Incentive < neurons[victim].Incentive ||
			(n.Incentive == neurons[victim].Incentive && n.BlockAtRegistration < neurons[victim].BlockAtRegistration) {
			victim = uid
		}
	}
	if victim < 0 {
		return 0, tx.Errorf(tx.CodeConflict, "subnet %d is full (%d uids) and every neuron is within its immunity period", s.Netuid, s.N)
	}
	return swapNeuron(ctx, s, uint16(victim), hot, cold)
}

// swapNeuron gives uid to a new hotkey: its weights and bonds go, every weight to it is
// set to zero (the entry stays), and it starts without a permit (subtensor's replace_neuron).
func swapNeuron(ctx *module.Context, s *subnets.Subnet, uid uint16, hot, cold keys.PublicKey) (uint16, error) {
	old, err := GetNeuron(ctx.KV, s.Netuid, uid)
	if err != nil {
		return 0, err
	}
	if err := ctx.KV.Delete(module.Key(prefixHotkey, u16(s.Netuid), old.Hotkey)); err != nil {
		return 0, err
	}
	for _, pfx := range [][]byte{prefixCommit, prefixWCmt} {
		if err := ctx.KV.Delete(module.Key(pfx, u16(s.Netuid), old.Hotkey)); err != nil {
			return 0, err
		}
	}
	for other := uint16(0); other < s.N; other++ {
		if other == uid {
			continue
		}
		n, err := GetNeuron(ctx.KV, s.Netuid, other)
		if err != nil {
			return 0, err
		}
		changed := false
		for i := range n.Weights {
			if n.Weights[i].UID == uid && n.Weights[i].Value != 0 {
				n.Weights[i].Value, changed = 0, true
			}
		}
		if changed {
			if err := putNeuron(ctx.KV, s.Netuid, other, n); err != nil {
				return 0, err
			}
		}
	}
	n := &subnets.Neuron{Hotkey: hot[:], Coldkey: cold[:], BlockAtRegistration: blockOf(ctx), LastUpdate: blockOf(ctx)}
	if err := putNeuron(ctx.KV, s.Netuid, uid, n); err != nil {
		return 0, err
	}
	ctx.Emit("neuron_replaced", module.Attr("netuid", strconv.Itoa(int(s.Netuid))), module.Attr("uid", strconv.Itoa(int(uid))),
		module.Attr("old_hotkey", keys.PublicKey(old.Hotkey).String()))
	return uid, ctx.KV.Set(module.Key(prefixHotkey, u16(s.Netuid), hot[:]), u16(uid))
}

func (k *Keeper) signerUID(ctx *module.Context, netuid uint16, hot keys.PublicKey) (*subnets.Subnet, uint16, *subnets.Neuron, error) {
	s, err := GetSubnet(ctx.KV, netuid)
	if err != nil {
		return nil, 0, nil, err
	}
	uid, ok, err := UIDOf(ctx.KV, netuid, hot)
	if err != nil {
		return nil, 0, nil, err
	}
	if !ok {
		return nil, 0, nil, tx.Errorf(tx.CodeNotFound, "hotkey %s is not registered on subnet %d", hot, netuid)
	}
	n, err := GetNeuron(ctx.KV, netuid, uid)
	return s, uid, n, err
}

func (k *Keeper) serveAxon(ctx *module.Context, signer keys.PublicKey, msg tx.Msg) error {
	var a subnets.ServeAxon
	if err := msg.DecodeBody(&a); err != nil {
		return err
	}
	ip, err := netip.ParseAddr(a.IP)
	if err != nil {
		return tx.Errorf(tx.CodeInvalidMessage, "axon ip %q is not an IP address", a.IP)
	}
	if a.Port == 0 {
		return tx.Errorf(tx.CodeInvalidMessage, "axon port must not be 0")
	}
	proto := a.Protocol
	if proto == 0 {
		proto = 4
		if ip.Is6() && !ip.Is4In6() {
			proto = 6
		}
	}
	s, uid, n, err := k.signerUID(ctx, a.Netuid, signer)
	if err != nil {
		return err
	}
	if n.Axon != nil && blockOf(ctx)-n.Axon.Block < s.Hyper.ServingRateLimit {
		return tx.Errorf(tx.CodeRateLimited, "the axon was served at block %d; the next serve_axon may come at block %d (serving_rate_limit %d blocks)",
			n.Axon.Block, n.Axon.Block+s.Hyper.ServingRateLimit, s.Hyper.ServingRateLimit)
	}
	n.Axon = &subnets.Axon{IP: ip.String(), Port: a.Port, Protocol: proto, Version: a.Version, Block: blockOf(ctx)}
	ctx.Emit("axon_served", module.Attr("netuid", strconv.Itoa(int(a.Netuid))), module.Attr("uid", strconv.Itoa(int(uid))),
		module.Attr("endpoint", netip.AddrPortFrom(ip, a.Port).String()))
	return putNeuronTerms(ctx.KV, a.Netuid, uid, n)
}

func (k *Keeper) commit(ctx *module.Context, signer keys.PublicKey, msg tx.Msg) error {
	var c subnets.Commit
	if err := msg.DecodeBody(&c); err != nil {
		return err
	}
	if len(c.Data) == 0 || len(c.Data) > subnets.MaxCommitmentBytes {
		return tx.Errorf(tx.CodeInvalidMessage, "a commitment holds 1 to %d bytes, got %d", subnets.MaxCommitmentBytes, len(c.Data))
	}
	if _, _, _, err := k.signerUID(ctx, c.Netuid, signer); err != nil {
		return err
	}
	ctx.Emit("commitment", module.Attr("netuid", strconv.Itoa(int(c.Netuid))), module.Attr("hotkey", signer.String()))
	return module.Put(ctx.KV, module.Key(prefixCommit, u16(c.Netuid), signer[:]), subnets.Commitment{Block: blockOf(ctx), Data: c.Data})
}

// GetCommitment reads a hotkey's commitment on a subnet.
func GetCommitment(r store.Reader, netuid uint16, hot keys.PublicKey) (*subnets.Commitment, bool, error) {
	var c subnets.Commitment
	ok, err := module.Get(r, module.Key(prefixCommit, u16(netuid), hot[:]), &c)
	return &c, ok, err
}
