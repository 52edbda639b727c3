package main

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/tessera-net/tessera/client"
	"github.com/tessera-net/tessera/keys"
	"github.com/tessera-net/tessera/modules/accounts"
	"github.com/tessera-net/tessera/modules/stake"
	"github.com/tessera-net/tessera/modules/subnets"
)

func u16f(v uint16) float64 { return float64(v) / 65535 }

// newSubnetCmd is `tessera subnet`: its subcommands share the --node flag.
func newSubnetCmd(env *cliEnv) *cobra.Command {
	var nf nodeFlag
	cmd := &cobra.Command{Use: "subnet", Aliases: []string{"s", "subnets"}, Short: "Create, inspect, configure and register on subnets"}
	nf.register(cmd, env)
	cmd.AddCommand(
		newSubnetCreateCmd(env, &nf),
		newSubnetLockCostCmd(env, &nf),
		newSubnetListCmd(env, &nf),
		newSubnetShowCmd(env, &nf),
		newSubnetHyperparamsCmd(env, &nf),
		newSubnetSetCmd(env, &nf),
		newSubnetTriggerEpochCmd(env, &nf),
		newSubnetRegisterCmd(env, &nf),
		newSubnetServeAxonCmd(env, &nf),
		newSubnetCommitCmd(env, &nf),
	)
	return cmd
}

// newSubnetCreateCmd is `subnet create`: a new subnet owned by the wallet's coldkey.
func newSubnetCreateCmd(env *cliEnv, nf *nodeFlag) *cobra.Command {
	create := newSendFlags(coldkeyRole)
	var createHot, mechanism string
	var yes bool
	createCmd := &cobra.Command{
		Use: "create", Short: "Create a subnet (locks the lock cost, see `subnet lock-cost`); the owner's hotkey becomes uid 0", Args: cobra.NoArgs,
		Example: `  tessera subnet create --wallet.name owner
  tessera subnet create --from-uri //Alice --hotkey 5F... --mechanism yuma`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			hot, err := create.hotkeyPub(cmd, env, createHot)
			if err != nil {
				return err
			}
			var lv subnets.LockView
			if err := nf.query(cmd.Context(), "/subnets/lock_cost", &lv); err != nil {
				return err
			}
			// The cost only falls until another registration lands, which doubles it: the
			// message refuses a cost above the one shown.
			m, err := subnets.NewCreateMaxLock(hot, mechanism, lv.LockCost)
			if err != nil {
				return err
			}
			if err := confirm(env, yes, "Creating a subnet locks "+describeLock(lv)+" from the signing coldkey."); err != nil {
				return err
			}
			return create.sendTelling(cmd, env, nf, m, func(v *client.TxView) string {
				netuid, _ := eventAttr(v, "subnet_created", "netuid")
				locked := lv.LockCost
				var s subnets.SubnetView
				if err := nf.query(cmd.Context(), "/subnets/subnet/"+netuid, &s); err == nil && s.Locked > 0 {
					locked = s.Locked
				}
				return fmt.Sprintf("subnet %s created, %s tokens locked", netuid, accounts.FormatAmount(locked))
			})
		},
	}
	create.register(createCmd)
	createCmd.Flags().BoolVarP(&yes, "yes", "y", false, "do not ask for confirmation of the lock cost")
	createCmd.Flags().StringVar(&createHot, "hotkey", "", "the owner's hotkey address (default: the wallet's hotkey)")
	createCmd.Flags().StringVar(&mechanism, "mechanism", subnets.MechanismYuma, "the subnet's incentive mechanism, fixed at creation (the node's API lists them: GET /v1/query/subnets/mechanisms)")
	return createCmd
}

// describeLock tells a lock cost: "X tokens (the lock cost at block N, ...)".
func describeLock(lv subnets.LockView) string {
	s := fmt.Sprintf("%s tokens (the lock cost at block %d", accounts.FormatAmount(lv.LockCost), lv.Block)
	switch {
	case !lv.Dynamic:
		s += ", fixed"
	case lv.DecayPerBlock > 0:
		s += fmt.Sprintf("; it falls by %s a block to the minimum of %s, and doubles at each registration", accounts.FormatAmount(lv.DecayPerBlock), accounts.FormatAmount(lv.MinLock))
	default:
		s += "; the minimum, doubling at each registration"
	}
	return s + ")"
}

