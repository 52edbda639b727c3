package apinode

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tessera-net/tessera/devnet"
	"github.com/tessera-net/tessera/internal/openai"
	"github.com/tessera-net/tessera/internal/testutil"
	"github.com/tessera-net/tessera/keys"
	"github.com/tessera-net/tessera/modules/accounts"
	"github.com/tessera-net/tessera/modules/inference"
	"github.com/tessera-net/tessera/modules/stake"
	"github.com/tessera-net/tessera/modules/subnets"
	"github.com/tessera-net/tessera/subnets/inference/infdev"
	"github.com/tessera-net/tessera/subnets/inference/mlnode"
)

// startMLNode runs a real MLNode serving model on a random engine model, for the API
// node key api, on loopback.
func startMLNode(t *testing.T, ctx context.Context, api keys.PublicKey, model string, alterEvery int) *mlnode.Client {
	t.Helper()
	sp, err := mlnode.ParseSpec(model + "=random:tiny")
	if err != nil {
		t.Fatal(err)
	}
	s, err := mlnode.New(mlnode.Config{APINode: api, Models: []mlnode.Spec{sp}, AlterEvery: alterEvery})
	if err != nil {
		t.Fatal(err)
	}
	lm, err1 := net.Listen("tcp", "127.0.0.1:0")
	li, err2 := net.Listen("tcp", "127.0.0.1:0")
	if err := errors.Join(err1, err2); err != nil {
		t.Fatal(err)
	}
	go s.Serve(ctx, lm, li)
	t.Cleanup(s.Close)
	return &mlnode.Client{Management: "http://" + lm.Addr().String(), Inference: "http://" + li.Addr().String()}
}

