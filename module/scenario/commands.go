package scenario

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/cockroachdb/datadriven"
	abci "github.com/cometbft/cometbft/abci/types"

	"github.com/tessera-net/tessera/genesis"
	"github.com/tessera-net/tessera/keys"
	"github.com/tessera-net/tessera/modules/accounts"
	"github.com/tessera-net/tessera/tx"
)

// genesis starts a new chain with the accounts of the input lines funded.
func (h *Harness) genesis(d *datadriven.TestData) (string, error) {
	state, err := h.genesisState(d)
	if err != nil {
		return "", err
	}
	raw, err := json.Marshal(state)
	if err != nil {
		return "", err
	}
	chain, err := h.newChain()
	if err != nil {
		return "", fmt.Errorf("new chain: %w", err)
	}
	h.chain = nil
	req := &abci.RequestInitChain{ChainId: ChainID, Time: GenesisTime(), InitialHeight: 1, AppStateBytes: raw}
	if _, err := chain.InitChain(context.Background(), req); err != nil {
		return "error: " + err.Error(), nil
	}
	h.chain, h.height, h.blockTime = chain, 0, GenesisTime()
	h.pending, h.nextNonce = nil, map[keys.PublicKey]uint64{}
	h.minFee = accounts.DefaultParams().MinFee
	if state.Accounts.Params != nil {
		h.minFee = state.Accounts.Params.MinFee
	}
	return "ok", nil
}

// genesisState reads the genesis command: min_fee=TOKENS and "<account> <tokens>" lines.
// An account that is not a name is written into the genesis as it stands, so that a
// scenario can show what the chain does with a bad address.
func (h *Harness) genesisState(d *datadriven.TestData) (genesis.AppState, error) {
	var st genesis.AppState
	args, err := newArgs(d.CmdArgs, h.names)
	if err != nil {
		return st, err
	}
	if args.Has("min_fee") {
		fee, err := args.Amount("min_fee")
		if err != nil {
			return st, err
		}
		st.Accounts.Params = &accounts.Params{MinFee: fee}
	}
	if err := args.Unused(); err != nil {
		return st, err
	}
	for _, line := range inputLines(d.Input) {
		if rest, ok := strings.CutPrefix(line, "app_state "); ok {
			// "app_state <module> <json>": a module's genesis section, as written.
			name, section, _ := strings.Cut(strings.TrimSpace(rest), " ")
			if name == "" || !json.Valid([]byte(section)) {
				return st, fmt.Errorf("%w: genesis line %q: want \"app_state <module> <json>\"", ErrBadArg, line)
			}
			if st.Extra == nil {
				st.Extra = map[string]json.RawMessage{}
			}
			st.Extra[name] = json.RawMessage(section)
			continue
		}
		f := strings.Fields(line)
		if len(f) != 2 {
			return st, fmt.Errorf("%w: genesis line %q: want \"<account> <tokens>\"", ErrBadArg, line)
		}
		address := f[0]
		if IsName(address) {
			p, err := h.names.Pair(address)
			if err != nil {
				return st, err
			}
			address = p.Public().String()
		}
		balance, err := accounts.ParseAmount(f[1])
		if err != nil {
			return st, fmt.Errorf("%w: genesis line %q: %v", ErrBadArg, line, err)
		}
		st.Accounts.Balances = append(st.Accounts.Balances, accounts.GenesisBalance{Address: address, Balance: balance})
	}
	return st, nil
}

// tx signs each input line as a transaction and offers it to the mempool.
func (h *Harness) tx(d *datadriven.TestData) (string, error) {
	if h.chain == nil {
		return "", ErrNoChain
	}
	args, err := newArgs(d.CmdArgs, h.names)
	if err != nil {
		return "", err
	}
	from, err := args.String("from")
	if err != nil {
		return "", err
	}
	signer, err := h.names.Pair(from)
	if err != nil {
		return "", err
	}
	env, explicitNonce, err := h.envelope(args)
	if err != nil {
		return "", err
	}
	var out strings.Builder
	given := env.Nonce
	for i, line := range inputLines(d.Input) {
		if env.Msg, err = h.message(line); err != nil {
			return "", err
		}
		if env.Nonce, err = h.lineNonce(signer.Public(), given, explicitNonce, i); err != nil {
			return "", err
		}
		verdict, err := h.offer(signer, from, line, env)
		if err != nil {
			return "", err
		}
		fmt.Fprintf(&out, "mempool: %s\n", verdict)
	}
	return out.String(), nil
}

