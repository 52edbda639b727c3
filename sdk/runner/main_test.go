package runner

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"testing"

	"github.com/tessera-net/tessera/sdk/subnet"
)

func TestFlagsRefusesAMissingOrUnknownRole(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, "usage: arith miner|validator [flags]   (arith miner -h lists the flags)"},
		{[]string{"oracle", "--netuid", "1"}, `unknown role "oracle"; usage: arith miner|validator [flags]   (arith miner -h lists the flags)`},
	} {
		cfg := subnet.DefaultConfig()
		_, fs, err := Flags("arith", tc.args, &cfg)
		var ue *UsageError
		if !errors.As(err, &ue) || err.Error() != tc.want || fs != nil {
			t.Errorf("Flags(%q) = %v, %v; want a *UsageError %q", tc.args, fs, err, tc.want)
		}
	}
}

func TestFlagsRegistersTheConfig(t *testing.T) {
	for _, role := range []string{Miner, Validator} {
		cfg := subnet.DefaultConfig()
		args := []string{role, "--netuid", "7"}
		got, fs, err := Flags("arith", args, &cfg)
		if err != nil || got != role {
			t.Fatalf("Flags(%q) = %q, %v", args, got, err)
		}
		if fs.Name() != "arith "+role || fs.ErrorHandling() != flag.ContinueOnError {
			t.Fatalf("flag set %q, error handling %v", fs.Name(), fs.ErrorHandling())
		}
		if err := cfg.Parse(fs, args[1:]); err != nil || cfg.Netuid != 7 {
			t.Fatalf("after parsing %q: netuid %d, %v", args[1:], cfg.Netuid, err)
		}
	}
}

func TestExitCode(t *testing.T) {
	for _, tc := range []struct {
		err    error
		code   int
		stderr string
	}{
		{nil, 0, ""},
		{flag.ErrHelp, 2, ""},
		{fmt.Errorf("parse: %w", flag.ErrHelp), 2, ""},
		{errors.New("no hotkey"), 2, "arith: no hotkey\n"},
	} {
		var stderr bytes.Buffer
		if code := ExitCode(&stderr, "arith", tc.err); code != tc.code || stderr.String() != tc.stderr {
			t.Errorf("ExitCode(%v) = %d writing %q, want %d writing %q", tc.err, code, stderr.String(), tc.code, tc.stderr)
		}
	}
}
