package keeper

import (
	"encoding/hex"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/tessera-net/tessera/internal/parallel"
	"github.com/tessera-net/tessera/keys"
	"github.com/tessera-net/tessera/module"
	"github.com/tessera-net/tessera/modules/inference"
	"github.com/tessera-net/tessera/modules/models"
	"github.com/tessera-net/tessera/store"
	"github.com/tessera-net/tessera/tx"
)

// Paid inference's state (docs/inference-payments.md). A record lives under its id; the
// end block of each height settles what is due at it (expiries, payments, the ends of
// votes, the pruning of final records), found under the due index; validators find the
// records finished at a height under the finished index, and the records in voting
// under the voting index.
var (
	prefixRecord   = []byte("inf/rec/") // id → record
	prefixDue      = []byte("inf/due/") // height ‖ kind ‖ id → 1
	prefixFinished = []byte("inf/fin/") // netuid ‖ finish height ‖ id → 1
	prefixVoting   = []byte("inf/vot/") // netuid ‖ id → 1
	prefixExecutor = []byte("inf/ex/")  // netuid ‖ hotkey → executorStats
	prefixUsage    = []byte("inf/use/") // netuid ‖ epoch ‖ model → usage
)

// What falls due at a height.
const (
	dueExpire  byte = 1 // a started record not finished is refunded
	dueSettle  byte = 2 // a finished record's cost is paid
	dueVoteEnd byte = 3 // a vote ends: a record still in voting is validated and paid
	duePrune   byte = 4 // a final record is deleted
)

// RecordKeepBlocks is how long a final record (paid, expired, invalidated) stays
// queryable. It is pruned only once its timestamp is out of the start window too, so
// its id is refused as a duplicate for as long as its signature could be replayed.
const RecordKeepBlocks = 600

var one = []byte{1}

// record is a stored inference record.
type record struct {
	Netuid   uint16            `cbor:"1,keyasint"`
	User     inference.Account `cbor:"2,keyasint"`
	TA       inference.Account `cbor:"3,keyasint"`
	Executor inference.Account `cbor:"4,keyasint"`
	Model    string            `cbor:"5,keyasint"`
	Path     string            `cbor:"6,keyasint"`
	// Epoch is the epoch of the group in force at the start (its usage counts there);
	// RoundEpoch the PoC round in progress when DuringPoC (its real POC_SLOT throughput
	// counts there).
	Epoch            uint64         `cbor:"7,keyasint"`
	RoundEpoch       uint64         `cbor:"8,keyasint"`
	DuringPoC        bool           `cbor:"9,keyasint"`
	Timestamp        int64          `cbor:"10,keyasint"`
	BodyHash         inference.Hash `cbor:"11,keyasint"`
	ResponseHash     inference.Hash `cbor:"12,keyasint"`
	Status           string         `cbor:"13,keyasint"`
	StartHeight      uint64         `cbor:"14,keyasint"`
	ExpiryHeight     uint64         `cbor:"15,keyasint"`
	FinishHeight     uint64         `cbor:"16,keyasint"`
	SettleHeight     uint64         `cbor:"17,keyasint"`
	VoteDeadline     uint64         `cbor:"18,keyasint"`
	MaxPromptTokens  uint32         `cbor:"19,keyasint"`
	MaxTokens        uint32         `cbor:"20,keyasint"`
	PromptTokens     uint32         `cbor:"21,keyasint"`
	CompletionTokens uint32         `cbor:"22,keyasint"`
	Price            uint64         `cbor:"23,keyasint"`
	MaxCost          uint64         `cbor:"24,keyasint"`
	Cost             uint64         `cbor:"25,keyasint"`
	// Validator is who checked it first (HasValidator); VoteEpoch the group whose
	// validators vote on it, VoterStake their stake but the executor's, InvalidStake
	// that of the votes for invalid.
	HasValidator bool              `cbor:"26,keyasint"`
	Validator    inference.Account `cbor:"27,keyasint"`
	VoteEpoch    uint64            `cbor:"28,keyasint"`
	VoterStake   uint64            `cbor:"29,keyasint"`
	InvalidStake uint64            `cbor:"30,keyasint"`
	Votes        []vote            `cbor:"31,keyasint"`
}

type vote struct {
	Validator inference.Account `cbor:"1,keyasint"`
	Valid     bool              `cbor:"2,keyasint"`
	Stake     uint64            `cbor:"3,keyasint"`
	Height    uint64            `cbor:"4,keyasint"`
}

// executorStats is an executor's record of service on a subnet.
type executorStats struct {
	Epochs      uint32 `cbor:"1,keyasint"` // served in a row without an invalidation
	LastEpoch   uint64 `cbor:"2,keyasint"` // the last group epoch it served in
	Served      uint64 `cbor:"3,keyasint"`
	Validated   uint64 `cbor:"4,keyasint"`
	Invalidated uint64 `cbor:"5,keyasint"`
	Missed      uint64 `cbor:"6,keyasint"`
	// InvalidEpoch is the group epoch EpochInvalid counts the invalidations of.
	InvalidEpoch uint64 `cbor:"7,keyasint"`
	EpochInvalid uint32 `cbor:"8,keyasint"`
}

// invalidIn reports whether the executor is INVALID in group epoch e.
func (s *executorStats) invalidIn(e uint64, limit uint32) bool {
	return s.InvalidEpoch == e && s.EpochInvalid >= limit
}

