package client

import (
	"cmp"
	"context"
	"encoding/base64"
	"fmt"
	"slices"
	"time"

	"github.com/tessera-net/tessera/keys"
)

// This file holds the reads a block explorer makes: recent blocks, the validator set, an
// account's transactions.

// MaxListed bounds the blocks or transactions one call of Blocks or AccountTxs returns
// (CometBFT's own page limit).
const MaxListed = 100

// blockchainInfoPage is how many block headers one blockchain RPC call returns.
const blockchainInfoPage = 20

// Blocks reads the limit (1 to MaxListed) newest blocks below height before (0: from
// the latest block), newest first, with their transactions decoded, and returns the
// node's latest height. Blocks the node no longer keeps are left out. A block without
// transactions is read from its header alone.
func (c *Client) Blocks(ctx context.Context, before int64, limit int) ([]BlockView, int64, error) {
	if limit < 1 || limit > MaxListed {
		return nil, 0, fmt.Errorf("%w: limit must be from 1 to %d, not %d", ErrInvalidInput, MaxListed, limit)
	}
	if before < 0 {
		return nil, 0, fmt.Errorf("%w: before must be a positive height, not %d", ErrInvalidInput, before)
	}
	st, err := c.rpc.Status(ctx)
	if err != nil {
		return nil, 0, fmt.Errorf("node status: %w", err)
	}
	latest := st.SyncInfo.LatestBlockHeight
	top := latest
	if before > 0 {
		top = min(top, before-1)
	}
	bottom := max(st.SyncInfo.EarliestBlockHeight, top-int64(limit)+1, 1)
	out := []BlockView{}
	for hi := top; hi >= bottom; hi -= blockchainInfoPage {
		lo := max(bottom, hi-blockchainInfoPage+1)
		info, err := c.rpc.BlockchainInfo(ctx, lo, hi)
		if err != nil {
			return nil, 0, fmt.Errorf("blocks %d to %d: %w", lo, hi, err)
		}
		for _, m := range info.BlockMetas { // newest first
			if m.NumTxs == 0 {
				v := headerView(&m.Header, m.BlockID.Hash.String(), 0)
				v.ResultsReadable = true // there are none to read
				out = append(out, *v)
				continue
			}
			h := m.Header.Height
			b, err := c.rpc.Block(ctx, &h)
			if err != nil {
				return nil, 0, fmt.Errorf("block %d: %w", h, err)
			}
			out = append(out, *c.blockView(ctx, b))
		}
	}
	return out, latest, nil
}

// ValidatorView is one validator of the consensus set.
type ValidatorView struct {
	Address          string    `json:"address"` // the consensus address, as blocks name their proposer
	PubKey           PubKeyRef `json:"pub_key"`
	VotingPower      int64     `json:"voting_power"`
	ProposerPriority int64     `json:"proposer_priority"`
}

// PubKeyRef is a consensus public key: its type ("ed25519") and its bytes in base64.
type PubKeyRef struct {
	Type  string `json:"type"`
	Value string `json:"value"`
}

// ValidatorSet is the consensus validator set at a height.
type ValidatorSet struct {
	Height           int64           `json:"height"`
	Total            int             `json:"total"`
	TotalVotingPower int64           `json:"total_voting_power"`
	Validators       []ValidatorView `json:"validators"`
}

// Validators reads the latest consensus validator set, every page of it.
func (c *Client) Validators(ctx context.Context) (*ValidatorSet, error) {
	out := &ValidatorSet{Validators: []ValidatorView{}}
	perPage := MaxListed
	var height *int64
	for page := 1; ; page++ {
		r, err := c.rpc.Validators(ctx, height, &page, &perPage)
		if err != nil {
			return nil, fmt.Errorf("validators: %w", err)
		}
		// Every page from the height of the first, so that the set is one set.
		h := r.BlockHeight
		height, out.Height, out.Total = &h, h, r.Total
		for _, v := range r.Validators {
			out.Validators = append(out.Validators, ValidatorView{
				Address: v.Address.String(), VotingPower: v.VotingPower, ProposerPriority: v.ProposerPriority,
				PubKey: PubKeyRef{Type: v.PubKey.Type(), Value: base64.StdEncoding.EncodeToString(v.PubKey.Bytes())},
			})
			out.TotalVotingPower += v.VotingPower
		}
		if len(r.Validators) == 0 || len(out.Validators) >= r.Total {
			return out, nil
		}
	}
}

// accountQueries are the transaction index searches whose union is an account's
// transactions: those it signed (the application's "tx" event names the signer of every
// transaction it executed, failed ones too) and the transfers to it.
var accountQueries = []string{"tx.signer='%s'", "transfer.to='%s'"}

// AccountTxs reads the limit (1 to MaxListed) most recent transactions the account
// signed or that transferred to it, newest first, from the node's transaction index.
func (c *Client) AccountTxs(ctx context.Context, pub keys.PublicKey, limit int) ([]TxView, error) {
	if limit < 1 || limit > MaxListed {
		return nil, fmt.Errorf("%w: limit must be from 1 to %d, not %d", ErrInvalidInput, MaxListed, limit)
	}
	seen := map[string]bool{}
	out := []TxView{}
	page := 1
	for _, q := range accountQueries {
		r, err := c.rpc.TxSearch(ctx, fmt.Sprintf(q, pub.String()), false, &page, &limit, "desc")
		if err != nil {
			return nil, fmt.Errorf("transactions of %s: %w", pub, err)
		}
		for _, t := range r.Txs {
			v := txView(t)
			if !seen[v.Hash] {
				seen[v.Hash] = true
				out = append(out, *v)
			}
		}
	}
	slices.SortFunc(out, func(a, b TxView) int {
		return cmp.Or(cmp.Compare(b.Height, a.Height), cmp.Compare(b.Index, a.Index))
	})
	out = out[:min(len(out), limit)]
	c.stampTimes(ctx, out)
	return out, nil
}

// stampTimes sets each transaction's time from its block's header, one read per block;
// a header the node no longer has leaves the time unset.
func (c *Client) stampTimes(ctx context.Context, txs []TxView) {
	times := map[int64]*time.Time{}
	for i := range txs {
		h := txs[i].Height
		t, ok := times[h]
		if !ok {
			if r, err := c.rpc.Header(ctx, &h); err == nil && r.Header != nil {
				t = &r.Header.Time
			}
			times[h] = t
		}
		txs[i].Time = t
	}
}
