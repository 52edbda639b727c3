package main

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/tessera-net/tessera/client"
	"github.com/tessera-net/tessera/modules/accounts"
	"github.com/tessera-net/tessera/modules/subnets"
)

// watchEpochs prints a line per uid of the subnet after each of its epochs: what Yuma
// gave every miner and validator, so a devnet shows ranking as it happens. It returns
// when ctx ends.
func watchEpochs(ctx context.Context, w io.Writer, c *client.Client, netuid uint16, names map[string]string) {
	var last uint64
	tick := time.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		var s subnets.SubnetView
		if _, err := c.Query(ctx, "/subnets/subnet/"+strconv.Itoa(int(netuid)), 0, &s); err != nil || s.LastEpochBlock == last {
			continue
		}
		last = s.LastEpochBlock
		var mg subnets.Metagraph
		if _, err := c.Query(ctx, "/subnets/metagraph/"+strconv.Itoa(int(netuid)), int64(last), &mg); err != nil {
			continue
		}
		fmt.Fprint(w, formatEpoch(&mg, last, names))
	}
}

// formatEpoch renders one epoch's results, one uid a line.
func formatEpoch(mg *subnets.Metagraph, block uint64, names map[string]string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "epoch of subnet %d at block %d:\n", mg.Netuid, block)
	for uid := range mg.UIDs {
		role := "-"
		if len(mg.Weights[uid]) > 0 {
			role = "weights"
		}
		name := names[mg.Hotkeys[uid]]
		if name == "" {
			name = mg.Hotkeys[uid][:8] + "…"
		}
		fmt.Fprintf(&b, "  uid %-3d %-10s %-8s incentive %.4f  dividends %.4f  emission %s  stake %s\n", uid, name, role,
			u16f(mg.Incentive[uid]), u16f(mg.Dividends[uid]), accounts.FormatAmount(mg.Emission[uid]), accounts.FormatAmount(mg.Stake[uid]))
	}
	return b.String()
}
