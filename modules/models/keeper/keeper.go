// Package keeper is the model registry's state (its types are in package models above).
// Its writers are the governance actions it registers (Actions): no message of its own
// changes a model or a parameter.
package keeper

import (
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/tessera-net/tessera/keys"
	"github.com/tessera-net/tessera/module"
	govkeeper "github.com/tessera-net/tessera/modules/gov/keeper"
	"github.com/tessera-net/tessera/modules/models"
	"github.com/tessera-net/tessera/store"
	"github.com/tessera-net/tessera/tx"
)

var (
	keyParams   = []byte("mdl/params")
	keyCount    = []byte("mdl/count")
	prefixModel = []byte("mdl/m/") // id → record
)

// record is a model as stored.
type record struct {
	Spec          models.Spec `cbor:"1,keyasint"`
	Creator       []byte      `cbor:"2,keyasint,omitempty"`
	Proposal      uint64      `cbor:"3,keyasint"`
	LastProposal  uint64      `cbor:"4,keyasint"`
	AddedHeight   int64       `cbor:"5,keyasint"`
	UpdatedHeight int64       `cbor:"6,keyasint"`
}

func (r *record) view() models.ModelView {
	v := models.ModelView{Spec: r.Spec, Proposal: r.Proposal, LastProposal: r.LastProposal, AddedHeight: r.AddedHeight, UpdatedHeight: r.UpdatedHeight}
	if v.Args == nil {
		v.Args = []string{}
	}
	if len(r.Creator) == keys.PublicKeySize {
		v.Creator = keys.PublicKey(r.Creator).String()
	}
	return v
}

// Keeper is the model registry.
type Keeper struct{}

// New returns the registry's keeper.
func New() *Keeper { return &Keeper{} }

// Name implements module.Module.
func (*Keeper) Name() string { return models.Name }

// Params reads the inference parameters.
func (*Keeper) Params(r store.Reader) (models.Params, error) {
	p := models.DefaultParams()
	_, err := module.Get(r, keyParams, &p)
	return p, err
}

func modelKey(id string) []byte { return module.Key(prefixModel, []byte(id)) }

// Model reads one model.
func (*Keeper) Model(r store.Reader, id string) (models.ModelView, bool, error) {
	var rec record
	ok, err := module.Get(r, modelKey(id), &rec)
	if err != nil || !ok {
		return models.ModelView{}, ok, err
	}
	return rec.view(), true, nil
}

// Models lists the registry in id order.
func (*Keeper) Models(r store.Reader) ([]models.ModelView, error) {
	out := []models.ModelView{}
	err := r.Iterate(prefixModel, func(_, val []byte) (bool, error) {
		var rec record
		if err := tx.UnmarshalState(val, &rec); err != nil {
			return false, err
		}
		out = append(out, rec.view())
		return true, nil
	})
	return out, err
}

// InitGenesis implements module.Module: the parameters and the initial models.
func (k *Keeper) InitGenesis(ctx *module.Context, raw json.RawMessage) error {
	var g models.Genesis
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &g); err != nil {
			return fmt.Errorf("models genesis: %w", err)
		}
	}
	p := models.DefaultParams()
	if g.Params != nil {
		p = *g.Params
	}
	if err := p.Validate(); err != nil {
		return fmt.Errorf("models genesis: %w", err)
	}
	if err := module.Put(ctx.KV, keyParams, p); err != nil {
		return err
	}
	for i := range g.Models {
		if err := k.add(ctx, govkeeper.Origin{}, g.Models[i]); err != nil {
			return fmt.Errorf("models genesis: model %d: %w", i+1, err)
		}
	}
	return nil
}

// Handlers implements module.Module: none, the registry changes only by governance.
func (*Keeper) Handlers() map[string]module.Handler { return map[string]module.Handler{} }

// checkAdd is models/add's rule against the state r.
func (*Keeper) checkAdd(r store.Reader, s *models.Spec) error {
	if err := s.Validate(); err != nil {
		return err
	}
	if b, err := r.Get(modelKey(s.ID)); err != nil {
		return err
	} else if b != nil {
		return tx.Errorf(tx.CodeConflict, "model %s already exists (change it with %s)", s.ID, models.ActionUpdate)
	}
	n, err := module.GetUint64(r, keyCount)
	if err != nil {
		return err
	}
	if n >= models.MaxModels {
		return tx.Errorf(tx.CodeConflict, "the registry holds %d models, the limit", n)
	}
	return nil
}

func (k *Keeper) add(ctx *module.Context, o govkeeper.Origin, s models.Spec) error {
	if err := k.checkAdd(ctx.KV, &s); err != nil {
		return err
	}
	rec := record{Spec: s, Proposal: o.Proposal, LastProposal: o.Proposal, AddedHeight: ctx.Height, UpdatedHeight: ctx.Height}
	if o.Proposal != 0 {
		rec.Creator = o.Proposer[:]
	}
	if err := module.Put(ctx.KV, modelKey(s.ID), rec); err != nil {
		return err
	}
	n, err := module.GetUint64(ctx.KV, keyCount)
	if err != nil {
		return err
	}
	if err := module.PutUint64(ctx.KV, keyCount, n+1); err != nil {
		return err
	}
	ctx.Emit("model_added", module.Attr("id", s.ID), module.Attr("proposal", strconv.FormatUint(o.Proposal, 10)))
	return nil
}