// newSubnetLockCostCmd is `subnet lock-cost`: what creating a subnet locks now (btcli's
// `subnet lock-cost`).
func newSubnetLockCostCmd(env *cliEnv, nf *nodeFlag) *cobra.Command {
	return &cobra.Command{
		Use: "lock-cost", Aliases: []string{"burn-cost"}, Short: "Show what creating a subnet locks in the next block", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var lv subnets.LockView
			if err := nf.query(cmd.Context(), "/subnets/lock_cost", &lv); err != nil {
				return err
			}
			return env.emit(lv, func(w io.Writer) error {
				_, err := fmt.Fprintf(w, "Creating a subnet locks %s.\n", describeLock(lv))
				if err == nil && lv.LastLockBlock > 0 {
					_, err = fmt.Fprintf(w, "The last registration locked %s at block %d.\n", accounts.FormatAmount(lv.LastLock), lv.LastLockBlock)
				}
				if err == nil {
					_, err = io.WriteString(w, describeRegistrationLimit(lv))
				}
				return err
			})
		},
	}
}

// describeRegistrationLimit says when the next subnet registration is allowed
// (network_rate_limit blocks after the last one, chain-wide).
func describeRegistrationLimit(lv subnets.LockView) string {
	switch {
	case lv.LastRegistrationBlock == 0:
		return fmt.Sprintf("No subnet has been registered yet: the next registration is allowed now (then one every %d blocks).\n", lv.RateLimit)
	case lv.NextRegistrationBlock <= lv.Block:
		return fmt.Sprintf("The last registration was at block %d: the next registration is allowed now (at block %d or later; one every %d blocks).\n",
			lv.LastRegistrationBlock, lv.NextRegistrationBlock, lv.RateLimit)
	}
	return fmt.Sprintf("The last registration was at block %d: next registration allowed at block %d (one every %d blocks, network_rate_limit; %d blocks from now).\n",
		lv.LastRegistrationBlock, lv.NextRegistrationBlock, lv.RateLimit, lv.NextRegistrationBlock-lv.Block)
}

// subnetRow is one line of `subnet list`: the subnet and, under dTAO, its pool.
type subnetRow struct {
	subnets.SubnetView
	Pool *stake.PoolView `json:"pool,omitempty"`
}

// newSubnetListCmd is `subnet list`: every subnet, one a line; under dTAO with its
// price, reserves, emission share and volume, as btcli shows them.
func newSubnetListCmd(env *cliEnv, nf *nodeFlag) *cobra.Command {
	return &cobra.Command{
		Use: "list", Short: "List the subnets (under dTAO: price, reserves, emission share, volume)", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var list []subnets.SubnetView
			if err := nf.query(cmd.Context(), "/subnets/list", &list); err != nil {
				return err
			}
			var pools []stake.PoolView
			if err := nf.query(cmd.Context(), "/stake/pools", &pools); err != nil {
				return err
			}
			out := make([]subnetRow, len(list))
			for i, s := range list {
				out[i].SubnetView = s
				for j := range pools {
					if pools[j].Netuid == s.Netuid {
						out[i].Pool = &pools[j]
					}
				}
			}
			return env.emit(out, func(w io.Writer) error {
				tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
				if len(pools) == 0 {
					fmt.Fprintln(tw, "NETUID\tMECHANISM\tN\tTEMPO\tBURN\tEMISSION/BLOCK\tOWNER")
					for _, s := range list {
						fmt.Fprintf(tw, "%d\t%s\t%d\t%d\t%s\t%s\t%s\n", s.Netuid, s.Mechanism, s.N, s.Hyperparams.Tempo, accounts.FormatAmount(s.Burn), accounts.FormatAmount(s.EmissionPerBlk), s.Owner)
					}
					return tw.Flush()
				}
				fmt.Fprintln(tw, "NETUID\tMECHANISM\tN\tTEMPO\tPRICE τ/α\tEMA PRICE\tTAO IN\tALPHA IN\tALPHA OUT\tSHARE\tEMISSION/BLOCK\tVOLUME\tBURN\tOWNER")
				for _, r := range out {
					s := r.SubnetView
					if r.Pool == nil {
						fmt.Fprintf(tw, "%d\t%s\t%d\t%d\t1 (root)\t-\t-\t-\t-\t-\t-\t-\t%s\t%s\n", s.Netuid, s.Mechanism, s.N, s.Hyperparams.Tempo, accounts.FormatAmount(s.Burn), s.Owner)
						continue
					}
					p := r.Pool
					fmt.Fprintf(tw, "%d\t%s\t%d\t%d\t%s\t%s\t%s\t%s\t%s\t%.2f%%\t%s\t%s\t%s\t%s\n", s.Netuid, s.Mechanism, s.N, s.Hyperparams.Tempo,
						accounts.FormatAmount(p.PriceRao), accounts.FormatAmount(p.MovingPriceRao), accounts.FormatAmount(p.TAO), accounts.FormatAmount(p.AlphaIn),
						accounts.FormatAmount(p.AlphaOut), float64(p.SharePPB)/1e7, accounts.FormatAmount(p.LastEmission), accounts.FormatAmount(p.Volume),
						accounts.FormatAmount(s.Burn), s.Owner)
				}
				return tw.Flush()
			})
		},
	}
}

