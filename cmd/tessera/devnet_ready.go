package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/tessera-net/tessera/client"
	"github.com/tessera-net/tessera/devnet"
	"github.com/tessera-net/tessera/modules/subnets"
)

// awaitBannerReady waits until the commands the devnet's banner prints work as printed:
// every validator of the subnet holds a validator permit (permits come with the subnet's
// first epoch; without one `weights set` is refused) and, when gatewayURL is not empty,
// the gateway knows a miner to send the chat request to. It returns ctx's error if ctx
// ends first.
func awaitBannerReady(ctx context.Context, log *slog.Logger, c *client.Client, l *devnet.SubnetLayout, gatewayURL string) error {
	log.Info("waiting for the first epoch of the subnet (validator permits) and for miners to serve", "netuid", l.Netuid, "tempo", l.Tempo)
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for !validatorsPermitted(ctx, c, l) || (gatewayURL != "" && !gatewayHealthy(ctx, gatewayURL)) {
		select {
		case <-ctx.Done():
			return fmt.Errorf("devnet not ready: %w", ctx.Err())
		case <-tick.C:
		}
	}
	return nil
}

// validatorsPermitted reports whether the layout's validators (uids 1 to the number of
// them) all hold a validator permit.
func validatorsPermitted(ctx context.Context, c *client.Client, l *devnet.SubnetLayout) bool {
	var mg subnets.Metagraph
	if _, err := c.Query(ctx, "/subnets/metagraph_lite/"+strconv.Itoa(int(l.Netuid)), 0, &mg); err != nil {
		return false
	}
	for uid := 1; uid <= len(l.Validators); uid++ {
		if uid >= len(mg.ValidatorPermit) || !mg.ValidatorPermit[uid] {
			return false
		}
	}
	return true
}

// gatewayHealthy reports whether the gateway at url (its OpenAI base, ".../v1") knows a
// miner of every subnet it serves, from its /healthz answer. The inference network's
// API nodes, which the gateway also serves, come up only once the first epoch group is
// in force (block 44 of the devnet): the banner does not wait for them.
func gatewayHealthy(ctx context.Context, url string) bool {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(url, "/v1")+"/healthz", nil)
	if err != nil {
		return false
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	var h struct {
		Subnets []struct {
			Miners int `json:"miners"`
		} `json:"subnets"`
	}
	if json.NewDecoder(resp.Body).Decode(&h) != nil || len(h.Subnets) == 0 {
		return false
	}
	for _, s := range h.Subnets {
		if s.Miners == 0 {
			return false
		}
	}
	return true
}
