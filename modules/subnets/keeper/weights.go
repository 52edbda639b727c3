package keeper

import (
	"bytes"
	"strconv"

	"github.com/tessera-net/tessera/modules/subnets"

	"github.com/tessera-net/tessera/keys"
	"github.com/tessera-net/tessera/module"
	"github.com/tessera-net/tessera/store"
	"github.com/tessera-net/tessera/tx"
	"github.com/tessera-net/tessera/yuma"
)

// checkWeights applies subtensor's set_weights rules and returns the row to store
// (values max-upscaled to u16, zeros kept, in the order given).
func checkWeights(s *subnets.Subnet, uid uint16, n *subnets.Neuron, uids, values []uint16, versionKey uint64, block uint64, fromReveal bool) ([]yuma.Entry, error) {
	if len(uids) != len(values) {
		return nil, tx.Errorf(tx.CodeInvalidMessage, "%d uids but %d values: they must pair up", len(uids), len(values))
	}
	if len(uids) == 0 {
		return nil, tx.Errorf(tx.CodeInvalidMessage, "no weights given")
	}
	if versionKey < s.Hyper.WeightsVersionKey {
		return nil, tx.Errorf(tx.CodeInvalidMessage, "version key %d is older than the subnet's %d: update your validator", versionKey, s.Hyper.WeightsVersionKey)
	}
	if !fromReveal && s.Hyper.CommitReveal {
		return nil, tx.Errorf(tx.CodeUnauthorized, "subnet %d uses commit-reveal: commit the weights' hash, then reveal them", s.Netuid)
	}
	if !fromReveal && block-n.LastUpdate < s.Hyper.WeightsRateLimit && n.LastUpdate != n.BlockAtRegistration {
		return nil, tx.Errorf(tx.CodeRateLimited, "weights were set at block %d; the next may be set at block %d (rate limit %d blocks)", n.LastUpdate, n.LastUpdate+s.Hyper.WeightsRateLimit, s.Hyper.WeightsRateLimit)
	}
	selfOnly := len(uids) == 1 && uids[0] == uid
	isOwner := bytes.Equal(n.Hotkey, s.OwnerHotkey)
	if s.Netuid != subnets.RootNetuid && !selfOnly && !isOwner && !n.ValidatorPermit {
		return nil, tx.Errorf(tx.CodeUnauthorized, "uid %d has no validator permit on subnet %d: only validators may weight others", uid, s.Netuid)
	}
	limit := int(s.N)
	if s.Netuid == subnets.RootNetuid {
		limit = 1 << 16
	}
	seen := make([]bool, limit)
	for _, u := range uids {
		if int(u) >= limit {
			if s.Netuid == subnets.RootNetuid {
				return nil, tx.Errorf(tx.CodeNotFound, "subnet %d does not exist", u)
			}
			return nil, tx.Errorf(tx.CodeNotFound, "uid %d does not exist on subnet %d (it has %d uids)", u, s.Netuid, s.N)
		}
		if seen[u] {
			return nil, tx.Errorf(tx.CodeInvalidMessage, "uid %d appears twice", u)
		}
		seen[u] = true
	}
	if min := min(int(s.Hyper.MinAllowedWeights), int(s.N)); !selfOnly && len(uids) < min {
		return nil, tx.Errorf(tx.CodeInvalidMessage, "%d weights given; subnet %d requires at least %d", len(uids), s.Netuid, min)
	}
	// Max weight limit: the largest normalised weight may not exceed the limit (a single
	// self-weight is exempt).
	if !selfOnly && s.Hyper.MaxWeightLimit < 65535 {
		var sum, top uint64
		for _, v := range values {
			sum += uint64(v)
			top = max(top, uint64(v))
		}
		if sum > 0 && top*65535 > uint64(s.Hyper.MaxWeightLimit)*sum {
			return nil, tx.Errorf(tx.CodeInvalidMessage, "the largest weight is %.4f of the total; subnet %d allows at most %.4f", float64(top)/float64(sum), s.Netuid, float64(s.Hyper.MaxWeightLimit)/65535)
		}
	}
	up := yuma.MaxUpscaleU16(values)
	row := make([]yuma.Entry, len(uids))
	for i, u := range uids {
		row[i] = yuma.Entry{UID: u, Value: up[i]}
	}
	return row, nil
}

