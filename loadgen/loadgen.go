// Package loadgen measures sustained transaction throughput: it starts a single-validator
// node in this process, submits pre-signed transactions from many senders over CometBFT's
// HTTP RPC (broadcast_tx_sync, as any client would), and counts what the chain commits
// per second over a measured window. The same harness runs CometBFT's kvstore example on
// the same node configuration as a yardstick.
package loadgen

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cometbft/cometbft/abci/example/kvstore"
	cmttypes "github.com/cometbft/cometbft/types"

	"github.com/tessera-net/tessera/client"
	"github.com/tessera-net/tessera/genesis"
	"github.com/tessera-net/tessera/keys"
	"github.com/tessera-net/tessera/modules/accounts"
	"github.com/tessera-net/tessera/node"
	"github.com/tessera-net/tessera/tx"
)

// Options configure a run.
type Options struct {
	// Yardstick runs CometBFT's kvstore example instead of Tessera (unsigned key=value
	// transactions of the same size).
	Yardstick bool
	// Weights sends set_weights transactions of 256 entries from 64 validators of a
	// 256-uid subnet instead of transfers (Senders is then 64).
	Weights   bool
	Duration  time.Duration // the measured window (default 30s)
	Warmup    time.Duration // load before the window opens (default 3s)
	BlockTime time.Duration // default 1s
	Workers   int           // concurrent RPC clients (default 16)
	Senders   int           // signing accounts (default 64)
	MaxRate   int           // transactions pre-signed per second of load (default 8000)
	BasePort  int           // p2p port; RPC +1 (0: 27656)
	Logger    *slog.Logger
}

// Result is what a run measured.
type Result struct {
	App          string  `json:"app"`
	WindowSecs   float64 `json:"window_seconds"`
	Blocks       int64   `json:"blocks"`
	Committed    int     `json:"committed_txs"`
	TxPerSec     float64 `json:"tx_per_second"`
	MaxBlockTxs  int     `json:"max_block_txs"`
	Submitted    int64   `json:"submitted"`
	MempoolFull  int64   `json:"mempool_full_retries"`
	Rejected     int64   `json:"rejected"`
	FirstReject  string  `json:"first_rejection,omitempty"`
	RanOutOfTxs  bool    `json:"ran_out_of_presigned_txs"`
	TxBytes      int     `json:"tx_bytes"`
	Workers      int     `json:"workers"`
	Senders      int     `json:"senders"`
	BlockTimeSec float64 `json:"block_time_seconds"`
}

