package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/tessera-net/tessera/devnet"
	"github.com/tessera-net/tessera/genesis"
	"github.com/tessera-net/tessera/keys"
	"github.com/tessera-net/tessera/modules/stake"
)

// childCooldown sets the stake parameter pending_child_key_cooldown in the devnet's genesis.
type childCooldown struct{}

func (childCooldown) Name() string { return "child-cooldown" }
func (childCooldown) Genesis(st *genesis.AppState) error {
	if st.Extra == nil {
		st.Extra = map[string]json.RawMessage{}
	}
	st.Extra["stake"] = json.RawMessage(`{"params":{"pending_child_key_cooldown":2}}`)
	return nil
}
func (childCooldown) Start(context.Context, *devnet.Devnet) error { return nil }

// Usage errors are found before any node is contacted.
func TestStakeChildUsage(t *testing.T) {
	addr := func(uri string) string { p, _ := keys.FromURI(uri); return p.Public().String() }
	bob, charlie, dave := addr("//Bob"), addr("//Charlie"), addr("//Dave")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"get", bob}, "--netuid is required"},
		{[]string{"get", bob, "--netuid", "0"}, "root subnet"},
		{[]string{"set", "--hotkey", bob, "--netuid", "1"}, "at least one --child"},
		{[]string{"set", "--hotkey", bob, "--netuid", "1", "--child", "half:" + bob}, "not a fraction"},
		{[]string{"set", "--hotkey", bob, "--netuid", "1", "--child", "0.5"}, "want PROPORTION:HOTKEY"},
		{[]string{"set", "--hotkey", bob, "--netuid", "1", "--child", "0.5:" + bob}, "its own child"},
		{[]string{"set", "--hotkey", bob, "--netuid", "1", "--child", "0.6:" + charlie, "--child", "0.5:" + dave}, "sum to more than 1"},
		{[]string{"take", "--hotkey", bob, "--netuid", "1", "--take", "19%"}, "above the chain's maximum take"},
	} {
		args := append([]string{"stake", "child", "--node", "127.0.0.1:1"}, c.args...)
		code, _, errs := runYuma(t, "", args...)
		if code != 2 || !strings.Contains(errs, c.want) {
			t.Errorf("%v: exit %d, %q; want exit 2 and %q", c.args, code, errs, c.want)
		}
	}
}

// A btcli user's child keys through the binary against a dTAO devnet: Bob lends half of
// his validator hotkey's stake on subnet 1 to Charlie's; the set is shown with the
// cooldown and needs --yes, waits pending, and is applied at an epoch after the cooldown;
// Charlie sets and shows his childkey take; a second set within 150 blocks is refused.
func TestStakeChildCLI(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a chain: skipped with -short")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	l := devnet.NewSubnetLayout(2, 1, 3)
	d, err := devnet.Start(ctx, devnet.Options{BlockTime: 100 * time.Millisecond, DTAO: true, Subnet: &l, Extensions: []devnet.Extension{childCooldown{}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Stop() })
	bobP, _ := keys.FromURI("//Bob")
	charlieP, _ := keys.FromURI("//Charlie")
	bob, charlie := bobP.Public().String(), charlieP.Public().String()
	cli := func(stdin string, args ...string) (int, string, string) {
		return runYuma(t, stdin, append([]string{"--node", d.Node.RPCAddress()}, args...)...)
	}
	get := func(hot string) stake.ChildrenView {
		t.Helper()
		code, out, errs := cli("", "stake", "child", "get", hot, "--netuid", "1", "-o", "json")
		var v stake.ChildrenView
		if code != 0 || json.Unmarshal([]byte(out), &v) != nil {
			t.Fatalf("child get: exit %d %q %q", code, out, errs)
		}
		return v
	}
	if v := get(bob); len(v.Children) != 0 || v.Pending != nil || v.Cooldown != 2 {
		t.Fatalf("before: %+v", v)
	}
	set := []string{"stake", "child", "set", "--from-uri", "//Bob", "--hotkey", bob, "--netuid", "1", "--child", "50%:" + charlie}
	// Without --yes and no terminal: shown, not sent.
	code, _, errs := cli("", set...)
	if code != 2 || !strings.Contains(errs, "50.0000%  "+charlie) || !strings.Contains(errs, "a cooldown of 2 blocks") || !strings.Contains(errs, "--yes") {
		t.Fatalf("set without --yes: exit %d %q", code, errs)
	}
	code, out, errs := cli("", append(set, "--yes")...)
	if code != 0 || !strings.Contains(out, "scheduled 1 children of "+bob+" on subnet 1") {
		t.Fatalf("set: exit %d %q %q", code, out, errs)
	}
	if v := get(bob); v.Pending == nil || len(v.Pending.Children) != 1 || v.Pending.Children[0].Hotkey != charlie || v.Pending.Children[0].Proportion != 1<<63-1 {
		t.Fatalf("pending: %+v", v)
	}
	// Applied at an epoch of subnet 1 (tempo 3) after the cooldown: wait for it.
	for i := 0; ; i++ {
		if v := get(bob); len(v.Children) == 1 && v.Pending == nil {
			break
		}
		if i > 200 {
			t.Fatalf("never applied: %+v", get(bob))
		}
		time.Sleep(100 * time.Millisecond)
	}
	code, out, _ = cli("", "stake", "child", "get", charlie, "--netuid", "1")
	if code != 0 || !strings.Contains(out, "parents:\n  50.0000%  "+bob) || !strings.Contains(out, "childkey take: 0.00%") {
		t.Fatalf("child get (text): %d %q", code, out)
	}
	code, out, errs = cli("", "stake", "child", "take", "--from-uri", "//Charlie", "--hotkey", charlie, "--netuid", "1", "--take", "9%")
	if code != 0 || !strings.Contains(out, "set to 9.00%") {
		t.Fatalf("take: exit %d %q %q", code, out, errs)
	}
	code, out, _ = cli("", "stake", "child", "take", "--hotkey", charlie, "--netuid", "1", "-o", "json")
	var tk struct{ Take uint16 }
	if code != 0 || json.Unmarshal([]byte(out), &tk) != nil || tk.Take != 5898 {
		t.Fatalf("take (json): %d %q", code, out)
	}
	// The chain refuses a revocation within 150 blocks of the set, with its code.
	code, _, errs = cli("", "stake", "child", "revoke", "--from-uri", "//Bob", "--hotkey", bob, "--netuid", "1", "--yes")
	if code != 1 || !strings.Contains(errs, "rate_limited") || !strings.Contains(errs, "Revoke the children of "+bob) {
		t.Fatalf("revoke: exit %d %q", code, errs)
	}
}
