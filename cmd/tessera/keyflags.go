package main

import (
	"github.com/spf13/cobra"

	"github.com/tessera-net/tessera/keys"
)

// keyRole says which key of a wallet signs: the coldkey (funds, stake, subnets) or the
// hotkey (weights, axons, commitments).
type keyRole string

const (
	coldkeyRole keyRole = "coldkey"
	hotkeyRole  keyRole = "hotkey"
)

// keyFlags choose the signing key of a transaction: a secret URI (--from-uri, handy on a
// devnet: //Alice) or a wallet's coldkey or hotkey (--wallet.name, --wallet.hotkey).
type keyFlags struct {
	role keyRole
	uri  string
	wf   walletFlags
	pw   walletPasswordFlags
}

func (k *keyFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&k.uri, "from-uri", "", "secret URI of the signing "+string(k.role)+" (for example //Alice on a devnet) instead of a wallet; also TESSERA_FROM_URI")
	k.wf.register(cmd)
	k.pw.register(cmd, false, false)
}

// pair returns the signing key.
func (k *keyFlags) pair(cmd *cobra.Command, env *cliEnv) (*keys.Pair, error) {
	uri := k.uri
	if uri == "" {
		uri = env.getenv("TESSERA_FROM_URI")
	}
	if uri != "" {
		p, err := keys.FromURI(uri)
		if err != nil {
			return nil, usagef("--from-uri: %v", err)
		}
		return p, nil
	}
	w, err := k.wf.open(cmd, env)
	if err != nil {
		return nil, err
	}
	open := w.OpenColdkey
	if k.role == hotkeyRole {
		open = w.OpenHotkey
	}
	kp, err := open(k.pw.unlockFunc(env))
	if err != nil {
		return nil, err
	}
	if kp.Pair == nil {
		return nil, usagef("the %s of wallet %s holds no secret key: it cannot sign", k.role, w.Name)
	}
	return kp.Pair, nil
}

// hotkeyPub resolves a --hotkey argument: an address, or (when empty) the wallet's hotkey.
func (k *keyFlags) hotkeyPub(cmd *cobra.Command, env *cliEnv, given string) (keys.PublicKey, error) {
	if given != "" {
		pub, err := keys.ParsePublicKey(given)
		if err != nil {
			return pub, usagef("--hotkey: %v", err)
		}
		return pub, nil
	}
	w, err := k.wf.open(cmd, env)
	if err != nil {
		return keys.PublicKey{}, err
	}
	pub, err := w.HotkeyPub()
	if err != nil {
		return pub, usagef("no --hotkey given and the wallet's hotkey cannot be read: %v", err)
	}
	return pub, nil
}
