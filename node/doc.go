// Package node runs a Tessera node: CometBFT (consensus, p2p, mempool, RPC) and the
// Tessera application in one process, plus the node's JSON HTTP API. It also writes node
// home directories: a single node's, or a whole multi-validator testnet's with one shared
// genesis.
//
// A home directory holds CometBFT's usual config/ and data/ (config.toml, genesis.json,
// node_key.json, priv_validator_key.json, the block store), Tessera's own settings in
// config/tessera.json, and the application state in data/app/.
package node