// envelope reads fee=TOKENS (default: the chain's minimum fee) and nonce=N, reporting
// whether the nonce was given.
func (h *Harness) envelope(args *Args) (env tx.Envelope, explicitNonce bool, err error) {
	env = tx.Envelope{ChainID: ChainID, Fee: h.minFee}
	if args.Has("fee") {
		if env.Fee, err = args.Amount("fee"); err != nil {
			return env, false, err
		}
	}
	if explicitNonce = args.Has("nonce"); explicitNonce {
		if env.Nonce, err = args.Uint("nonce", 64); err != nil {
			return env, true, err
		}
	}
	return env, explicitNonce, args.Unused()
}

// lineNonce is the nonce of a command's i-th message line: the given nonce counting up,
// or else the signer's next one.
func (h *Harness) lineNonce(signer keys.PublicKey, given uint64, explicit bool, i int) (uint64, error) {
	if explicit {
		return given + uint64(i), nil
	}
	return h.signerNonce(signer)
}

// signerNonce is the nonce the signer's next transaction must use: one past its last in
// the mempool, or else its committed nonce.
func (h *Harness) signerNonce(signer keys.PublicKey) (uint64, error) {
	if n, ok := h.nextNonce[signer]; ok {
		return n, nil
	}
	a, err := h.account(signer)
	return a.Nonce, err
}

// message builds the message of one message line with the harness's builders.
func (h *Harness) message(line string) (tx.Msg, error) {
	word, args, err := parseLine(line, h.names)
	if err != nil {
		return tx.Msg{}, err
	}
	build, ok := h.msgs[word]
	if !ok {
		return tx.Msg{}, fmt.Errorf("%w: %q", ErrUnknownMsg, word)
	}
	msg, err := build(args)
	if err != nil {
		return tx.Msg{}, fmt.Errorf("message %q: %w", line, err)
	}
	if err := args.Unused(); err != nil {
		return tx.Msg{}, fmt.Errorf("message %q: %w", line, err)
	}
	return msg, nil
}

// offer signs env and runs CheckTx; an accepted transaction waits for the next block.
func (h *Harness) offer(signer *keys.Pair, from, line string, env tx.Envelope) (string, error) {
	b, err := tx.Sign(signer, env)
	if err != nil {
		return "", err
	}
	r, err := h.chain.CheckTx(context.Background(), &abci.RequestCheckTx{Tx: b, Type: abci.CheckTxType_New})
	if err != nil {
		return "", fmt.Errorf("CheckTx: %w", err)
	}
	if r.Code == uint32(tx.CodeOK) {
		h.pending = append(h.pending, pendingTx{from: from, nonce: env.Nonce, line: line, bytes: b})
		h.nextNonce[signer.Public()] = env.Nonce + 1
	}
	return verdict(r.Code, r.Log), nil
}

// block executes the accepted transactions as the next block and commits it; with
// count=N it executes N blocks (the transactions go into the first), printing only the
// blocks that have something to show, and the last.
func (h *Harness) block(d *datadriven.TestData) (string, error) {
	if h.chain == nil {
		return "", ErrNoChain
	}
	args, err := newArgs(d.CmdArgs, h.names)
	if err != nil {
		return "", err
	}
	count := uint64(1)
	if args.Has("count") {
		if count, err = args.Uint("count", 16); err != nil {
			return "", err
		}
		if count == 0 {
			return "", fmt.Errorf("%w: count must be at least 1", ErrBadArg)
		}
	}
	at, err := h.nextBlockTime(args)
	if err != nil {
		return "", err
	}
	var out strings.Builder
	for i := uint64(0); i < count; i++ {
		if i > 0 {
			at = at.Add(time.Second)
		}
		one, err := h.oneBlock(at)
		if err != nil {
			return "", err
		}
		if i+1 == count || strings.Count(one, "\n") > 1 {
			out.WriteString(one)
		}
	}
	return out.String(), nil
}

