package infdev

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/tessera-net/tessera/client"
	"github.com/tessera-net/tessera/keys"
	"github.com/tessera-net/tessera/modules/accounts"
	"github.com/tessera-net/tessera/modules/inference"
	"github.com/tessera-net/tessera/modules/subnets"
	"github.com/tessera-net/tessera/poc"
)

// watch prints the inference subnet's progress as it happens: each stage transition of
// the PoC round, the group formed (valid nonces and weight per MLNode, acceptance,
// coverage) and every payment of the subnet's emission.
func watch(ctx context.Context, w io.Writer, c *client.Client, netuid uint16, names map[inference.Account]string) {
	name := func(a inference.Account) string {
		if n, ok := names[a]; ok {
			return n
		}
		return a.String()
	}
	t := time.NewTicker(200 * time.Millisecond)
	defer t.Stop()
	var lastEpoch, lastPaid uint64
	shown := map[string]bool{}
	served := map[inference.Account]inference.ExecutorView{} // the executors' counts at the last summary
	invalid := map[inference.Account]bool{}                  // the executors marked INVALID during the epoch
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		var v inference.EpochView
		if _, err := c.Query(ctx, fmt.Sprintf("/inference/epoch/%d", netuid), 0, &v); err != nil {
			continue
		}
		if rd := v.Round; rd != nil {
			key := func(s string) string { return fmt.Sprintf("%d/%s", rd.Epoch, s) }
			if !shown[key("start")] {
				shown[key("start")] = true
				preserved := 0
				var nodes []string
				for _, m := range rd.Roster {
					for _, n := range m.Nodes {
						if n.Slot == poc.PoCSlot {
							preserved++
							nodes = append(nodes, name(m.Hotkey)+"/"+n.ID)
						}
					}
				}
				fmt.Fprintf(w, "inference subnet %d, block %d: epoch %d's PoC starts — %d participants; serving through PoC on their last weight: %d MLNodes %s\n",
					netuid, rd.PoCStart, rd.Epoch, len(rd.Roster), preserved, strings.Join(nodes, " "))
			}
			if rd.Validated && !shown[key("validation")] {
				shown[key("validation")] = true
				fmt.Fprintf(w, "inference subnet %d, block %d: epoch %d's validation starts — %d validators re-run samples of %d nonces\n",
					netuid, rd.ValidationStart, rd.Epoch, len(rd.Validators), rd.Params.ValidationSample)
			}
		}
		if g := v.Upcoming; g != nil && !shown[fmt.Sprintf("%d/formed", g.Epoch)] {
			shown[fmt.Sprintf("%d/formed", g.Epoch)] = true
			fmt.Fprintf(w, "inference subnet %d, block %d: epoch %d's group formed (in force from block %d), total weight %d:\n", netuid, g.FormedAt, g.Epoch, g.ActiveFrom, g.TotalWeight)
			for _, m := range g.Members {
				var nodes []string
				for _, n := range m.Nodes {
					nodes = append(nodes, fmt.Sprintf("%s(%s) %s valid %d → weight %d", n.ID, n.PoCModel, n.Slot, n.Committed, n.Weight))
				}
				verdict := "accepted"
				if !m.Accepted {
					verdict = "REJECTED"
				}
				bonus := ""
				if m.Covered {
					bonus = ", every model covered: +coverage bonus"
				}
				fmt.Fprintf(w, "  %-11s %s by %s/%s of the validators' stake%s; weight %d: %s\n", name(m.Hotkey), verdict,
					accounts.FormatAmount(m.Accepting), accounts.FormatAmount(m.Judged), bonus, m.Weight, strings.Join(nodes, "; "))
			}
		}
		var exs []inference.ExecutorView
		if _, err := c.Query(ctx, fmt.Sprintf("/inference/executors/%d", netuid), 0, &exs); err == nil && v.Current != nil && v.Current.Epoch == lastEpoch {
			for _, x := range exs {
				if x.Status == inference.ExecutorInvalid {
					invalid[x.Hotkey] = true
				}
			}
		}
		if g := v.Current; g != nil && g.Epoch != lastEpoch {
			if lastEpoch > 0 {
				printServing(ctx, w, c, netuid, lastEpoch, g.ActiveFrom, name, served, invalid)
				clear(invalid)
			}
			lastEpoch = g.Epoch
			fmt.Fprintf(w, "inference subnet %d, block %d: epoch %d's group is in force (models %s)\n", netuid, g.ActiveFrom, g.Epoch, modelIDs(g))
		}
		var s subnets.SubnetView
		if _, err := c.Query(ctx, fmt.Sprintf("/subnets/subnet/%d", netuid), 0, &s); err != nil || s.LastEpochBlock == lastPaid || s.LastEpochBlock == 0 {
			continue
		}
		lastPaid = s.LastEpochBlock
		var mg subnets.Metagraph
		if _, err := c.Query(ctx, fmt.Sprintf("/subnets/metagraph/%d", netuid), 0, &mg); err != nil {
			continue
		}
		var paid []string
		var total uint64
		for uid, h := range mg.Hotkeys {
			pub, err := keys.ParsePublicKey(h)
			if err != nil || uid >= len(mg.Emission) {
				continue
			}
			if n, ok := names[inference.Account(pub)]; ok {
				paid = append(paid, fmt.Sprintf("%s %s", n, accounts.FormatAmount(mg.Emission[uid])))
				total += mg.Emission[uid]
			}
		}
		if total == 0 {
			continue // no group in force, or nobody with weight: the emission is not paid
		}
		fmt.Fprintf(w, "inference subnet %d, block %d: emission paid by the group in force — %s\n", netuid, s.LastEpochBlock, strings.Join(paid, ", "))
	}
}

