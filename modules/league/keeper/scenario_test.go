package keeper_test

import (
	"crypto/sha256"
	"strconv"
	"strings"
	"testing"

	"github.com/tessera-net/tessera/module/scenario"
	"github.com/tessera-net/tessera/modules/league"
	"github.com/tessera-net/tessera/tx"
)

func TestLeagueScenarios(t *testing.T) {
	scenario.Walk(t, "testdata", scenario.AccountsMsgs(), scenario.StakeMsgs(), scenario.SubnetsMsgs(), leagueMsgs())
}

// leagueMsgs are the league module's messages in scenario files:
//
//	define netuid=N [hash=HEX|doc=WORD] [uri=S|uri=len=N] [delay=N] [window=N]
//	commit netuid=N hotkey=ACCOUNT salt=WORD repo=URL commit=HEX length=N
//	                 (hotkey is the account whose CommitHash is computed; the signer may differ)
//	commit_raw netuid=N hash=HEX
//	reveal netuid=N salt=WORD repo=URL commit=HEX length=N
//
// doc=WORD hashes the word as a definition file; the default is doc=definition.
func leagueMsgs() scenario.MsgBuilders {
	return scenario.MsgBuilders{"define": buildDefine, "commit": buildCommit, "commit_raw": buildCommitRaw, "reveal": buildReveal}
}

func buildDefine(a *scenario.Args) (tx.Msg, error) {
	n, err := a.Uint("netuid", 16)
	if err != nil {
		return tx.Msg{}, err
	}
	d := league.Define{Netuid: uint16(n), RevealDelay: 2}
	doc := "definition"
	if a.Has("doc") {
		if doc, err = a.String("doc"); err != nil {
			return tx.Msg{}, err
		}
	}
	h := sha256.Sum256([]byte(doc))
	d.DefinitionHash = h[:]
	if a.Has("hash") {
		if d.DefinitionHash, err = a.Bytes("hash"); err != nil {
			return tx.Msg{}, err
		}
	}
	if a.Has("uri") {
		if d.URI, err = a.String("uri"); err != nil {
			return tx.Msg{}, err
		}
		if n, ok := strings.CutPrefix(d.URI, "len="); ok { // len=N: N copies of "x"
			k, _ := strconv.Atoi(n)
			d.URI = strings.Repeat("x", k)
		}
	}
	if a.Has("delay") {
		if d.RevealDelay, err = a.Uint("delay", 64); err != nil {
			return tx.Msg{}, err
		}
	}
	if a.Has("window") {
		if d.RevealWindow, err = a.Uint("window", 64); err != nil {
			return tx.Msg{}, err
		}
	}
	return league.NewDefine(d)
}

func revealArgs(a *scenario.Args) (league.Reveal, error) {
	n, err := a.Uint("netuid", 16)
	if err != nil {
		return league.Reveal{}, err
	}
	r := league.Reveal{Netuid: uint16(n)}
	salt, err := a.String("salt")
	if err != nil {
		return r, err
	}
	r.Salt = []byte(salt)
	if r.Repo, err = a.String("repo"); err != nil {
		return r, err
	}
	if r.Commit, err = a.String("commit"); err != nil {
		return r, err
	}
	l, err := a.Uint("length", 32)
	if err != nil {
		return r, err
	}
	r.TargetLength = uint32(l)
	return r, nil
}

func buildCommit(a *scenario.Args) (tx.Msg, error) {
	hk, err := a.Account("hotkey")
	if err != nil {
		return tx.Msg{}, err
	}
	r, err := revealArgs(a)
	if err != nil {
		return tx.Msg{}, err
	}
	return league.NewCommit(hk, r)
}

func buildCommitRaw(a *scenario.Args) (tx.Msg, error) {
	n, err := a.Uint("netuid", 16)
	if err != nil {
		return tx.Msg{}, err
	}
	h, err := a.Bytes("hash")
	if err != nil {
		return tx.Msg{}, err
	}
	return tx.NewMsg(league.MsgCommit, league.Commit{Netuid: uint16(n), Hash: h})
}

func buildReveal(a *scenario.Args) (tx.Msg, error) {
	r, err := revealArgs(a)
	if err != nil {
		return tx.Msg{}, err
	}
	return league.NewReveal(r)
}
