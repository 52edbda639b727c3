package apinode

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tessera-net/tessera/client"
	"github.com/tessera-net/tessera/keys"
	"github.com/tessera-net/tessera/modules/inference"
	"github.com/tessera-net/tessera/poc"
	"github.com/tessera-net/tessera/subnets/inference/signed"
	"github.com/tessera-net/tessera/tx"
)

func chatBody(model string, maxTokens int) []byte {
	b, _ := json.Marshal(map[string]any{"model": model, "max_tokens": maxTokens,
		"messages": []map[string]string{{"role": "user", "content": "Say something."}}})
	return b
}

func byKey(ps []*participantNode, exec string) (int, *participantNode) {
	for i, p := range ps {
		if p.key.Public().String() == exec {
			return i, p
		}
	}
	return -1, nil
}

// A request through one participant's API node (the TA) is served by the executor
// drawn, escrowed at its start, charged its cost at its finish, and checked by another
// participant against the payload the executor keeps; an altered answer fails the check.
func TestPaidInferenceEndToEnd(t *testing.T) {
	ctx := context.Background()
	ch, ps, user := testNetwork(t)
	ta := ps[0]
	ua := inference.Account(user.Public())
	// Only ps[1] has weight: the TA forwards to another participant.
	ch.onlyExecutor(1)
	ta.node.refresh(ctx)
	before := ch.balance(ua)

	// The MLNodes were brought up on the group's model; the declarations were sent.
	for _, p := range ps {
		if p.ml.model != "m-small" {
			t.Fatalf("mlnode of %s serves %q", p.key.Public(), p.ml.model)
		}
	}
	if !strings.Contains(strings.Join(ch.msgs, " "), inference.MsgMLNodes) {
		t.Fatalf("no hardware diff sent: %v", ch.msgs)
	}

	body := chatBody("m-small", 16)
	status, h, resp := post(t, ta.url, PathChat, body, user, time.Now())
	if status != http.StatusOK {
		t.Fatalf("%d %s", status, resp)
	}
	idHex, exec := h.Get(HeaderInferenceID), h.Get(HeaderExecutor)
	ei, ep := byKey(ps, exec)
	if ep == nil || ep.ml.count() != 1 || h.Get(HeaderSeed) == "" {
		t.Fatalf("executor %q, seed %q", exec, h.Get(HeaderSeed))
	}
	var ans map[string]json.RawMessage
	if json.Unmarshal(resp, &ans) != nil || string(ans["seed"]) != h.Get(HeaderSeed) || string(ans["logprobs_on"]) != "true" {
		t.Fatalf("the executor did not run with the seed and logprobs: %s", resp)
	}
	raw, _ := hex.DecodeString(idHex)
	id := inference.Hash(raw)
	if ta.node.starts.Len() != 1 {
		t.Fatalf("%d starts queued", ta.node.starts.Len())
	}
	// The executor's finish waits for the start.
	if ep != ps[1] {
		t.Fatalf("served by %s, the only one with weight is %s", exec, ps[1].key.Public())
	}
	ep.node.Flush(ctx)
	if ep.node.exec.pendingFinishes() != 1 {
		t.Fatal("the finish was dropped before its start reached the chain")
	}
	ta.node.Flush(ctx)
	rec := ch.record(id)
	if rec == nil || rec.Status != inference.StatusStarted || rec.Executor.String() != exec {
		t.Fatalf("record after the start: %+v", rec)
	}
	// Worst case: (prompt bytes + 8 per message + 8) + 16 tokens, at 1000 per token.
	wantPrompt := uint32(len("Say something.") + len("user") + 8 + 8)
	if rec.MaxPromptTokens != wantPrompt || rec.MaxTokens != 16 || ch.balance(ua) != before-uint64(wantPrompt+16)*1000 {
		t.Fatalf("escrow: prompt %d max %d, balance %d of %d", rec.MaxPromptTokens, rec.MaxTokens, ch.balance(ua), before)
	}
	ch.advance()
	ep.node.refresh(ctx)
	ep.node.Flush(ctx)
	rec = ch.record(id)
	if rec.Status != inference.StatusFinished || rec.CompletionTokens != 3 || rec.PromptTokens != 7 || ch.balance(ua) != before-10*1000 {
		t.Fatalf("record after the finish: %+v, balance %d", rec, ch.balance(ua))
	}
	// Another participant checks it from the payload on the executor's API node.
	vi := (ei + 1) % 3
	val := ps[vi].node
	val.refresh(ctx)
	ok, err := val.val.check(ctx, val.current(), rec)
	if err != nil || !ok {
		t.Fatalf("honest inference checked %v, %v", ok, err)
	}
	// The scan of a validator holding more stake than the others but the executor
	// checks every finished record of the height and sends its checks.
	ch.mu.Lock()
	for i := range ch.group.Validators {
		if i != vi && i != ei {
			ch.group.Validators[i].Stake = 0
		}
	}
	ch.mu.Unlock()
	val.refresh(ctx)
	if err := val.val.scan(ctx, val.current()); err != nil {
		t.Fatal(err)
	}
	val.Flush(ctx)
	if len(ch.checks) != 1 || ch.checks[0].ID != id || !ch.checks[0].Valid {
		t.Fatalf("checks sent: %+v", ch.checks)
	}

	// An executor that alters its answers is caught.
	ep.ml.mu.Lock()
	ep.ml.alter = true
	ep.ml.mu.Unlock()
	fw := forward{id: inference.Hash{9}, seed: 5, path: PathChat, body: body}
	if _, e := ep.node.exec.run(ctx, fw); e != nil {
		t.Fatal(e)
	}
	p, _ := ep.node.payload.get(fw.id)
	alt := &inference.RecordView{ID: fw.id, Model: "m-small", Path: PathChat, BodyHash: sha(p.Body), ResponseHash: sha(p.Response), PromptTokens: 7, CompletionTokens: 3}
	if ok, err := Verify(ctx, alt, p, ps[vi].node.val.validateOn); err != nil || ok {
		t.Fatalf("altered inference checked %v, %v", ok, err)
	}
	// A payload whose tokens are not the record's, or whose body is not the signed one, fails.
	bad := *alt
	bad.CompletionTokens = 2
	if ok, _ := Verify(ctx, &bad, p, ps[vi].node.val.validateOn); ok {
		t.Fatal("a payload billing other tokens passed")
	}
	bad = *alt
	bad.BodyHash[0] ^= 1
	if ok, _ := Verify(ctx, &bad, p, ps[vi].node.val.validateOn); ok {
		t.Fatal("a payload of another body passed")
	}
}

