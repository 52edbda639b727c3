// This file is the devnet's faucet: an HTTP listener of the devnet's own that funds any
// address on request from the faucet account, within rate limits.

package devnet

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/tessera-net/tessera/client"
	"github.com/tessera-net/tessera/keys"
	"github.com/tessera-net/tessera/modules/accounts"
)

// FaucetAccount names the account the faucet pays from (secret URI //Faucet), funded
// with genesis.DevBalance in a new devnet's genesis.
const FaucetAccount = "Faucet"

// FaucetPath is the faucet's route: POST {"address": "<SS58 or hex public key>"}.
const FaucetPath = "/v1/faucet"

// Codes of the faucet's other refusals (the limits' are CodeAddressLimited and
// CodeGlobalLimited).
const (
	// CodeBadRequest: the body is not {"address": …} or the address does not parse.
	CodeBadRequest = "bad_request"
	// CodeTransferFailed: the chain refused the faucet's transfer, or did not commit it.
	CodeTransferFailed = "transfer_failed"
)

// FaucetOptions configure the faucet. Zero fields take the defaults.
type FaucetOptions struct {
	// Addr is where it listens (default: Host at BasePort+3, a free port with BasePort 0).
	Addr string
	// Amount is what each grant transfers (default 100 tokens).
	Amount uint64
	// PerAddress is how long an address waits between grants (default 1 minute).
	PerAddress time.Duration
	// Burst is how many grants the faucet gives at once across addresses, refilled at
	// one per Refill (defaults 10 and 3 s: 20 a minute sustained).
	Burst  int
	Refill time.Duration // see Burst
	// Now is the clock of the limits (default time.Now).
	Now func() time.Time
}

func (o *FaucetOptions) defaults(host string, basePort int) {
	if o.Addr == "" {
		port := 0
		if basePort > 0 {
			port = basePort + 3
		}
		o.Addr = net.JoinHostPort(host, strconv.Itoa(port))
	}
	if o.Amount == 0 {
		o.Amount = 100 * accounts.UnitsPerToken
	}
	if o.PerAddress <= 0 {
		o.PerAddress = time.Minute
	}
	if o.Burst <= 0 {
		o.Burst = 10
	}
	if o.Refill <= 0 {
		o.Refill = 3 * time.Second
	}
	if o.Now == nil {
		o.Now = time.Now
	}
}

// FaucetRequest is the body of a request.
type FaucetRequest struct {
	Address string `json:"address"`
}

// FaucetGrant is the answer to a granted request, once the transfer is committed.
type FaucetGrant struct {
	Address string `json:"address"`
	Amount  string `json:"amount"` // in tokens, as accounts.FormatAmount writes it
	Tx      string `json:"tx"`
	Height  int64  `json:"height"`
}

// FaucetError is the body of a refusal: HTTP 400 (CodeBadRequest), 429 with Retry-After
// (CodeAddressLimited, CodeGlobalLimited) or 502 (CodeTransferFailed).
type FaucetError struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// faucet serves FaucetPath.
type faucet struct {
	o     FaucetOptions
	c     *client.Client
	pair  *keys.Pair
	log   *slog.Logger
	mu    sync.Mutex // guards lim and signer, and orders the faucet's nonces
	lim   *limiter
	sign  *client.Signer
	url   string
	serve *http.Server
}

func newFaucet(o FaucetOptions, c *client.Client, pair *keys.Pair, log *slog.Logger) *faucet {
	return &faucet{o: o, c: c, pair: pair, log: log, lim: newLimiter(o.PerAddress, o.Burst, o.Refill), sign: c.Signer(pair)}
}

// start listens and serves until stop.
func (f *faucet) start() error {
	l, err := net.Listen("tcp", f.o.Addr)
	if err != nil {
		return fmt.Errorf("faucet: listen on %s: %w", f.o.Addr, err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+FaucetPath, f.handle)
	f.url = "http://" + l.Addr().String() + FaucetPath
	f.serve = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := f.serve.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
			f.log.Warn("faucet stopped", "err", err)
		}
	}()
	return nil
}

