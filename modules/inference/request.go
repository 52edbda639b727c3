package inference

import (
	"crypto/sha256"
	"encoding/binary"
)

// RequestDomain separates the bytes a signed HTTP request's signature covers from every
// other message a key signs (transactions, wire requests).
const RequestDomain = "tessera-http-request-v1"

// RequestPayload is what a signed HTTP request's signature covers (package
// subnets/inference/signed sets and checks the headers): the domain, the method, the
// path, the timestamp in Unix nanoseconds and the SHA-256 of the body, each length- or
// width-delimited, so no two requests share a payload. The chain checks a user's
// signature on an inference's start record against the same bytes, so only the
// payload's digest, never the body, needs to be on chain.
func RequestPayload(method, path string, timestamp int64, bodyHash Hash) []byte {
	b := make([]byte, 0, len(RequestDomain)+len(method)+len(path)+64)
	b = appendString(b, RequestDomain)
	b = appendString(b, method)
	b = appendString(b, path)
	b = binary.BigEndian.AppendUint64(b, uint64(timestamp))
	return append(b, bodyHash[:]...)
}

func appendString(b []byte, s string) []byte {
	b = binary.BigEndian.AppendUint32(b, uint32(len(s)))
	return append(b, s...)
}

// RequestID is the id of a signed request: the SHA-256 of its signature, which is
// unique per request (a replayed signature has the same id, which is how the API
// nodes and the chain refuse it).
func RequestID(signature []byte) Hash { return sha256.Sum256(signature) }
