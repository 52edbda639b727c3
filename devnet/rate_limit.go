package devnet

import (
	"encoding/json"
	"fmt"

	"github.com/tessera-net/tessera/genesis"
)

// DevnetNetworkRateLimit is the devnet's subnets parameter network_rate_limit: 0, no
// limit. The devnet creates its subnets (subnet 1, the league's, the inference network's)
// through subnets/create a few blocks apart as it starts, which subtensor's 7200 blocks
// between registrations (the chain's default) would refuse; a devnet user may create
// more at once too. A chain with the default shows the limit
// (modules/subnets/keeper/testdata/lock.txt).
const DevnetNetworkRateLimit = 0

// registrationLimitGenesis sets network_rate_limit in the subnets genesis section,
// keeping what else the section holds.
func registrationLimitGenesis(st *genesis.AppState, limit uint64) error {
	section := map[string]map[string]any{}
	if raw, ok := st.Extra["subnets"]; ok {
		if err := json.Unmarshal(raw, &section); err != nil {
			return fmt.Errorf("subnets genesis: %w", err)
		}
	}
	if section["params"] == nil {
		section["params"] = map[string]any{}
	}
	section["params"]["network_rate_limit"] = limit
	raw, err := json.Marshal(section)
	if err != nil {
		return err
	}
	if st.Extra == nil {
		st.Extra = map[string]json.RawMessage{}
	}
	st.Extra["subnets"] = raw
	return nil
}
