// Package keeper is the state and the rules of the league module (its types are in
// package league above): competitions, pending commits and revealed submissions.
package keeper

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/tessera-net/tessera/keys"
	"github.com/tessera-net/tessera/module"
	"github.com/tessera-net/tessera/modules/league"
	"github.com/tessera-net/tessera/store"
	"github.com/tessera-net/tessera/tx"
)

var (
	keyParams         = []byte("lg/params")
	prefixCompetition = []byte("lg/c/")   // netuid → league.Competition
	prefixPending     = []byte("lg/p/")   // netuid ‖ hotkey → league.PendingCommit
	prefixSubmission  = []byte("lg/s/")   // netuid ‖ hotkey → league.Submission
	prefixSeq         = []byte("lg/seq/") // netuid → the last reveal's Seq
)

func u16(v uint16) []byte { return binary.BigEndian.AppendUint16(nil, v) }

// Keeper is the league module.
type Keeper struct {
	subnets SubnetsKeeper
}

// New returns the league keeper.
func New(subnets SubnetsKeeper) *Keeper { return &Keeper{subnets: subnets} }

// Name implements module.Module.
func (*Keeper) Name() string { return league.Name }

// Params reads the parameters.
func (*Keeper) Params(r store.Reader) (league.Params, error) {
	p := league.DefaultParams()
	_, err := module.Get(r, keyParams, &p)
	return p, err
}

// InitGenesis implements module.Module: the parameters (defaults when absent).
func (k *Keeper) InitGenesis(ctx *module.Context, raw json.RawMessage) error {
	var g league.Genesis
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &g); err != nil {
			return fmt.Errorf("league genesis: %w", err)
		}
	}
	p := league.DefaultParams()
	if g.Params != nil {
		p = *g.Params
	}
	if err := p.Validate(); err != nil {
		return fmt.Errorf("league genesis: %w", err)
	}
	return module.Put(ctx.KV, keyParams, p)
}

// Handlers implements module.Module.
func (k *Keeper) Handlers() map[string]module.Handler {
	return map[string]module.Handler{league.MsgDefine: k.define, league.MsgCommit: k.commit, league.MsgReveal: k.reveal}
}

// Competition reads a subnet's competition (a coded not_found error when none is set).
func (*Keeper) Competition(r store.Reader, netuid uint16) (*league.Competition, error) {
	var c league.Competition
	ok, err := module.Get(r, module.Key(prefixCompetition, u16(netuid)), &c)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, tx.Errorf(tx.CodeNotFound, "subnet %d has no competition defined (league/define)", netuid)
	}
	c.HashHex = hex.EncodeToString(c.DefinitionHash)
	return &c, nil
}