// usage is one model's usage in an epoch.
type usage struct {
	Requests         uint64 `cbor:"1,keyasint"`
	PromptTokens     uint64 `cbor:"2,keyasint"`
	CompletionTokens uint64 `cbor:"3,keyasint"`
	Refunds          uint64 `cbor:"4,keyasint"`
	Invalidated      uint64 `cbor:"5,keyasint"`
	Paid             uint64 `cbor:"6,keyasint"`
}

func recordKey(id inference.Hash) []byte { return module.Key(prefixRecord, id[:]) }
func dueKey(h uint64, kind byte, id inference.Hash) []byte {
	return module.Key(prefixDue, u64(h), []byte{kind}, id[:])
}
func finishedKey(netuid uint16, h uint64, id inference.Hash) []byte {
	return module.Key(prefixFinished, u16(netuid), u64(h), id[:])
}
func votingKey(netuid uint16, id inference.Hash) []byte {
	return module.Key(prefixVoting, u16(netuid), id[:])
}
func executorKey(netuid uint16, hot inference.Account) []byte {
	return module.Key(prefixExecutor, u16(netuid), hot[:])
}
func usageKey(netuid uint16, epoch uint64, model string) []byte {
	return module.Key(prefixUsage, u16(netuid), u64(epoch), []byte(model))
}

func (k *Keeper) getRecord(r store.Reader, id inference.Hash) (*record, bool, error) {
	var rec record
	ok, err := module.Get(r, recordKey(id), &rec)
	if !ok || err != nil {
		return nil, false, err
	}
	return &rec, true, nil
}

func (k *Keeper) executor(r store.Reader, netuid uint16, hot inference.Account) (executorStats, error) {
	var s executorStats
	_, err := module.Get(r, executorKey(netuid, hot), &s)
	return s, err
}

func hexID(id inference.Hash) string { return hex.EncodeToString(id[:]) }

// refuse reports a skipped entry.
func refuse(ctx *module.Context, netuid uint16, id inference.Hash, code, format string, args ...any) {
	ctx.Emit("inference_refused", module.Attr("netuid", strconv.Itoa(int(netuid))), module.Attr("id", hexID(id)),
		module.Attr("code", code), module.Attr("reason", fmt.Sprintf(format, args...)))
}

// move moves amount between accounts; nothing for 0.
func (k *Keeper) move(kv store.KV, from, to keys.PublicKey, amount uint64) error {
	if amount == 0 {
		return nil
	}
	return k.accounts.Move(kv, from, to, amount)
}

// usageBatch adds a message's (or a block's) changes to the usage counters and writes
// each counter once, in key order.
type usageBatch map[string]*usage

func (b usageBatch) at(netuid uint16, epoch uint64, model string) *usage {
	key := string(usageKey(netuid, epoch, model))
	u := b[key]
	if u == nil {
		u = &usage{}
		b[key] = u
	}
	return u
}

func (b usageBatch) flush(kv store.KV) error {
	keys := make([]string, 0, len(b))
	for key := range b {
		keys = append(keys, key)
	}
	sort.Strings(keys)
	for _, key := range keys {
		var u usage
		if _, err := module.Get(kv, []byte(key), &u); err != nil {
			return err
		}
		d := b[key]
		u.Requests += d.Requests
		u.PromptTokens += d.PromptTokens
		u.CompletionTokens += d.CompletionTokens
		u.Refunds += d.Refunds
		u.Invalidated += d.Invalidated
		u.Paid = satAdd(u.Paid, d.Paid)
		if err := module.Put(kv, []byte(key), u); err != nil {
			return err
		}
	}
	return nil
}

// payEnv is what a message's entries are checked against: the group in force and the
// round in progress, the parameters, the block time.
type payEnv struct {
	netuid uint16
	group  *inference.Group
	round  *inference.Round // the latest round, nil before the first
	p      models.Params
	now    int64
}

func (k *Keeper) env(ctx *module.Context, netuid uint16) (*payEnv, error) {
	g, err := k.Current(ctx.KV, netuid)
	if err != nil {
		return nil, err
	}
	rd, err := k.LatestRound(ctx.KV, netuid)
	if err != nil {
		return nil, err
	}
	p, err := k.models.Params(ctx.KV)
	if err != nil {
		return nil, err
	}
	return &payEnv{netuid: netuid, group: g, round: rd, p: p, now: ctx.Time.UnixNano()}, nil
}

// duringPoC reports whether the round in progress restricts serving to POC_SLOT nodes.
func (e *payEnv) duringPoC() bool { return e.group != nil && inference.DuringPoC(e.round) }

// EligibleNow lists the executors the chain accepts for model on a subnet now:
// inference.Eligible over the group in force (with the round's POC_SLOT allocation
// during PoC), less the executors INVALID in the group's epoch. It returns the group
// epoch, whether PoC is in progress and the model's frozen price; ok is false when the
// group in force does not serve the model.
func (k *Keeper) EligibleNow(r store.Reader, netuid uint16, model string) (view inference.EligibleView, ok bool, err error) {
	g, err := k.Current(r, netuid)
	if err != nil || g == nil {
		return view, false, err
	}
	rd, err := k.LatestRound(r, netuid)
	if err != nil {
		return view, false, err
	}
	p, err := k.models.Params(r)
	if err != nil {
		return view, false, err
	}
	e := &payEnv{netuid: netuid, group: g, round: rd, p: p}
	sg := subgroupOf(g, model)
	if sg == nil {
		return inference.EligibleView{Epoch: g.Epoch, DuringPoC: e.duringPoC(), Candidates: []inference.Candidate{}}, false, nil
	}
	c, err := k.eligible(r, e, model)
	if err != nil {
		return view, false, err
	}
	return inference.EligibleView{Epoch: g.Epoch, DuringPoC: e.duringPoC(), Price: sg.Model.PricePerToken, Candidates: c}, true, nil
}

