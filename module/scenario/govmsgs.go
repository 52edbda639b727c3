package scenario

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/tessera-net/tessera/modules/gov"
	"github.com/tessera-net/tessera/modules/models"
	"github.com/tessera-net/tessera/tx"
)

// GovMsgs are the governance module's messages, with the model registry's actions:
//
//	propose deposit=TOKENS [title=WORD] actions=ACTION[+ACTION...]
//	vote proposal=N option=yes|no|abstain
//	msg type=TYPE                      a message of any type, empty body
//
// An ACTION is written with colons:
//
//	add:ID[:FIELD:VALUE]      models/add of TestModel(ID), one field changed
//	update:ID[:FIELD:VALUE]   models/update of TestModel(ID), one field changed
//	params[:FIELD:VALUE...]   models/params of the default parameters, the fields named changed
//	gov_params[:FIELD:VALUE]  gov/params of the default parameters, one changed
//	type:NAME                 an action of type NAME with an empty body
//
// FIELD is a JSON field name of models.Spec (poc fields as poc.heads, …) or of the
// parameters; for a string field VALUE may be "len=N", N copies of "x"; model_args takes
// a count ("model_args:40" makes 40 arguments).
func GovMsgs() MsgBuilders {
	return MsgBuilders{"propose": buildPropose, "vote": buildVote, "msg": buildRawMsg}
}

// buildRawMsg is "msg type=TYPE": a message of any type with an empty body, to show that
// no module handles it.
func buildRawMsg(a *Args) (tx.Msg, error) {
	typ, err := a.String("type")
	if err != nil {
		return tx.Msg{}, err
	}
	return tx.Msg{Type: typ, Body: []byte{0xa0}}, nil
}

func buildVote(a *Args) (tx.Msg, error) {
	id, err := a.Uint("proposal", 64)
	if err != nil {
		return tx.Msg{}, err
	}
	s, err := a.String("option")
	if err != nil {
		return tx.Msg{}, err
	}
	o, ok := gov.ParseOption(s)
	if !ok {
		o = gov.Option(9) // sent as is, for the chain to refuse
	}
	return gov.NewVote(id, o)
}

func buildPropose(a *Args) (tx.Msg, error) {
	dep, err := a.Amount("deposit")
	if err != nil {
		return tx.Msg{}, err
	}
	title := "proposal"
	if a.Has("title") {
		if title, err = a.String("title"); err != nil {
			return tx.Msg{}, err
		}
		title = expandLen(title)
	}
	spec, err := a.String("actions")
	if err != nil {
		return tx.Msg{}, err
	}
	var actions []gov.Action
	for _, s := range strings.Split(spec, "+") {
		act, err := buildAction(s)
		if err != nil {
			return tx.Msg{}, fmt.Errorf("%w: action %q: %v", ErrBadArg, s, err)
		}
		actions = append(actions, act)
	}
	return gov.NewSubmit(title, "", dep, actions)
}

// TestModel is the model the scenarios' add and update actions start from: a real shape
// for its Proof of Compute (the engine's "tiny" preset).
func TestModel(id string) models.Spec {
	return models.Spec{ID: id, Name: "Test model", Version: "1", HFRepo: "tessera/test-model", HFCommit: strings.Repeat("a", 40),
		Quantization: "int8", ContextSize: 4096, KVCacheQuant: "fp8", Args: []string{"--max-model-len=4096"}, VRAMGB: 24,
		ThroughputPerNonce: 1000, PricePerToken: 10,
		PoC: models.PoC{Layers: 2, Width: 64, Heads: 4, KVHeads: 2, FFN: 128, Vocab: 512, SeqLen: 256}}
}

func expandLen(v string) string {
	if n, ok := strings.CutPrefix(v, "len="); ok {
		if k, err := strconv.Atoi(n); err == nil && k >= 0 && k < 1<<20 {
			return strings.Repeat("x", k)
		}
	}
	return v
}