func (k *Keeper) define(ctx *module.Context, signer keys.PublicKey, msg tx.Msg) error {
	var d league.Define
	if err := msg.DecodeBody(&d); err != nil {
		return err
	}
	owner, err := k.subnets.SubnetOwner(ctx.KV, d.Netuid)
	if err != nil {
		return err
	}
	if owner != signer {
		return tx.Errorf(tx.CodeUnauthorized, "only the owner of subnet %d may define its competition", d.Netuid)
	}
	p, err := k.Params(ctx.KV)
	if err != nil {
		return err
	}
	switch {
	case len(d.DefinitionHash) != league.HashLen:
		return tx.Errorf(tx.CodeInvalidMessage, "definition_hash is %d bytes, want %d (SHA-256)", len(d.DefinitionHash), league.HashLen)
	case len(d.URI) > league.MaxURILen:
		return tx.Errorf(tx.CodeInvalidMessage, "uri is %d bytes, the limit is %d", len(d.URI), league.MaxURILen)
	case d.RevealDelay < p.MinRevealDelay || d.RevealDelay > p.MaxRevealDelay:
		return tx.Errorf(tx.CodeInvalidMessage, "reveal_delay %d is not in %d..%d blocks", d.RevealDelay, p.MinRevealDelay, p.MaxRevealDelay)
	case d.RevealWindow != 0 && (d.RevealWindow < d.RevealDelay || d.RevealWindow > p.MaxRevealDelay):
		return tx.Errorf(tx.CodeInvalidMessage, "reveal_window %d is not 0 or in %d..%d blocks", d.RevealWindow, d.RevealDelay, p.MaxRevealDelay)
	}
	for _, c := range d.URI {
		if c < 0x20 || c == 0x7f {
			return tx.Errorf(tx.CodeInvalidMessage, "uri holds a control character")
		}
	}
	c := league.Competition{Netuid: d.Netuid, DefinitionHash: d.DefinitionHash, URI: d.URI,
		RevealDelay: d.RevealDelay, RevealWindow: d.RevealWindow, Block: uint64(ctx.Height)}
	if err := module.Put(ctx.KV, module.Key(prefixCompetition, u16(d.Netuid)), c); err != nil {
		return err
	}
	ctx.Emit("league_defined", module.Attr("netuid", strconv.Itoa(int(d.Netuid))),
		module.Attr("definition_hash", hex.EncodeToString(d.DefinitionHash)), module.Attr("reveal_delay", strconv.FormatUint(d.RevealDelay, 10)))
	return nil
}

// registered refuses a hotkey that holds no uid on the subnet.
func (k *Keeper) registered(r store.Reader, netuid uint16, hotkey keys.PublicKey) error {
	_, ok, err := k.subnets.UIDOf(r, netuid, hotkey)
	if err != nil {
		return err
	}
	if !ok {
		return tx.Errorf(tx.CodeUnauthorized, "hotkey %s is not registered on subnet %d: only registered hotkeys may submit", hotkey, netuid)
	}
	return nil
}

func (k *Keeper) commit(ctx *module.Context, signer keys.PublicKey, msg tx.Msg) error {
	var c league.Commit
	if err := msg.DecodeBody(&c); err != nil {
		return err
	}
	if len(c.Hash) != league.HashLen {
		return tx.Errorf(tx.CodeInvalidMessage, "hash is %d bytes, want %d", len(c.Hash), league.HashLen)
	}
	if _, err := k.Competition(ctx.KV, c.Netuid); err != nil {
		return err
	}
	if err := k.registered(ctx.KV, c.Netuid, signer); err != nil {
		return err
	}
	pc := league.PendingCommit{Hash: c.Hash, Block: uint64(ctx.Height)}
	if err := module.Put(ctx.KV, module.Key(prefixPending, u16(c.Netuid), signer[:]), pc); err != nil {
		return err
	}
	ctx.Emit("league_commit", module.Attr("netuid", strconv.Itoa(int(c.Netuid))), module.Attr("hotkey", signer.String()),
		module.Attr("hash", hex.EncodeToString(c.Hash)))
	return nil
}

// Pending reads a hotkey's pending commit (nil when none).
func (*Keeper) Pending(r store.Reader, netuid uint16, hotkey keys.PublicKey) (*league.PendingCommit, error) {
	var pc league.PendingCommit
	ok, err := module.Get(r, module.Key(prefixPending, u16(netuid), hotkey[:]), &pc)
	if err != nil || !ok {
		return nil, err
	}
	pc.HashHex = hex.EncodeToString(pc.Hash)
	return &pc, nil
}

