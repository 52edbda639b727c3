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
		if g := v.Current; g != nil && g.Epoch != lastEpoch {
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