func (k *Keeper) eligible(r store.Reader, e *payEnv, model string) ([]inference.Candidate, error) {
	g := e.group
	if e.duringPoC() {
		g = inference.WithSlots(g, e.round)
	}
	out := []inference.Candidate{}
	limit := e.p.InferenceInvalidLimit()
	for _, c := range inference.Eligible(g, model, e.duringPoC()) {
		s, err := k.executor(r, e.netuid, c.Hotkey)
		if err != nil {
			return nil, err
		}
		if !s.invalidIn(e.group.Epoch, limit) {
			out = append(out, c)
		}
	}
	return out, nil
}

func subgroupOf(g *inference.Group, model string) *inference.Subgroup {
	if g == nil {
		return nil
	}
	for i := range g.Models {
		if g.Models[i].Model.ID == model {
			return &g.Models[i]
		}
	}
	return nil
}

// openBatch decodes a batched message (start, finish, validate, vote) into body, checks
// its shape, and that the signer is a participant of its subnet (netuid reads the
// decoded body's).
func (k *Keeper) openBatch(ctx *module.Context, signer keys.PublicKey, msg tx.Msg, body interface{ Validate() error }, netuid func() uint16) error {
	if err := msg.DecodeBody(body); err != nil {
		return err
	}
	if err := body.Validate(); err != nil {
		return err
	}
	return k.checkParticipant(ctx.KV, netuid(), signer)
}

// handleStart starts a TA's batch of records: each entry checked against the group in
// force, the user's signature and balance; the worst case moved to escrow.
func (k *Keeper) handleStart(ctx *module.Context, signer keys.PublicKey, msg tx.Msg) error {
	var s inference.Start
	if err := k.openBatch(ctx, signer, msg, &s, func() uint16 { return s.Netuid }); err != nil {
		return err
	}
	if ctx.Check {
		return nil // the entries are judged in the block: each may be skipped, none fails the transaction
	}
	e, err := k.env(ctx, s.Netuid)
	if err != nil {
		return err
	}
	h := uint64(ctx.Height)
	type modelInfo struct {
		sg       *inference.Subgroup
		eligible map[inference.Account]bool
	}
	byModel := map[string]*modelInfo{}
	use := usageBatch{}
	signed := verifyUsers(s.Entries)
	for i := range s.Entries {
		en := &s.Entries[i]
		id := en.ID()
		if e.group == nil {
			refuse(ctx, s.Netuid, id, inference.RefuseNoGroup, "subnet %d has no epoch group in force yet: nobody serves inference", s.Netuid)
			continue
		}
		if !inference.ValidPath(en.Path) {
			refuse(ctx, s.Netuid, id, inference.RefuseBadPath, "path %.80q is not %s or %s", en.Path, inference.PathChat, inference.PathCompletions)
			continue
		}
		mi := byModel[en.Model]
		if mi == nil {
			mi = &modelInfo{sg: subgroupOf(e.group, en.Model), eligible: map[inference.Account]bool{}}
			if mi.sg != nil {
				c, err := k.eligible(ctx.KV, e, en.Model)
				if err != nil {
					return err
				}
				for _, x := range c {
					mi.eligible[x.Hotkey] = true
				}
			}
			byModel[en.Model] = mi
		}
		if mi.sg == nil {
			refuse(ctx, s.Netuid, id, inference.RefuseUnknownModel, "epoch %d's group serves no model %.80q", e.group.Epoch, en.Model)
			continue
		}
		if !mi.eligible[en.Executor] {
			refuse(ctx, s.Netuid, id, inference.RefuseNotEligible, "%s is not an eligible executor of %s now (during_poc=%v)", en.Executor, en.Model, e.duringPoC())
			continue
		}
		if en.Timestamp < e.now-inference.TimestampPast {
			refuse(ctx, s.Netuid, id, inference.RefuseStale, "the timestamp is %d ms before the block time, more than %d s", (e.now-en.Timestamp)/1e6, inference.TimestampPast/1e9)
			continue
		}
		if en.Timestamp > e.now+inference.TimestampAhead {
			refuse(ctx, s.Netuid, id, inference.RefuseFuture, "the timestamp is %d ms after the block time, more than %d s", (en.Timestamp-e.now)/1e6, inference.TimestampAhead/1e9)
			continue
		}
		if b, err := ctx.KV.Get(recordKey(id)); err != nil {
			return err
		} else if b != nil {
			refuse(ctx, s.Netuid, id, inference.RefuseDuplicate, "the request was recorded before (a replayed signature)")
			continue
		}
		price := mi.sg.Model.PricePerToken
		maxCost, err := inference.StartCost(en.PromptTokens, en.MaxTokens, price)
		if err != nil {
			refuse(ctx, s.Netuid, id, inference.RefuseOverflow, "%v", err)
			continue
		}
		if !signed[i] {
			refuse(ctx, s.Netuid, id, inference.RefuseBadSignature, "the signature does not verify for user %s over POST %s", en.User, en.Path)
			continue
		}
		if err := k.move(ctx.KV, keys.PublicKey(en.User), inference.EscrowAccount, maxCost); err != nil {
			if tx.CodeOf(err) != tx.CodeInsufficientFunds {
				return err
			}
			refuse(ctx, s.Netuid, id, inference.RefuseFunds, "the worst case is %d ((%d + %d) tokens × %d): %s", maxCost, en.PromptTokens, en.MaxTokens, price, strings.TrimPrefix(err.Error(), tx.CodeInsufficientFunds.String()+": "))
			continue
		}
		rec := record{Netuid: s.Netuid, User: en.User, TA: inference.Account(signer), Executor: en.Executor, Model: en.Model, Path: en.Path,
			Epoch: e.group.Epoch, DuringPoC: e.duringPoC(), Timestamp: en.Timestamp, BodyHash: en.BodyHash, Status: inference.StatusStarted,
			StartHeight: h, ExpiryHeight: h + e.p.InferenceExpirationBlocks(), MaxPromptTokens: en.PromptTokens, MaxTokens: en.MaxTokens,
			Price: price, MaxCost: maxCost}
		if rec.DuringPoC {
			rec.RoundEpoch = e.round.Epoch
		}
		if err := module.Put(ctx.KV, recordKey(id), rec); err != nil {
			return err
		}
		if err := ctx.KV.Set(dueKey(rec.ExpiryHeight, dueExpire, id), one); err != nil {
			return err
		}
		use.at(s.Netuid, rec.Epoch, rec.Model).Requests++
		ctx.Emit("inference_started", module.Attr("netuid", strconv.Itoa(int(s.Netuid))), module.Attr("id", hexID(id)),
			module.Attr("user", en.User.String()), module.Attr("executor", en.Executor.String()), module.Attr("model", en.Model),
			module.Attr("max_cost", strconv.FormatUint(maxCost, 10)), module.Attr("expiry_height", strconv.FormatUint(rec.ExpiryHeight, 10)))
	}
	return use.flush(ctx.KV)
}