func sha(b []byte) inference.Hash {
	return inference.RequestID(b) // SHA-256
}

// An MLNode that fails (killed, or mining) is routed around: the TA draws another
// executor before the first byte, and the user is served once, charged once.
func TestFailingExecutorsRoutedAround(t *testing.T) {
	_, ps, user := testNetwork(t)
	ps[1].ml.setDown(true)
	ps[2].ml.setDown(true)
	for i := range 4 {
		status, h, resp := post(t, ps[2].url, PathChat, chatBody("m-small", 8), user, time.Now())
		if status != http.StatusOK || h.Get(HeaderExecutor) != ps[0].key.Public().String() {
			t.Fatalf("request %d: %d by %q: %s", i, status, h.Get(HeaderExecutor), resp)
		}
	}
	if ps[2].node.starts.Len() != 4 || ps[0].ml.count() != 4 {
		t.Fatalf("%d starts queued, %d served", ps[2].node.starts.Len(), ps[0].ml.count())
	}
	ps[0].ml.setDown(true)
	status, _, resp := post(t, ps[2].url, PathChat, chatBody("m-small", 8), user, time.Now())
	if status != http.StatusServiceUnavailable || errorCode(t, resp) != "executors_unavailable" || ps[2].node.starts.Len() != 4 {
		t.Fatalf("every executor down: %d %s", status, resp)
	}
	if held := ps[2].node.holds.m[inference.Account(user.Public())]; held != 4*uint64(34+8)*1000 {
		t.Fatalf("holds after a refused request: %d", held)
	}
	// An executor that accepts (its MLNode answers its state) and then fails is final:
	// its start is recorded (the chain refunds it when it expires unfinished) and the
	// user gets the failure.
	ps[0].ml.mu.Lock()
	ps[0].ml.down, ps[0].ml.broken = false, true
	ps[0].ml.mu.Unlock()
	status, _, resp = post(t, ps[2].url, PathChat, chatBody("m-small", 8), user, time.Now())
	if status != http.StatusBadGateway || errorCode(t, resp) != "mlnodes_unavailable" || ps[2].node.starts.Len() != 5 {
		t.Fatalf("accepted, then failed: %d %s, %d starts", status, resp, ps[2].node.starts.Len())
	}
}