func (o *Options) defaults() {
	if o.Duration <= 0 {
		o.Duration = 30 * time.Second
	}
	if o.Warmup <= 0 {
		o.Warmup = 3 * time.Second
	}
	if o.BlockTime <= 0 {
		o.BlockTime = time.Second
	}
	if o.Workers <= 0 {
		o.Workers = 64
	}
	if o.Senders <= 0 {
		o.Senders = 64
	}
	if o.MaxRate <= 0 {
		o.MaxRate = 8000
	}
	if o.BasePort <= 0 {
		o.BasePort = 27656
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
}

// Run starts the node, loads it, and measures.
func Run(ctx context.Context, o Options) (*Result, error) {
	o.defaults()
	home, err := os.MkdirTemp("", "tessera-loadgen-*")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(home)
	ports := node.PortsFor("127.0.0.1", o.BasePort, 0)
	ports.API = ""
	gv, _, err := node.InitHome(node.InitOptions{Home: home, Moniker: "loadgen", Ports: ports, BlockTime: o.BlockTime})
	if err != nil {
		return nil, err
	}
	perSender := (o.MaxRate*int((o.Duration+o.Warmup)/time.Second) + o.Senders - 1) / o.Senders
	var (
		setupWeights func(context.Context, *client.Client) error
		queues       [][][]byte
		appName      = "tessera"
		chainID      = "loadgen"
		nopts        = node.Options{Home: home, Logger: o.Logger}
	)
	senders := make([]*keys.Pair, o.Senders)
	var st genesis.AppState
	for i := range senders {
		if senders[i], err = keys.FromURI("//load/" + strconv.Itoa(i)); err != nil {
			return nil, err
		}
		st.Fund(senders[i].Public(), 1_000_000*accounts.UnitsPerToken)
	}
	if o.Weights {
		o.Senders = WeightValidators
		senders = senders[:0]
		for i := 0; i < WeightValidators; i++ {
			p, err := keys.FromURI("//load/" + strconv.Itoa(i))
			if err != nil {
				return nil, err
			}
			senders = append(senders, p)
		}
		perSender = (o.MaxRate*int((o.Duration+o.Warmup)/time.Second) + o.Senders - 1) / o.Senders
	}
	switch {
	case o.Weights:
		appName = "tessera-set_weights"
		owner, err := keys.FromURI("//load/owner")
		if err != nil {
			return nil, err
		}
		st.Fund(owner.Public(), 1_000_000*accounts.UnitsPerToken)
		o.Logger.Info("pre-signing set_weights", "validators", len(senders), "per_validator", perSender)
		queues = signWeights(chainID, senders, perSender)
		setupWeights = func(ctx context.Context, c *client.Client) error { return weightsSubnet(ctx, c, owner, senders) }
	case o.Yardstick:
		appName = "cometbft-kvstore"
		nopts.Yardstick = kvstore.NewInMemoryApplication()
		size := len(signTransfers(chainID, senders[:1], 1)[0][0])
		queues = kvTxs(o.Senders, perSender, size)
	default:
		o.Logger.Info("pre-signing transactions", "senders", o.Senders, "per_sender", perSender)
		queues = signTransfers(chainID, senders, perSender)
	}
	raw, err := json.Marshal(st)
	if err != nil {
		return nil, err
	}
	if o.Yardstick {
		raw = nil
	}
	if err := node.WriteGenesis(chainID, []cmttypes.GenesisValidator{gv}, raw, home); err != nil {
		return nil, err
	}
	n, err := node.New(nopts)
	if err != nil {
		return nil, err
	}
	if err := n.Start(); err != nil {
		return nil, err
	}
	defer n.Stop()
	local := client.New(n.Client())
	for {
		if h, err := local.AppHeight(ctx); err == nil && h >= 1 {
			break
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
	if setupWeights != nil {
		if err := setupWeights(ctx, local); err != nil {
			return nil, fmt.Errorf("set up the weights subnet: %w", err)
		}
	}

	res := &Result{App: appName, TxBytes: len(queues[0][0]), Workers: o.Workers, Senders: o.Senders, BlockTimeSec: o.BlockTime.Seconds()}
	loadCtx, stopLoad := context.WithCancel(ctx)
	defer stopLoad()
	var wg sync.WaitGroup
	var ranOut atomic.Bool
	var firstReject atomic.Value
	for w := 0; w < o.Workers; w++ {
		c, err := client.Dial(ports.RPC)
		if err != nil {
			return nil, err
		}
		var mine [][][]byte
		for s := w; s < len(queues); s += o.Workers {
			mine = append(mine, queues[s])
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			worker(loadCtx, c, mine, res, &ranOut, &firstReject)
		}()
	}

	// Measure committed transactions between two block heights after the warm-up.
	sleep(ctx, o.Warmup)
	if ranOut.Load() {
		stopLoad()
		wg.Wait()
		return nil, fmt.Errorf("the %s load ran out of its %d pre-signed transactions during the %v warm-up: the window would measure an idle chain; raise the rate (MaxRate, --max-rate)",
			appName, len(queues)*len(queues[0]), o.Warmup)
	}
	h0 := latest(ctx, local)
	sleep(ctx, o.Duration)
	h1 := latest(ctx, local)
	stopLoad()
	wg.Wait()
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	if h1 <= h0 {
		return nil, fmt.Errorf("no block was committed during the window (heights %d..%d)", h0, h1)
	}
	var t0, t1 time.Time
	for lo := h0; lo <= h1; lo += 20 {
		hi := min(lo+19, h1)
		bi, err := n.Client().BlockchainInfo(ctx, lo, hi)
		if err != nil {
			return nil, err
		}
		for _, m := range bi.BlockMetas {
			switch h := m.Header.Height; {
			case h == h0:
				t0 = m.Header.Time
			case h > h0:
				res.Committed += m.NumTxs
				res.MaxBlockTxs = max(res.MaxBlockTxs, m.NumTxs)
				if h == h1 {
					t1 = m.Header.Time
				}
			}
		}
	}
	res.Blocks = h1 - h0
	res.WindowSecs = t1.Sub(t0).Seconds()
	res.TxPerSec = float64(res.Committed) / res.WindowSecs
	res.RanOutOfTxs = ranOut.Load()
	if v, ok := firstReject.Load().(string); ok {
		res.FirstReject = v
	}
	return res, nil
}

func worker(ctx context.Context, c *client.Client, queues [][][]byte, res *Result, ranOut *atomic.Bool, firstReject *atomic.Value) {
	if len(queues) == 0 {
		return
	}
	next := make([]int, len(queues))
	for ctx.Err() == nil {
		progressed := false
		for s, q := range queues {
			if next[s] >= len(q) {
				continue
			}
			progressed = true
			_, err := c.Broadcast(ctx, q[next[s]])
			switch {
			case err == nil:
				next[s]++
				atomic.AddInt64(&res.Submitted, 1)
			case ctx.Err() != nil:
				return
			case strings.Contains(err.Error(), "mempool is full"):
				atomic.AddInt64(&res.MempoolFull, 1)
				sleep(ctx, 20*time.Millisecond)
			default:
				atomic.AddInt64(&res.Rejected, 1)
				firstReject.CompareAndSwap(nil, err.Error())
				next[s]++
			}
		}
		if !progressed {
			ranOut.Store(true)
			return
		}
	}
}

func latest(ctx context.Context, c *client.Client) int64 {
	s, err := c.Status(ctx)
	if err != nil {
		return 0
	}
	return s.Height
}

func sleep(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}

// presign signs perSender transactions for each sender, using every CPU: transaction n
// of sender i carries msg(i, n) with nonce firstNonce+n.
func presign(chainID string, senders []*keys.Pair, perSender int, firstNonce uint64, msg func(i, n int) tx.Msg) [][][]byte {
	out := make([][][]byte, len(senders))
	var wg sync.WaitGroup
	next := make(chan int, len(senders))
	for i := range senders {
		next <- i
	}
	close(next)
	for w := 0; w < runtime.GOMAXPROCS(0); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				q := make([][]byte, perSender)
				for n := range q {
					raw, err := tx.Sign(senders[i], tx.Envelope{ChainID: chainID, Nonce: firstNonce + uint64(n), Fee: 1000, Msg: msg(i, n)})
					if err != nil {
						panic(err) // encoding a valid envelope cannot fail
					}
					q[n] = raw
				}
				out[i] = q
			}
		}()
	}
	wg.Wait()
	return out
}

// signTransfers pre-signs perSender transfers of 1 unit for each sender (to the next
// sender), with consecutive nonces from 0.
func signTransfers(chainID string, senders []*keys.Pair, perSender int) [][][]byte {
	return presign(chainID, senders, perSender, 0, func(i, _ int) tx.Msg {
		m, _ := accounts.NewTransfer(senders[(i+1)%len(senders)].Public(), 1)
		return m
	})
}

// kvTxs builds unique key=value transactions of the given size for the kvstore.
func kvTxs(senders, perSender, size int) [][][]byte {
	out := make([][][]byte, senders)
	for s := range out {
		out[s] = make([][]byte, perSender)
		for n := range out[s] {
			k := fmt.Sprintf("s%d-n%d=", s, n)
			v := strings.Repeat("v", max(1, size-len(k)))
			out[s][n] = []byte(k + v)
		}
	}
	return out
}