func (f *faucet) stop() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_ = f.serve.Shutdown(ctx)
}

// handle reads the address, checks the limits, and transfers.
func (f *faucet) handle(w http.ResponseWriter, r *http.Request) {
	var req FaucetRequest
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4096)).Decode(&req); err != nil {
		refuse(w, http.StatusBadRequest, CodeBadRequest, `the body must be {"address": "<SS58 address>"}: `+err.Error(), 0)
		return
	}
	to, err := keys.ParsePublicKey(req.Address)
	if err != nil {
		refuse(w, http.StatusBadRequest, CodeBadRequest, err.Error(), 0)
		return
	}
	addr := to.String()
	g, err := f.grant(r.Context(), to)
	var lim *refusal
	switch {
	case errors.As(err, &lim):
		refuse(w, http.StatusTooManyRequests, lim.code, limitMessage(lim, addr), lim.retry)
	case err != nil:
		f.log.Warn("faucet transfer failed", "to", addr, "err", err)
		refuse(w, http.StatusBadGateway, CodeTransferFailed, err.Error(), 0)
	default:
		f.log.Info("faucet funded an address", "to", addr, "amount", g.Amount, "tx", g.Tx)
		writeFaucetJSON(w, http.StatusOK, g)
	}
}

// Error makes a refusal an error, for grant's callers.
func (r *refusal) Error() string { return r.code }

func limitMessage(r *refusal, addr string) string {
	wait := r.retry.Round(time.Second)
	if r.code == CodeAddressLimited {
		return fmt.Sprintf("%s was funded recently; ask again in %s", addr, wait)
	}
	return fmt.Sprintf("the faucet is giving too much at the moment; ask again in %s", wait)
}

// grant takes the limits for to, sends the transfer, and waits for it to be committed.
// A failed transfer gives the address's limit back.
func (f *faucet) grant(ctx context.Context, to keys.PublicKey) (*FaucetGrant, error) {
	addr := to.String()
	hash, err := f.send(ctx, to)
	if err != nil {
		return nil, err
	}
	v, err := f.c.WaitTx(ctx, hash)
	if err != nil {
		f.mu.Lock()
		f.lim.release(addr)
		f.mu.Unlock()
		return nil, err
	}
	return &FaucetGrant{Address: addr, Amount: accounts.FormatAmount(f.o.Amount), Tx: hash, Height: v.Height}, nil
}

// send takes the limits and broadcasts the transfer, under the lock so that the
// faucet's transactions carry consecutive nonces. A refused broadcast gives the
// address's limit back and re-reads the nonce next time.
func (f *faucet) send(ctx context.Context, to keys.PublicKey) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	addr := to.String()
	if r := f.lim.take(addr, f.o.Now()); r != nil {
		return "", r
	}
	hash, err := f.broadcast(ctx, to)
	if err != nil {
		f.lim.release(addr)
		f.sign = f.c.Signer(f.pair)
	}
	return hash, err
}

// broadcast signs the transfer to to with the next nonce and submits it.
func (f *faucet) broadcast(ctx context.Context, to keys.PublicKey) (string, error) {
	msg, err := accounts.NewTransfer(to, f.o.Amount)
	if err != nil {
		return "", err
	}
	raw, err := f.sign.Sign(ctx, msg)
	if err != nil {
		return "", err
	}
	return f.c.Broadcast(ctx, raw)
}

func refuse(w http.ResponseWriter, status int, code, msg string, retry time.Duration) {
	var e FaucetError
	e.Error.Code, e.Error.Message = code, msg
	if retry > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int((retry+time.Second-1)/time.Second)))
	}
	writeFaucetJSON(w, status, e)
}

func writeFaucetJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
