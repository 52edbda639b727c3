// Package modules is the registry of the chain's built-in modules: the one place where
// the keepers are built and wired to each other through the interfaces each consumer
// declares (its expected_keepers.go), and where the incentive mechanisms a subnet may
// choose are named. `tessera node start`, `tessera testnet`, `tessera devnet` and the
// tests all build their application from Builtin, so a module exists on every node or
// on none.
//
// A module's types live in modules/<name> (no store imported: clients and the SDK link
// them) and its state and rules in modules/<name>/keeper. docs/modules.md tells how to
// write one and plug it in here.
package modules

import (
	"github.com/tessera-net/tessera/module"
	accountskeeper "github.com/tessera-net/tessera/modules/accounts/keeper"
	govkeeper "github.com/tessera-net/tessera/modules/gov/keeper"
	"github.com/tessera-net/tessera/modules/inference"
	inferencekeeper "github.com/tessera-net/tessera/modules/inference/keeper"
	leaguekeeper "github.com/tessera-net/tessera/modules/league/keeper"
	modelskeeper "github.com/tessera-net/tessera/modules/models/keeper"
	stakekeeper "github.com/tessera-net/tessera/modules/stake/keeper"
	"github.com/tessera-net/tessera/modules/subnets"
	subnetskeeper "github.com/tessera-net/tessera/modules/subnets/keeper"
)

// Set is a chain's modules, wired, with the ante step every transaction passes.
type Set struct {
	Accounts *accountskeeper.Keeper
	Stake    *stakekeeper.Keeper
	Subnets  *subnetskeeper.Keeper
	Gov      *govkeeper.Keeper
	Models   *modelskeeper.Keeper
	// Inference is the inference network: participants, MLNodes, PoC rounds and epoch
	// groups of the subnets whose mechanism is poc.
	Inference *inferencekeeper.Keeper
	// League is the kernel league: competitions with commit-reveal submissions.
	League *leaguekeeper.Keeper
	// Mechanisms are the incentive mechanisms subnets may choose, by name.
	Mechanisms subnets.Mechanisms
	// Modules lists every module in the order genesis and the block steps run them.
	Modules []module.Module
	// Ante is the chain's ante step (the accounts module's nonce and fee).
	Ante module.AnteHandler
}

// Builtin builds the chain's modules. Each call returns new keepers (a keeper may hold
// buffers, such as Yuma's epoch workspace, that one application owns).
func Builtin() *Set {
	s := &Set{Mechanisms: subnets.Mechanisms{subnets.MechanismYuma: subnets.NewYuma()}}
	s.Accounts = accountskeeper.New()
	s.Stake = stakekeeper.New(s.Accounts)
	s.Subnets = subnetskeeper.New(s.Accounts, s.Stake, s.Mechanisms)
	s.Gov = govkeeper.New(s.Accounts, s.Stake)
	s.Models = modelskeeper.New()
	s.Inference = inferencekeeper.New(subnetsView{}, s.Stake, s.Models, s.Accounts)
	s.Mechanisms[inference.Mechanism] = s.Inference.Mechanism()
	// Governance executes the actions other modules own: each registers its handlers here.
	for typ, h := range s.Models.Actions() {
		s.Gov.Register(typ, h)
	}
	s.League = leaguekeeper.New(subnetsView{})
	// A dissolved subnet's netuid may be reused: the modules keeping state under it
	// drop it.
	s.Subnets.OnDissolve(s.Inference.Dissolve)
	s.Subnets.OnDissolve(s.League.Dissolve)
	s.Subnets.OnDissolve(s.Stake.DissolveChildren)
	s.Modules = []module.Module{s.Accounts, s.Stake, s.Subnets, s.Gov, s.Models, s.Inference, s.League}
	s.Ante = s.Accounts.Ante
	return s
}
