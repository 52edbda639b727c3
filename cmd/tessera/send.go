package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/tessera-net/tessera/client"
	"github.com/tessera-net/tessera/keys"
	"github.com/tessera-net/tessera/tx"
)

// sendFlags are the flags of every command that sends one transaction.
type sendFlags struct {
	keyFlags
	timeout time.Duration
	// nextBlockOnRateLimit sends once more, a block later, a transaction the mempool
	// refused as rate-limited: a hotkey's weights sent while its own validator process
	// set them in the same block (limit one block) go through then.
	nextBlockOnRateLimit bool
}

func newSendFlags(role keyRole) *sendFlags {
	return &sendFlags{keyFlags: keyFlags{role: role}}
}

func (s *sendFlags) register(cmd *cobra.Command) {
	s.keyFlags.register(cmd)
	cmd.Flags().DurationVar(&s.timeout, "timeout", 30*time.Second, "how long to wait for the transaction to be committed")
}

// send signs msg with the chosen key, submits it and waits for its block, then prints
// done (a sentence) or the transaction as JSON.
func (s *sendFlags) send(cmd *cobra.Command, env *cliEnv, nf *nodeFlag, msg tx.Msg, done string) error {
	return s.sendTelling(cmd, env, nf, msg, func(*client.TxView) string { return done })
}

// sendTelling is send with the sentence made from the committed transaction (its events).
func (s *sendFlags) sendTelling(cmd *cobra.Command, env *cliEnv, nf *nodeFlag, msg tx.Msg, done func(*client.TxView) string) error {
	pair, err := s.pair(cmd, env)
	if err != nil {
		return err
	}
	c, err := nf.client()
	if err != nil {
		return err
	}
	v, err := s.sendWith(cmd.Context(), env, c, pair, msg)
	if err != nil {
		return err
	}
	return env.emit(v, func(w io.Writer) error {
		_, err := fmt.Fprintf(w, "%s (block %d, tx %s)\n", done(v), v.Height, v.Hash)
		return err
	})
}

// sendWith sends msg signed by pair through c and waits, at most --timeout, for its block.
func (s *sendFlags) sendWith(ctx context.Context, env *cliEnv, c *client.Client, pair *keys.Pair, msg tx.Msg) (*client.TxView, error) {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	signer := env.signer(c, pair)
	v, err := signer.Send(ctx, msg)
	var te *client.TxError
	if !s.nextBlockOnRateLimit || !errors.As(err, &te) || te.Code != tx.CodeRateLimited || te.Height != 0 {
		return v, err
	}
	h, herr := nextBlock(ctx, c)
	if herr != nil {
		return v, err
	}
	fmt.Fprintf(env.stderr, "%s\nsending once more after block %d\n", te.Log, h)
	return signer.Send(ctx, msg)
}

// nextBlock waits until the node's application commits a block after the current one
// and returns its height.
func nextBlock(ctx context.Context, c *client.Client) (int64, error) {
	now, err := c.AppHeight(ctx)
	if err != nil {
		return 0, err
	}
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-tick.C:
		}
		if h, err := c.AppHeight(ctx); err != nil || h > now {
			return h, err
		}
	}
}

// eventAttr returns attribute key of the transaction's first event of type typ.
func eventAttr(v *client.TxView, typ, key string) (string, bool) {
	for _, e := range v.Events {
		if e.Type == typ {
			a, ok := e.Attributes[key]
			return a, ok
		}
	}
	return "", false
}

// signer is a client.Signer for pair that says on stderr when it signs a transaction
// again because another transaction of the same key took its nonce.
func (env *cliEnv) signer(c *client.Client, pair *keys.Pair) *client.Signer {
	s := c.Signer(pair)
	s.OnStaleNonce = func(r client.StaleNonceRetry) {
		fmt.Fprintf(env.stderr, "nonce %d of %s was taken meanwhile by another of its transactions (does this key sign elsewhere too?); signing again with nonce %d\n",
			r.Used, pair.Public(), r.Next)
	}
	return s
}
