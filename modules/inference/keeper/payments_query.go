package keeper

import (
	"encoding/hex"
	"strconv"
	"strings"

	"github.com/tessera-net/tessera/module"
	"github.com/tessera-net/tessera/modules/inference"
	"github.com/tessera-net/tessera/store"
	"github.com/tessera-net/tessera/tx"
)

// The paid inference's queries (added to Queries):
//
//	record/<hex id>               one record (kept RecordKeepBlocks after it is final)
//	finished/<netuid>/<height>    the records finished at a height (validators scan it)
//	voting/<netuid>               the records in voting
//	executor/<netuid>/<hotkey>    an executor's service and reputation
//	executors/<netuid>            every executor's, by hotkey
//	usage/<netuid>/<epoch>        the usage per model of the records started in an epoch
//	eligible/<netuid>/<model>     the executors a TA may choose for a model now
func (k *Keeper) paymentQueries() map[string]module.Route {
	return map[string]module.Route{
		"record":    {Args: []string{"id"}, Query: k.queryRecord},
		"finished":  {Args: []string{"netuid", "height"}, Query: k.queryFinished},
		"voting":    {Args: []string{"netuid"}, Query: k.queryVoting},
		"executor":  {Args: []string{"netuid", "hotkey"}, Query: k.queryExecutor},
		"executors": {Args: []string{"netuid"}, Query: k.queryExecutors},
		"usage":     {Args: []string{"netuid", "epoch"}, Query: k.queryUsage},
		"eligible":  {Args: []string{"netuid", "model"}, Query: k.queryEligible},
	}
}

// ParseID reads a record id: 64 hex digits (an optional 0x before them).
func ParseID(s string) (inference.Hash, error) {
	var id inference.Hash
	raw, err := hex.DecodeString(strings.TrimPrefix(s, "0x"))
	if err != nil || len(raw) != 32 {
		return id, tx.Errorf(tx.CodeInvalidMessage, "record id %.80q is not 64 hex digits", s)
	}
	copy(id[:], raw)
	return id, nil
}

// Record reads one inference record as its view.
func (k *Keeper) Record(r store.Reader, id inference.Hash) (inference.RecordView, bool, error) {
	rec, ok, err := k.getRecord(r, id)
	if !ok || err != nil {
		return inference.RecordView{}, ok, err
	}
	return recordView(id, rec), true, nil
}

func recordView(id inference.Hash, rec *record) inference.RecordView {
	v := inference.RecordView{ID: id, Netuid: rec.Netuid, User: rec.User, TA: rec.TA, Executor: rec.Executor, Model: rec.Model, Path: rec.Path,
		Epoch: rec.Epoch, Timestamp: rec.Timestamp, StartHeight: rec.StartHeight, FinishHeight: rec.FinishHeight, SettleHeight: rec.SettleHeight,
		ExpiryHeight: rec.ExpiryHeight, VoteDeadline: rec.VoteDeadline, Status: rec.Status, BodyHash: rec.BodyHash, ResponseHash: rec.ResponseHash,
		MaxPromptTokens: rec.MaxPromptTokens, MaxTokens: rec.MaxTokens, PromptTokens: rec.PromptTokens, CompletionTokens: rec.CompletionTokens,
		MaxCost: rec.MaxCost, Cost: rec.Cost, Price: rec.Price, DuringPoC: rec.DuringPoC, InvalidStake: rec.InvalidStake, VoterStake: rec.VoterStake}
	if rec.HasValidator {
		val := rec.Validator
		v.Validator = &val
	}
	for _, x := range rec.Votes {
		v.Votes = append(v.Votes, inference.VoteView{Validator: x.Validator, Valid: x.Valid, Stake: x.Stake, Height: x.Height})
	}
	return v
}

func (k *Keeper) queryRecord(q module.QueryRequest) (any, error) {
	id, err := ParseID(q.Args[0])
	if err != nil {
		return nil, err
	}
	v, ok, err := k.Record(q.State, id)
	if err == nil && !ok {
		err = tx.Errorf(tx.CodeNotFound, "no inference record %s (final records are kept %d blocks)", hexID(id), RecordKeepBlocks)
	}
	return v, err
}

// records lists the records whose ids follow prefix in the index's keys.
func (k *Keeper) records(r store.Reader, prefix []byte) ([]inference.RecordView, error) {
	out := []inference.RecordView{}
	var ids []inference.Hash
	if err := r.Iterate(prefix, func(key, _ []byte) (bool, error) {
		var id inference.Hash
		copy(id[:], key[len(key)-32:])
		ids = append(ids, id)
		return true, nil
	}); err != nil {
		return nil, err
	}
	for _, id := range ids {
		v, ok, err := k.Record(r, id)
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, v)
		}
	}
	return out, nil
}

// Finished lists the records finished at height h on a subnet, by id.
func (k *Keeper) Finished(r store.Reader, netuid uint16, h uint64) ([]inference.RecordView, error) {
	return k.records(r, module.Key(prefixFinished, u16(netuid), u64(h)))
}

// Voting lists the records in voting on a subnet, by id.
func (k *Keeper) Voting(r store.Reader, netuid uint16) ([]inference.RecordView, error) {
	return k.records(r, module.Key(prefixVoting, u16(netuid)))
}

