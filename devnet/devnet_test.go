package devnet

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tessera-net/tessera/api"
	"github.com/tessera-net/tessera/client"
	"github.com/tessera-net/tessera/genesis"
	"github.com/tessera-net/tessera/modules/accounts"
	"github.com/tessera-net/tessera/modules/subnets"
	"github.com/tessera-net/tessera/tx"
	"github.com/tessera-net/tessera/yuma"
	"github.com/tessera-net/tessera/yuma/yumajson"
)

func startDevnet(t *testing.T) *Devnet {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	d, err := Start(ctx, Options{BlockTime: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Stop() })
	return d
}

func getJSON(t *testing.T, url string, wantStatus int, out any) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != wantStatus {
		t.Fatalf("GET %s: status %d, want %d: %s", url, resp.StatusCode, wantStatus, body)
	}
	if out != nil {
		if err := json.Unmarshal(body, out); err != nil {
			t.Fatalf("GET %s: %v: %s", url, err, body)
		}
	}
}

func post(t *testing.T, url, body string, wantStatus int, out any) {
	t.Helper()
	resp, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != wantStatus {
		t.Fatalf("POST %s: status %d, want %d: %s", url, resp.StatusCode, wantStatus, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("POST %s: %v: %s", url, err, b)
		}
	}
}

// The devnet funds the development accounts, commits transfers, and its JSON API serves
// accounts, blocks and transactions, and submits transactions, with clear errors.
func TestDevnetTransfersAndAPI(t *testing.T) {
	d := startDevnet(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	alice, bob := d.Accounts[0].Pair, d.Accounts[1].Pair
	base := d.Node.APIAddress()

	var acct accounts.AccountView
	getJSON(t, base+"/v1/accounts/"+alice.Public().String(), 200, &acct)
	if acct.Balance != genesis.DevBalance || acct.Nonce != 0 {
		t.Fatalf("alice at genesis: %+v", acct)
	}

	// A transfer through the Go client.
	m, _ := accounts.NewTransfer(bob.Public(), 7*accounts.UnitsPerToken)
	v, err := d.Client.Signer(alice).Send(ctx, m)
	if err != nil {
		t.Fatal(err)
	}
	var bal api.Balance
	getJSON(t, base+"/v1/balances/"+bob.Public().String(), 200, &bal)
	if bal.Balance != genesis.DevBalance+7*accounts.UnitsPerToken {
		t.Fatalf("bob: %d", bal.Balance)
	}
	var tv client.TxView
	getJSON(t, base+"/v1/txs/"+v.Hash, 200, &tv)
	if tv.MsgType != accounts.MsgTransfer || tv.Signer != alice.Public().String() || tv.Code != 0 {
		t.Fatalf("tx view: %+v", tv)
	}
	var bv client.BlockView
	getJSON(t, base+"/v1/blocks/"+itoa(v.Height), 200, &bv)
	if bv.NumTxs != 1 || bv.Txs[0].Hash != v.Hash {
		t.Fatalf("block view: %+v", bv)
	}
	getJSON(t, base+"/v1/blocks/latest", 200, &bv)

	// A transfer submitted through the API, waiting for its block.
	chainID, _ := d.Client.ChainID(ctx)
	raw, err := tx.Sign(bob, tx.Envelope{ChainID: chainID, Nonce: 0, Fee: 1000, Msg: mustTransfer(t, alice.Public(), 1)})
	if err != nil {
		t.Fatal(err)
	}
	var sr api.SubmitResponse
	post(t, base+"/v1/txs", `{"tx":"`+base64.StdEncoding.EncodeToString(raw)+`","wait":true}`, 200, &sr)
	if sr.Result == nil || sr.Result.Code != 0 || sr.Result.Height == 0 {
		t.Fatalf("submit: %+v", sr)
	}
	// Replaying it is refused with a code.
	var eb api.ErrorBody
	post(t, base+"/v1/txs", `{"tx":"`+base64.StdEncoding.EncodeToString(raw)+`"}`, 422, &eb)
	if tx.Code(eb.Code) != tx.CodeConflict {
		t.Fatalf("replay: %+v", eb)
	}
	// The same transfer signed again (new bytes, same nonce) is a stale nonce.
	again, _ := tx.Sign(bob, tx.Envelope{ChainID: chainID, Nonce: 0, Fee: 1000, Msg: mustTransfer(t, alice.Public(), 1)})
	post(t, base+"/v1/txs", `{"tx":"`+base64.StdEncoding.EncodeToString(again)+`"}`, 422, &eb)
	if tx.Code(eb.Code) != tx.CodeStaleNonce {
		t.Fatalf("stale nonce: %+v", eb)
	}

	for _, c := range []struct {
		url    string
		status int
	}{
		{"/v1/accounts/not-an-address", 400},
		{"/v1/txs/zz", 400},
		{"/v1/txs/" + strings.Repeat("ab", 32), 404},
		{"/v1/blocks/-3", 400},
		{"/v1/blocks/99999999", 404},
		{"/v1/query/nosuchmodule/x", 404},
		{"/v1/nothing", 404},
	} {
		getJSON(t, base+c.url, c.status, &eb)
		if eb.Error == "" {
			t.Fatalf("%s: no error message", c.url)
		}
	}
	post(t, base+"/v1/txs", `{"tx": 5}`, 400, &eb)
	post(t, base+"/v1/txs", `{"tx": "!!!"}`, 400, &eb)
	post(t, base+"/v1/txs", `{"tx": "AAAA"}`, 422, &eb)
	var params accounts.Params
	getJSON(t, base+"/v1/query/accounts/params", 200, &params)
	if params.MinFee == 0 {
		t.Fatal("params query")
	}
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(metrics), "tessera_app_deliver_tx_total") {
		t.Fatal("metrics lack tessera_app_deliver_tx_total")
	}

	// An unknown transaction hash waits until the context ends.
	short, cancelShort := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancelShort()
	if _, err := d.Client.WaitTx(short, strings.Repeat("00", 32)); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("WaitTx on an unknown hash: %v", err)
	}
}

