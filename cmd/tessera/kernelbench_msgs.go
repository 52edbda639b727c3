package main

import (
	"crypto/sha256"
	"encoding/json"

	"github.com/tessera-net/tessera/modules/league"
	"github.com/tessera-net/tessera/tx"
)

func kbDefineMsg(netuid uint16, raw []byte, uri string, delay, window uint64) (tx.Msg, error) {
	h := sha256.Sum256(raw)
	return league.NewDefine(league.Define{Netuid: netuid, DefinitionHash: h[:], URI: uri, RevealDelay: delay, RevealWindow: window})
}

func jsonIndent(v any) ([]byte, error) {
	raw, err := json.MarshalIndent(v, "", "  ")
	return append(raw, '\n'), err
}
