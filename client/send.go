package client

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/cometbft/cometbft/mempool"
	rpctypes "github.com/cometbft/cometbft/rpc/jsonrpc/types"

	"github.com/tessera-net/tessera/keys"
	"github.com/tessera-net/tessera/modules/accounts"
	"github.com/tessera-net/tessera/tx"
)

// TxError is a transaction the node refused (in CheckTx) or that failed in its block.
// Log starts with the name of Code ("stale_nonce: …"), as the application writes it.
type TxError struct {
	Hash   string
	Code   tx.Code
	Log    string
	Height int64 // 0 when refused before reaching a block
}

// Error says where the transaction failed and why.
func (e *TxError) Error() string {
	if e.Height > 0 {
		return fmt.Sprintf("transaction %s failed in block %d: %s", e.Hash, e.Height, e.Log)
	}
	return fmt.Sprintf("transaction %s refused: %s", e.Hash, e.Log)
}

// Broadcast submits signed transaction bytes and returns the hash once the node has
// accepted it into its mempool. A refusal is a *TxError; bytes the node has already seen
// (pending or committed) are a *TxError with tx.CodeConflict.
func (c *Client) Broadcast(ctx context.Context, raw []byte) (string, error) {
	r, err := c.rpc.BroadcastTxSync(ctx, raw)
	if err != nil {
		if inMempoolCache(err) {
			// The node has seen these exact bytes: pending in its mempool or committed.
			hash := fmt.Sprintf("%X", sha256.Sum256(raw))
			seen := tx.Errorf(tx.CodeConflict, "the node has already seen this exact transaction (a replay, or a resubmission of one still pending)")
			return hash, &TxError{Hash: hash, Code: tx.CodeConflict, Log: seen.Error()}
		}
		return "", fmt.Errorf("broadcast: %w", err)
	}
	hash := r.Hash.String()
	if r.Code != 0 {
		return hash, &TxError{Hash: hash, Code: tx.Code(r.Code), Log: r.Log}
	}
	return hash, nil
}

// jsonRPCInternalError is the JSON-RPC code CometBFT's RPC server gives an error its
// handler returned.
const jsonRPCInternalError = -32603

// inMempoolCache reports whether a broadcast failed because the node's mempool cache holds
// these exact bytes (CometBFT's mempool.ErrTxInCache). In process the error is that
// sentinel. Over HTTP it arrives as the JSON-RPC internal error whose data is the text of
// the sentinel, the only form the RPC gives it: that text is compared here, exactly.
func inMempoolCache(err error) bool {
	if errors.Is(err, mempool.ErrTxInCache) {
		return true
	}
	var re *rpctypes.RPCError
	return errors.As(err, &re) && re.Code == jsonRPCInternalError && re.Data == mempool.ErrTxInCache.Error()
}

// WaitTx polls until the transaction is in a committed block or ctx ends. A transaction
// that failed in its block is returned with a *TxError.
func (c *Client) WaitTx(ctx context.Context, hash string) (*TxView, error) {
	return c.WaitTxWithin(ctx, hash, 0)
}

// ErrNotCommitted is a transaction the mempool accepted that reached no block within the
// blocks WaitTxWithin allowed: a recheck after each block evicts a transaction that no
// longer passes, and with it every later nonce of its key, and a full mempool may hold
// one back. The transaction may still commit later; a caller that sends it again must
// be one whose second copy the chain refuses or ignores.
var ErrNotCommitted = errors.New("not committed")

// WaitTxWithin is WaitTx that gives up once the chain is more than blocks past the height
// it first read (0 waits as long as ctx lets it), with an error that wraps
// ErrNotCommitted.
func (c *Client) WaitTxWithin(ctx context.Context, hash string, blocks int64) (*TxView, error) {
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	var from int64
	for {
		v, err := c.Tx(ctx, hash)
		if err == nil {
			if v.Code != 0 {
				return v, &TxError{Hash: hash, Code: tx.Code(v.Code), Log: v.Log, Height: v.Height}
			}
			return v, nil
		}
		if !errors.Is(err, ErrNotFound) {
			return nil, err
		}
		if blocks > 0 {
			h, err := c.AppHeight(ctx)
			if err != nil {
				return nil, err
			}
			if from == 0 {
				from = h
			} else if h > from+blocks {
				return nil, fmt.Errorf("transaction %s: %w in blocks %d to %d (dropped from the mempool?)", hash, ErrNotCommitted, from+1, h)
			}
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("transaction %s not committed: %w", hash, ctx.Err())
		case <-tick.C:
		}
	}
}

// Signer builds and signs transactions for one key, tracking its nonce. It is safe for
// concurrent use: Sign, and Submit's signing and broadcast, hold its lock, so the
// transactions that goroutines of one process submit for the key take consecutive nonces
// in the order they reach the node (a service's loops often share one key).
type Signer struct {
	mu      sync.Mutex
	c       *Client
	pair    *keys.Pair
	nonce   uint64
	known   bool
	Fee     uint64 // the fee to pay; 0 uses the chain's minimum
	chainID string
	// OnStaleNonce, when set, is told before Submit signs a transaction again because
	// the nonce it used was taken by another transaction of the same key (elsewhere: this
	// signer's own goroutines take turns). It runs under the signer's lock and must not
	// use the signer.
	OnStaleNonce func(StaleNonceRetry)
}