// verifyUsers checks each entry's user signature over its request payload, spread over
// the CPUs (the bulk of a start message's cost; a pure function of the entries, so the
// result, and every write that follows from it, is the same on every node).
func verifyUsers(entries []inference.StartEntry) []bool {
	out := make([]bool, len(entries))
	check := func(i int) {
		e := &entries[i]
		out[i] = keys.PublicKey(e.User).Verify(inference.RequestPayload("POST", e.Path, e.Timestamp, e.BodyHash), e.Signature)
	}
	parallel.ForEach(len(entries), 16, check)
	return out
}

// handleFinish finishes an executor's batch of its records: the cost charged, the
// surplus back to the user, the record waiting for checks until its settle height.
func (k *Keeper) handleFinish(ctx *module.Context, signer keys.PublicKey, msg tx.Msg) error {
	var f inference.Finish
	if err := k.openBatch(ctx, signer, msg, &f, func() uint16 { return f.Netuid }); err != nil {
		return err
	}
	if ctx.Check {
		return nil
	}
	p, err := k.models.Params(ctx.KV)
	if err != nil {
		return err
	}
	h := uint64(ctx.Height)
	me := inference.Account(signer)
	stats, err := k.executor(ctx.KV, f.Netuid, me)
	if err != nil {
		return err
	}
	served := false
	use := usageBatch{}
	throughput := map[string]uint64{}
	for _, en := range f.Entries {
		rec, ok, err := k.getRecord(ctx.KV, en.ID)
		if err != nil {
			return err
		}
		if !ok || rec.Netuid != f.Netuid {
			refuse(ctx, f.Netuid, en.ID, inference.RefuseNotFound, "no record %s on subnet %d", hexID(en.ID), f.Netuid)
			continue
		}
		if rec.Executor != me {
			refuse(ctx, f.Netuid, en.ID, inference.RefuseWrongExecutor, "the record's executor is %s, not %s", rec.Executor, me)
			continue
		}
		if rec.Status != inference.StatusStarted {
			refuse(ctx, f.Netuid, en.ID, inference.RefuseWrongStatus, "the record is %s, not started", rec.Status)
			continue
		}
		if en.CompletionTokens > rec.MaxTokens {
			refuse(ctx, f.Netuid, en.ID, inference.RefuseTooManyTokens, "%d completion tokens, more than the request's max_tokens %d", en.CompletionTokens, rec.MaxTokens)
			continue
		}
		rec.Cost = inference.FinishCost(en.PromptTokens, en.CompletionTokens, rec.Price, rec.MaxCost)
		refund := rec.MaxCost - rec.Cost
		if err := k.move(ctx.KV, inference.EscrowAccount, keys.PublicKey(rec.User), refund); err != nil {
			return err
		}
		rec.Status, rec.FinishHeight, rec.SettleHeight = inference.StatusFinished, h, h+p.InferenceCheckBlocks()
		rec.PromptTokens, rec.CompletionTokens, rec.ResponseHash = en.PromptTokens, en.CompletionTokens, en.ResponseHash
		if err := ctx.KV.Delete(dueKey(rec.ExpiryHeight, dueExpire, en.ID)); err != nil {
			return err
		}
		for _, kv := range [][]byte{dueKey(rec.SettleHeight, dueSettle, en.ID), finishedKey(f.Netuid, h, en.ID)} {
			if err := ctx.KV.Set(kv, one); err != nil {
				return err
			}
		}
		if err := module.Put(ctx.KV, recordKey(en.ID), rec); err != nil {
			return err
		}
		u := use.at(f.Netuid, rec.Epoch, rec.Model)
		u.PromptTokens += uint64(en.PromptTokens)
		u.CompletionTokens += uint64(en.CompletionTokens)
		if rec.DuringPoC {
			key := string(throughputKey(f.Netuid, rec.RoundEpoch, rec.Model))
			throughput[key] = satAdd(throughput[key], uint64(en.PromptTokens)+uint64(en.CompletionTokens))
		}
		stats.Served++
		if rec.Epoch > stats.LastEpoch {
			stats.Epochs, stats.LastEpoch = stats.Epochs+1, rec.Epoch
		}
		served = true
		ctx.Emit("inference_finished", module.Attr("netuid", strconv.Itoa(int(f.Netuid))), module.Attr("id", hexID(en.ID)),
			module.Attr("executor", me.String()), module.Attr("tokens", strconv.FormatUint(uint64(en.PromptTokens)+uint64(en.CompletionTokens), 10)),
			module.Attr("cost", strconv.FormatUint(rec.Cost, 10)), module.Attr("refund", strconv.FormatUint(refund, 10)),
			module.Attr("settle_height", strconv.FormatUint(rec.SettleHeight, 10)))
	}
	if served {
		if err := module.Put(ctx.KV, executorKey(f.Netuid, me), stats); err != nil {
			return err
		}
	}
	tkeys := make([]string, 0, len(throughput))
	for key := range throughput {
		tkeys = append(tkeys, key)
	}
	sort.Strings(tkeys)
	for _, key := range tkeys {
		v, err := module.GetUint64(ctx.KV, []byte(key))
		if err != nil {
			return err
		}
		if err := module.PutUint64(ctx.KV, []byte(key), satAdd(v, throughput[key])); err != nil {
			return err
		}
	}
	return use.flush(ctx.KV)
}