// newSubnetShowCmd is `subnet show NETUID`: one subnet's state.
func newSubnetShowCmd(env *cliEnv, nf *nodeFlag) *cobra.Command {
	show := &cobra.Command{
		Use: "show NETUID", Short: "Show a subnet", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var s subnets.SubnetView
			if err := nf.query(cmd.Context(), "/subnets/subnet/"+args[0], &s); err != nil {
				return err
			}
			return env.emit(s, func(w io.Writer) error {
				next := fmt.Sprintf("block %d", s.NextEpochBlock)
				if s.PendingEpochAt != 0 && s.PendingEpochAt == s.NextEpochBlock {
					next += " (triggered by the owner)"
				}
				_, err := fmt.Fprintf(w, "netuid:          %d (%s)\nowner:           %s\nowner hotkey:    %s\nuids:            %d of %d\nregistration:    %s\nemission/block:  %s\npending:         %s\nlast epoch:      block %d\nnext epoch:      %s\nlocked:          %s\n",
					s.Netuid, s.Mechanism, s.Owner, s.OwnerHotkey, s.N, s.Hyperparams.MaxUIDs, accounts.FormatAmount(s.Burn), accounts.FormatAmount(s.EmissionPerBlk), accounts.FormatAmount(s.Pending), s.LastEpochBlock, next, accounts.FormatAmount(s.Locked))
				return err
			})
		},
	}
	return show
}

// newSubnetHyperparamsCmd is `subnet hyperparams NETUID`: a subnet's hyperparameters
// by name.
func newSubnetHyperparamsCmd(env *cliEnv, nf *nodeFlag) *cobra.Command {
	hyper := &cobra.Command{
		Use: "hyperparams NETUID", Short: "Show a subnet's hyperparameters", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var h subnets.Hyperparams
			if err := nf.query(cmd.Context(), "/subnets/hyperparams/"+args[0], &h); err != nil {
				return err
			}
			return env.emit(h, func(w io.Writer) error {
				tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
				for _, name := range subnets.HyperparamNames() {
					v, _ := subnets.GetHyper(&h, name)
					fmt.Fprintf(tw, "%s\t%d\n", name, v)
				}
				return tw.Flush()
			})
		},
	}
	return hyper
}

