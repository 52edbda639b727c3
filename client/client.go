// Package client talks to a Tessera node through CometBFT's RPC: it reads accounts,
// blocks and transactions into plain views, and builds, signs, broadcasts and waits for
// transactions. The same code serves the CLI (over HTTP) and in-process users such as the
// node's JSON API and the devnet (over the local client).
package client

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"
	rpcclient "github.com/cometbft/cometbft/rpc/client"
	rpchttp "github.com/cometbft/cometbft/rpc/client/http"
	ctypes "github.com/cometbft/cometbft/rpc/core/types"
	jsonrpcclient "github.com/cometbft/cometbft/rpc/jsonrpc/client"
	cmttypes "github.com/cometbft/cometbft/types"
	"github.com/fxamacker/cbor/v2"

	"github.com/tessera-net/tessera/keys"
	"github.com/tessera-net/tessera/modules/accounts"
	"github.com/tessera-net/tessera/tx"
)

// Client reads from and sends to one node.
type Client struct {
	rpc rpcclient.Client

	chainID string // cached after the first lookup
}

// New wraps an RPC client (rpchttp or rpclocal).
func New(rpc rpcclient.Client) *Client { return &Client{rpc: rpc} }

// Dial connects to a node's RPC address: "tcp://host:port", "http://host:port" or
// "host:port". An address that answers HTTP but not JSON-RPC (a node's JSON API port)
// makes every call fail with a *NotRPCError.
func Dial(addr string) (*Client, error) {
	if addr == "" {
		return nil, errors.New("no node address given")
	}
	if !strings.Contains(addr, "://") {
		addr = "tcp://" + addr
	}
	u, err := url.Parse(addr)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("node address %q is not host:port or tcp://host:port", addr)
	}
	hc, err := jsonrpcclient.DefaultHTTPClient(addr)
	if err != nil {
		return nil, fmt.Errorf("node %s: %w", addr, err)
	}
	hc.Transport = rpcShapeCheck{next: hc.Transport}
	c, err := rpchttp.NewWithClient(addr, "/websocket", hc)
	if err != nil {
		return nil, fmt.Errorf("node %s: %w", addr, err)
	}
	return New(c), nil
}

// RPC returns the underlying RPC client.
func (c *Client) RPC() rpcclient.Client { return c.rpc }

// Status is a node's view of the chain.
type Status struct {
	ChainID       string    `json:"chain_id"`
	Moniker       string    `json:"moniker"`
	Height        int64     `json:"height"`
	AppHash       string    `json:"app_hash"`
	BlockTime     time.Time `json:"block_time"`
	CatchingUp    bool      `json:"catching_up"`
	NodeID        string    `json:"node_id"`
	ValidatorAddr string    `json:"validator_address"`
	VotingPower   int64     `json:"voting_power"`
}

// Status asks the node for its status.
func (c *Client) Status(ctx context.Context) (*Status, error) {
	s, err := c.rpc.Status(ctx)
	if err != nil {
		return nil, fmt.Errorf("node status: %w", err)
	}
	return &Status{
		ChainID: s.NodeInfo.Network, Moniker: s.NodeInfo.Moniker,
		Height: s.SyncInfo.LatestBlockHeight, AppHash: s.SyncInfo.LatestAppHash.String(),
		BlockTime: s.SyncInfo.LatestBlockTime, CatchingUp: s.SyncInfo.CatchingUp,
		NodeID: string(s.NodeInfo.DefaultNodeID), ValidatorAddr: s.ValidatorInfo.Address.String(),
		VotingPower: s.ValidatorInfo.VotingPower,
	}, nil
}

// AppHeight returns the height of the last block the application has committed. It can lag
// Status's height for a moment: the node stores a block before the application commits
// it, and only committed state is served to queries.
func (c *Client) AppHeight(ctx context.Context) (int64, error) {
	info, err := c.rpc.ABCIInfo(ctx)
	if err != nil {
		return 0, fmt.Errorf("application info: %w", err)
	}
	return info.Response.LastBlockHeight, nil
}

// ChainID returns the node's chain id.
func (c *Client) ChainID(ctx context.Context) (string, error) {
	if c.chainID != "" {
		return c.chainID, nil
	}
	s, err := c.Status(ctx)
	if err != nil {
		return "", err
	}
	c.chainID = s.ChainID
	return s.ChainID, nil
}

// QueryError is a query the application refused.
type QueryError struct {
	Code tx.Code
	Log  string
}

// Error returns the application's log line.
func (e *QueryError) Error() string { return e.Log }