func validatorStake(g *inference.Group, hot inference.Account) (uint64, bool) {
	if g == nil {
		return 0, false
	}
	for _, v := range g.Validators {
		if v.Hotkey == hot {
			return v.Stake, true
		}
	}
	return 0, false
}

// handleValidate takes a validator's first checks of finished records. A valid check
// marks the record validated (paid at its settle height as before); an invalid one
// opens a vote of the group's validators but the executor, the reporter's stake
// counting as invalid.
func (k *Keeper) handleValidate(ctx *module.Context, signer keys.PublicKey, msg tx.Msg) error {
	var v inference.Validate
	if err := k.openBatch(ctx, signer, msg, &v, func() uint16 { return v.Netuid }); err != nil {
		return err
	}
	g, err := k.Current(ctx.KV, v.Netuid)
	if err != nil {
		return err
	}
	me := inference.Account(signer)
	stake, ok := validatorStake(g, me)
	if !ok {
		epoch := uint64(0)
		if g != nil {
			epoch = g.Epoch
		}
		return tx.Errorf(tx.CodeUnauthorized, "hotkey %s is not a validator of the group in force on subnet %d (epoch %d): it may not check inferences", signer, v.Netuid, epoch)
	}
	if ctx.Check {
		return nil
	}
	p, err := k.models.Params(ctx.KV)
	if err != nil {
		return err
	}
	h := uint64(ctx.Height)
	st := &settler{k: k, ctx: ctx, p: p, use: usageBatch{}}
	for _, en := range v.Entries {
		rec, ok, err := k.getRecord(ctx.KV, en.ID)
		if err != nil {
			return err
		}
		if !ok || rec.Netuid != v.Netuid {
			refuse(ctx, v.Netuid, en.ID, inference.RefuseNotFound, "no record %s on subnet %d", hexID(en.ID), v.Netuid)
			continue
		}
		if rec.Executor == me {
			refuse(ctx, v.Netuid, en.ID, inference.RefuseIsExecutor, "%s executed the record: it may not check it", me)
			continue
		}
		if rec.Status != inference.StatusFinished {
			refuse(ctx, v.Netuid, en.ID, inference.RefuseWrongStatus, "the record is %s: only a finished record not yet checked takes a first check", rec.Status)
			continue
		}
		if h > rec.SettleHeight {
			refuse(ctx, v.Netuid, en.ID, inference.RefuseWrongStatus, "the record's checks closed at its settle height %d; this is block %d", rec.SettleHeight, h)
			continue
		}
		rec.HasValidator, rec.Validator = true, me
		if en.Valid {
			rec.Status = inference.StatusValidated
			if err := st.countValidated(rec); err != nil {
				return err
			}
			if err := module.Put(ctx.KV, recordKey(en.ID), rec); err != nil {
				return err
			}
			ctx.Emit("inference_validated", module.Attr("netuid", strconv.Itoa(int(v.Netuid))), module.Attr("id", hexID(en.ID)),
				module.Attr("validator", me.String()))
			continue
		}
		var voters uint64
		for _, val := range g.Validators {
			if val.Hotkey != rec.Executor {
				voters = satAdd(voters, val.Stake)
			}
		}
		rec.Status, rec.VoteEpoch, rec.VoterStake, rec.InvalidStake = inference.StatusVoting, g.Epoch, voters, stake
		rec.VoteDeadline = rec.SettleHeight + p.InferenceVoteBlocks()
		rec.Votes = []vote{{Validator: me, Valid: false, Stake: stake, Height: h}}
		ctx.Emit("inference_voting", module.Attr("netuid", strconv.Itoa(int(v.Netuid))), module.Attr("id", hexID(en.ID)),
			module.Attr("reporter", me.String()), module.Attr("vote_deadline", strconv.FormatUint(rec.VoteDeadline, 10)),
			module.Attr("invalid_stake", strconv.FormatUint(stake, 10)), module.Attr("voter_stake", strconv.FormatUint(voters, 10)))
		if err := st.afterVote(en.ID, rec, h); err != nil {
			return err
		}
	}
	if err := st.flush(); err != nil {
		return err
	}
	return nil
}

