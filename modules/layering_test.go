package modules_test

import (
	"os/exec"
	"strings"
	"testing"
)

// The client side of the network — the CLI's client, the gateway, the SDK, the built-in
// subnets and every module's types — must not link the state store: a miner or a gateway
// has no business carrying IAVL, cosmos-db or pebble (and could not stay small or build
// for other platforms if it did). Keepers (modules/*/keeper) and the app are the chain's.
// (goleveldb stays linked through CometBFT's RPC client, which imports its config.)
func TestClientSideLinksNoStore(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("the go command is not on PATH")
	}
	pkgs := []string{
		"./modules/accounts", "./modules/stake", "./modules/subnets",
		"./modules/gov", "./modules/models", "./modules/league", "./client", "./gateway", "./sdk/...", "./subnets/textgen", "./wire", "./keys", "./tx",
	}
	forbidden := []string{
		"github.com/cosmos/iavl", "github.com/cosmos/cosmos-db", "github.com/cockroachdb/pebble",
		"github.com/tessera-net/tessera/store", "github.com/tessera-net/tessera/app",
		"github.com/tessera-net/tessera/modules/accounts/keeper", "github.com/tessera-net/tessera/modules/stake/keeper",
		"github.com/tessera-net/tessera/modules/subnets/keeper", "github.com/tessera-net/tessera/modules/gov/keeper",
		"github.com/tessera-net/tessera/modules/models/keeper", "github.com/tessera-net/tessera/modules/league/keeper",
	}
	for _, p := range pkgs {
		cmd := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}}", p)
		cmd.Dir = ".."
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("go list -deps %s: %v", p, err)
		}
		for _, dep := range strings.Fields(string(out)) {
			for _, f := range forbidden {
				if dep == f || strings.HasPrefix(dep, f+"/") {
					t.Errorf("%s links %s", p, dep)
				}
			}
		}
	}
}