// Every bad request is a clear OpenAI-style error, and nothing is served, queued or
// charged.
func TestBadRequestsCostNothing(t *testing.T) {
	ch, ps, user := testNetwork(t)
	ta := ps[0]
	poor, _ := keys.FromURI("//Poor")
	ch.balances[inference.Account(poor.Public())] = 20_000
	now := time.Now()
	replayed := chatBody("m-small", 9)
	first := signed.Sign(user, http.MethodPost, PathChat, replayed, now)
	req0, _ := http.NewRequest(http.MethodPost, ta.url+PathChat, strings.NewReader(string(replayed)))
	first.Headers(req0.Header)
	if s, _, b := do(t, req0); s != http.StatusOK {
		t.Fatalf("%d %s", s, b)
	}
	served, queued, bal := 0, 1, ch.balance(inference.Account(user.Public()))
	for _, p := range ps {
		served += p.ml.count()
	}
	cases := []struct {
		name   string
		send   func() (int, []byte)
		status int
		code   string
	}{
		{"unsigned", func() (int, []byte) {
			s, _, b := post(t, ta.url, PathChat, chatBody("m-small", 9), nil, now)
			return s, b
		}, 401, string(signed.CodeMissing)},
		{"replayed", func() (int, []byte) {
			req, _ := http.NewRequest(http.MethodPost, ta.url+PathChat, strings.NewReader(string(replayed)))
			first.Headers(req.Header)
			s, _, b := do(t, req)
			return s, b
		}, 401, string(signed.CodeReplayed)},
		{"stale", func() (int, []byte) {
			s, _, b := post(t, ta.url, PathChat, chatBody("m-small", 9), user, now.Add(-2*time.Minute))
			return s, b
		}, 401, string(signed.CodeStale)},
		{"future", func() (int, []byte) {
			s, _, b := post(t, ta.url, PathChat, chatBody("m-small", 9), user, now.Add(time.Minute))
			return s, b
		}, 401, string(signed.CodeFuture)},
		{"tampered body", func() (int, []byte) {
			req, _ := http.NewRequest(http.MethodPost, ta.url+PathChat, strings.NewReader(string(chatBody("m-small", 10))))
			signed.Sign(user, http.MethodPost, PathChat, chatBody("m-small", 11), now).Headers(req.Header)
			s, _, b := do(t, req)
			return s, b
		}, 401, string(signed.CodeBadSignature)},
		{"unknown model", func() (int, []byte) {
			s, _, b := post(t, ta.url, PathChat, chatBody("gpt-9", 9), user, now)
			return s, b
		}, 404, "model_not_found"},
		{"no messages", func() (int, []byte) {
			s, _, b := post(t, ta.url, PathChat, []byte(`{"model":"m-small"}`), user, now)
			return s, b
		}, 400, "missing_required_parameter"},
		{"cannot pay", func() (int, []byte) {
			s, _, b := post(t, ta.url, PathChat, chatBody("m-small", 100), poor, now)
			return s, b
		}, 402, "insufficient_quota"},
		{"executor route, user's own signature", func() (int, []byte) {
			s, _, b := post(t, ps[1].url, PathExecChat, chatBody("m-small", 9), user, now)
			return s, b
		}, 403, string(signed.CodeForbidden)},
		{"payload, not a validator", func() (int, []byte) {
			req, _ := http.NewRequest(http.MethodGet, ps[1].url+PathInferences+strings.Repeat("00", 32)+"/payload", nil)
			signed.SignRequest(req, nil, user, now)
			s, _, b := do(t, req)
			return s, b
		}, 403, string(signed.CodeForbidden)},
		{"proofs, not a participant", func() (int, []byte) {
			s, _, b := post(t, ps[1].url, PathProofs, []byte(`{"epoch":3,"refs":[]}`), user, now)
			return s, b
		}, 403, string(signed.CodeForbidden)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			status, body := c.send()
			if status != c.status || errorCode(t, body) != c.code {
				t.Fatalf("%d %s; want %d %s", status, body, c.status, c.code)
			}
		})
	}
	if ta.node.starts.Len() != queued || ch.balance(inference.Account(user.Public())) != bal {
		t.Fatalf("%d starts queued, balance %d → %d", ta.node.starts.Len(), bal, ch.balance(inference.Account(user.Public())))
	}
	now2 := 0
	for _, p := range ps {
		now2 += p.ml.count()
	}
	if now2 != served {
		t.Fatalf("%d completions served by refused requests", now2-served)
	}
	// The poor account's message names the amounts.
	_, _, b := post(t, ta.url, PathChat, chatBody("m-small", 100), poor, time.Now())
	if !strings.Contains(string(b), poor.Public().String()) || !strings.Contains(string(b), "may cost up to") || !strings.Contains(string(b), "100 completion tokens") {
		t.Fatalf("402 message: %s", b)
	}
}