// handleVote takes validators' votes on records in voting.
func (k *Keeper) handleVote(ctx *module.Context, signer keys.PublicKey, msg tx.Msg) error {
	var v inference.Vote
	if err := k.openBatch(ctx, signer, msg, &v, func() uint16 { return v.Netuid }); err != nil {
		return err
	}
	if ctx.Check {
		return nil
	}
	p, err := k.models.Params(ctx.KV)
	if err != nil {
		return err
	}
	h := uint64(ctx.Height)
	me := inference.Account(signer)
	st := &settler{k: k, ctx: ctx, p: p, use: usageBatch{}}
	groups := map[uint64]*inference.Group{}
	for _, en := range v.Entries {
		rec, ok, err := k.getRecord(ctx.KV, en.ID)
		if err != nil {
			return err
		}
		if !ok || rec.Netuid != v.Netuid {
			refuse(ctx, v.Netuid, en.ID, inference.RefuseNotFound, "no record %s on subnet %d", hexID(en.ID), v.Netuid)
			continue
		}
		if rec.Status != inference.StatusVoting {
			refuse(ctx, v.Netuid, en.ID, inference.RefuseWrongStatus, "the record is %s, not in a vote", rec.Status)
			continue
		}
		if h > rec.VoteDeadline {
			refuse(ctx, v.Netuid, en.ID, inference.RefuseWrongStatus, "the record's vote ended at block %d; this is block %d", rec.VoteDeadline, h)
			continue
		}
		if rec.Executor == me {
			refuse(ctx, v.Netuid, en.ID, inference.RefuseIsExecutor, "%s executed the record: it does not vote on it", me)
			continue
		}
		g, seen := groups[rec.VoteEpoch]
		if !seen {
			if g, _, err = k.Group(ctx.KV, v.Netuid, rec.VoteEpoch); err != nil {
				return err
			}
			groups[rec.VoteEpoch] = g
		}
		stake, ok := validatorStake(g, me)
		if !ok {
			refuse(ctx, v.Netuid, en.ID, inference.RefuseNotValidator, "%s is not a validator of epoch %d's group, whose validators vote on the record", me, rec.VoteEpoch)
			continue
		}
		voted := false
		for _, x := range rec.Votes {
			voted = voted || x.Validator == me
		}
		if voted {
			refuse(ctx, v.Netuid, en.ID, inference.RefuseVoted, "%s voted on the record already", me)
			continue
		}
		rec.Votes = append(rec.Votes, vote{Validator: me, Valid: en.Valid, Stake: stake, Height: h})
		if !en.Valid {
			rec.InvalidStake = satAdd(rec.InvalidStake, stake)
		}
		ctx.Emit("inference_vote", module.Attr("netuid", strconv.Itoa(int(v.Netuid))), module.Attr("id", hexID(en.ID)),
			module.Attr("validator", me.String()), module.Attr("valid", strconv.FormatBool(en.Valid)))
		if err := st.afterVote(en.ID, rec, h); err != nil {
			return err
		}
	}
	return st.flush()
}

// settler applies the outcomes of records (payment, refund, invalidation) within one
// message or end block, batching the usage and executor counters.
type settler struct {
	k     *Keeper
	ctx   *module.Context
	p     models.Params
	use   usageBatch
	execs map[string]*executorStats
	order []string
}

func (s *settler) stats(netuid uint16, hot inference.Account) (*executorStats, error) {
	key := string(executorKey(netuid, hot))
	if st, ok := s.execs[key]; ok {
		return st, nil
	}
	st, err := s.k.executor(s.ctx.KV, netuid, hot)
	if err != nil {
		return nil, err
	}
	if s.execs == nil {
		s.execs = map[string]*executorStats{}
	}
	s.execs[key] = &st
	s.order = append(s.order, key)
	return &st, nil
}

func (s *settler) flush() error {
	sort.Strings(s.order)
	for _, key := range s.order {
		if err := module.Put(s.ctx.KV, []byte(key), s.execs[key]); err != nil {
			return err
		}
	}
	return s.use.flush(s.ctx.KV)
}

func (s *settler) countValidated(rec *record) error {
	st, err := s.stats(rec.Netuid, rec.Executor)
	if err == nil {
		st.Validated++
	}
	return err
}