func (k *Keeper) applyWeights(ctx *module.Context, signer keys.PublicKey, netuid uint16, uids, values []uint16, version uint64, fromReveal bool) error {
	s, uid, n, err := k.signerUID(ctx, netuid, signer)
	if err != nil {
		return err
	}
	row, err := checkWeights(s, uid, n, uids, values, version, blockOf(ctx), fromReveal)
	if err != nil {
		return err
	}
	n.Weights = row
	n.LastUpdate = blockOf(ctx)
	ctx.Emit("weights_set", module.Attr("netuid", strconv.Itoa(int(netuid))), module.Attr("uid", strconv.Itoa(int(uid))), module.Attr("count", strconv.Itoa(len(row))))
	return putNeuron(ctx.KV, netuid, uid, n)
}

func (k *Keeper) setWeights(ctx *module.Context, signer keys.PublicKey, msg tx.Msg) error {
	var w subnets.SetWeights
	if err := msg.DecodeBody(&w); err != nil {
		return err
	}
	return k.applyWeights(ctx, signer, w.Netuid, w.UIDs, w.Values, w.VersionKey, false)
}

func (k *Keeper) commitWeights(ctx *module.Context, signer keys.PublicKey, msg tx.Msg) error {
	var c subnets.CommitWeights
	if err := msg.DecodeBody(&c); err != nil {
		return err
	}
	if len(c.Hash) != 32 {
		return tx.Errorf(tx.CodeInvalidMessage, "a weight commit is a 32-byte hash, got %d bytes", len(c.Hash))
	}
	s, _, n, err := k.signerUID(ctx, c.Netuid, signer)
	if err != nil {
		return err
	}
	if !s.Hyper.CommitReveal {
		return tx.Errorf(tx.CodeInvalidMessage, "subnet %d does not use commit-reveal: set weights directly", c.Netuid)
	}
	block := blockOf(ctx)
	if block-n.LastUpdate < s.Hyper.WeightsRateLimit && n.LastUpdate != n.BlockAtRegistration {
		return tx.Errorf(tx.CodeRateLimited, "weights were committed at block %d; the next commit may come at block %d", n.LastUpdate, n.LastUpdate+s.Hyper.WeightsRateLimit)
	}
	wc := subnets.WeightCommit{Hash: c.Hash, Block: block, Epoch: subnets.EpochIndex(c.Netuid, s.Hyper.Tempo, block)}
	// The commit counts as the uid's activity for the rate limit.
	n.LastUpdate = block
	if err := putNeuronTerms(ctx.KV, c.Netuid, mustUID(ctx.KV, c.Netuid, signer), n); err != nil {
		return err
	}
	ctx.Emit("weights_committed", module.Attr("netuid", strconv.Itoa(int(c.Netuid))), module.Attr("hotkey", signer.String()))
	return module.Put(ctx.KV, module.Key(prefixWCmt, u16(c.Netuid), signer[:]), wc)
}

func mustUID(r store.Reader, netuid uint16, hot keys.PublicKey) uint16 {
	uid, _, _ := UIDOf(r, netuid, hot)
	return uid
}

func (k *Keeper) revealWeights(ctx *module.Context, signer keys.PublicKey, msg tx.Msg) error {
	var rv subnets.RevealWeights
	if err := msg.DecodeBody(&rv); err != nil {
		return err
	}
	s, err := GetSubnet(ctx.KV, rv.Netuid)
	if err != nil {
		return err
	}
	var wc subnets.WeightCommit
	ok, err := module.Get(ctx.KV, module.Key(prefixWCmt, u16(rv.Netuid), signer[:]), &wc)
	if err != nil {
		return err
	}
	if !ok {
		return tx.Errorf(tx.CodeNotFound, "hotkey %s has no weight commit on subnet %d", signer, rv.Netuid)
	}
	now := subnets.EpochIndex(rv.Netuid, s.Hyper.Tempo, blockOf(ctx))
	due := wc.Epoch + s.Hyper.RevealPeriod
	switch {
	case now < due:
		return tx.Errorf(tx.CodeRateLimited, "too early: weights committed in epoch %d may be revealed in epoch %d (now %d)", wc.Epoch, due, now)
	case now > due:
		return tx.Errorf(tx.CodeConflict, "the commit from epoch %d expired after epoch %d (now %d): commit again", wc.Epoch, due, now)
	}
	if h := subnets.CommitHash(signer, rv.Netuid, rv.UIDs, rv.Values, rv.Salt, rv.VersionKey); !bytes.Equal(h, wc.Hash) {
		return tx.Errorf(tx.CodeInvalidMessage, "revealed weights do not match the commit (hash %x, committed %x)", h, wc.Hash)
	}
	if err := k.applyWeights(ctx, signer, rv.Netuid, rv.UIDs, rv.Values, rv.VersionKey, true); err != nil {
		return err
	}
	return ctx.KV.Delete(module.Key(prefixWCmt, u16(rv.Netuid), signer[:]))
}
