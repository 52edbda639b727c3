package keeper

import (
	"crypto/ed25519"
	"encoding/hex"
	"fmt"
	"strings"

	abci "github.com/cometbft/cometbft/abci/types"

	"github.com/tessera-net/tessera/keys"
	"github.com/tessera-net/tessera/module"
	"github.com/tessera-net/tessera/modules/stake"
	"github.com/tessera-net/tessera/store"
	"github.com/tessera-net/tessera/tx"
)

// Block authors (research/dtao.md §4: the staking fee goes to the block author, burned if
// there is none). A block names its proposer by CometBFT consensus address (20 bytes,
// module.Context.Proposer); the chain maps it to an account when the holder of the
// consensus key binds it (stake/set_author, or the stake genesis's authors). The TAO fee
// of a stake operation in a block then goes to that account's free balance; with no
// binding, or no proposer (CheckTx, tests), it is recycled as before. Either way
// conservation holds: a fee paid is TAO that moves from the payer's balance or a pool's
// reserve to another balance (Issuance = balances + root stake + reserves is unchanged);
// a fee recycled leaves the issuance with it.
var prefixAuthor = []byte("stk/au/") // consensus address (20 bytes) → account (32 bytes)

// AuthorOf is the account the block fees of a consensus address go to.
func (sk *Keeper) AuthorOf(r store.Reader, consAddr []byte) (keys.PublicKey, bool, error) {
	if len(consAddr) != stake.ConsensusAddressSize {
		return keys.PublicKey{}, false, nil
	}
	b, err := r.Get(module.Key(prefixAuthor, consAddr))
	if err != nil || len(b) != keys.PublicKeySize {
		return keys.PublicKey{}, false, err
	}
	return keys.PublicKey(b), true, nil
}

// bindAuthor stores consensus key pub's binding to account and emits author_bound (with
// the account it replaces, if any).
func (sk *Keeper) bindAuthor(ctx *module.Context, pub []byte, account keys.PublicKey) error {
	addr := stake.ConsensusAddress(pub)
	prev, had, err := sk.AuthorOf(ctx.KV, addr)
	if err != nil {
		return err
	}
	if err := ctx.KV.Set(module.Key(prefixAuthor, addr), account[:]); err != nil {
		return err
	}
	attrs := []abci.EventAttribute{module.Attr("consensus_address", strings.ToUpper(hex.EncodeToString(addr))), module.Attr("account", account.String())}
	if had && prev != account {
		attrs = append(attrs, module.Attr("replaces", prev.String()))
	}
	ctx.Emit("author_bound", attrs...)
	return nil
}

// setAuthor is stake/set_author: the consensus key's signature of
// stake.AuthorSignBytes(chain id, signer) binds the key's address to the signer.
func (sk *Keeper) setAuthor(ctx *module.Context, signer keys.PublicKey, msg tx.Msg) error {
	var m stake.SetAuthor
	if err := msg.DecodeBody(&m); err != nil {
		return err
	}
	if len(m.PubKey) != stake.ConsensusPubKeySize {
		return tx.Errorf(tx.CodeInvalidMessage, "pub_key is %d bytes, want a %d-byte ed25519 consensus public key", len(m.PubKey), stake.ConsensusPubKeySize)
	}
	if len(m.Signature) != stake.AuthorSignatureSize {
		return tx.Errorf(tx.CodeInvalidMessage, "signature is %d bytes, want a %d-byte ed25519 signature", len(m.Signature), stake.AuthorSignatureSize)
	}
	if !ed25519.Verify(ed25519.PublicKey(m.PubKey), stake.AuthorSignBytes(ctx.ChainID, signer), m.Signature) {
		return tx.Errorf(tx.CodeUnauthorized, "the signature of consensus key %X does not verify for account %s on chain %q (it must sign %q ‖ chain id ‖ the account's public key)",
			m.PubKey, signer, ctx.ChainID, stake.AuthorDomain)
	}
	return sk.bindAuthor(ctx, m.PubKey, signer)
}

// payAuthor pays a staking operation's TAO fee to the block's author (the account bound
// to ctx.Proposer), or recycles it when there is none.
func (sk *Keeper) payAuthor(ctx *module.Context, fee uint64) error {
	author, ok, err := sk.AuthorOf(ctx.KV, ctx.Proposer)
	if err != nil {
		return err
	}
	if !ok || fee == 0 {
		return sk.Recycle(ctx.KV, fee)
	}
	if err := sk.accounts.Credit(ctx.KV, author, fee); err != nil {
		return err
	}
	ctx.Emit("author_fee", module.Attr("account", author.String()), module.Attr("amount", u64s(fee)))
	return nil
}

// initAuthors binds each of the stake genesis's "authors".
func (sk *Keeper) initAuthors(ctx *module.Context, authors []stake.GenesisAuthor) error {
	seen := map[string]bool{}
	for i, a := range authors {
		if len(a.PubKey) != stake.ConsensusPubKeySize {
			return fmt.Errorf("stake genesis authors[%d]: pub_key is %d bytes, want %d", i, len(a.PubKey), stake.ConsensusPubKeySize)
		}
		acct, err := keys.ParsePublicKey(a.Account)
		if err != nil {
			return fmt.Errorf("stake genesis authors[%d]: account: %w", i, err)
		}
		if seen[string(a.PubKey)] {
			return fmt.Errorf("stake genesis authors[%d]: consensus key %X is listed twice", i, a.PubKey)
		}
		seen[string(a.PubKey)] = true
		if err := sk.bindAuthor(ctx, a.PubKey, acct); err != nil {
			return err
		}
	}
	return nil
}

func authorView(addr []byte, acct keys.PublicKey) stake.AuthorView {
	return stake.AuthorView{ConsensusAddress: strings.ToUpper(hex.EncodeToString(addr)), Account: acct.String()}
}

// queryAuthor answers "author/<consensus address>" (hex, 20 bytes).
func (sk *Keeper) queryAuthor(q module.QueryRequest) (any, error) {
	addr, err := hex.DecodeString(strings.TrimPrefix(strings.TrimPrefix(q.Args[0], "0x"), "0X"))
	if err != nil || len(addr) != stake.ConsensusAddressSize {
		return nil, tx.Errorf(tx.CodeInvalidMessage, "consensus address %q is not %d bytes of hex", q.Args[0], stake.ConsensusAddressSize)
	}
	acct, ok, err := sk.AuthorOf(q.State, addr)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, tx.Errorf(tx.CodeNotFound, "consensus address %X is bound to no account: its blocks' staking fees are recycled", addr)
	}
	return authorView(addr, acct), nil
}

// queryAuthors answers "authors": every binding, by consensus address.
func (sk *Keeper) queryAuthors(q module.QueryRequest) (any, error) {
	out := []stake.AuthorView{}
	err := q.State.Iterate(prefixAuthor, func(k, v []byte) (bool, error) {
		if len(v) == keys.PublicKeySize {
			out = append(out, authorView(k[len(prefixAuthor):], keys.PublicKey(v)))
		}
		return true, nil
	})
	return out, err
}
