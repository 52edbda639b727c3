package devnet

import (
	"encoding/json"
	"testing"

	"github.com/tessera-net/tessera/genesis"
	"github.com/tessera-net/tessera/modules/subnets"
)

// The devnet's genesis turns the registration rate limit off and keeps the other subnets
// params it set (dtao).
func TestRegistrationLimitGenesis(t *testing.T) {
	var st genesis.AppState
	if err := dtaoGenesis(&st, true); err != nil {
		t.Fatal(err)
	}
	if err := registrationLimitGenesis(&st, DevnetNetworkRateLimit); err != nil {
		t.Fatal(err)
	}
	g := subnets.Genesis{Params: new(subnets.Params)}
	*g.Params = subnets.DefaultParams()
	if err := json.Unmarshal(st.Extra["subnets"], &g); err != nil {
		t.Fatal(err)
	}
	if g.Params.NetworkRateLimit != 0 || !g.Params.DTAO || subnets.DefaultParams().NetworkRateLimit != 7200 {
		t.Fatalf("params %+v from %s", g.Params, st.Extra["subnets"])
	}
}
