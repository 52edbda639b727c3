package keeper

import (
	"strconv"

	"github.com/tessera-net/tessera/module"
	"github.com/tessera-net/tessera/modules/league"
	"github.com/tessera-net/tessera/tx"
)

// Queries implements module.Module: "params", "competition/<netuid>",
// "submissions/<netuid>" (every revealed submission, by hotkey) and
// "pending/<netuid>/<hotkey>" (a hotkey's pending commit, or null).
func (k *Keeper) Queries() map[string]module.Route {
	return map[string]module.Route{
		"params": {Query: func(q module.QueryRequest) (any, error) { return k.Params(q.State) }},
		"competition": {Args: []string{"netuid"}, Query: func(q module.QueryRequest) (any, error) {
			n, err := netuidArg(q.Args[0])
			if err != nil {
				return nil, err
			}
			return k.Competition(q.State, n)
		}},
		"submissions": {Args: []string{"netuid"}, Query: func(q module.QueryRequest) (any, error) {
			n, err := netuidArg(q.Args[0])
			if err != nil {
				return nil, err
			}
			subs, err := k.SubmissionsOf(q.State, n)
			if err != nil {
				return nil, err
			}
			return league.Submissions{Netuid: n, Submissions: subs}, nil
		}},
		"pending": {Args: []string{"netuid", "hotkey"}, Query: func(q module.QueryRequest) (any, error) {
			n, err := netuidArg(q.Args[0])
			if err != nil {
				return nil, err
			}
			hk, err := module.AddressArg(q.Args[1])
			if err != nil {
				return nil, err
			}
			return k.Pending(q.State, n, hk)
		}},
	}
}

func netuidArg(s string) (uint16, error) {
	n, err := strconv.ParseUint(s, 10, 16)
	if err != nil {
		return 0, tx.Errorf(tx.CodeInvalidMessage, "netuid %q is not a number below 65536", s)
	}
	return uint16(n), nil
}