func buildAction(s string) (gov.Action, error) {
	parts := strings.Split(s, ":")
	field, value := "", ""
	rest := parts[1:]
	switch parts[0] {
	case "add", "update":
		if len(rest) == 0 {
			return gov.Action{}, fmt.Errorf("want %s:ID", parts[0])
		}
		m := TestModel(expandLen(rest[0]))
		if len(rest) == 3 {
			field, value = rest[1], rest[2]
		} else if len(rest) != 1 {
			return gov.Action{}, fmt.Errorf("want %s:ID[:FIELD:VALUE]", parts[0])
		}
		if field != "" {
			if err := setSpec(&m, field, value); err != nil {
				return gov.Action{}, err
			}
		}
		if parts[0] == "add" {
			return models.NewAddAction(m)
		}
		return models.NewUpdateAction(m)
	case "params":
		p := models.DefaultParams()
		if len(rest)%2 != 0 {
			return gov.Action{}, fmt.Errorf("want params[:FIELD:VALUE...]")
		}
		fields := map[string]any{"coverage_bonus_ppm": &p.CoverageBonusPPM, "epoch_blocks": &p.EpochBlocks, "poc_blocks": &p.PoCBlocks,
			"poc_exchange_blocks": &p.PoCExchange, "validation_blocks": &p.ValidationBlocks, "validation_exchange_blocks": &p.ValidationXchg,
			"model_loading_blocks": &p.LoadingBlocks, "validation_sample": &p.ValidationSample, "max_preserved_epochs": &p.MaxPreservedEpochs,
			"poc_threshold": &p.PoCThreshold}
		for i := 0; i < len(rest); i += 2 {
			if err := setUint(fields, rest[i], rest[i+1]); err != nil {
				return gov.Action{}, err
			}
		}
		return models.NewParamsAction(p)
	case "gov_params":
		p := gov.DefaultParams()
		if len(rest) == 2 {
			if err := setUint(map[string]any{"voting_period": &p.VotingPeriod, "quorum": &p.Quorum, "threshold": &p.Threshold,
				"min_deposit": &p.MinDeposit}, rest[0], rest[1]); err != nil {
				return gov.Action{}, err
			}
		}
		return gov.NewParamsAction(p)
	case "type":
		if len(rest) != 1 {
			return gov.Action{}, fmt.Errorf("want type:NAME")
		}
		return gov.Action{Type: rest[0], Body: []byte{0xa0}}, nil
	}
	return gov.Action{}, fmt.Errorf("unknown action %q (add, update, params, gov_params, type)", parts[0])
}

func setSpec(m *models.Spec, field, value string) error {
	strs := map[string]*string{"id": &m.ID, "name": &m.Name, "version": &m.Version, "hf_repo": &m.HFRepo, "hf_commit": &m.HFCommit,
		"quantization": &m.Quantization, "kv_cache_quantization": &m.KVCacheQuant}
	if p, ok := strs[field]; ok {
		*p = expandLen(value)
		return nil
	}
	if field == "model_args" {
		n, err := strconv.Atoi(value)
		if err != nil || n < 0 || n > 1000 {
			return fmt.Errorf("model_args takes a count")
		}
		m.Args = make([]string, n)
		for i := range m.Args {
			m.Args[i] = "--arg"
		}
		return nil
	}
	return setUint(map[string]any{"context_size": &m.ContextSize, "vram_gb": &m.VRAMGB, "throughput_per_nonce": &m.ThroughputPerNonce,
		"price_per_token": &m.PricePerToken, "poc.layers": &m.PoC.Layers, "poc.width": &m.PoC.Width, "poc.heads": &m.PoC.Heads,
		"poc.kv_heads": &m.PoC.KVHeads, "poc.ffn": &m.PoC.FFN, "poc.vocab": &m.PoC.Vocab, "poc.seq_len": &m.PoC.SeqLen}, field, value)
}

func setUint(fields map[string]any, field, value string) error {
	p, ok := fields[field]
	if !ok {
		return fmt.Errorf("unknown field %q", field)
	}
	v, err := strconv.ParseUint(value, 10, 64)
	if err != nil {
		return fmt.Errorf("%s=%q is not a number", field, value)
	}
	switch p := p.(type) {
	case *uint16:
		*p = uint16(v)
	case *uint32:
		*p = uint32(v)
	case *uint64:
		*p = v
	}
	return nil
}