// newSubnetSetCmd is `subnet set NETUID NAME VALUE`: the owner sets a hyperparameter.
func newSubnetSetCmd(env *cliEnv, nf *nodeFlag) *cobra.Command {
	set := newSendFlags(coldkeyRole)
	setCmd := &cobra.Command{
		Use: "set NETUID NAME VALUE", Short: "Set a hyperparameter of a subnet you own (names as `subnet hyperparams` shows)", Args: cobra.ExactArgs(3),
		RunE: func(cmd *cobra.Command, args []string) error {
			netuid, err := parseNetuid(args[0])
			if err != nil {
				return err
			}
			v, err := parseHyperValue(args[2])
			if err != nil {
				return err
			}
			m, err := subnets.NewSetHyperparam(netuid, args[1], v)
			if err != nil {
				return err
			}
			return set.send(cmd, env, nf, m, fmt.Sprintf("%s of subnet %d set to %s", args[1], netuid, args[2]))
		},
	}
	set.register(setCmd)
	return setCmd
}

// newSubnetTriggerEpochCmd is `subnet trigger-epoch`: the owner asks for the subnet's
// next epoch now (subtensor's trigger_epoch); the chain says when it fires.
func newSubnetTriggerEpochCmd(env *cliEnv, nf *nodeFlag) *cobra.Command {
	sf := newSendFlags(coldkeyRole)
	c := &cobra.Command{
		Use: "trigger-epoch NETUID", Short: "Run the next epoch of a subnet you own early: it fires 10 blocks on (at most once in two tempos)", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			netuid, err := parseNetuid(args[0])
			if err != nil {
				return err
			}
			m, err := subnets.NewTriggerEpoch(netuid)
			if err != nil {
				return err
			}
			return sf.sendTelling(cmd, env, nf, m, func(v *client.TxView) string {
				at, _ := eventAttr(v, "epoch_triggered", "fires_at")
				return fmt.Sprintf("the epoch of subnet %d fires at block %s", netuid, at)
			})
		},
	}
	sf.register(c)
	return c
}

// newSubnetRegisterCmd is `subnet register`: a hotkey registers on a subnet, the
// coldkey paying the burn.
func newSubnetRegisterCmd(env *cliEnv, nf *nodeFlag) *cobra.Command {
	reg := newSendFlags(coldkeyRole)
	var regNetuid uint16
	var regHot, regMaxBurn string
	regCmd := &cobra.Command{
		Use: "register", Short: "Register a hotkey on a subnet, paying the registration burn from the coldkey", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			hot, err := reg.hotkeyPub(cmd, env, regHot)
			if err != nil {
				return err
			}
			var maxBurn uint64
			if regMaxBurn != "" {
				if maxBurn, err = accounts.ParseAmount(regMaxBurn); err != nil {
					return usagef("--max-burn: %v", err)
				}
			}
			m, err := subnets.NewRegister(regNetuid, hot, maxBurn)
			if err != nil {
				return err
			}
			return reg.sendTelling(cmd, env, nf, m, func(v *client.TxView) string {
				return registeredSentence(v, hot, regNetuid)
			})
		},
	}
	reg.register(regCmd)
	regCmd.Flags().Uint16Var(&regNetuid, "netuid", 1, "subnet to register on (0 is root)")
	regCmd.Flags().StringVar(&regHot, "hotkey", "", "hotkey address (default: the wallet's hotkey)")
	regCmd.Flags().StringVar(&regMaxBurn, "max-burn", "", "refuse if the registration costs more than this many tokens")
	return regCmd
}

// newSubnetServeAxonCmd is `subnet serve-axon`: a hotkey announces its axon's address.
func newSubnetServeAxonCmd(env *cliEnv, nf *nodeFlag) *cobra.Command {
	axon := newSendFlags(hotkeyRole)
	var axNetuid, axPort uint16
	var axIP string
	axonCmd := &cobra.Command{
		Use: "serve-axon", Short: "Announce where your hotkey's axon serves on a subnet", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			m, err := subnets.NewServeAxon(axNetuid, axIP, axPort, 0)
			if err != nil {
				return err
			}
			return axon.send(cmd, env, nf, m, fmt.Sprintf("axon %s:%d announced on subnet %d", axIP, axPort, axNetuid))
		},
	}
	axon.register(axonCmd)
	axonCmd.Flags().Uint16Var(&axNetuid, "netuid", 1, "subnet")
	axonCmd.Flags().StringVar(&axIP, "ip", "127.0.0.1", "IP address")
	axonCmd.Flags().Uint16Var(&axPort, "port", 8091, "port")
	return axonCmd
}

