package gguf

import (
	"errors"
	"fmt"
)

// The error kinds. Every error this package returns for bad input or bad
// arguments is an *Error whose Kind is one of these, so errors.Is(err,
// ErrFormat) and friends work; the message names the field, key or tensor
// at fault.
var (
	// ErrFormat: the file is malformed (bad magic, a count or length past
	// a limit, a bad offset, overlapping tensors, duplicate names, ...).
	ErrFormat = errors.New("gguf: malformed file")
	// ErrTruncated: the file ends before a structure it declares.
	ErrTruncated = errors.New("gguf: truncated file")
	// ErrUnsupported: the file is well formed but uses something this
	// package does not handle (version 1, big-endian files, an unknown
	// ggml type, decoding a type without a decoder).
	ErrUnsupported = errors.New("gguf: unsupported")
	// ErrInvalid: an argument to a writer, encoder or getter is invalid
	// (a duplicate key given to a Builder, a value of the wrong type, a
	// non-finite value to quantise, tensor data of the wrong length, ...).
	ErrInvalid = errors.New("gguf: invalid argument")
	// ErrNotFound: a named tensor does not exist.
	ErrNotFound = errors.New("gguf: not found")
	// ErrIO: the underlying reader or writer failed; Error.Err holds its
	// error.
	ErrIO = errors.New("gguf: I/O error")
)

// Error is the error type of this package: Kind is one of the Err*
// sentinels, Msg says what is wrong. Error() is "gguf: " + Msg.
type Error struct {
	Kind error
	Msg  string
	// Err is an underlying cause (an I/O error, a callback's error), or nil.
	Err error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return "gguf: " + e.Msg + ": " + e.Err.Error()
	}
	return "gguf: " + e.Msg
}

// Unwrap returns the kind and the underlying cause, so errors.Is matches
// either.
func (e *Error) Unwrap() []error {
	if e.Err != nil {
		return []error{e.Kind, e.Err}
	}
	return []error{e.Kind}
}

func errf(kind error, format string, args ...any) error {
	return &Error{Kind: kind, Msg: fmt.Sprintf(format, args...)}
}

func wrapf(kind, cause error, format string, args ...any) error {
	return &Error{Kind: kind, Msg: fmt.Sprintf(format, args...), Err: cause}
}
