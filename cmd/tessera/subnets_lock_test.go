package main

import (
	"strings"
	"testing"

	"github.com/tessera-net/tessera/modules/subnets"
)

// `subnet lock-cost` says when the next registration is allowed (network_rate_limit).
func TestDescribeRegistrationLimit(t *testing.T) {
	for _, c := range []struct {
		lv   subnets.LockView
		want string
	}{
		{subnets.LockView{Block: 5, RateLimit: 7200}, "the next registration is allowed now (then one every 7200 blocks)"},
		{subnets.LockView{Block: 100, RateLimit: 7200, LastRegistrationBlock: 2, NextRegistrationBlock: 7202},
			"The last registration was at block 2: next registration allowed at block 7202 (one every 7200 blocks, network_rate_limit; 7102 blocks from now)"},
		{subnets.LockView{Block: 7202, RateLimit: 7200, LastRegistrationBlock: 2, NextRegistrationBlock: 7202}, "allowed now (at block 7202 or later"},
	} {
		if got := describeRegistrationLimit(c.lv); !strings.Contains(got, c.want) {
			t.Errorf("%+v: %q, want %q", c.lv, got, c.want)
		}
	}
}