// StaleNonceRetry describes Submit's second attempt: Used was taken meanwhile (the key
// signs elsewhere too), Next is the nonce the transaction is signed with again.
type StaleNonceRetry struct {
	Used, Next uint64
}

// Signer returns a signer for the key.
func (c *Client) Signer(pair *keys.Pair) *Signer { return &Signer{c: c, pair: pair} }

// Sign builds and signs a transaction carrying msg with the next nonce: the first one is
// read from the node's mempool state (Client.NextNonce), later ones count up from it.
func (s *Signer) Sign(ctx context.Context, msg tx.Msg) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sign(ctx, msg)
}

func (s *Signer) sign(ctx context.Context, msg tx.Msg) ([]byte, error) {
	if s.chainID == "" {
		id, err := s.c.ChainID(ctx)
		if err != nil {
			return nil, err
		}
		s.chainID = id
	}
	if !s.known {
		if err := s.loadNonce(ctx); err != nil {
			return nil, err
		}
	}
	if s.Fee == 0 {
		var p accounts.Params
		if _, err := s.c.Query(ctx, "/accounts/params", 0, &p); err != nil {
			return nil, err
		}
		s.Fee = p.MinFee
	}
	raw, err := tx.Sign(s.pair, tx.Envelope{ChainID: s.chainID, Nonce: s.nonce, Fee: s.Fee, Msg: msg})
	if err != nil {
		return nil, err
	}
	s.nonce++
	return raw, nil
}

// Submit signs msg and broadcasts it, returning its hash once the node's mempool accepted
// it. A refusal makes the next Sign read the nonce afresh. A refusal for a stale nonce —
// another transaction of the same key took it between the read and the broadcast — is
// retried once with the nonce read afresh, OnStaleNonce told first; so is one for a
// future nonce — an earlier transaction of this signer's left the mempool unrun, and the
// nonce it held is free again. A second refusal is returned as the *TxError it is.
func (s *Signer) Submit(ctx context.Context, msg tx.Msg) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	hash, used, err := s.submitOnce(ctx, msg)
	var te *TxError
	if !errors.As(err, &te) || (te.Code != tx.CodeStaleNonce && te.Code != tx.CodeFutureNonce) {
		return hash, err
	}
	if nerr := s.loadNonce(ctx); nerr != nil {
		return hash, err
	}
	if te.Code == tx.CodeStaleNonce && s.nonce <= used {
		// The refusal says the chain has counted past used; a mempool state read between
		// a Commit and the end of the recheck can count fewer pending transactions than
		// CheckTx does (app/mempool.go), so the read alone could hand back used again.
		s.nonce = used + 1
	}
	if s.OnStaleNonce != nil && te.Code == tx.CodeStaleNonce {
		s.OnStaleNonce(StaleNonceRetry{Used: used, Next: s.nonce})
	}
	hash, _, err = s.submitOnce(ctx, msg)
	return hash, err
}

// loadNonce reads the key's next nonce from the node's mempool state.
func (s *Signer) loadNonce(ctx context.Context) error {
	n, err := s.c.NextNonce(ctx, s.pair.Public())
	if err != nil {
		return err
	}
	s.nonce, s.known = n, true
	return nil
}

// submitOnce signs and broadcasts msg once and returns the hash and the nonce it used.
func (s *Signer) submitOnce(ctx context.Context, msg tx.Msg) (string, uint64, error) {
	raw, err := s.sign(ctx, msg)
	if err != nil {
		return "", 0, err
	}
	used := s.nonce - 1
	hash, err := s.c.Broadcast(ctx, raw)
	if err != nil {
		s.known = false
	}
	return hash, used, err
}

// Send submits msg (Submit) and waits for it to be committed.
func (s *Signer) Send(ctx context.Context, msg tx.Msg) (*TxView, error) {
	hash, err := s.Submit(ctx, msg)
	if err != nil {
		return nil, err
	}
	return s.c.WaitTx(ctx, hash)
}

// CommitWithin is how many blocks SendAll waits for each transaction after the first
// it finds missing: a transaction in the mempool is normally in the next block or two.
const CommitWithin = 20

// SendAll submits every message, each its own transaction with consecutive nonces, then
// waits for each to be committed, within CommitWithin blocks; it returns their views, or
// the first refusal or failure. A transaction that was not committed in time (an
// error wrapping ErrNotCommitted) makes the next Sign read the nonce afresh, since
// the mempool evicts a dropped transaction's successors too.
func (s *Signer) SendAll(ctx context.Context, msgs ...tx.Msg) ([]*TxView, error) {
	hashes := make([]string, 0, len(msgs))
	for _, m := range msgs {
		h, err := s.Submit(ctx, m)
		if err != nil {
			return nil, err
		}
		hashes = append(hashes, h)
	}
	views := make([]*TxView, 0, len(hashes))
	for _, h := range hashes {
		v, err := s.c.WaitTxWithin(ctx, h, CommitWithin)
		if errors.Is(err, ErrNotCommitted) {
			s.mu.Lock()
			s.known = false
			s.mu.Unlock()
		}
		if err != nil {
			return views, err
		}
		views = append(views, v)
	}
	return views, nil
}
