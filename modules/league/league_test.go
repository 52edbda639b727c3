package league_test

import (
	"strings"
	"testing"

	"github.com/tessera-net/tessera/keys"
	"github.com/tessera-net/tessera/modules/league"
)

func TestCommitHashBindsEveryField(t *testing.T) {
	a, _ := keys.FromURI("//Alice")
	b, _ := keys.FromURI("//Bob")
	base := league.CommitHash(1, a.Public(), []byte("saltsalt"), "https://github.com/a/b", strings.Repeat("a", 40), 100_000)
	for name, h := range map[string][32]byte{
		"netuid": league.CommitHash(2, a.Public(), []byte("saltsalt"), "https://github.com/a/b", strings.Repeat("a", 40), 100_000),
		"hotkey": league.CommitHash(1, b.Public(), []byte("saltsalt"), "https://github.com/a/b", strings.Repeat("a", 40), 100_000),
		"salt":   league.CommitHash(1, a.Public(), []byte("saltsalT"), "https://github.com/a/b", strings.Repeat("a", 40), 100_000),
		"repo":   league.CommitHash(1, a.Public(), []byte("saltsalt"), "https://github.com/a/c", strings.Repeat("a", 40), 100_000),
		"commit": league.CommitHash(1, a.Public(), []byte("saltsalt"), "https://github.com/a/b", strings.Repeat("b", 40), 100_000),
		"length": league.CommitHash(1, a.Public(), []byte("saltsalt"), "https://github.com/a/b", strings.Repeat("a", 40), 200_000),
		// Length prefixes: moving a byte from the salt to the repo changes the hash.
		"boundary": league.CommitHash(1, a.Public(), []byte("saltsal"), "thttps://github.com/a/b", strings.Repeat("a", 40), 100_000),
	} {
		if h == base {
			t.Errorf("changing the %s does not change the hash", name)
		}
	}
}

func TestMsgFields(t *testing.T) {
	a, _ := keys.FromURI("//Alice")
	r := league.Reveal{Netuid: 3, Salt: []byte("saltsalt"), Repo: "https://github.com/a/b", Commit: strings.Repeat("a", 40), TargetLength: 100_000}
	c, _ := league.NewCommit(a.Public(), r)
	f, ok, err := league.MsgFields(a.Public(), c)
	if !ok || err != nil || f["netuid"] != "3" || f["repo"] != nil {
		t.Fatalf("commit fields %v %v %v (the commit must not show the submission)", f, ok, err)
	}
	m, _ := league.NewReveal(r)
	if f, ok, _ := league.MsgFields(a.Public(), m); !ok || f["repo"] != r.Repo || f["target_length"] != "100000" {
		t.Fatalf("reveal fields %v", f)
	}
}