// The chain routes answer JSON from the chain, and the unknown ones OpenAI-style errors.
func TestReadRoutes(t *testing.T) {
	_, ps, _ := testNetwork(t)
	u := ps[0].url
	get := func(path string) (int, []byte) {
		req, _ := http.NewRequest(http.MethodGet, u+path, nil)
		s, _, b := do(t, req)
		return s, b
	}
	var ml ModelList
	if s, b := get(PathModels); s != 200 || json.Unmarshal(b, &ml) != nil || len(ml.Data) != 1 || ml.Data[0].ID != "m-small" || ml.Data[0].PricePerToken != 1000 || ml.Data[0].Executors != 3 {
		t.Fatalf("models: %d %s", s, b)
	}
	var ep EpochInfo
	if s, b := get(PathEpochs + "current"); s != 200 || json.Unmarshal(b, &ep) != nil || ep.Group == nil || ep.Group.Epoch != 3 {
		t.Fatalf("epochs/current: %d %s", s, b)
	}
	if s, b := get(PathEpochs + "3"); s != 200 || json.Unmarshal(b, &ep) != nil || ep.Group.Epoch != 3 {
		t.Fatalf("epochs/3: %d %s", s, b)
	}
	var parts []ParticipantInfo
	if s, b := get(PathParticipants); s != 200 || json.Unmarshal(b, &parts) != nil || len(parts) != 3 || parts[1].APIURL != ps[1].url {
		t.Fatalf("participants: %d %s", s, b)
	}
	errs := []struct {
		path   string
		status int
		code   string
	}{
		{PathEpochs + "9", 404, "not_found"},
		{PathEpochs + "soon", 400, "invalid_value"},
		{"/v1/nothing", 404, "unknown_url"},
		{PathChat, 405, "method_not_allowed"},
	}
	for _, c := range errs {
		if s, b := get(c.path); s != c.status || errorCode(t, b) != c.code {
			t.Errorf("%s: %d %s; want %d %s", c.path, s, b, c.status, c.code)
		}
	}
}

