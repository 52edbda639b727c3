package main

import (
	"bufio"
	"fmt"
	"strings"
)

// confirm states what an action costs and asks the user to go on: yes (--yes) skips the
// question; a terminal is asked on stderr and read a line from stdin; without a terminal
// to ask on the action is refused (a usage error), so a script never spends unasked.
func confirm(env *cliEnv, yes bool, cost string) error {
	fmt.Fprintln(env.stderr, cost)
	if yes {
		return nil
	}
	if _, ok := stdinTerminal(env); !ok {
		return usagef("stdin is not a terminal to ask on: pass --yes to go ahead")
	}
	fmt.Fprint(env.stderr, "Go ahead? [y/N] ")
	line, _ := bufio.NewReader(env.stdin).ReadString('\n')
	switch strings.ToLower(strings.TrimSpace(line)) {
	case "y", "yes":
		return nil
	}
	return fmt.Errorf("not confirmed: nothing was sent")
}