func mustTransfer(t *testing.T, to [32]byte, amount uint64) tx.Msg {
	t.Helper()
	m, err := accounts.NewTransfer(to, amount)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func itoa(n int64) string {
	b, _ := json.Marshal(n)
	return string(b)
}

// On a running devnet, weights set by a validator produce, at the next epoch, exactly the
// emissions package yuma computes from the chain's own epoch state, paid as stake.
func TestDevnetEpochMatchesYuma(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	layout := DefaultSubnetLayout()
	layout.Tempo = 5
	d, err := Start(ctx, Options{BlockTime: 200 * time.Millisecond, Subnet: &layout})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Stop()
	var mg subnets.Metagraph
	// Permits come with the first epoch.
	for {
		if _, err := d.Client.Query(ctx, "/subnets/metagraph/1", 0, &mg); err != nil {
			t.Fatal(err)
		}
		if mg.ValidatorPermit[1] {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	bob, _ := d.account("Bob")
	m, err := subnets.NewSetWeights(1, []uint16{3, 4, 5}, []uint16{65535, 30000, 5000}, 0)
	if err != nil {
		t.Fatal(err)
	}
	v, err := bob.signer.Send(ctx, m)
	if err != nil {
		t.Fatal(err)
	}
	epoch := uint64(v.Height) + 1
	for !subnets.EpochDue(1, layout.Tempo, epoch) {
		epoch++
	}
	if err := d.WaitHeight(ctx, int64(epoch)+1); err != nil {
		t.Fatal(err)
	}
	var raw json.RawMessage
	if _, err := d.Client.Query(ctx, "/subnets/epoch_state/1", int64(epoch)-1, &raw); err != nil {
		t.Fatal(err)
	}
	st, err := yumajson.Decode(raw)
	if err != nil {
		t.Fatal(err)
	}
	if st.CurrentBlock != epoch {
		t.Fatalf("epoch state for block %d, want %d", st.CurrentBlock, epoch)
	}
	want, err := yuma.Epoch(&st.EpochState)
	if err != nil {
		t.Fatal(err)
	}
	var before, after subnets.Metagraph
	if _, err := d.Client.Query(ctx, "/subnets/metagraph/1", int64(epoch)-1, &before); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Client.Query(ctx, "/subnets/metagraph/1", int64(epoch), &after); err != nil {
		t.Fatal(err)
	}
	for uid := range after.UIDs {
		exp := want.ServerEmission[uid] + want.ValidatorEmission[uid]
		if after.Emission[uid] != exp {
			t.Errorf("uid %d: chain emission %d, yuma %d", uid, after.Emission[uid], exp)
		}
		if grew := after.Stake[uid] - before.Stake[uid]; grew != exp {
			t.Errorf("uid %d: stake grew %d, emission %d", uid, grew, exp)
		}
	}
	if !(after.Incentive[3] > after.Incentive[4] && after.Incentive[4] > after.Incentive[5]) {
		t.Fatalf("incentive does not follow Bob's weights: %v", after.Incentive)
	}
}
