package kernelbench

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"time"

	"github.com/tessera-net/tessera/client"
	"github.com/tessera-net/tessera/keys"
	"github.com/tessera-net/tessera/modules/league"
	"github.com/tessera-net/tessera/sdk/subnet"
	"github.com/tessera-net/tessera/tx"
)

// Publish submits (repo, commit, target length) for hotkey on the chain with
// commit-reveal: the commit first, then, RevealDelay blocks after the block it landed
// in, the reveal with the same salt. It returns the reveal's transaction.
func Publish(ctx context.Context, chain subnet.Chain, hotkey keys.PublicKey, netuid uint16, repo, commit string, target int) (*client.TxView, error) {
	var comp league.Competition
	if _, err := chain.Query(ctx, fmt.Sprintf("/league/competition/%d", netuid), 0, &comp); err != nil {
		return nil, fmt.Errorf("the competition of subnet %d: %w", netuid, err)
	}
	salt := make([]byte, 16)
	rand.Read(salt)
	r := league.Reveal{Netuid: netuid, Salt: salt, Repo: repo, Commit: commit, TargetLength: uint32(target)}
	if err := league.CheckReveal(r); err != nil {
		return nil, err
	}
	msg, err := league.NewCommit(hotkey, r)
	if err != nil {
		return nil, err
	}
	view, err := chain.Send(ctx, msg)
	if err != nil {
		return nil, fmt.Errorf("commit: %w", err)
	}
	due := view.Height + int64(comp.RevealDelay)
	for {
		s, err := chain.Status(ctx)
		if err != nil {
			return nil, err
		}
		if s.Height >= due {
			break
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
	msg, err = league.NewReveal(r)
	if err != nil {
		return nil, err
	}
	for try := 0; ; try++ {
		view, err = chain.Send(ctx, msg)
		var te *client.TxError
		if err == nil || try == 10 || !errors.As(err, &te) || te.Code != tx.CodeRateLimited {
			break
		}
		// Too early by the mempool's view of the height: a block later.
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
	if err != nil {
		return nil, fmt.Errorf("reveal: %w", err)
	}
	return view, nil
}

// Define records the competition of def's raw bytes on the chain, signed by the
// subnet's owner.
func Define(ctx context.Context, chain subnet.Chain, netuid uint16, raw []byte, uri string, revealDelay uint64) error {
	h, err := hashBytes(raw)
	if err != nil {
		return err
	}
	msg, err := league.NewDefine(league.Define{Netuid: netuid, DefinitionHash: h, URI: uri, RevealDelay: revealDelay})
	if err != nil {
		return err
	}
	_, err = chain.Send(ctx, msg)
	return err
}
