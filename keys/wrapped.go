package keys

// This file holds Bittensor's signature fallback, once for both key forms: btwallet's
// Keypair::verify accepts a signature over msg itself or over "<Bytes>" ‖ msg ‖
// "</Bytes>", the form polkadot-js browser extensions sign.

const (
	bytesWrapOpen  = "<Bytes>"
	bytesWrapClose = "</Bytes>"
)

// wrappedStackBytes is the size of the stack buffer the wrapped message is built in: a
// message of up to wrappedStackBytes−15 bytes (the wire protocol's signed messages are
// about 240) is checked without allocating.
const wrappedStackBytes = 352

// VerifyAllowWrapped is Verify with Bittensor's fallback (btwallet Keypair::verify): when
// sig does not verify for msg itself, it is also tried against "<Bytes>" ‖ msg ‖
// "</Bytes>". It allocates nothing for messages of up to 337 bytes.
func (v *Verifier) VerifyAllowWrapped(msg, sig []byte) bool {
	return verifyAllowWrapped(v, PublicKey{}, msg, sig)
}

// appendWrapped appends "<Bytes>" ‖ msg ‖ "</Bytes>" to b.
func appendWrapped(b, msg []byte) []byte {
	return append(append(append(b, bytesWrapOpen...), msg...), bytesWrapClose...)
}

// verifyAllowWrapped checks sig over msg, then over the wrapped msg, with v when it is
// not nil and with pub (PublicKey.Verify) otherwise. Both calls are direct, so the
// wrapped message stays in a stack buffer; a func or interface parameter would move it
// to the heap.
func verifyAllowWrapped(v *Verifier, pub PublicKey, msg, sig []byte) bool {
	verify := func(m []byte) bool {
		if v != nil {
			return v.Verify(m, sig)
		}
		return pub.Verify(m, sig)
	}
	if verify(msg) {
		return true
	}
	var buf [wrappedStackBytes]byte
	return verify(appendWrapped(buf[:0], msg))
}
