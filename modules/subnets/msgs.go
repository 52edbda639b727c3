package subnets

import (
	"github.com/tessera-net/tessera/keys"
	"github.com/tessera-net/tessera/tx"
)

// NewCreate builds a subnets/create message for a subnet run by the named incentive
// mechanism ("": Yuma).
func NewCreate(hotkey keys.PublicKey, mechanism string) (tx.Msg, error) {
	return tx.NewMsg(MsgCreate, Create{Hotkey: hotkey[:], Mechanism: mechanism})
}

// NewCreateMaxLock is NewCreate refusing a lock cost above maxLock (0: any).
func NewCreateMaxLock(hotkey keys.PublicKey, mechanism string, maxLock uint64) (tx.Msg, error) {
	return tx.NewMsg(MsgCreate, Create{Hotkey: hotkey[:], Mechanism: mechanism, MaxLock: maxLock})
}

// NewSetHyperparam builds a subnets/set_hyperparam message.
func NewSetHyperparam(netuid uint16, name string, value uint64) (tx.Msg, error) {
	return tx.NewMsg(MsgSetHyperparam, SetHyperparam{Netuid: netuid, Name: name, Value: value})
}

// NewTriggerEpoch builds a subnets/trigger_epoch message.
func NewTriggerEpoch(netuid uint16) (tx.Msg, error) {
	return tx.NewMsg(MsgTriggerEpoch, TriggerEpoch{Netuid: netuid})
}

// NewRegister builds a subnets/register message.
func NewRegister(netuid uint16, hotkey keys.PublicKey, maxBurn uint64) (tx.Msg, error) {
	return tx.NewMsg(MsgRegister, Register{Netuid: netuid, Hotkey: hotkey[:], MaxBurn: maxBurn})
}

// NewServeAxon builds a subnets/serve_axon message.
func NewServeAxon(netuid uint16, ip string, port uint16, version uint32) (tx.Msg, error) {
	return tx.NewMsg(MsgServeAxon, ServeAxon{Netuid: netuid, IP: ip, Port: port, Version: version})
}

// NewCommit builds a subnets/commit message.
func NewCommit(netuid uint16, data []byte) (tx.Msg, error) {
	return tx.NewMsg(MsgCommit, Commit{Netuid: netuid, Data: data})
}

// NewSetWeights builds a subnets/set_weights message.
func NewSetWeights(netuid uint16, uids, values []uint16, versionKey uint64) (tx.Msg, error) {
	return tx.NewMsg(MsgSetWeights, SetWeights{Netuid: netuid, UIDs: uids, Values: values, VersionKey: versionKey})
}

// NewCommitWeights builds a subnets/commit_weights message for the weights that
// NewRevealWeights will later reveal with the same salt.
func NewCommitWeights(hotkey keys.PublicKey, netuid uint16, uids, values, salt []uint16, versionKey uint64) (tx.Msg, error) {
	return tx.NewMsg(MsgCommitWeights, CommitWeights{Netuid: netuid, Hash: CommitHash(hotkey, netuid, uids, values, salt, versionKey)})
}

// NewRevealWeights builds a subnets/reveal_weights message.
func NewRevealWeights(netuid uint16, uids, values, salt []uint16, versionKey uint64) (tx.Msg, error) {
	return tx.NewMsg(MsgRevealWeights, RevealWeights{Netuid: netuid, UIDs: uids, Values: values, Salt: salt, VersionKey: versionKey})
}
