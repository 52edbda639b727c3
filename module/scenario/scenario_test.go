package scenario_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/cockroachdb/datadriven"

	"github.com/tessera-net/tessera/keys"
	"github.com/tessera-net/tessera/module/scenario"
)

// The harness's own scenario: the commands and their output format.
func TestHarness(t *testing.T) {
	scenario.Run(t, "testdata/harness.txt", scenario.AccountsMsgs())
}

func testData(t *testing.T, line, input string) *datadriven.TestData {
	t.Helper()
	cmd, args, err := datadriven.ParseLine(line)
	if err != nil {
		t.Fatal(err)
	}
	return &datadriven.TestData{Cmd: cmd, CmdArgs: args, Input: input}
}

// Mistakes in a scenario are errors of their own kind, never expected output.
func TestCommandMistakes(t *testing.T) {
	cases := []struct {
		name, line, input string
		want              error
	}{
		{"unknown command", "mint alice", "", scenario.ErrUnknownCommand},
		{"unknown message", "tx from=alice", "burn amount=1", scenario.ErrUnknownMsg},
		{"misspelt message argument", "tx from=alice", "transfer to=bob amont=1", scenario.ErrMissingArg},
		{"extra message argument", "tx from=alice", "transfer to=bob amount=1 memo=hi", scenario.ErrUnusedArg},
		{"extra command argument", "tx from=alice gas=5", "transfer to=bob amount=1", scenario.ErrUnusedArg},
		{"bad amount", "tx from=alice", "transfer to=bob amount=1.2.3", scenario.ErrBadArg},
		{"signer not a name", "tx from=Alice", "transfer to=bob amount=1", scenario.ErrBadArg},
		{"bad block time", "block time=yesterday", "", scenario.ErrBadArg},
		{"genesis line", "genesis", "alice", scenario.ErrBadArg},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := scenario.New(scenario.NewApp, scenario.AccountsMsgs())
			if _, err := h.Command(testData(t, "genesis", "alice 10")); err != nil {
				t.Fatal(err)
			}
			_, err := h.Command(testData(t, c.line, c.input))
			if !errors.Is(err, c.want) {
				t.Fatalf("got %v, want %v", err, c.want)
			}
		})
	}
}

func TestCommandsNeedAChain(t *testing.T) {
	for _, line := range []string{"tx from=alice", "block", "query accounts/supply", "balance alice"} {
		h := scenario.New(scenario.NewApp, scenario.AccountsMsgs())
		if _, err := h.Command(testData(t, line, "transfer to=bob amount=1")); !errors.Is(err, scenario.ErrNoChain) {
			t.Errorf("%s before genesis: %v, want ErrNoChain", line, err)
		}
	}
}

func TestMergeRefusesAWordTwice(t *testing.T) {
	if _, err := scenario.Merge(scenario.AccountsMsgs(), scenario.AccountsMsgs()); !errors.Is(err, scenario.ErrDuplicateMsg) {
		t.Fatalf("got %v", err)
	}
	m, err := scenario.Merge(scenario.AccountsMsgs(), scenario.StakeMsgs(), scenario.SubnetsMsgs())
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{"transfer", "add", "remove", "set_take", "create", "register"} {
		if m[w] == nil {
			t.Errorf("merged table lacks %q", w)
		}
	}
}

func TestNames(t *testing.T) {
	for word, want := range map[string]bool{"alice": true, "alice_hot": true, "n2": true, "Alice": false, "2n": false, "0xab": false, "": false, "a-b": false} {
		if scenario.IsName(word) != want {
			t.Errorf("IsName(%q) = %v", word, !want)
		}
	}
	for name, want := range map[string]string{"alice": "//Alice", "ferdie": "//Ferdie", "alice_hot": "//alice_hot"} {
		if got := scenario.URI(name); got != want {
			t.Errorf("URI(%q) = %q, want %q", name, got, want)
		}
	}
	n := scenario.NewNames()
	alice, err := n.Resolve("alice")
	if err != nil {
		t.Fatal(err)
	}
	dev, _ := keys.FromURI("//Alice")
	if alice != dev.Public() {
		t.Fatal("alice is not //Alice")
	}
	if again, _ := n.Resolve(alice.String()); again != alice {
		t.Fatal("an SS58 address does not resolve to its key")
	}
	if _, err := n.Resolve("5notanaddress"); !errors.Is(err, scenario.ErrBadArg) {
		t.Fatalf("bad address: %v", err)
	}
	got := n.Render("from " + alice.String() + " key " + alice.Hex())
	if got != "from alice key alice" {
		t.Fatalf("Render: %q", got)
	}
	if strings.Contains(n.Render(dev.Public().String()), "5") {
		t.Fatal("Render left the address")
	}
}