func (k *Keeper) reveal(ctx *module.Context, signer keys.PublicKey, msg tx.Msg) error {
	var r league.Reveal
	if err := msg.DecodeBody(&r); err != nil {
		return err
	}
	if err := league.CheckReveal(r); err != nil {
		return err
	}
	comp, err := k.Competition(ctx.KV, r.Netuid)
	if err != nil {
		return err
	}
	if err := k.registered(ctx.KV, r.Netuid, signer); err != nil {
		return err
	}
	pc, err := k.Pending(ctx.KV, r.Netuid, signer)
	if err != nil {
		return err
	}
	if pc == nil {
		return tx.Errorf(tx.CodeNotFound, "hotkey %s has no pending commit on subnet %d", signer, r.Netuid)
	}
	h := uint64(ctx.Height)
	if h < pc.Block+comp.RevealDelay {
		return tx.Errorf(tx.CodeRateLimited, "the commit of block %d may be revealed from block %d on (reveal_delay %d), not at %d",
			pc.Block, pc.Block+comp.RevealDelay, comp.RevealDelay, h)
	}
	if comp.RevealWindow != 0 && h > pc.Block+comp.RevealWindow {
		return tx.Errorf(tx.CodeInvalidMessage, "the commit of block %d expired at block %d (reveal_window %d): commit again",
			pc.Block, pc.Block+comp.RevealWindow, comp.RevealWindow)
	}
	want := league.CommitHash(r.Netuid, signer, r.Salt, r.Repo, r.Commit, r.TargetLength)
	if !bytes.Equal(want[:], pc.Hash) {
		return tx.Errorf(tx.CodeInvalidMessage, "the reveal does not match the commit of block %d (salt, repo, commit and target_length must be those committed)", pc.Block)
	}
	seqKey := module.Key(prefixSeq, u16(r.Netuid))
	seq, err := module.GetUint64(ctx.KV, seqKey)
	if err != nil {
		return err
	}
	seq++
	if err := module.PutUint64(ctx.KV, seqKey, seq); err != nil {
		return err
	}
	s := league.Submission{Repo: r.Repo, Commit: r.Commit, TargetLength: r.TargetLength, CommitBlock: pc.Block, RevealBlock: h, Seq: seq}
	if err := module.Put(ctx.KV, module.Key(prefixSubmission, u16(r.Netuid), signer[:]), s); err != nil {
		return err
	}
	if err := ctx.KV.Delete(module.Key(prefixPending, u16(r.Netuid), signer[:])); err != nil {
		return err
	}
	ctx.Emit("league_reveal", module.Attr("netuid", strconv.Itoa(int(r.Netuid))), module.Attr("hotkey", signer.String()),
		module.Attr("repo", r.Repo), module.Attr("commit", r.Commit), module.Attr("target_length", strconv.FormatUint(uint64(r.TargetLength), 10)),
		module.Attr("commit_block", strconv.FormatUint(pc.Block, 10)), module.Attr("seq", strconv.FormatUint(seq, 10)))
	return nil
}

// SubmissionsOf lists a subnet's revealed submissions in key order (by hotkey bytes).
func (*Keeper) SubmissionsOf(r store.Reader, netuid uint16) ([]league.Submission, error) {
	prefix := module.Key(prefixSubmission, u16(netuid))
	out := []league.Submission{}
	err := r.Iterate(prefix, func(key, val []byte) (bool, error) {
		var s league.Submission
		if err := tx.UnmarshalState(val, &s); err != nil {
			return false, fmt.Errorf("decode state at %q: %w", key, err)
		}
		hk, err := module.PublicKey("hotkey", key[len(prefix):])
		if err != nil {
			return false, err
		}
		s.Hotkey = hk.String()
		out = append(out, s)
		return true, nil
	})
	return out, err
}

// Dissolve deletes a dissolved subnet's competition, pending commits, submissions and
// reveal counter (the subnets keeper's dissolve hook), so that a new subnet on the
// netuid starts with none.
func (k *Keeper) Dissolve(kv store.KV, netuid uint16) error {
	for _, p := range [][]byte{prefixPending, prefixSubmission} {
		if err := module.DeletePrefix(kv, module.Key(p, u16(netuid))); err != nil {
			return err
		}
	}
	for _, p := range [][]byte{prefixCompetition, prefixSeq} {
		if err := kv.Delete(module.Key(p, u16(netuid))); err != nil {
			return err
		}
	}
	return nil
}
