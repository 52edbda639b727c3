// Package notes is the example module of docs/modules.md: a signer posts a short note,
// paying a deposit that is burned, and anyone reads it back by address. A real module
// keeps its types (Post, NewPost) in modules/<name> and this keeper in
// modules/<name>/keeper; the example keeps both in one file to be read in one go.
package notes

import (
	"encoding/json"

	"github.com/tessera-net/tessera/keys"
	"github.com/tessera-net/tessera/module"
	"github.com/tessera-net/tessera/store"
	"github.com/tessera-net/tessera/tx"
)

// Name is the module's name; MsgPost its one message type.
const (
	Name    = "notes"
	MsgPost = "notes/post"
)

// Post is the message: the note's text, 1 to 280 bytes.
type Post struct {
	Text string `cbor:"1,keyasint" json:"text"`
}

// NewPost builds a notes/post message.
func NewPost(text string) (tx.Msg, error) { return tx.NewMsg(MsgPost, Post{Text: text}) }

// AccountKeeper is what notes needs of the accounts module (its expected keeper).
type AccountKeeper interface {
	Debit(kv store.KV, who keys.PublicKey, amount uint64) error
}

// Keeper is the module; deposit is what a post burns, in the smallest unit.
type Keeper struct {
	accounts AccountKeeper
	deposit  uint64
}

var prefixNote = []byte("notes/n/") // author → Post

// New returns the module over the accounts it charges.
func New(accounts AccountKeeper, deposit uint64) *Keeper {
	return &Keeper{accounts: accounts, deposit: deposit}
}

// Name implements module.Module.
func (*Keeper) Name() string { return Name }

// InitGenesis implements module.Module: notes start empty.
func (*Keeper) InitGenesis(*module.Context, json.RawMessage) error { return nil }

// Handlers implements module.Module.
func (k *Keeper) Handlers() map[string]module.Handler {
	return map[string]module.Handler{MsgPost: k.post}
}

func (k *Keeper) post(ctx *module.Context, signer keys.PublicKey, msg tx.Msg) error {
	var p Post
	if err := msg.DecodeBody(&p); err != nil {
		return err
	}
	if len(p.Text) == 0 || len(p.Text) > 280 {
		return tx.Errorf(tx.CodeInvalidMessage, "a note holds 1 to 280 bytes, got %d", len(p.Text))
	}
	if err := k.accounts.Debit(ctx.KV, signer, k.deposit); err != nil {
		return err
	}
	ctx.Emit("note_posted", module.Attr("author", signer.String()))
	return module.Put(ctx.KV, module.Key(prefixNote, signer[:]), p)
}

// Queries implements module.Module: "note/<address>".
func (k *Keeper) Queries() map[string]module.Route {
	return map[string]module.Route{"note": {Args: []string{"address"}, Query: k.note}}
}

func (k *Keeper) note(q module.QueryRequest) (any, error) {
	author, err := module.AddressArg(q.Args[0])
	if err != nil {
		return nil, err
	}
	var p Post
	ok, err := module.Get(q.State, module.Key(prefixNote, author[:]), &p)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, tx.Errorf(tx.CodeNotFound, "%s has posted no note", author)
	}
	return p, nil
}
