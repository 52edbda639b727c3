// Command tessera runs every role of a Tessera network: a node (CometBFT with the Tessera
// state machine in one process), a whole local devnet, wallets and keys, transactions and
// queries, and the tools subnet owners use (such as the Yuma epoch simulator).
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/tessera-net/tessera/client"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run executes the command line and returns the process exit code: 0 on success, 2 for a
// usage error (an unknown command, a bad flag, a --node that is not a node's RPC), 1 for
// any other failure.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	env := &cliEnv{stdin: stdin, stdout: stdout, stderr: stderr, getenv: os.Getenv}
	root := newRootCmd(env)
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	if err := root.ExecuteContext(ctx); err != nil {
		return report(stderr, err)
	}
	return 0
}

// report prints a command's error and returns its exit code. An address that is not a
// node's RPC is told as such alone, without the RPC client's wrapping around it.
func report(stderr io.Writer, err error) int {
	var notRPC *client.NotRPCError
	if errors.As(err, &notRPC) {
		fmt.Fprintln(stderr, "error:", notRPC)
		return 2
	}
	fmt.Fprintln(stderr, "error:", err)
	var ue usageError
	if errors.As(err, &ue) {
		return 2
	}
	return 1
}