func modelIDs(g *inference.Group) string {
	ids := make([]string, len(g.Models))
	for i, sg := range g.Models {
		ids[i] = sg.Model.ID
	}
	return strings.Join(ids, ", ")
}

// printServing prints what the group of epoch served while it was in force: requests,
// tokens and payments per model, and per executor what it served and how the
// validators' checks went since the last summary (served remembers the counts then),
// and which were marked INVALID during the epoch.
func printServing(ctx context.Context, w io.Writer, c *client.Client, netuid uint16, epoch, at uint64, name func(inference.Account) string,
	served map[inference.Account]inference.ExecutorView, invalid map[inference.Account]bool) {
	var u inference.UsageView
	if _, err := c.Query(ctx, fmt.Sprintf("/inference/usage/%d/%d", netuid, epoch), 0, &u); err != nil {
		return
	}
	var exs []inference.ExecutorView
	if _, err := c.Query(ctx, fmt.Sprintf("/inference/executors/%d", netuid), 0, &exs); err != nil {
		return
	}
	var reqs, tokens, paid, refunds, voided uint64
	var per []string
	for _, m := range u.Models {
		reqs += m.Requests
		tokens += m.PromptTokens + m.CompletionTokens
		paid += m.Paid
		refunds += m.Refunds
		voided += m.Invalidated
		per = append(per, fmt.Sprintf("%s %d", m.Model, m.Requests))
	}
	fmt.Fprintf(w, "inference subnet %d, block %d: epoch %d's group served %d requests (%s), %d tokens, %s paid to executors; %d refunded, %d of them invalidated by the validators' replays\n",
		netuid, at, epoch, reqs, strings.Join(per, ", "), tokens, accounts.FormatAmount(paid), refunds, voided)
	for _, x := range exs {
		was := served[x.Hotkey]
		served[x.Hotkey] = x
		status := "active"
		if invalid[x.Hotkey] {
			status = "INVALID this epoch: its altered answers refunded, no weight in the epoch's reward"
		}
		fmt.Fprintf(w, "  %-11s served %d, checked valid %d, invalidated %d, missed %d; reputation %d; %s\n", name(x.Hotkey),
			x.Served-was.Served, x.Validated-was.Validated, x.Invalidated-was.Invalidated, x.Missed-was.Missed, x.Reputation, status)
	}
}