func (k *Keeper) queryFinished(q module.QueryRequest) (any, error) {
	netuid, err := k.pocSubnet(q.State, q.Args[0])
	if err != nil {
		return nil, err
	}
	h, err := strconv.ParseUint(q.Args[1], 10, 64)
	if err != nil {
		return nil, tx.Errorf(tx.CodeInvalidMessage, "height %q is not a number", q.Args[1])
	}
	return k.Finished(q.State, netuid, h)
}

func (k *Keeper) queryVoting(q module.QueryRequest) (any, error) {
	netuid, err := k.pocSubnet(q.State, q.Args[0])
	if err != nil {
		return nil, err
	}
	return k.Voting(q.State, netuid)
}

// Executor reads an executor's view on a subnet: its statistics, reputation and status
// in the epoch of the group in force.
func (k *Keeper) Executor(r store.Reader, netuid uint16, hot inference.Account) (inference.ExecutorView, error) {
	s, err := k.executor(r, netuid, hot)
	if err != nil {
		return inference.ExecutorView{}, err
	}
	cur, err := k.CurrentEpoch(r, netuid)
	if err != nil {
		return inference.ExecutorView{}, err
	}
	p, err := k.models.Params(r)
	if err != nil {
		return inference.ExecutorView{}, err
	}
	return executorView(hot, s, cur, p.InferenceInvalidLimit()), nil
}

func executorView(hot inference.Account, s executorStats, cur uint64, limit uint32) inference.ExecutorView {
	v := inference.ExecutorView{Hotkey: hot, Reputation: inference.Reputation(s.Epochs), Epochs: s.Epochs, LastEpoch: s.LastEpoch,
		Served: s.Served, Validated: s.Validated, Invalidated: s.Invalidated, Missed: s.Missed, Status: inference.ExecutorActive}
	if s.InvalidEpoch == cur {
		v.EpochInvalid = s.EpochInvalid
	}
	if s.invalidIn(cur, limit) {
		v.Status = inference.ExecutorInvalid
	}
	return v
}

func (k *Keeper) queryExecutor(q module.QueryRequest) (any, error) {
	netuid, err := k.pocSubnet(q.State, q.Args[0])
	if err != nil {
		return nil, err
	}
	hot, err := module.AddressArg(q.Args[1])
	if err != nil {
		return nil, err
	}
	return k.Executor(q.State, netuid, inference.Account(hot))
}

// Executors lists every executor with statistics on a subnet, by hotkey.
func (k *Keeper) Executors(r store.Reader, netuid uint16) ([]inference.ExecutorView, error) {
	cur, err := k.CurrentEpoch(r, netuid)
	if err != nil {
		return nil, err
	}
	p, err := k.models.Params(r)
	if err != nil {
		return nil, err
	}
	out := []inference.ExecutorView{}
	prefix := module.Key(prefixExecutor, u16(netuid))
	err = r.Iterate(prefix, func(key, val []byte) (bool, error) {
		var s executorStats
		if err := tx.UnmarshalState(val, &s); err != nil {
			return false, err
		}
		var hot inference.Account
		copy(hot[:], key[len(prefix):])
		out = append(out, executorView(hot, s, cur, p.InferenceInvalidLimit()))
		return true, nil
	})
	return out, err
}

func (k *Keeper) queryExecutors(q module.QueryRequest) (any, error) {
	netuid, err := k.pocSubnet(q.State, q.Args[0])
	if err != nil {
		return nil, err
	}
	return k.Executors(q.State, netuid)
}

// Usage reads the usage per model, in id order, of the records started in a group
// epoch on a subnet.
func (k *Keeper) Usage(r store.Reader, netuid uint16, epoch uint64) (inference.UsageView, error) {
	v := inference.UsageView{Netuid: netuid, Epoch: epoch, Models: []inference.ModelUsage{}}
	prefix := module.Key(prefixUsage, u16(netuid), u64(epoch))
	err := r.Iterate(prefix, func(key, val []byte) (bool, error) {
		var u usage
		if err := tx.UnmarshalState(val, &u); err != nil {
			return false, err
		}
		v.Models = append(v.Models, inference.ModelUsage{Model: string(key[len(prefix):]), Requests: u.Requests, PromptTokens: u.PromptTokens,
			CompletionTokens: u.CompletionTokens, Refunds: u.Refunds, Invalidated: u.Invalidated, Paid: u.Paid})
		return true, nil
	})
	return v, err
}

func (k *Keeper) queryUsage(q module.QueryRequest) (any, error) {
	netuid, epoch, err := k.netuidEpoch(q)
	if err != nil {
		return nil, err
	}
	return k.Usage(q.State, netuid, epoch)
}

func (k *Keeper) queryEligible(q module.QueryRequest) (any, error) {
	netuid, err := k.pocSubnet(q.State, q.Args[0])
	if err != nil {
		return nil, err
	}
	v, _, err := k.EligibleNow(q.State, netuid, q.Args[1])
	if err == nil && v.Candidates == nil {
		v.Candidates = []inference.Candidate{}
	}
	return v, err
}
