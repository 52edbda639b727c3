// Package wire is Tessera's axon (server) and dendrite (client): signed HTTP/1.1 + JSON
// calls between network participants, byte-compatible with Bittensor's protocol, so that
// a Python Bittensor dendrite can call a Tessera axon and a Tessera dendrite can call a
// Python Bittensor axon.
//
// A call is POST /{SynapseName} with the synapse as its JSON body and the bt_header_*
// headers (lower case on the wire). The dendrite signs, with sr25519 in the "substrate"
// context, the message
//
//	{nonce}.{dendrite_hotkey}.{axon_hotkey}.{uuid}.{body_hash}
//
// where body_hash is SHA3-256 over the SHA3-256 of Python's str() of each of the
// synapse's required hash fields (PyStr renders those), and sends the signature as 0x
// hex. The axon answers 200 with the filled-in synapse, or an error status with
// {"message": …}; a streaming synapse answers text/event-stream.
//
// The axon closes Bittensor's holes without changing the bytes: the signature is checked
// before any hook, state or body, and unsigned requests are refused; nonces are
// remembered per hotkey and session with bounded memory, so replays and stale requests
// are refused; bodies, timeouts and per-hotkey request rates are bounded; a request over
// its hotkey's rate is refused before it takes a place in the session table, one
// hotkey's sessions are bounded, and a full table forgets the sessions of the hotkey
// holding most, so one admitted hotkey cannot lock others' new sessions out; malformed
// headers answer 400, not 500; the handler sees the authenticated identity, not the
// body's claim; blacklist, verify and priority hooks run on authenticated requests, and
// priority really orders the queue for handler slots.
//
// The dendrite pools connections, signs each call with a fresh increasing nonce, and
// fans a synapse out to many axons at once under one deadline, returning each axon's
// status, latency and error.
//
// docs/wire.md describes the protocol as implemented and the compatibility notes.
package wire