func (h *Harness) oneBlock(at time.Time) (string, error) {
	txs := make([][]byte, len(h.pending))
	for i, p := range h.pending {
		txs[i] = p.bytes
	}
	req := &abci.RequestFinalizeBlock{Txs: txs, Height: h.height + 1, Time: at}
	res, err := h.chain.FinalizeBlock(context.Background(), req)
	if err != nil {
		return "", fmt.Errorf("FinalizeBlock %d: %w", req.Height, err)
	}
	if _, err := h.chain.Commit(context.Background(), &abci.RequestCommit{}); err != nil {
		return "", fmt.Errorf("commit %d: %w", req.Height, err)
	}
	out := formatBlock(req.Height, h.pending, res)
	h.height, h.blockTime = req.Height, at
	h.pending, h.nextNonce = nil, map[keys.PublicKey]uint64{}
	return out, nil
}

// nextBlockTime reads time=RFC3339, defaulting to a second after the previous block.
func (h *Harness) nextBlockTime(args *Args) (time.Time, error) {
	at := h.blockTime.Add(time.Second)
	if args.Has("time") {
		s, err := args.String("time")
		if err != nil {
			return at, err
		}
		if at, err = time.Parse(time.RFC3339, s); err != nil {
			return at, fmt.Errorf("%w: time: %v", ErrBadArg, err)
		}
	}
	return at, args.Unused()
}

// query runs an ABCI query and prints its JSON answer or its refusal.
func (h *Harness) query(d *datadriven.TestData) (string, error) {
	if h.chain == nil {
		return "", ErrNoChain
	}
	if len(d.CmdArgs) != 1 || len(d.CmdArgs[0].Vals) != 0 {
		return "", fmt.Errorf("%w: want \"query <path>\"", ErrBadArg)
	}
	path, err := h.queryPath(d.CmdArgs[0].Key)
	if err != nil {
		return "", err
	}
	r, err := h.chain.Query(context.Background(), &abci.RequestQuery{Path: path})
	if err != nil {
		return "", fmt.Errorf("query %s: %w", path, err)
	}
	if r.Code != uint32(tx.CodeOK) {
		return verdict(r.Code, r.Log), nil
	}
	return indentJSON(r.Value)
}

// queryPath replaces the names among the path's segments from the third on (the
// arguments after "<module>/<query>") by their addresses.
func (h *Harness) queryPath(path string) (string, error) {
	segs := strings.Split(strings.TrimPrefix(path, "/"), "/")
	for i := 2; i < len(segs); i++ {
		if !IsName(segs[i]) {
			continue
		}
		pub, err := h.names.Resolve(segs[i])
		if err != nil {
			return "", err
		}
		segs[i] = pub.String()
	}
	return "/" + strings.Join(segs, "/"), nil
}

// balance prints each named account's balance in tokens.
func (h *Harness) balance(d *datadriven.TestData) (string, error) {
	if h.chain == nil {
		return "", ErrNoChain
	}
	var out strings.Builder
	for _, ca := range d.CmdArgs {
		if len(ca.Vals) != 0 {
			return "", fmt.Errorf("%w: %s: want account names", ErrBadArg, ca)
		}
		pub, err := h.names.Resolve(ca.Key)
		if err != nil {
			return "", err
		}
		a, err := h.account(pub)
		if err != nil {
			return "", err
		}
		fmt.Fprintf(&out, "%s %s\n", ca.Key, accounts.FormatAmount(a.Balance))
	}
	return out.String(), nil
}

// account reads an account's committed state through the accounts query.
func (h *Harness) account(pub keys.PublicKey) (accounts.AccountView, error) {
	var a accounts.AccountView
	err := h.queryJSON("accounts/account/"+pub.String(), &a)
	return a, err
}

// queryJSON runs a query the harness itself needs and decodes its answer.
func (h *Harness) queryJSON(path string, out any) error {
	r, err := h.chain.Query(context.Background(), &abci.RequestQuery{Path: "/" + path})
	if err != nil {
		return fmt.Errorf("query %s: %w", path, err)
	}
	if r.Code != uint32(tx.CodeOK) {
		return fmt.Errorf("query %s: %s", path, verdict(r.Code, r.Log))
	}
	return json.Unmarshal(r.Value, out)
}
