package scenario

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	abci "github.com/cometbft/cometbft/abci/types"

	"github.com/tessera-net/tessera/tx"
)

// inputLines returns the non-blank lines of a command's input, trimmed.
func inputLines(input string) []string {
	var out []string
	for _, l := range strings.Split(input, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// verdict prints a result: "ok", or the code's name and the log. The application's log
// of a coded rejection already starts with the code's name, which is then not repeated.
func verdict(code uint32, log string) string {
	c := tx.Code(code)
	if c == tx.CodeOK {
		return "ok"
	}
	if strings.HasPrefix(log, c.String()+": ") {
		return log
	}
	return c.String() + ": " + log
}

// formatBlock prints a block's results: a header, then each transaction labelled by its
// signer, nonce and message line, with its result and events, then the end-block events.
// The "tx" event every transaction carries (signer and type) is left out: the label
// says both.
func formatBlock(height int64, txs []pendingTx, res *abci.ResponseFinalizeBlock) string {
	var b strings.Builder
	fmt.Fprintf(&b, "block %d\n", height)
	for i, r := range res.TxResults {
		p := txs[i]
		fmt.Fprintf(&b, "%s#%d %s: %s\n", p.from, p.nonce, p.line, verdict(r.Code, r.Log))
		writeEvents(&b, r.Events)
	}
	if len(res.Events) > 0 {
		b.WriteString("end of block:\n")
		writeEvents(&b, res.Events)
	}
	return b.String()
}

// writeEvents prints events one a line, indented: "type key=value ...".
func writeEvents(b *strings.Builder, events []abci.Event) {
	for _, e := range events {
		if e.Type == "tx" {
			continue
		}
		b.WriteString("  " + e.Type)
		for _, a := range e.Attributes {
			fmt.Fprintf(b, " %s=%s", a.Key, a.Value)
		}
		b.WriteString("\n")
	}
}

// indentJSON indents a JSON answer two spaces a level.
func indentJSON(raw []byte) (string, error) {
	var b bytes.Buffer
	if err := json.Indent(&b, raw, "", "  "); err != nil {
		return "", fmt.Errorf("query answer is not JSON: %w", err)
	}
	return b.String(), nil
}