// The API node against a real chain: two participants register, their API nodes
// declare their MLNodes (real MLNode services on an engine random model; the second
// alters every completion it serves), mine the first PoC through them, validate each
// other, load the group's model, and then users' signed chat completions through one
// API node are served, escrowed and finished; the honest one's is checked by the other
// participant (exact replay on its MLNode) and paid, the cheater's is caught,
// invalidated and refunded.
func TestAPINodeOnARealChain(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a chain: skipped with -short")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	// A check window of 50 blocks (5 s): the default 10 (1 s at this block time) is less
	// than a validator's replay and vote can take on a machine busy with other tests,
	// and a record left unchecked is paid.
	// Every inference checked: a validator samples an executor's inferences with a
	// probability that falls as the executor's reputation grows (Gonka's rule), and this
	// test asserts that each record it waits for was checked.
	inf := infdev.DevParams()
	inf.CheckBlocks = 50
	inf.ValidationMinPPM, inf.ValidationMaxPPM = 1_000_000, 1_000_000
	ext, err := infdev.New(infdev.Options{Participants: []infdev.Participant{}, Budget: 64, Params: &inf})
	if err != nil {
		t.Fatal(err)
	}
	d, err := devnet.Start(ctx, devnet.Options{BlockTime: 100 * time.Millisecond, Extensions: []devnet.Extension{ext}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Stop() })
	netuid := ext.Netuid()
	alice, _ := keys.FromURI("//Alice")
	user, _ := keys.FromURI("//InferenceUser")
	var params subnets.Params
	if _, err := d.Client.Query(ctx, "/subnets/params", 0, &params); err != nil {
		t.Fatal(err)
	}
	aliceChain := ClientChain{C: d.Client, S: d.Client.Signer(alice)}
	var nodes []*Node
	var urls []string
	var chains []ClientChain
	// The API nodes' logs, shown when the test fails: why an executor was passed over,
	// an entry the chain refused.
	logs := &testLogs{}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("API nodes' log:\n%s", logs.String())
		}
	})
	for i, uri := range []string{"//ApiNode1", "//ApiNode2"} {
		key, _ := keys.FromURI(uri)
		fund, _ := accounts.NewTransfer(key.Public(), 1000*accounts.UnitsPerToken)
		if i == 0 {
			toUser, _ := accounts.NewTransfer(user.Public(), 10*accounts.UnitsPerToken)
			if err := aliceChain.Send(ctx, fund, toUser); err != nil {
				t.Fatal(err)
			}
		} else if err := aliceChain.Send(ctx, fund); err != nil {
			t.Fatal(err)
		}
		reg, err1 := subnets.NewRegister(netuid, key.Public(), 0)
		add, err2 := stake.NewAdd(key.Public(), 100*accounts.UnitsPerToken)
		if params.DTAO {
			add, err2 = stake.NewAddOn(netuid, key.Public(), 100*accounts.UnitsPerToken, 0, false)
		}
		if err := errors.Join(err1, err2); err != nil {
			t.Fatal(err)
		}
		ch := ClientChain{C: d.Client, S: d.Client.Signer(key)}
		if err := ch.Send(ctx, reg, add); err != nil {
			t.Fatalf("%s: %v", uri, err)
		}
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		u := "http://" + l.Addr().String()
		ch.Log = logs.logger(uri)
		n, err := New(Config{Netuid: netuid, Key: key, Chain: ch, PublicURL: u, Budget: 64, Poll: 100 * time.Millisecond, Log: ch.Log,
			MLNodes: []MLNode{{ID: "node-a", Client: startMLNode(t, ctx, key.Public(), "devnet-small", i), Models: []string{"devnet-small"}}}})
		if err != nil {
			t.Fatal(err)
		}
		srv := &http.Server{Handler: n.Handler()}
		go srv.Serve(l)
		t.Cleanup(func() { srv.Close() })
		go n.Run(ctx)
		nodes, urls, chains = append(nodes, n), append(urls, u), append(chains, ch)
	}
	// Wait for the first group in force with both participants serving.
	var ev inference.EpochView
	for {
		if _, err := d.Client.Query(ctx, fmt.Sprintf("/inference/epoch/%d", netuid), 0, &ev); err != nil {
			t.Fatal(err)
		}
		if g := ev.Current; g != nil && len(inference.Eligible(g, "devnet-small", false)) == 2 {
			break
		}
		if ev.Phase.Height > 120 {
			t.Fatalf("no group with both participants by block %d: %+v", ev.Phase.Height, ev.Current)
		}
		select {
		case <-ctx.Done():
			t.Fatal(ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
	honest, cheater := nodes[0].Hotkey(), nodes[1].Hotkey()
	start, err := d.Client.Account(ctx, user.Public())
	if err != nil {
		t.Fatal(err)
	}
	// settled waits for record id to be final, or for the chain to have refused its
	// start (refused true, no record): the API node draws the executor from the group it
	// last read, and the chain can have dropped that executor since (over its invalid
	// limit in this epoch, or a PoC begun), so a request served can have no record.
	settled := func(id inference.Hash) (rec inference.RecordView, refused bool) {
		for {
			_, err := d.Client.Query(ctx, "/inference/record/"+hex.EncodeToString(id[:]), 0, &rec) // not found until the start's block
			if err == nil && (rec.Status == inference.StatusPaid || rec.Status == inference.StatusInvalidated || rec.Status == inference.StatusExpired) {
				return rec, false
			}
			if err != nil {
				rs, rerr := d.Client.InferenceRefusals(ctx, id)
				if rerr != nil {
					t.Fatal(rerr)
				}
				if len(rs) > 0 && rs[0].Code == inference.RefuseNotEligible {
					t.Logf("record %x: its start was refused: %s %s", id[:4], rs[0].Code, rs[0].Reason)
					return rec, true
				}
			}
			select {
			case <-ctx.Done():
				t.Fatalf("the record never settled: %+v (%v)", rec, err)
			case <-time.After(200 * time.Millisecond):
			}
		}
	}
	var ids []inference.Hash
	done := map[inference.Account]bool{}
	// The executor is drawn by weight, about evenly here: ask until both served, a
	// moment apart, so that a participant missing for a while (its MLNode still loading
	// the group's model) is drawn again once back.
	giveUp := time.Now().Add(time.Minute)
	for attempt := 0; len(done) < 2; attempt++ {
		if time.Now().After(giveUp) {
			t.Fatalf("after %d requests in a minute, served by %v only", attempt, done)
		}
		if attempt > 0 {
			time.Sleep(100 * time.Millisecond)
		}
		status, h, resp := post(t, urls[0], PathChat, chatBody("devnet-small", 8), user, time.Now())
		if status != http.StatusOK {
			// The MLNodes may still be loading the group's model at the switch.
			t.Logf("%d %s", status, resp)
			continue
		}
		raw, _ := hex.DecodeString(h.Get(HeaderInferenceID))
		id := inference.Hash(raw)
		ids = append(ids, id)
		pub, err := keys.ParsePublicKey(h.Get(HeaderExecutor))
		if err != nil {
			t.Fatalf("executor header %q: %v", h.Get(HeaderExecutor), err)
		}
		exec := inference.Account(pub)
		if done[exec] {
			continue
		}
		want := inference.StatusPaid
		if exec == cheater {
			want = inference.StatusInvalidated
		}
		rec, refused := settled(id)
		if refused {
			continue
		}
		if rec.Status != want || rec.Executor != exec {
			t.Fatalf("record of %s: %+v, want %s", exec, rec, want)
		}
		// The other participant, a validator with as much stake as the rest, checked it.
		if rec.Validator == nil || *rec.Validator == rec.Executor {
			t.Fatalf("the record settled unchecked: %+v", rec)
		}
		if rec.CompletionTokens == 0 || rec.CompletionTokens > 8 || rec.Cost == 0 || rec.Cost > rec.MaxCost {
			t.Fatalf("record: %+v", rec)
		}
		done[exec] = true
		t.Logf("record %x served by %s (honest %v): %d+%d tokens, cost %d, status %s", id[:4], rec.Executor, exec == honest, rec.PromptTokens, rec.CompletionTokens, rec.Cost, rec.Status)
	}
	// Over every request sent, the user paid the costs of the records paid and nothing
	// for the invalidated ones, nor for those whose start the chain refused.
	var cost uint64
	for _, id := range ids {
		if rec, refused := settled(id); !refused && rec.Status == inference.StatusPaid {
			cost += rec.Cost
		}
	}
	end, err := d.Client.Account(ctx, user.Public())
	if err != nil {
		t.Fatal(err)
	}
	if start.Balance-end.Balance != cost {
		t.Fatalf("the user paid %d for %d records whose paid ones cost %d", start.Balance-end.Balance, len(ids), cost)
	}
	// A streamed request: the events spell the answer token by token, with their
	// log-probabilities, then the usage and [DONE].
	body := []byte(`{"model":"devnet-small","max_tokens":6,"stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"Hi"}]}`)
	var status int
	var h http.Header
	var resp []byte
	for attempt := 0; ; attempt++ {
		// During the next PoC only POC_SLOT MLNodes serve: none here; wait for the switch.
		status, h, resp = post(t, urls[1], PathChat, body, user, time.Now())
		if status != http.StatusServiceUnavailable || attempt > 100 {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if status != http.StatusOK || !strings.HasPrefix(h.Get("Content-Type"), "text/event-stream") {
		t.Fatalf("stream: %d %s", status, resp)
	}
	events := strings.Split(strings.TrimSpace(string(resp)), "\n\n")
	if events[len(events)-1] != "data: [DONE]" {
		t.Fatalf("stream does not end with [DONE]: %s", resp)
	}
	var text strings.Builder
	var usage *openai.Usage
	for _, ev := range events[:len(events)-1] {
		var c openai.ChatChunk
		if err := json.Unmarshal([]byte(strings.TrimPrefix(ev, "data: ")), &c); err != nil {
			t.Fatalf("event %q: %v", ev, err)
		}
		for _, ch := range c.Choices {
			if ch.Delta.Content != nil {
				text.WriteString(*ch.Delta.Content)
				if *ch.Delta.Content != "" && (ch.Logprobs == nil || len(ch.Logprobs.Content) == 0 || len(ch.Logprobs.Content[0].TopLogprobs) < 5) {
					t.Fatalf("a token without its log-probabilities: %s", ev)
				}
			}
		}
		if c.Usage != nil {
			usage = c.Usage
		}
	}
	if usage == nil || usage.CompletionTokens == 0 || usage.CompletionTokens > 6 || text.Len() == 0 {
		t.Fatalf("stream: text %q, usage %+v", text.String(), usage)
	}

	// A start the chain refuses (a forged user signature) leaves no record; the node's
	// transaction index says why, and the TA logged it.
	forged := inference.StartEntry{User: inference.Account(user.Public()), Model: "devnet-small", Path: PathChat, Timestamp: time.Now().UnixNano(),
		Signature: make([]byte, 64), PromptTokens: 10, MaxTokens: 8, Executor: honest}
	forged.Signature[0] = 7
	m, err := inference.NewStart(inference.Start{Netuid: netuid, Entries: []inference.StartEntry{forged}})
	if err != nil {
		t.Fatal(err)
	}
	if err := chains[0].Send(ctx, m); err != nil {
		t.Fatal(err)
	}
	fid := forged.ID()
	refusals, err := d.Client.InferenceRefusals(ctx, fid)
	// Refused as not eligible when the next PoC has begun (no POC_SLOT here), else for
	// its signature.
	if err != nil || len(refusals) != 1 || (refusals[0].Code != inference.RefuseBadSignature && refusals[0].Code != inference.RefuseNotEligible) {
		t.Fatalf("the forged start's refusals: %+v, %v", refusals, err)
	}
	if !strings.Contains(logs.String(), "the chain refused an entry") || !strings.Contains(logs.String(), hex.EncodeToString(fid[:])) {
		t.Fatal("the TA did not log the refused entry")
	}
}

// testLogs collects the logs of a test's services.
type testLogs struct{ testutil.SyncBuffer }

// logger is a text logger into l naming the service.
func (l *testLogs) logger(name string) *slog.Logger {
	return slog.New(slog.NewTextHandler(l, nil)).With("node", name)
}
