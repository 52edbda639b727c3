package scenario

import "errors"

// The mistakes a scenario file can make. They are reported with the file position and
// fail the test; they are never part of a command's expected output.
var (
	// ErrUnknownCommand: the command is not one of genesis, tx, block, query, balance.
	ErrUnknownCommand = errors.New("unknown scenario command")
	// ErrUnknownMsg: no MsgBuilders table given to the harness has the message word.
	ErrUnknownMsg = errors.New("unknown message word")
	// ErrMissingArg: a required argument is absent.
	ErrMissingArg = errors.New("missing argument")
	// ErrBadArg: an argument's value cannot be read, or an argument is given twice.
	ErrBadArg = errors.New("bad argument")
	// ErrUnusedArg: an argument was given that the command or message does not take.
	ErrUnusedArg = errors.New("unused argument")
	// ErrNoChain: a command needs a chain and no genesis has succeeded yet.
	ErrNoChain = errors.New("no chain: run a successful genesis first")
	// ErrDuplicateMsg: two MsgBuilders tables define the same message word.
	ErrDuplicateMsg = errors.New("message word defined twice")
)