// Query runs an application query ("/accounts/account/<addr>") at a height (0: latest),
// decodes its JSON answer into out, and returns the height of the state it answered from
// (the latest committed one when height is 0). A refusal is a *QueryError.
func (c *Client) Query(ctx context.Context, path string, height int64, out any) (int64, error) {
	if height < 0 {
		return 0, fmt.Errorf("%w: query %s at height %d", ErrInvalidInput, path, height)
	}
	r, err := c.rpc.ABCIQueryWithOptions(ctx, path, nil, rpcclient.ABCIQueryOptions{Height: height})
	if err != nil {
		return 0, fmt.Errorf("query %s: %w", path, err)
	}
	if r.Response.Code != 0 {
		return 0, &QueryError{Code: tx.Code(r.Response.Code), Log: r.Response.Log}
	}
	if err := json.Unmarshal(r.Response.Value, out); err != nil {
		return 0, fmt.Errorf("query %s: decode answer: %w", path, err)
	}
	return r.Response.Height, nil
}

// Account reads an account (zero balance and nonce for one never seen).
func (c *Client) Account(ctx context.Context, pub keys.PublicKey) (*accounts.AccountView, error) {
	var v accounts.AccountView
	if _, err := c.Query(ctx, "/accounts/account/"+pub.Hex(), 0, &v); err != nil {
		return nil, err
	}
	return &v, nil
}

// NextNonce returns the nonce the account's next transaction must carry: the node's
// mempool state counts the account's transactions still waiting for a block, which the
// committed account (Account) does not. A key that also signs elsewhere (a validator's
// hotkey used from the CLI) thus gets a nonce no pending transaction holds.
func (c *Client) NextNonce(ctx context.Context, pub keys.PublicKey) (uint64, error) {
	var v accounts.AccountView
	if _, err := c.Query(ctx, "/mempool/accounts/account/"+pub.Hex(), 0, &v); err != nil {
		return 0, err
	}
	return v.Nonce, nil
}

// Event is a transaction or block event.
type Event struct {
	Type       string            `json:"type"`
	Attributes map[string]string `json:"attributes"`
}

func events(es []abci.Event) []Event {
	out := make([]Event, 0, len(es))
	for _, e := range es {
		ev := Event{Type: e.Type, Attributes: map[string]string{}}
		for _, a := range e.Attributes {
			ev.Attributes[a.Key] = a.Value
		}
		out = append(out, ev)
	}
	return out
}

// TxView is a committed transaction and its result.
type TxView struct {
	Hash   string `json:"hash"`
	Height int64  `json:"height"`
	Index  uint32 `json:"index"`
	// Time is the time of the transaction's block (absent where it was not read).
	Time     *time.Time `json:"time,omitempty"`
	Code     uint32     `json:"code"`
	CodeName string     `json:"code_name"`
	Log      string     `json:"log,omitempty"`
	Events   []Event    `json:"events"`
	Signer   string     `json:"signer,omitempty"`
	Nonce    uint64     `json:"nonce"`
	Fee      uint64     `json:"fee,string"`
	MsgType  string     `json:"msg_type,omitempty"`
	MsgBody  string     `json:"msg_body,omitempty"` // CBOR diagnostic notation
	// Message is the message decoded by its module: what a person reads.
	Message   *MessageView `json:"message,omitempty"`
	DecodeErr string       `json:"decode_error,omitempty"`
}

// ErrNotFound is returned for a transaction or block the node does not have.
var ErrNotFound = errors.New("not found")

// ErrInvalidInput is returned for a malformed argument (a hash, a height).
var ErrInvalidInput = errors.New("invalid input")

// Tx reads a committed transaction by its hash (hex, optionally 0x-prefixed). A hash the
// node has not committed is ErrNotFound; a malformed one ErrInvalidInput.
func (c *Client) Tx(ctx context.Context, hash string) (*TxView, error) {
	h, err := hex.DecodeString(strings.TrimPrefix(strings.ToLower(hash), "0x"))
	if err != nil || len(h) != 32 {
		return nil, fmt.Errorf("%w: transaction hash %q is not 64 hex digits", ErrInvalidInput, hash)
	}
	// A search by hash reports absence as an empty answer, where the tx endpoint has only
	// an error text for it.
	r, err := c.rpc.TxSearch(ctx, fmt.Sprintf("tx.hash='%X'", h), false, nil, nil, "")
	if err != nil {
		return nil, fmt.Errorf("transaction %X: %w", h, err)
	}
	if len(r.Txs) == 0 {
		return nil, fmt.Errorf("transaction %X: %w", h, ErrNotFound)
	}
	v := []TxView{*txView(r.Txs[0])}
	c.stampTimes(ctx, v)
	return &v[0], nil
}