// An executor that is not eligible for the model now refuses a forward before
// accepting it (the chain would refuse its start: it would serve unpaid).
func TestExecutorNotEligibleRefuses(t *testing.T) {
	ctx := context.Background()
	ch, ps, user := testNetwork(t)
	ch.mu.Lock()
	ch.group.Members[1].Nodes[0].Weight = 0
	ch.mu.Unlock()
	ps[1].node.refresh(ctx)
	body := chatBody("m-small", 8)
	sr := signed.Sign(user, http.MethodPost, PathChat, body, time.Now())
	fw := forward{id: sr.ID(), seed: 1, path: PathChat, body: body, user: sr}
	accepted := false
	res, err := ps[0].node.forwardTo(ctx, ps[0].node.current(), inference.Account(ps[1].key.Public()), fw, func(inference.Account) { accepted = true })
	if err != nil || accepted || res.status != http.StatusServiceUnavailable || errorCode(t, res.body) != "not_eligible" || ps[1].ml.count() != 0 {
		t.Fatalf("%v, accepted %v: %+v", err, accepted, res)
	}
}

// TestNoGroupYet: before the first epoch group is in force nobody serves, and a request
// is a 503 that says from when the network will, without spending its signature.
func TestNoGroupYet(t *testing.T) {
	ch := newFakeChain(7)
	p := startNode(t, ch, "//Inference1")
	ch.order = append(ch.order, inference.Account(p.key.Public()))
	if err := p.node.Step(context.Background()); err != nil {
		t.Fatal(err)
	}
	user, _ := keys.FromURI("//User")
	ch.balances[inference.Account(user.Public())] = 10_000_000
	body := chatBody("m-small", 9)
	s := signed.Sign(user, http.MethodPost, PathChat, body, time.Now())
	for range 2 { // refused twice the same way: the signature was not remembered
		req, _ := http.NewRequest(http.MethodPost, p.url+PathChat, strings.NewReader(string(body)))
		s.Headers(req.Header)
		st, _, b := do(t, req)
		if st != http.StatusServiceUnavailable || errorCode(t, b) != "no_group_in_force" || !strings.Contains(string(b), "no epoch group in force") {
			t.Fatalf("%d %s", st, b)
		}
	}
	if p.ml.count() != 0 || ch.balance(inference.Account(user.Public())) != 10_000_000 {
		t.Fatalf("served %d, balance %d", p.ml.count(), ch.balance(inference.Account(user.Public())))
	}
}

