package client

import (
	"context"
	"encoding/hex"
	"fmt"
)

// Refusal is an entry of a committed inference batch (a start, finish, check or vote)
// that the chain refused: the transaction succeeded, the entry changed nothing.
type Refusal struct {
	ID     string `json:"id"` // the record's, 64 hex digits
	Height int64  `json:"height"`
	Tx     string `json:"tx"`
	Code   string `json:"code"`
	Reason string `json:"reason"`
}

// InferenceRefusals reads from the node's transaction index the refusals of record id's
// entries, oldest first: why a served request has no record (its start refused: the
// executor no longer eligible, the user unable to pay, …), or why a finish, check or
// vote of it did not count. At most MaxListed are read.
func (c *Client) InferenceRefusals(ctx context.Context, id [32]byte) ([]Refusal, error) {
	hexID := hex.EncodeToString(id[:])
	page, per := 1, MaxListed
	r, err := c.rpc.TxSearch(ctx, fmt.Sprintf("inference_refused.id='%s'", hexID), false, &page, &per, "asc")
	if err != nil {
		return nil, fmt.Errorf("refusals of %s: %w", hexID, err)
	}
	out := []Refusal{}
	for _, t := range r.Txs {
		for _, rf := range txView(t).Refusals() {
			if rf.ID == hexID {
				out = append(out, rf)
			}
		}
	}
	return out, nil
}

// Refusals are the entries of committed transaction v that the chain refused (its
// inference_refused events).
func (v *TxView) Refusals() []Refusal {
	var out []Refusal
	for _, ev := range v.Events {
		if a := ev.Attributes; ev.Type == "inference_refused" {
			out = append(out, Refusal{ID: a["id"], Height: v.Height, Tx: v.Hash, Code: a["code"], Reason: a["reason"]})
		}
	}
	return out
}