func txView(r *ctypes.ResultTx) *TxView {
	v := &TxView{
		Hash: r.Hash.String(), Height: r.Height, Index: r.Index,
		Code: r.TxResult.Code, CodeName: tx.Code(r.TxResult.Code).String(), Log: r.TxResult.Log,
		Events: events(r.TxResult.Events),
	}
	describeTx(v, r.Tx)
	return v
}

func describeTx(v *TxView, raw []byte) {
	t, err := tx.Decode(raw)
	if err != nil {
		v.DecodeErr = err.Error()
		return
	}
	v.Signer, v.Nonce, v.Fee, v.MsgType = t.SignerKey.String(), t.Nonce, t.Fee, t.Msg.Type
	v.Message = DescribeMessage(t.SignerKey, t.Msg)
	if d, err := cbor.Diagnose(t.Msg.Body); err == nil {
		v.MsgBody = d
	}
}

// BlockView is a block's header, its transactions and their results.
type BlockView struct {
	Height          int64     `json:"height"`
	Hash            string    `json:"hash"`
	Time            time.Time `json:"time"`
	ChainID         string    `json:"chain_id"`
	Proposer        string    `json:"proposer"`
	AppHash         string    `json:"app_hash"` // the state after the previous block
	LastBlockHash   string    `json:"last_block_hash"`
	NumTxs          int       `json:"num_txs"`
	Txs             []TxView  `json:"txs"`
	ResultsReadable bool      `json:"results_available"`
}

// Block reads a block (height 0: the latest) with its transaction results. A height
// beyond the node's tip, or below the first block it keeps, is ErrNotFound; a negative
// one ErrInvalidInput.
func (c *Client) Block(ctx context.Context, height int64) (*BlockView, error) {
	hp, err := c.storedHeight(ctx, height)
	if err != nil {
		return nil, err
	}
	b, err := c.rpc.Block(ctx, hp)
	if err != nil {
		return nil, fmt.Errorf("block %d: %w", height, err)
	}
	return c.blockView(ctx, b), nil
}

// blockView is a block with its transactions and, when the node still has them, their
// results.
func (c *Client) blockView(ctx context.Context, b *ctypes.ResultBlock) *BlockView {
	h := b.Block.Header
	v := headerView(&h, b.BlockID.Hash.String(), len(b.Block.Txs))
	res, rerr := c.rpc.BlockResults(ctx, &h.Height)
	v.ResultsReadable = rerr == nil
	for i, raw := range b.Block.Txs {
		tv := TxView{Hash: fmt.Sprintf("%X", raw.Hash()), Height: h.Height, Index: uint32(i), Time: &v.Time}
		if rerr == nil && i < len(res.TxsResults) {
			r := res.TxsResults[i]
			tv.Code, tv.CodeName, tv.Log, tv.Events = r.Code, tx.Code(r.Code).String(), r.Log, events(r.Events)
		}
		describeTx(&tv, raw)
		v.Txs = append(v.Txs, tv)
	}
	return v
}

// headerView is the view of a block's header, without its transactions.
func headerView(h *cmttypes.Header, hash string, numTxs int) *BlockView {
	return &BlockView{
		Height: h.Height, Hash: hash, Time: h.Time, ChainID: h.ChainID,
		Proposer: h.ProposerAddress.String(), AppHash: h.AppHash.String(),
		LastBlockHash: h.LastBlockID.Hash.String(), NumTxs: numTxs, Txs: []TxView{},
	}
}

// storedHeight checks height (0: the latest) against the blocks the node stores and
// returns it as the RPC takes it (nil for the latest).
func (c *Client) storedHeight(ctx context.Context, height int64) (*int64, error) {
	switch {
	case height < 0:
		return nil, fmt.Errorf("%w: block height %d is negative", ErrInvalidInput, height)
	case height == 0:
		return nil, nil
	}
	s, err := c.rpc.Status(ctx)
	if err != nil {
		return nil, fmt.Errorf("block %d: node status: %w", height, err)
	}
	if latest, earliest := s.SyncInfo.LatestBlockHeight, s.SyncInfo.EarliestBlockHeight; height > latest || height < earliest {
		return nil, fmt.Errorf("block %d: %w: the node has blocks %d to %d", height, ErrNotFound, earliest, latest)
	}
	return &height, nil
}
