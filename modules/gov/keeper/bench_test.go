package keeper_test

import (
	"fmt"
	"testing"

	"github.com/tessera-net/tessera/keys"
	"github.com/tessera-net/tessera/module"
	"github.com/tessera-net/tessera/module/scenario"
	"github.com/tessera-net/tessera/modules"
	"github.com/tessera-net/tessera/modules/gov"
	"github.com/tessera-net/tessera/modules/models"
	"github.com/tessera-net/tessera/store"
)

// BenchmarkGovTally1000Voters is the end block that closes a proposal with 1,000
// stakers' votes (each on two hotkeys) and runs its models/add action.
func BenchmarkGovTally1000Voters(b *testing.B) {
	set := modules.Builtin()
	st := store.OpenMemory()
	ctx := &module.Context{KV: store.NewCache(st.Working()), ChainID: "bench"}
	for _, m := range set.Modules {
		if err := m.InitGenesis(ctx, nil); err != nil {
			b.Fatal(err)
		}
	}
	pair := func(s string) keys.PublicKey {
		p, err := keys.FromURI("//" + s)
		if err != nil {
			b.Fatal(err)
		}
		return p.Public()
	}
	proposer := pair("proposer")
	hot := []keys.PublicKey{pair("hot1"), pair("hot2")}
	if err := set.Accounts.Credit(ctx.KV, proposer, 1_000_000_000_000); err != nil {
		b.Fatal(err)
	}
	for _, h := range hot {
		if err := set.Stake.ClaimHotkey(ctx.KV, h, proposer); err != nil {
			b.Fatal(err)
		}
	}
	add, err := models.NewAddAction(scenario.TestModel("m-1"))
	if err != nil {
		b.Fatal(err)
	}
	submit, _ := gov.NewSubmit("bench", "", gov.DefaultParams().MinDeposit, []gov.Action{add})
	ctx.Height = 1
	if err := set.Gov.Handlers()[gov.MsgSubmit](ctx, proposer, submit); err != nil {
		b.Fatal(err)
	}
	vote, _ := gov.NewVote(1, gov.OptionYes)
	for i := 0; i < 1000; i++ {
		v := pair(fmt.Sprintf("voter%d", i))
		for _, h := range hot {
			if err := set.Stake.AddStake(ctx.KV, h, v, 1_000_000_000); err != nil {
				b.Fatal(err)
			}
		}
		if err := set.Gov.Handlers()[gov.MsgVote](ctx, v, vote); err != nil {
			b.Fatal(err)
		}
	}
	end := ctx.Height + int64(gov.DefaultParams().VotingPeriod)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		ectx := &module.Context{KV: store.NewCache(ctx.KV), ChainID: "bench", Height: end}
		if err := set.Gov.EndBlock(ectx); err != nil {
			b.Fatal(err)
		}
		if len(ectx.Events()) == 0 || ectx.Events()[0].Type != "model_added" {
			b.Fatalf("events %v", ectx.Events())
		}
	}
}
