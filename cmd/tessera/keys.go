package main

import (
	"encoding/hex"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tessera-net/tessera/keys"
)

func newKeysCmd(env *cliEnv) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "keys",
		Short: "Work with sr25519 keys: mnemonics, seeds, secret URIs and SS58 addresses",
	}
	cmd.AddCommand(newKeysInspectCmd(env))
	return cmd
}

// keyInspection is what keys inspect prints.
type keyInspection struct {
	PublicKey  string `json:"public_key"`
	AccountID  string `json:"account_id"`
	SS58       string `json:"ss58_address"`
	SS58Format int    `json:"ss58_format"`
	SecretSeed string `json:"secret_seed,omitempty"`
	PrivateKey string `json:"private_key,omitempty"`
}

func newKeysInspectCmd(env *cliEnv) *cobra.Command {
	var path string
	var ss58Format int
	var public, showSecret bool
	cmd := &cobra.Command{
		Use:   "inspect [mnemonic | 0x-seed | secret URI]",
		Short: "Print the public key and SS58 address of a mnemonic, seed or secret URI",
		Long: `Derive a key the way Substrate and Bittensor do and print its public key and SS58
address. The input is a BIP39 mnemonic, a 0x-hex seed (32-byte mini-secret or 64-byte
secret key), or a secret URI such as "//Alice" or "<mnemonic>//hard/soft///password".
--path appends junctions. Without an argument the input is read from stdin, which keeps
it out of the shell history. With --public the input is an SS58 address or 0x public
key, shown again in --ss58-format.`,
		Example: `  tessera keys inspect //Alice
  tessera keys inspect --path //validator/1 < mnemonic.txt
  tessera keys inspect --public --ss58-format 0 5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := keys.CheckSS58Prefix(ss58Format); err != nil {
				return usagef("--ss58-format: %v", err)
			}
			given := ""
			if len(args) == 1 {
				given = args[0]
			}
			input, err := readSecretInput(env, given, "mnemonic, seed or secret URI")
			if err != nil {
				return err
			}
			if path != "" && !strings.HasPrefix(path, "/") {
				return usagef("--path must start with / (soft) or // (hard), as in //hard/soft")
			}
			out := keyInspection{SS58Format: ss58Format}
			if public {
				if path != "" || showSecret {
					return usagef("--public takes no --path or --show-secret: a public key cannot be derived through hard junctions or reveal a secret")
				}
				pub, err := keys.ParsePublicKey(input)
				if err != nil {
					return usageError{err}
				}
				out.fill(pub)
			} else {
				uri := input + path
				if i := strings.Index(input, "///"); i >= 0 {
					uri = input[:i] + path + input[i:] // junctions go before the ///password
				}
				p, err := keys.FromURI(uri)
				if err != nil {
					return usageError{err}
				}
				out.fill(p.Public())
				if showSecret {
					if seed := p.Seed(); seed != nil {
						out.SecretSeed = "0x" + hex.EncodeToString(seed)
					}
					sk := p.SecretBytes()
					out.PrivateKey = "0x" + hex.EncodeToString(sk[:])
				}
			}
			return env.emit(out, func(o io.Writer) error {
				fmt.Fprintf(o, "Public key (hex):  %s\nAccount ID:        %s\nSS58 address:      %s\nSS58 format:       %d\n",
					out.PublicKey, out.AccountID, out.SS58, out.SS58Format)
				if out.SecretSeed != "" {
					fmt.Fprintf(o, "Secret seed:       %s\n", out.SecretSeed)
				}
				if out.PrivateKey != "" {
					fmt.Fprintf(o, "Private key:       %s\n", out.PrivateKey)
				}
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&path, "path", "", "derivation junctions to append, such as //hard/soft")
	cmd.Flags().IntVar(&ss58Format, "ss58-format", int(keys.DefaultSS58Prefix), "SS58 network prefix of the address (42: Substrate and Bittensor)")
	cmd.Flags().BoolVar(&public, "public", false, "the input is a public key or SS58 address, not a secret")
	cmd.Flags().BoolVar(&showSecret, "show-secret", false, "also print the secret seed and the 64-byte private key (btwallet's secretSeed and privateKey)")
	return cmd
}

func (k *keyInspection) fill(pub keys.PublicKey) {
	k.PublicKey = pub.Hex()
	k.AccountID = pub.Hex()
	k.SS58 = keys.SS58Encode(pub, uint16(k.SS58Format))
}
