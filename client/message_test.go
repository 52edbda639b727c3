package client_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/tessera-net/tessera/client"
	"github.com/tessera-net/tessera/keys"
	"github.com/tessera-net/tessera/modules/accounts"
	"github.com/tessera-net/tessera/modules/stake"
	"github.com/tessera-net/tessera/modules/subnets"
	"github.com/tessera-net/tessera/tx"
)

// Every message type of the chain's modules decodes into readable fields: addresses
// SS58, amounts decimal strings of the smallest unit, bytes 0x hex.
func TestDescribeMessage(t *testing.T) {
	pair := func(uri string) keys.PublicKey {
		p, err := keys.FromURI(uri)
		if err != nil {
			t.Fatal(err)
		}
		return p.Public()
	}
	alice, bob, hot := pair("//Alice"), pair("//Bob"), pair("//Alice//hot")
	must := func(m tx.Msg, err error) tx.Msg {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	for _, tc := range []struct {
		msg  tx.Msg
		want string // the fields' JSON
	}{
		{must(accounts.NewTransfer(bob, 5_000_000_000)), `{"amount":"5000000000","from":"` + alice.String() + `","to":"` + bob.String() + `"}`},
		{must(stake.NewAdd(hot, 7)), `{"amount":"7","coldkey":"` + alice.String() + `","hotkey":"` + hot.String() + `"}`},
		{must(stake.NewRemove(hot, 8)), `{"amount":"8","coldkey":"` + alice.String() + `","hotkey":"` + hot.String() + `"}`},
		{must(stake.NewMove(hot, bob, 9)), `{"amount":"9","coldkey":"` + alice.String() + `","from":"` + hot.String() + `","to":"` + bob.String() + `"}`},
		{must(stake.NewSetTake(hot, 100)), `{"hotkey":"` + hot.String() + `","take":100}`},
		{must(subnets.NewCreate(hot, "")), `{"hotkey":"` + hot.String() + `","mechanism":"yuma","owner":"` + alice.String() + `"}`},
		{must(subnets.NewSetHyperparam(1, "tempo", 20)), `{"name":"tempo","netuid":1,"value":20}`},
		{must(subnets.NewRegister(1, hot, 0)), `{"coldkey":"` + alice.String() + `","hotkey":"` + hot.String() + `","max_burn":"0","netuid":1}`},
		{must(subnets.NewServeAxon(1, "10.0.0.1", 8091, 3)), `{"hotkey":"` + alice.String() + `","ip":"10.0.0.1","netuid":1,"port":8091,"protocol":0,"version":3}`},
		{must(subnets.NewCommit(2, []byte{0xab, 0xcd})), `{"data":"0xabcd","hotkey":"` + alice.String() + `","netuid":2}`},
		{must(subnets.NewSetWeights(1, []uint16{2, 3}, []uint16{65535, 100}, 4)), `{"hotkey":"` + alice.String() + `","netuid":1,"uids":[2,3],"version_key":4,"weights":[65535,100]}`},
		{must(subnets.NewRevealWeights(1, []uint16{2}, []uint16{1}, []uint16{9}, 0)), `{"hotkey":"` + alice.String() + `","netuid":1,"salt":[9],"uids":[2],"version_key":0,"weights":[1]}`},
	} {
		v := client.DescribeMessage(alice, tc.msg)
		got, err := json.Marshal(v.Fields)
		if err != nil {
			t.Fatal(err)
		}
		if v.Type != tc.msg.Type || v.Error != "" || string(got) != tc.want {
			t.Errorf("%s: %+v\n got %s\nwant %s", tc.msg.Type, v, got, tc.want)
		}
	}
	cw := client.DescribeMessage(alice, must(subnets.NewCommitWeights(hot, 1, []uint16{1}, []uint16{1}, []uint16{1}, 0)))
	if h, _ := cw.Fields["hash"].(string); len(h) != 2+64 || !strings.HasPrefix(h, "0x") {
		t.Errorf("commit_weights: %+v", cw)
	}

	if got, want := client.DescribeMessage(alice, must(accounts.NewTransfer(bob, 5))).String(),
		"accounts/transfer amount=5 from="+alice.String()+" to="+bob.String(); got != want {
		t.Errorf("String: %q, want %q", got, want)
	}

	// A key of the wrong length is shown as hex, not refused.
	short := must(tx.NewMsg(accounts.MsgTransfer, accounts.Transfer{To: []byte{1, 2}, Amount: 1}))
	if v := client.DescribeMessage(alice, short); v.Fields["to"] != "0x0102" || v.Error != "" {
		t.Errorf("short key: %+v", v)
	}
	// A body that does not decode, and a type no module defines, say why and have no fields.
	for _, m := range []tx.Msg{{Type: accounts.MsgTransfer, Body: []byte{0xff}}, {Type: "nobody/nothing", Body: []byte{0xa0}}} {
		v := client.DescribeMessage(alice, m)
		if v.Type != m.Type || v.Error == "" || v.Fields == nil || len(v.Fields) != 0 {
			t.Errorf("%s: %+v", m.Type, v)
		}
	}
}