// newSubnetCommitCmd is `subnet commit`: a hotkey publishes data on a subnet.
func newSubnetCommitCmd(env *cliEnv, nf *nodeFlag) *cobra.Command {
	commit := newSendFlags(hotkeyRole)
	var cmNetuid uint16
	var cmData string
	commitCmd := &cobra.Command{
		Use: "commit", Short: "Publish data for your hotkey on a subnet (competitions use it for submissions)", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			m, err := subnets.NewCommit(cmNetuid, []byte(cmData))
			if err != nil {
				return err
			}
			return commit.send(cmd, env, nf, m, fmt.Sprintf("commitment published on subnet %d", cmNetuid))
		},
	}
	commit.register(commitCmd)
	commitCmd.Flags().Uint16Var(&cmNetuid, "netuid", 1, "subnet")
	commitCmd.Flags().StringVar(&cmData, "data", "", "the data to publish (up to 1024 bytes)")
	return commitCmd
}

// registeredSentence tells a registration's outcome: the uid and the burn paid, from the
// neuron_registered event (the root subnet admits by stake and burns nothing).
func registeredSentence(v *client.TxView, hot keys.PublicKey, netuid uint16) string {
	uid, ok := eventAttr(v, "neuron_registered", "uid")
	if !ok {
		return fmt.Sprintf("hotkey %s registered on subnet %d", hot, netuid)
	}
	burned := "nothing"
	if s, ok := eventAttr(v, "neuron_registered", "burn"); ok {
		if b, err := strconv.ParseUint(s, 10, 64); err == nil {
			burned = accounts.FormatAmount(b) + " tokens"
		}
	}
	return fmt.Sprintf("hotkey %s registered on subnet %d as uid %s, burning %s", hot, netuid, uid, burned)
}

func parseNetuid(s string) (uint16, error) {
	v, err := strconv.ParseUint(s, 10, 16)
	if err != nil {
		return 0, usagef("netuid %q is not a number from 0 to 65535", s)
	}
	return uint16(v), nil
}

// parseHyperValue accepts an unsigned integer, true/false, or a negative int16 (two's
// complement, for alpha_sigmoid_steepness).
func parseHyperValue(s string) (uint64, error) {
	switch strings.ToLower(s) {
	case "true", "on", "yes":
		return 1, nil
	case "false", "off", "no":
		return 0, nil
	}
	if v, err := strconv.ParseUint(s, 10, 64); err == nil {
		return v, nil
	}
	if v, err := strconv.ParseInt(s, 10, 16); err == nil && v < 0 {
		return uint64(uint16(int16(v))), nil
	}
	return 0, usagef("value %q is not a number or true/false", s)
}

// parseWeights reads "1,2,3" uids and "0.5,0.3,0.2" (or u16 integers) weights and turns the
// weights into u16 values, the largest 65535, rounding half to even as Bittensor does.
func parseWeights(uidsArg, weightsArg string) ([]uint16, []uint16, error) {
	us := strings.Split(uidsArg, ",")
	ws := strings.Split(weightsArg, ",")
	if uidsArg == "" || len(us) != len(ws) {
		return nil, nil, usagef("--uids and --weights must list the same number of comma-separated values")
	}
	uids := make([]uint16, len(us))
	fw := make([]float64, len(ws))
	top := 0.0
	for i := range us {
		u, err := strconv.ParseUint(strings.TrimSpace(us[i]), 10, 16)
		if err != nil {
			return nil, nil, usagef("uid %q is not a number from 0 to 65535", us[i])
		}
		uids[i] = uint16(u)
		f, err := strconv.ParseFloat(strings.TrimSpace(ws[i]), 64)
		if err != nil || f < 0 || math.IsInf(f, 0) || math.IsNaN(f) {
			return nil, nil, usagef("weight %q is not a non-negative number", ws[i])
		}
		fw[i] = f
		top = math.Max(top, f)
	}
	vals := make([]uint16, len(fw))
	if top == 0 {
		return nil, nil, usagef("all weights are zero")
	}
	for i, f := range fw {
		vals[i] = uint16(math.RoundToEven(f / top * 65535))
	}
	return uids, vals, nil
}