// A submission that fails on its way (the node unreachable, the transaction dropped from
// the mempool) is sent again at the next flush, the user's hold kept meanwhile; one the
// chain refused is not.
func TestFailedSubmissionsSentAgain(t *testing.T) {
	ctx := context.Background()
	ch, ps, user := testNetwork(t)
	ta := ps[0]
	ua := inference.Account(user.Public())
	// Only ps[1] has weight: the TA's flush sends the starts, the executor's the finishes.
	ch.onlyExecutor(1)
	ta.node.refresh(ctx)
	serve := func() (inference.Hash, *participantNode) {
		t.Helper()
		status, h, resp := post(t, ta.url, PathChat, chatBody("m-small", 16), user, time.Now())
		if status != http.StatusOK {
			t.Fatalf("%d %s", status, resp)
		}
		raw, _ := hex.DecodeString(h.Get(HeaderInferenceID))
		_, ep := byKey(ps, h.Get(HeaderExecutor))
		return inference.Hash(raw), ep
	}
	dropped := fmt.Errorf("transaction AB: %w in blocks 5 to 26", client.ErrNotCommitted)
	id, ep := serve()
	ch.mu.Lock()
	ch.fail = []error{dropped}
	ch.mu.Unlock()
	ta.node.Flush(ctx)
	if ch.record(id) != nil || ta.node.starts.Len() != 1 || heldFor(ta.node, ua) == 0 {
		t.Fatalf("after a dropped start: record %+v, %d queued, %d held", ch.record(id), ta.node.starts.Len(), heldFor(ta.node, ua))
	}
	ta.node.Flush(ctx)
	if rec := ch.record(id); rec == nil || rec.Status != inference.StatusStarted || heldFor(ta.node, ua) != 0 {
		t.Fatalf("the start sent again: %+v, %d held", rec, heldFor(ta.node, ua))
	}
	// The executor's finish, dropped once, is sent again too.
	ch.advance()
	ep.node.refresh(ctx)
	ch.mu.Lock()
	ch.fail = []error{dropped}
	ch.mu.Unlock()
	ep.node.Flush(ctx)
	if ep.node.exec.pendingFinishes() != 1 {
		t.Fatalf("a failed finish was not kept: %d pending", ep.node.exec.pendingFinishes())
	}
	ep.node.Flush(ctx)
	if rec := ch.record(id); rec.Status != inference.StatusFinished || ep.node.exec.pendingFinishes() != 0 {
		t.Fatalf("the finish sent again: %+v, %d pending", rec, ep.node.exec.pendingFinishes())
	}

	// Refused by the chain: let go, the hold released.
	id, _ = serve()
	ch.mu.Lock()
	ch.fail = []error{&client.TxError{Hash: "CD", Code: tx.CodeInsufficientFunds, Log: "insufficient_funds: the fee"}}
	ch.mu.Unlock()
	ta.node.Flush(ctx)
	ta.node.Flush(ctx)
	if ch.record(id) != nil || ta.node.starts.Len() != 0 || heldFor(ta.node, ua) != 0 {
		t.Fatalf("after a refused start: record %+v, %d queued, %d held", ch.record(id), ta.node.starts.Len(), heldFor(ta.node, ua))
	}
}

func heldFor(n *Node, user inference.Account) uint64 {
	n.holds.mu.Lock()
	defer n.holds.mu.Unlock()
	return n.holds.m[user]
}

// A request in the blocks before a PoC start waits for the round: its start lands after
// the PoC start, where only the POC_SLOT MLNodes serve, so it is routed by the round's
// slots (here ps[2]'s alone) rather than by the group alone.
func TestRequestBeforePoCStartWaitsForTheRound(t *testing.T) {
	ctx := context.Background()
	ch, ps, user := testNetwork(t)
	ta := ps[0]
	ch.mu.Lock()
	ch.nextPoC = ch.height + 1
	ch.mu.Unlock()
	ta.node.refresh(ctx)
	go func() {
		time.Sleep(300 * time.Millisecond)
		ch.mu.Lock()
		ch.height++
		rd := &inference.Round{Netuid: 7, Epoch: 4, PoCStart: ch.height}
		for i, m := range ch.group.Members {
			slot := poc.PrePoCSlot
			if i == 2 {
				slot = poc.PoCSlot
			}
			rd.Roster = append(rd.Roster, inference.RosterMember{Hotkey: m.Hotkey, Nodes: []inference.RosterNode{{MLNode: m.Nodes[0].MLNode, Slot: slot}}})
		}
		ch.round = rd
		ch.mu.Unlock()
		ta.node.refresh(ctx)
	}()
	began := time.Now()
	status, h, resp := post(t, ta.url, PathChat, chatBody("m-small", 8), user, time.Now())
	if status != http.StatusOK {
		t.Fatalf("%d %s", status, resp)
	}
	if waited := time.Since(began); waited < 250*time.Millisecond {
		t.Fatalf("answered after %v, before the round was read", waited)
	}
	if got, want := h.Get(HeaderExecutor), ps[2].key.Public().String(); got != want {
		t.Fatalf("served by %s, not by the only POC_SLOT holder %s", got, want)
	}
}