// checkUpdate is models/update's rule against the state r.
func (*Keeper) checkUpdate(r store.Reader, s *models.Spec) (*record, error) {
	if err := models.ValidateID(s.ID); err != nil {
		return nil, err
	}
	var rec record
	ok, err := module.Get(r, modelKey(s.ID), &rec)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, tx.Errorf(tx.CodeNotFound, "model %s does not exist (add it with %s)", s.ID, models.ActionAdd)
	}
	return &rec, s.Validate()
}

// Actions are the governance action handlers the registry owns, by action type
// (modules.Builtin registers them with the gov keeper).
func (k *Keeper) Actions() map[string]govkeeper.ActionHandler {
	return map[string]govkeeper.ActionHandler{
		models.ActionAdd:    addAction{k},
		models.ActionUpdate: updateAction{k},
		models.ActionParams: paramsAction{k},
	}
}

type addAction struct{ k *Keeper }

func (addAction) decode(a tx.Msg) (models.Add, error) {
	var b models.Add
	return b, a.DecodeBody(&b)
}

func (h addAction) Validate(ctx *module.Context, a tx.Msg) error {
	b, err := h.decode(a)
	if err != nil {
		return err
	}
	return h.k.checkAdd(ctx.KV, &b.Model)
}

func (h addAction) Execute(ctx *module.Context, o govkeeper.Origin, a tx.Msg) error {
	b, err := h.decode(a)
	if err != nil {
		return err
	}
	return h.k.add(ctx, o, b.Model)
}

func (h addAction) View(a tx.Msg) (any, error) { return h.decode(a) }

type updateAction struct{ k *Keeper }

func (updateAction) decode(a tx.Msg) (models.Update, error) {
	var b models.Update
	return b, a.DecodeBody(&b)
}

func (h updateAction) Validate(ctx *module.Context, a tx.Msg) error {
	b, err := h.decode(a)
	if err != nil {
		return err
	}
	_, err = h.k.checkUpdate(ctx.KV, &b.Model)
	return err
}

func (h updateAction) Execute(ctx *module.Context, o govkeeper.Origin, a tx.Msg) error {
	b, err := h.decode(a)
	if err != nil {
		return err
	}
	rec, err := h.k.checkUpdate(ctx.KV, &b.Model)
	if err != nil {
		return err
	}
	rec.Spec, rec.LastProposal, rec.UpdatedHeight = b.Model, o.Proposal, ctx.Height
	if err := module.Put(ctx.KV, modelKey(b.Model.ID), rec); err != nil {
		return err
	}
	ctx.Emit("model_updated", module.Attr("id", b.Model.ID), module.Attr("proposal", strconv.FormatUint(o.Proposal, 10)))
	return nil
}

func (h updateAction) View(a tx.Msg) (any, error) { return h.decode(a) }

type paramsAction struct{ k *Keeper }

func (paramsAction) decode(a tx.Msg) (models.SetParams, error) {
	var b models.SetParams
	if err := a.DecodeBody(&b); err != nil {
		return b, err
	}
	return b, b.Params.Validate()
}

func (h paramsAction) Validate(_ *module.Context, a tx.Msg) error {
	_, err := h.decode(a)
	return err
}

func (h paramsAction) Execute(ctx *module.Context, o govkeeper.Origin, a tx.Msg) error {
	b, err := h.decode(a)
	if err != nil {
		return err
	}
	ctx.Emit("models_params", module.Attr("proposal", strconv.FormatUint(o.Proposal, 10)))
	return module.Put(ctx.KV, keyParams, b.Params)
}

func (h paramsAction) View(a tx.Msg) (any, error) { return h.decode(a) }

// Queries implements module.Module: "list" (every model, in id order), "model/<id>",
// "pricing" (each model's price per token) and "params".
func (k *Keeper) Queries() map[string]module.Route {
	return map[string]module.Route{
		"list":   {Query: func(q module.QueryRequest) (any, error) { return k.Models(q.State) }},
		"params": {Query: func(q module.QueryRequest) (any, error) { return k.Params(q.State) }},
		"model": {Args: []string{"id"}, Query: func(q module.QueryRequest) (any, error) {
			if err := models.ValidateID(q.Args[0]); err != nil {
				return nil, err
			}
			v, ok, err := k.Model(q.State, q.Args[0])
			if err == nil && !ok {
				err = tx.Errorf(tx.CodeNotFound, "model %s does not exist", q.Args[0])
			}
			return v, err
		}},
		"pricing": {Query: func(q module.QueryRequest) (any, error) {
			ms, err := k.Models(q.State)
			out := make([]models.PriceView, 0, len(ms))
			for _, m := range ms {
				out = append(out, models.PriceView{ID: m.ID, PricePerToken: m.PricePerToken})
			}
			return out, err
		}},
	}
}