func newWeightsCmd(env *cliEnv) *cobra.Command {
	var nf nodeFlag
	cmd := &cobra.Command{Use: "weights", Aliases: []string{"wt"}, Short: "Set, commit and reveal a validator's weights"}
	nf.register(cmd, env)
	type wflags struct {
		sf                  *sendFlags
		netuid              uint16
		uids, weights, salt string
		version             uint64
	}
	mk := func(use, short string, run func(cmd *cobra.Command, f *wflags, uids, vals []uint16) error) *cobra.Command {
		f := &wflags{sf: newSendFlags(hotkeyRole)}
		c := &cobra.Command{Use: use, Short: short, Args: cobra.NoArgs, RunE: func(cmd *cobra.Command, _ []string) error {
			uids, vals, err := parseWeights(f.uids, f.weights)
			if err != nil {
				return err
			}
			return run(cmd, f, uids, vals)
		}}
		f.sf.register(c)
		c.Flags().Uint16Var(&f.netuid, "netuid", 1, "subnet")
		c.Flags().StringVar(&f.uids, "uids", "", "comma-separated uids")
		c.Flags().StringVar(&f.weights, "weights", "", "comma-separated weights (any scale; the largest becomes 65535)")
		c.Flags().Uint64Var(&f.version, "version-key", 0, "weights version key")
		if use == "reveal" {
			c.Flags().StringVar(&f.salt, "salt", "", "the salt printed by \"weights commit\", as comma-separated u16 values")
		}
		return c
	}
	set := mk("set", "Set weights directly", func(cmd *cobra.Command, f *wflags, uids, vals []uint16) error {
		m, err := subnets.NewSetWeights(f.netuid, uids, vals, f.version)
		if err != nil {
			return err
		}
		f.sf.nextBlockOnRateLimit = true
		return f.sf.send(cmd, env, &nf, m, fmt.Sprintf("weights set on subnet %d", f.netuid))
	})
	commit := mk("commit", "Commit to weights by their hash (reveal them in the reveal epoch)", func(cmd *cobra.Command, f *wflags, uids, vals []uint16) error {
		pair, err := f.sf.pair(cmd, env)
		if err != nil {
			return err
		}
		var rb [16]byte
		if _, err := rand.Read(rb[:]); err != nil {
			return err
		}
		salt := make([]uint16, 8)
		saltStr := make([]string, 8)
		for i := range salt {
			salt[i] = binary.LittleEndian.Uint16(rb[2*i:])
			saltStr[i] = strconv.Itoa(int(salt[i]))
		}
		m, err := subnets.NewCommitWeights(pair.Public(), f.netuid, uids, vals, salt, f.version)
		if err != nil {
			return err
		}
		c, err := nf.client()
		if err != nil {
			return err
		}
		ctx, cancel := context.WithTimeout(cmd.Context(), f.sf.timeout)
		defer cancel()
		v, err := env.signer(c, pair).Send(ctx, m)
		if err != nil {
			return err
		}
		out := map[string]any{"tx": v, "salt": strings.Join(saltStr, ",")}
		return env.emit(out, func(w io.Writer) error {
			_, err := fmt.Fprintf(w, "weights committed in block %d; reveal them in the reveal epoch with:\n  tessera weights reveal --netuid %d --uids %s --weights %s --salt %s\n",
				v.Height, f.netuid, f.uids, f.weights, strings.Join(saltStr, ","))
			return err
		})
	})
	reveal := mk("reveal", "Reveal committed weights", func(cmd *cobra.Command, f *wflags, uids, vals []uint16) error {
		var salt []uint16
		for _, s := range strings.Split(f.salt, ",") {
			v, err := strconv.ParseUint(strings.TrimSpace(s), 10, 16)
			if err != nil {
				return usagef("--salt must be the comma-separated numbers `weights commit` printed")
			}
			salt = append(salt, uint16(v))
		}
		m, err := subnets.NewRevealWeights(f.netuid, uids, vals, salt, f.version)
		if err != nil {
			return err
		}
		return f.sf.send(cmd, env, &nf, m, fmt.Sprintf("weights revealed on subnet %d", f.netuid))
	})
	cmd.AddCommand(set, commit, reveal)
	return cmd
}

