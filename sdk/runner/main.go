package runner

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/tessera-net/tessera/sdk/subnet"
)

// UsageError is a subnet binary's command line whose first argument is not a role: Role
// is "" when there were no arguments, else the argument that is neither Miner nor
// Validator. Its text is the binary's usage line, after the unknown role if there is one.
type UsageError struct {
	Binary string // the binary's name, e.g. "textgen"
	Role   string
}

func (e *UsageError) Error() string {
	usage := fmt.Sprintf("usage: %s %s|%s [flags]   (%s %s -h lists the flags)", e.Binary, Miner, Validator, e.Binary, Miner)
	if e.Role == "" {
		return usage
	}
	return fmt.Sprintf("unknown role %q; %s", e.Role, usage)
}

// Flags begins reading a subnet binary's command line, args (those after the program
// name): the first names the role, Miner or Validator, else the error is a *UsageError.
// It returns the role and a flag set named "<binary> <role>" that returns its errors
// (flag.ContinueOnError) with every flag of cfg registered; the binary adds its own
// flags to it and then calls cfg.Parse(fs, args[1:]).
func Flags(binary string, args []string, cfg *subnet.Config) (role string, fs *flag.FlagSet, err error) {
	if len(args) == 0 {
		return "", nil, &UsageError{Binary: binary}
	}
	role = args[0]
	if role != Miner && role != Validator {
		return "", nil, &UsageError{Binary: binary, Role: role}
	}
	fs = flag.NewFlagSet(binary+" "+role, flag.ContinueOnError)
	cfg.RegisterFlags(fs)
	return role, fs, nil
}

// Main is a subnet binary's main function: it calls run with the command line after the
// program name and a context that ends on SIGINT or SIGTERM, and when run fails exits
// the process with ExitCode's status, having written the error to stderr.
func Main(binary string, run func(ctx context.Context, args []string) error) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:])
	stop()
	if code := ExitCode(os.Stderr, binary, err); code != 0 {
		os.Exit(code)
	}
}

// ExitCode is the exit status of a subnet binary whose run returned err: 0 for nil, else
// 2, with the error written to stderr as "<binary>: <error>" — unless it is
// flag.ErrHelp, asked-for help that the flag set has already written.
func ExitCode(stderr io.Writer, binary string, err error) int {
	if err == nil {
		return 0
	}
	if !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(stderr, binary+":", err)
	}
	return 2
}
