package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/spf13/cobra"

	"github.com/tessera-net/tessera/devnet"
)

// defaultFaucet is the faucet of a devnet on the default ports (base 26656, faucet +3).
const defaultFaucet = "http://127.0.0.1:26659" + devnet.FaucetPath

func newDevnetFundCmd(env *cliEnv) *cobra.Command {
	var url string
	cmd := &cobra.Command{
		Use:   "fund ADDRESS",
		Short: "Ask a running devnet's faucet for tokens for ADDRESS",
		Long: `Ask a running devnet's faucet to send tokens to ADDRESS (an SS58 address or a hex
public key). The faucet gives each address one grant a minute, and a limited number of
grants a minute in all; a refusal says when to ask again.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			g, err := askFaucet(cmd.Context(), url, args[0])
			if err != nil {
				return err
			}
			return env.emit(g, func(w io.Writer) error {
				_, err := fmt.Fprintf(w, "funded %s with %s tokens (tx %s, block %d)\n", g.Address, g.Amount, g.Tx, g.Height)
				return err
			})
		},
	}
	cmd.Flags().StringVar(&url, "faucet", defaultFaucet, "the faucet's URL, as the devnet prints it")
	return cmd
}

// faucetRefusal is a refusal from the faucet, with its code (devnet.CodeAddressLimited, …).
type faucetRefusal struct {
	Status  int
	Code    string
	Message string
}

func (e *faucetRefusal) Error() string {
	return fmt.Sprintf("the faucet refused (%d %s): %s", e.Status, e.Code, e.Message)
}

// askFaucet posts the address to the faucet and returns its grant, or a *faucetRefusal.
func askFaucet(ctx context.Context, url, address string) (*devnet.FaucetGrant, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	body, _ := json.Marshal(devnet.FaucetRequest{Address: address})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return nil, usagef("--faucet: %v", err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("reach the faucet (is a devnet running? its banner prints the faucet's URL): %w", err)
	}
	defer resp.Body.Close()
	dec := json.NewDecoder(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusOK {
		var e devnet.FaucetError
		if err := dec.Decode(&e); err != nil || e.Error.Code == "" {
			return nil, fmt.Errorf("the faucet answered %s", resp.Status)
		}
		return nil, &faucetRefusal{Status: resp.StatusCode, Code: e.Error.Code, Message: e.Error.Message}
	}
	var g devnet.FaucetGrant
	if err := dec.Decode(&g); err != nil {
		return nil, errors.Join(errors.New("the faucet's answer does not parse"), err)
	}
	return &g, nil
}
