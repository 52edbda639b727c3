package tx

import (
	"errors"
	"fmt"
)

// Code is the result code of a transaction, returned in CheckTx and FinalizeBlock results.
// Zero is success; every rejection has its own code so that clients can tell them apart.
type Code uint32

// The result codes. Their values are part of the protocol: never renumber them.
const (
	CodeOK                Code = 0
	CodeMalformed         Code = 1  // the bytes are not a well-formed canonical transaction
	CodeBadSignature      Code = 2  // the signature does not verify for the signer
	CodeWrongChainID      Code = 3  // the envelope names another chain
	CodeStaleNonce        Code = 4  // the nonce was already used (a replay)
	CodeFutureNonce       Code = 5  // the nonce skips ahead of the account's next nonce
	CodeUnknownMessage    Code = 6  // no module handles the message type
	CodeInsufficientFee   Code = 7  // the fee is below the chain's minimum
	CodeInsufficientFunds Code = 8  // the account cannot pay the fee or the amount
	CodeInvalidAmount     Code = 9  // a zero, overflowing or otherwise invalid amount
	CodeInvalidMessage    Code = 10 // the message body is malformed or violates a rule
	CodeTooLarge          Code = 11 // the transaction exceeds the size limit
	CodeInternal          Code = 12 // an internal error (a bug or a storage failure)
	CodeUnauthorized      Code = 13 // the signer may not do this
	CodeNotFound          Code = 14 // a referenced object does not exist
	CodeConflict          Code = 15 // the object already exists or the action was already taken
	CodeRateLimited       Code = 16 // the action was taken too recently
	CodeWrongStage        Code = 17 // the message arrives outside the stage or window its rule allows
)

var codeNames = map[Code]string{
	CodeOK: "ok", CodeMalformed: "malformed", CodeBadSignature: "bad_signature",
	CodeWrongChainID: "wrong_chain_id", CodeStaleNonce: "stale_nonce", CodeFutureNonce: "future_nonce",
	CodeUnknownMessage: "unknown_message", CodeInsufficientFee: "insufficient_fee",
	CodeInsufficientFunds: "insufficient_funds", CodeInvalidAmount: "invalid_amount",
	CodeInvalidMessage: "invalid_message", CodeTooLarge: "too_large", CodeInternal: "internal",
	CodeUnauthorized: "unauthorized", CodeNotFound: "not_found", CodeConflict: "conflict",
	CodeRateLimited: "rate_limited", CodeWrongStage: "wrong_stage",
}

// String names the code, for logs.
func (c Code) String() string {
	if n, ok := codeNames[c]; ok {
		return n
	}
	return fmt.Sprintf("code_%d", uint32(c))
}

// Error is a rejection with its result code and a message that says what is wrong.
type Error struct {
	Code Code
	Msg  string
}

// Error renders the code name and the message.
func (e *Error) Error() string { return e.Code.String() + ": " + e.Msg }

// Errorf builds an *Error with the given code.
func Errorf(code Code, format string, args ...any) error {
	return &Error{Code: code, Msg: fmt.Sprintf(format, args...)}
}

// CodeOf returns the code of err: the code of the first *Error in its chain, CodeOK for
// nil, and CodeInternal for any other error.
func CodeOf(err error) Code {
	if err == nil {
		return CodeOK
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return CodeInternal
}
