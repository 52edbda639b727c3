package main

import (
	"strings"
	"testing"
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
