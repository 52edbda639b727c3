// Package keys holds Tessera's account keys: sr25519 key pairs (schnorrkel over
// ristretto255, signing context "substrate"), BIP39 mnemonics turned into keys the way
// Substrate and Bittensor do it (entropy → mini-secret), Substrate URI derivation with hard
// (//) and soft (/) junctions, and SS58 addresses.
//
// A key derived here from a mnemonic or URI has the same public key and SS58 address as
// the one btcli, subkey or polkadot-js derives from the same input.
package keys
