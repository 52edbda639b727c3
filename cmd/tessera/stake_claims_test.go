package main

import (
	"strings"
	"testing"

	"github.com/tessera-net/tessera/client"
)

// Mistakes in `stake claim-type` are usage errors (exit 2) that say what is wrong, before
// any node is contacted.
func TestStakeClaimTypeUsageErrors(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--set", "sell"}, `unknown root claim type "sell"`},
		{[]string{"--set", "swap", "--netuids", "1"}, "only keep-subnets takes netuids"},
		{[]string{"--set", "keep-subnets"}, "needs at least one netuid"},
		{[]string{"--set", "keep-subnets", "--netuids", "0,1"}, "netuid 0 (root)"},
		{[]string{"--set", "keep-subnets", "--netuids", "70000"}, "70000 is not a netuid"},
		{[]string{"--netuids", "1"}, "--netuids goes with --set keep-subnets"},
		{[]string{"--set", "keep", "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY"}, "give no COLDKEY"},
	} {
		args := append([]string{"stake", "claim-type", "--from-uri", "//Alice", "--node", "127.0.0.1:1"}, c.args...)
		code, _, errs := runYuma(t, "", args...)
		if code != 2 || !strings.Contains(errs, c.want) {
			t.Errorf("%v: exit %d, %q; want exit 2 and %q", c.args, code, errs, c.want)
		}
	}
}

// `stake claim-root` tells what was kept and what was sold, whatever the claim type chose.
func TestClaimRootDone(t *testing.T) {
	ev := func(alpha, tao, kept string) client.Event {
		return client.Event{Type: "root_claimed", Attributes: map[string]string{"alpha": alpha, "tao": tao, "kept": kept}}
	}
	for _, c := range []struct {
		events []client.Event
		want   string
	}{
		{[]client.Event{ev("1000000000", "900000000", "false")}, "claimed 1.000000000 alpha in 1 claims sold, 0.900000000 TAO staked on root"},
		{[]client.Event{ev("1000000000", "0", "true"), ev("2000000000", "0", "true")}, "claimed 3.000000000 alpha in 2 claims kept as alpha stake"},
		{[]client.Event{ev("1000000000", "0", "true"), {Type: "tx"}, ev("500000000", "400000000", "false")},
			"claimed 1.000000000 alpha in 1 claims kept as alpha stake; 0.500000000 alpha in 1 claims sold, 0.400000000 TAO staked on root"},
	} {
		if got := claimRootDone(&client.TxView{Events: c.events}); got != c.want {
			t.Errorf("%q, want %q", got, c.want)
		}
	}
}