// afterVote decides a vote that a new vote (or the report) may have settled: more than
// half the voters' stake invalid invalidates the record now; so much stake valid that
// the invalid votes can no longer win validates it (paid now when its settle height is
// behind). Otherwise the record stays in voting until its deadline.
func (s *settler) afterVote(id inference.Hash, rec *record, h uint64) error {
	var valid uint64
	for _, x := range rec.Votes {
		if x.Valid {
			valid = satAdd(valid, x.Stake)
		}
	}
	switch {
	case rec.InvalidStake > rec.VoterStake/2: // 2 × invalid > voters, without overflow
		return s.invalidate(id, rec)
	case rec.VoterStake-min(valid, rec.VoterStake) <= rec.VoterStake/2:
		rec.Status = inference.StatusValidated
		if err := s.ctx.KV.Delete(votingKey(rec.Netuid, id)); err != nil {
			return err
		}
		if err := s.countValidated(rec); err != nil {
			return err
		}
		s.ctx.Emit("inference_validated", module.Attr("netuid", strconv.Itoa(int(rec.Netuid))), module.Attr("id", hexID(id)),
			module.Attr("by_vote", "true"))
		if h >= rec.SettleHeight {
			return s.pay(id, rec, h)
		}
	default:
		if err := s.ctx.KV.Set(votingKey(rec.Netuid, id), one); err != nil {
			return err
		}
		if err := s.ctx.KV.Set(dueKey(rec.VoteDeadline, dueVoteEnd, id), one); err != nil {
			return err
		}
	}
	return module.Put(s.ctx.KV, recordKey(id), rec)
}

// invalidate refunds an invalidated record's cost to its user and counts the
// invalidation against the executor: its reputation resets, and at the limit it is
// INVALID for the epoch of the group in force.
func (s *settler) invalidate(id inference.Hash, rec *record) error {
	rec.Status = inference.StatusInvalidated
	if err := s.k.move(s.ctx.KV, inference.EscrowAccount, keys.PublicKey(rec.User), rec.Cost); err != nil {
		return err
	}
	if err := s.ctx.KV.Delete(votingKey(rec.Netuid, id)); err != nil {
		return err
	}
	if err := s.ctx.KV.Delete(dueKey(rec.VoteDeadline, dueVoteEnd, id)); err != nil {
		return err
	}
	u := s.use.at(rec.Netuid, rec.Epoch, rec.Model)
	u.Refunds++
	u.Invalidated++
	st, err := s.stats(rec.Netuid, rec.Executor)
	if err != nil {
		return err
	}
	cur, err := s.k.CurrentEpoch(s.ctx.KV, rec.Netuid)
	if err != nil {
		return err
	}
	st.Invalidated++
	st.Epochs = 0
	if st.InvalidEpoch != cur {
		st.InvalidEpoch, st.EpochInvalid = cur, 0
	}
	st.EpochInvalid++
	s.ctx.Emit("inference_invalidated", module.Attr("netuid", strconv.Itoa(int(rec.Netuid))), module.Attr("id", hexID(id)),
		module.Attr("executor", rec.Executor.String()), module.Attr("refund", strconv.FormatUint(rec.Cost, 10)),
		module.Attr("invalid_stake", strconv.FormatUint(rec.InvalidStake, 10)), module.Attr("voter_stake", strconv.FormatUint(rec.VoterStake, 10)))
	if st.EpochInvalid == s.p.InferenceInvalidLimit() {
		s.ctx.Emit("inference_executor_invalid", module.Attr("netuid", strconv.Itoa(int(rec.Netuid))), module.Attr("executor", rec.Executor.String()),
			module.Attr("epoch", strconv.FormatUint(cur, 10)), module.Attr("invalidations", strconv.FormatUint(uint64(st.EpochInvalid), 10)))
	}
	return s.final(id, rec, uint64(s.ctx.Height))
}

// pay moves a record's cost from escrow to its executor.
func (s *settler) pay(id inference.Hash, rec *record, h uint64) error {
	rec.Status = inference.StatusPaid
	if err := s.k.move(s.ctx.KV, inference.EscrowAccount, keys.PublicKey(rec.Executor), rec.Cost); err != nil {
		return err
	}
	u := s.use.at(rec.Netuid, rec.Epoch, rec.Model)
	u.Paid = satAdd(u.Paid, rec.Cost)
	s.ctx.Emit("inference_paid", module.Attr("netuid", strconv.Itoa(int(rec.Netuid))), module.Attr("id", hexID(id)),
		module.Attr("executor", rec.Executor.String()), module.Attr("cost", strconv.FormatUint(rec.Cost, 10)))
	return s.final(id, rec, h)
}

// final stores a record that reached a final status and schedules its pruning.
func (s *settler) final(id inference.Hash, rec *record, h uint64) error {
	if err := s.ctx.KV.Set(dueKey(h+RecordKeepBlocks, duePrune, id), one); err != nil {
		return err
	}
	return module.Put(s.ctx.KV, recordKey(id), rec)
}