func newRootSubnetCmd(env *cliEnv) *cobra.Command {
	var nf nodeFlag
	cmd := &cobra.Command{Use: "root", Short: "The root subnet: its members' weights split the block emission across subnets"}
	nf.register(cmd, env)
	sf := newSendFlags(hotkeyRole)
	var netuids, weights string
	w := &cobra.Command{
		Use: "weights", Short: "Weight subnets from a root member's hotkey", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ids, vals, err := parseWeights(netuids, weights)
			if err != nil {
				return err
			}
			m, err := subnets.NewSetWeights(subnets.RootNetuid, ids, vals, 0)
			if err != nil {
				return err
			}
			return sf.send(cmd, env, &nf, m, "root weights set")
		},
	}
	sf.register(w)
	w.Flags().StringVar(&netuids, "netuids", "", "comma-separated netuids")
	w.Flags().StringVar(&weights, "weights", "", "comma-separated weights")
	shares := &cobra.Command{
		Use: "emission", Short: "Show each subnet's emission per block", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var out map[string]string
			if err := nf.query(cmd.Context(), "/subnets/emission", &out); err != nil {
				return err
			}
			return env.emit(out, func(wr io.Writer) error {
				ids := make([]string, 0, len(out))
				for id := range out {
					ids = append(ids, id)
				}
				sort.Slice(ids, func(i, j int) bool { a, _ := strconv.Atoi(ids[i]); b, _ := strconv.Atoi(ids[j]); return a < b })
				for _, id := range ids {
					v, _ := strconv.ParseUint(out[id], 10, 64)
					fmt.Fprintf(wr, "subnet %s: %s per block\n", id, accounts.FormatAmount(v))
				}
				return nil
			})
		},
	}
	cmd.AddCommand(w, shares)
	return cmd
}

func newMetagraphCmd(env *cliEnv) *cobra.Command {
	var nf nodeFlag
	var netuid uint16
	cmd := &cobra.Command{
		Use: "metagraph", Short: "Show every uid of a subnet: stake, trust, consensus, incentive, dividends, emission, axons", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var mg subnets.Metagraph
			if err := nf.query(cmd.Context(), "/subnets/metagraph/"+strconv.Itoa(int(netuid)), &mg); err != nil {
				return err
			}
			return env.emit(mg, func(w io.Writer) error {
				fmt.Fprintf(w, "subnet %d: %d uids\n", mg.Netuid, mg.N)
				tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
				fmt.Fprintln(tw, "UID\tSTAKE\tVTRUST\tCONSENSUS\tINCENTIVE\tDIVIDENDS\tEMISSION\tVPERMIT\tACTIVE\tUPDATED\tAXON\tHOTKEY\t")
				for uid := range mg.UIDs {
					axon := "-"
					if a := mg.Axons[uid]; a.IP != "" {
						axon = fmt.Sprintf("%s:%d", a.IP, a.Port)
					}
					fmt.Fprintf(tw, "%d\t%s\t%.5f\t%.5f\t%.5f\t%.5f\t%s\t%v\t%v\t%d\t%s\t%s\t\n", uid, accounts.FormatAmount(mg.Stake[uid]),
						u16f(mg.ValidatorTrust[uid]), u16f(mg.Consensus[uid]), u16f(mg.Incentive[uid]), u16f(mg.Dividends[uid]),
						accounts.FormatAmount(mg.Emission[uid]), mg.ValidatorPermit[uid], mg.Active[uid], mg.LastUpdate[uid], axon, mg.Hotkeys[uid])
				}
				return tw.Flush()
			})
		},
	}
	nf.register(cmd, env)
	cmd.Flags().Uint16Var(&netuid, "netuid", 1, "subnet")
	return cmd
}
