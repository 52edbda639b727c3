// Package tx defines Tessera's transaction: an envelope {chain id, signer, nonce, fee,
// message} encoded as canonical CBOR (RFC 8949 core deterministic encoding) and signed with
// sr25519. It owns the encoding, the signature check, the stateless validation every node
// applies before a transaction reaches the state, and the result codes a rejected
// transaction carries.
//
// The byte-level format is documented in docs/transactions.md so that a client in any
// language can build and sign a transaction.
package tx
