package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/pelletier/go-toml/v2"
	"github.com/spf13/cobra"

	"github.com/tessera-net/tessera/client"
)

// defaultNode is the RPC address a command talks to when nothing else names one.
const defaultNode = "tcp://127.0.0.1:26657"

// envNode names the environment variable that gives the node's RPC address.
const envNode = "TESSERA_NODE"

// cliConfigFile is the CLI's configuration file, in --home.
const cliConfigFile = "cli.toml"

// cliConfig is what <home>/cli.toml may set: defaults for flags that would otherwise be
// given on every command. Unknown keys are refused, so a typo is not silently ignored.
type cliConfig struct {
	// Node is the RPC address of the node to talk to (--node).
	Node string `toml:"node"`
}

// loadCLIConfig reads <home>/cli.toml; a missing file is the zero config.
func loadCLIConfig(home string) (cliConfig, error) {
	var c cliConfig
	path := filepath.Join(home, cliConfigFile)
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return c, nil
	}
	if err != nil {
		return c, fmt.Errorf("read %s: %w", path, err)
	}
	dec := toml.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return c, usagef("%s: %v (it may set: node = \"tcp://host:26657\")", path, err)
	}
	return c, nil
}

// nodeFlag is the --node flag of commands that talk to a node. The address is, first to
// last: the flag, TESSERA_NODE, node in <home>/cli.toml, tcp://127.0.0.1:26657.
type nodeFlag struct {
	addr  string
	owner *cobra.Command // the command the flag is registered on
	env   *cliEnv
}

func (n *nodeFlag) register(cmd *cobra.Command, env *cliEnv) {
	n.owner, n.env = cmd, env
	cmd.PersistentFlags().StringVar(&n.addr, "node", defaultNode, "RPC address of the node to talk to (also "+envNode+", or node in <home>/"+cliConfigFile+")")
}

// resolve returns the node's address by the precedence above.
func (n *nodeFlag) resolve() (string, error) {
	if n.owner.PersistentFlags().Changed("node") {
		return n.addr, nil
	}
	if v := n.env.getenv(envNode); v != "" {
		return v, nil
	}
	c, err := loadCLIConfig(n.env.home)
	if err != nil {
		return "", err
	}
	if c.Node != "" {
		return c.Node, nil
	}
	return defaultNode, nil
}

// address is the node's address for messages; an unreadable configuration shows as the
// flag's value.
func (n *nodeFlag) address() string {
	a, err := n.resolve()
	if err != nil {
		return n.addr
	}
	return a
}

func (n *nodeFlag) client() (*client.Client, error) {
	addr, err := n.resolve()
	if err != nil {
		return nil, err
	}
	c, err := client.Dial(addr)
	if err != nil {
		return nil, usageError{err}
	}
	return c, nil
}

// query reads an application query (path as the node serves it, e.g. "/subnets/list")
// at the latest height into out: what most read-only commands do.
func (n *nodeFlag) query(ctx context.Context, path string, out any) error {
	c, err := n.client()
	if err != nil {
		return err
	}
	_, err = c.Query(ctx, path, 0, out)
	return err
}
