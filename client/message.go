package client

import (
	"fmt"
	"slices"
	"strings"

	"github.com/tessera-net/tessera/keys"
	"github.com/tessera-net/tessera/modules/accounts"
	"github.com/tessera-net/tessera/modules/gov"
	"github.com/tessera-net/tessera/modules/inference"
	"github.com/tessera-net/tessera/modules/league"
	"github.com/tessera-net/tessera/modules/stake"
	"github.com/tessera-net/tessera/modules/subnets"
	"github.com/tessera-net/tessera/tx"
)

// MessageView is a transaction's message decoded into the fields a person reads: its
// type and, by the module that defines it, its fields (addresses as SS58, amounts as
// decimal strings of the smallest unit). A message that no module here knows, or whose
// body does not decode, has no fields and says why in Error.
type MessageView struct {
	Type   string         `json:"type"`
	Fields map[string]any `json:"fields"`
	Error  string         `json:"error,omitempty"`
}

// msgFields are the modules' message decoders (each module's MsgFields), tried in turn.
var msgFields = []func(keys.PublicKey, tx.Msg) (map[string]any, bool, error){
	accounts.MsgFields, stake.MsgFields, subnets.MsgFields, gov.MsgFields, inference.MsgFields, league.MsgFields,
}

// DescribeMessage decodes message m, signed by signer, with the module that defines it.
func DescribeMessage(signer keys.PublicKey, m tx.Msg) *MessageView {
	v := &MessageView{Type: m.Type, Fields: map[string]any{}}
	for _, f := range msgFields {
		fields, ok, err := f(signer, m)
		if !ok {
			continue
		}
		if err != nil {
			v.Error = err.Error()
		} else {
			v.Fields = fields
		}
		return v
	}
	v.Error = "no module of this chain defines message type " + m.Type
	return v
}

// String renders the message on one line: its type and its fields as name=value in the
// order of their names ("accounts/transfer amount=5 from=5Grw… to=5FHn…"), or its
// error.
func (v *MessageView) String() string {
	var b strings.Builder
	b.WriteString(v.Type)
	if v.Error != "" {
		b.WriteString(" (" + v.Error + ")")
	}
	names := make([]string, 0, len(v.Fields))
	for k := range v.Fields {
		names = append(names, k)
	}
	slices.Sort(names)
	for _, k := range names {
		fmt.Fprintf(&b, " %s=%v", k, v.Fields[k])
	}
	return b.String()
}