// settle runs what falls due at this block: unfinished records expire (refunded in
// full, the executor's missed count up), finished ones past their check window are
// paid, votes past their deadline validate their record, and final records past their
// keeping are pruned.
func (k *Keeper) settle(ctx *module.Context) error {
	h := uint64(ctx.Height)
	prefix := module.Key(prefixDue, u64(h))
	type due struct {
		kind byte
		id   inference.Hash
	}
	var dues []due
	if err := ctx.KV.Iterate(prefix, func(key, _ []byte) (bool, error) {
		d := due{kind: key[len(prefix)]}
		copy(d.id[:], key[len(prefix)+1:])
		dues = append(dues, d)
		return true, nil
	}); err != nil {
		return err
	}
	if len(dues) == 0 {
		return nil
	}
	p, err := k.models.Params(ctx.KV)
	if err != nil {
		return err
	}
	st := &settler{k: k, ctx: ctx, p: p, use: usageBatch{}}
	for _, d := range dues {
		if err := ctx.KV.Delete(dueKey(h, d.kind, d.id)); err != nil {
			return err
		}
		rec, ok, err := k.getRecord(ctx.KV, d.id)
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		switch d.kind {
		case dueExpire:
			if rec.Status != inference.StatusStarted {
				continue
			}
			rec.Status = inference.StatusExpired
			if err := k.move(ctx.KV, inference.EscrowAccount, keys.PublicKey(rec.User), rec.MaxCost); err != nil {
				return err
			}
			st.use.at(rec.Netuid, rec.Epoch, rec.Model).Refunds++
			es, err := st.stats(rec.Netuid, rec.Executor)
			if err != nil {
				return err
			}
			es.Missed++
			ctx.Emit("inference_expired", module.Attr("netuid", strconv.Itoa(int(rec.Netuid))), module.Attr("id", hexID(d.id)),
				module.Attr("executor", rec.Executor.String()), module.Attr("refund", strconv.FormatUint(rec.MaxCost, 10)))
			if err := st.final(d.id, rec, h); err != nil {
				return err
			}
		case dueSettle:
			if rec.Status == inference.StatusFinished || rec.Status == inference.StatusValidated {
				if err := st.pay(d.id, rec, h); err != nil {
					return err
				}
			}
		case dueVoteEnd:
			if rec.Status != inference.StatusVoting {
				continue
			}
			rec.Status = inference.StatusValidated
			if err := ctx.KV.Delete(votingKey(rec.Netuid, d.id)); err != nil {
				return err
			}
			if err := st.countValidated(rec); err != nil {
				return err
			}
			ctx.Emit("inference_validated", module.Attr("netuid", strconv.Itoa(int(rec.Netuid))), module.Attr("id", hexID(d.id)),
				module.Attr("by_vote", "deadline"))
			if err := st.pay(d.id, rec, h); err != nil {
				return err
			}
		case duePrune:
			if ctx.Time.UnixNano()-rec.Timestamp <= inference.TimestampPast+inference.TimestampAhead {
				// Its signature is still inside the start window: keep the id.
				if err := ctx.KV.Set(dueKey(h+RecordKeepBlocks, duePrune, d.id), one); err != nil {
					return err
				}
				continue
			}
			if err := ctx.KV.Delete(recordKey(d.id)); err != nil {
				return err
			}
			if rec.FinishHeight > 0 {
				if err := ctx.KV.Delete(finishedKey(rec.Netuid, rec.FinishHeight, d.id)); err != nil {
					return err
				}
			}
		}
	}
	return st.flush()
}

// dissolvePayments refunds every record of a dissolved subnet still holding funds in
// escrow (in full when unfinished, its cost when finished) and deletes its records,
// their index entries, the executors' statistics and the usage.
func (k *Keeper) dissolvePayments(kv store.KV, netuid uint16) error {
	gone := map[inference.Hash]bool{}
	var recKeys [][]byte
	type refund struct {
		id     inference.Hash
		user   inference.Account
		amount uint64
	}
	var refunds []refund
	if err := kv.Iterate(prefixRecord, func(key, val []byte) (bool, error) {
		var rec record
		if err := tx.UnmarshalState(val, &rec); err != nil {
			return false, err
		}
		if rec.Netuid != netuid {
			return true, nil
		}
		var id inference.Hash
		copy(id[:], key[len(prefixRecord):])
		gone[id] = true
		recKeys = append(recKeys, append([]byte(nil), key...))
		switch rec.Status {
		case inference.StatusStarted:
			refunds = append(refunds, refund{id, rec.User, rec.MaxCost})
		case inference.StatusFinished, inference.StatusValidated, inference.StatusVoting:
			refunds = append(refunds, refund{id, rec.User, rec.Cost})
		}
		return true, nil
	}); err != nil {
		return err
	}
	for _, r := range refunds {
		if err := k.move(kv, inference.EscrowAccount, keys.PublicKey(r.user), r.amount); err != nil {
			return err
		}
	}
	var dueKeys [][]byte
	if err := kv.Iterate(prefixDue, func(key, _ []byte) (bool, error) {
		var id inference.Hash
		copy(id[:], key[len(key)-32:])
		if gone[id] {
			dueKeys = append(dueKeys, append([]byte(nil), key...))
		}
		return true, nil
	}); err != nil {
		return err
	}
	for _, key := range append(dueKeys, recKeys...) {
		if err := kv.Delete(key); err != nil {
			return err
		}
	}
	for _, p := range [][]byte{prefixFinished, prefixVoting, prefixExecutor, prefixUsage} {
		if err := module.DeletePrefix(kv, module.Key(p, u16(netuid))); err != nil {
			return err
		}
	}
	return nil
}

// withoutInvalid returns g with every member INVALID in g's epoch rejected (weight 0),
// or g itself when there is none.
func (k *Keeper) withoutInvalid(r store.Reader, g *inference.Group) (*inference.Group, error) {
	p, err := k.models.Params(r)
	if err != nil {
		return nil, err
	}
	limit := p.InferenceInvalidLimit()
	var out *inference.Group
	for i, m := range g.Members {
		s, err := k.executor(r, g.Netuid, m.Hotkey)
		if err != nil {
			return nil, err
		}
		if !s.invalidIn(g.Epoch, limit) {
			continue
		}
		if out == nil {
			cp := *g
			cp.Members = append([]inference.Member(nil), g.Members...)
			out = &cp
		}
		m.Accepted, m.Weight = false, 0
		m.Nodes = append([]inference.GroupNode(nil), m.Nodes...)
		for j := range m.Nodes {
			m.Nodes[j].Weight = 0
		}
		out.Members[i] = m
	}
	if out == nil {
		return g, nil
	}
	return out, nil
}
