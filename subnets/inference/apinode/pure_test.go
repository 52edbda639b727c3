package apinode

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tessera-net/tessera/modules/inference"
	"github.com/tessera-net/tessera/modules/models"
	"github.com/tessera-net/tessera/poc"
)

func TestParseRequestWorstCase(t *testing.T) {
	ctx := func(model string) (uint32, bool) { return 512, model == "m" }
	cases := []struct {
		name, path, body string
		prompt, max      uint32
		code             string
	}{
		{"chat", PathChat, `{"model":"m","max_tokens":10,"messages":[{"role":"user","content":"hello"}]}`, 8 + 5 + 4 + 8, 10, ""},
		{"two messages", PathChat, `{"model":"m","max_completion_tokens":3,"messages":[{"role":"system","content":"ab"},{"role":"user","content":"c"}]}`, 8 + (2 + 6 + 8) + (1 + 4 + 8), 3, ""},
		{"context by default", PathChat, `{"model":"m","messages":[{"role":"user","content":""}]}`, 8 + 4 + 8, 512, ""},
		{"n times", PathChat, `{"model":"m","n":3,"max_tokens":5,"messages":[{"role":"user","content":""}]}`, 20, 15, ""},
		{"completion string", PathCompletions, `{"model":"m","prompt":"abcd","max_tokens":2}`, 8 + 4, 2, ""},
		{"completion batch", PathCompletions, `{"model":"m","prompt":["ab","cde"],"max_tokens":2}`, 8 + 5, 4, ""},
		{"completion token ids", PathCompletions, `{"model":"m","prompt":[1,2,3],"max_tokens":2}`, 8 + 3, 2, ""},
		{"unknown model", PathChat, `{"model":"x","messages":[{"role":"user","content":"a"}]}`, 0, 0, "model_not_found"},
		{"no model", PathChat, `{"messages":[{"role":"user","content":"a"}]}`, 0, 0, "missing_required_parameter"},
		{"no messages", PathChat, `{"model":"m","messages":[]}`, 0, 0, "missing_required_parameter"},
		{"no prompt", PathCompletions, `{"model":"m"}`, 0, 0, "missing_required_parameter"},
		{"bad prompt", PathCompletions, `{"model":"m","prompt":{"a":1}}`, 0, 0, "invalid_value"},
		{"zero max", PathChat, `{"model":"m","max_tokens":0,"messages":[{"role":"user","content":"a"}]}`, 0, 0, "invalid_value"},
		{"huge max", PathChat, `{"model":"m","max_tokens":4000000000,"n":2,"messages":[{"role":"user","content":"a"}]}`, 0, 0, "invalid_value"},
		{"bad n", PathChat, `{"model":"m","n":0,"messages":[{"role":"user","content":"a"}]}`, 0, 0, "invalid_value"},
		{"top_logprobs", PathChat, `{"model":"m","top_logprobs":21,"messages":[{"role":"user","content":"a"}]}`, 0, 0, "invalid_value"},
		{"not json", PathChat, `{`, 0, 0, "invalid_json"},
		{"stream_options without stream", PathChat, `{"model":"m","stream_options":{"include_usage":true},"messages":[{"role":"user","content":"a"}]}`, 0, 0, "invalid_value"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r, e := ParseRequest(c.path, []byte(c.body), ctx)
			if c.code != "" {
				if e == nil || e.Code == nil || *e.Code != c.code {
					t.Fatalf("got %+v, %v; want code %s", r, e, c.code)
				}
				return
			}
			if e != nil || r.PromptTokens != c.prompt || r.MaxTokens != c.max || r.Model != "m" {
				t.Fatalf("got %+v, %v; want prompt %d, max %d", r, e, c.prompt, c.max)
			}
		})
	}
}

// Draw re-draws past failed executors, each draw by weight, and runs out when every
// candidate failed.
func TestDrawRetry(t *testing.T) {
	a, b, c := inference.Account{1}, inference.Account{2}, inference.Account{3}
	cands := []inference.Candidate{{Hotkey: a, Weight: 1}, {Hotkey: b, Weight: 1000}, {Hotkey: c, Weight: 0}}
	id := inference.Hash{7}
	cases := []struct {
		failed []inference.Account
		want   []inference.Account // acceptable picks
		ok     bool
	}{
		{nil, []inference.Account{a, b}, true},
		{[]inference.Account{b}, []inference.Account{a}, true},
		{[]inference.Account{a}, []inference.Account{b}, true},
		{[]inference.Account{a, b}, nil, false},
	}
	for i, tc := range cases {
		failed := map[inference.Account]bool{}
		for _, f := range tc.failed {
			failed[f] = true
		}
		for attempt := uint32(0); attempt < 4; attempt++ {
			got, ok := Draw(cands, id, attempt, failed)
			if ok != tc.ok || (ok && !slices.Contains(tc.want, got)) {
				t.Fatalf("case %d attempt %d: %s, %v", i, attempt, got, ok)
			}
		}
	}
	// Weighted: over many ids the heavy candidate wins almost always.
	wins := 0
	for i := range 1000 {
		got, _ := Draw(cands, inference.Hash{byte(i), byte(i >> 8)}, 0, nil)
		if got == b {
			wins++
		}
	}
	if wins < 980 {
		t.Fatalf("the candidate of weight 1000 of 1001 won %d of 1000", wins)
	}
	if DrawSeed(id, 0) == DrawSeed(id, 1) {
		t.Fatal("two attempts share a seed")
	}
}

func TestChunksAndBatcher(t *testing.T) {
	cases := []struct {
		n, size int
		want    []int
	}{{0, 3, nil}, {1, 3, []int{1}}, {3, 3, []int{3}}, {7, 3, []int{3, 3, 1}}, {2, 0, []int{1, 1}}}
	for _, c := range cases {
		es := make([]int, c.n)
		var got []int
		for _, ch := range Chunks(es, c.size) {
			got = append(got, len(ch))
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("Chunks(%d, %d) = %v, want %v", c.n, c.size, got, c.want)
		}
	}
	var sent [][]int
	b := NewBatcher(2, func(_ context.Context, chunks [][]int) error {
		sent = append(sent, chunks...)
		return errors.New("refused")
	})
	b.Add(1, 2, 3)
	if err := b.Flush(context.Background()); err == nil || b.Len() != 0 || len(sent) != 2 || !slices.Equal(sent[1], []int{3}) {
		t.Fatalf("flush: %v, %d left, sent %v", err, b.Len(), sent)
	}
	if err := b.Flush(context.Background()); err != nil || len(sent) != 2 {
		t.Fatal("an empty flush sent something")
	}
	// A start chunk fits a transaction.
	e := inference.StartEntry{Model: "a-model-id-of-some-length", Path: PathCompletions, Signature: make([]byte, 64), PromptTokens: 1 << 30, MaxTokens: 1 << 30, Timestamp: 1 << 62}
	entries := make([]inference.StartEntry, StartBatch)
	for i := range entries {
		entries[i] = e
		entries[i].User[0], entries[i].Executor[0], entries[i].BodyHash[0] = 0xff, 0xff, 0xff
	}
	m, err := inference.NewStart(inference.Start{Netuid: 65535, Entries: entries})
	if err != nil || len(m.Body) > 120*1024 {
		t.Fatalf("a full start chunk is %d bytes (%v)", len(m.Body), err)
	}
}

func TestRunBody(t *testing.T) {
	cases := []struct {
		name, path, body string
		want             map[string]string
	}{
		{"chat", PathChat, `{"model":"m","stream":false,"messages":[]}`, map[string]string{"logprobs": "true", "top_logprobs": "5", "seed": "42", "return_token_ids": "true", "model": `"m"`}},
		{"chat keeps more alternatives", PathChat, `{"model":"m","top_logprobs":9,"logprobs":false}`, map[string]string{"logprobs": "true", "top_logprobs": "9"}},
		{"completion", PathCompletions, `{"model":"m","logprobs":2,"stream":true,"stream_options":{}}`, map[string]string{"logprobs": "5", "seed": "42"}},
		{"user seed replaced by the run's", PathChat, `{"seed":1}`, map[string]string{"seed": "42"}},
	}
	for _, c := range cases {
		out, err := RunBody(c.path, []byte(c.body), 42)
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]json.RawMessage
		json.Unmarshal(out, &m)
		for k, v := range c.want {
			if string(m[k]) != v {
				t.Errorf("%s: %s = %s, want %s", c.name, k, m[k], v)
			}
		}
		if _, ok := m["stream"]; ok {
			t.Errorf("%s: stream kept", c.name)
		}
		again, _ := RunBody(c.path, []byte(c.body), 42)
		if string(again) != string(out) {
			t.Errorf("%s: not deterministic", c.name)
		}
	}
	if _, err := RunBody(PathChat, []byte(`[1]`), 1); err == nil {
		t.Fatal("an array body was run")
	}
}

func TestDiffAndAxon(t *testing.T) {
	n := func(id string, port uint16, ms ...string) inference.MLNode {
		return inference.MLNode{ID: id, Host: "10.0.0.1", InferencePort: port, PoCPort: port + 1, Models: ms}
	}
	cases := []struct {
		name        string
		chain, want []inference.MLNode
		add, remove []string
	}{
		{"same", []inference.MLNode{n("a", 1, "m")}, []inference.MLNode{n("a", 1, "m")}, nil, nil},
		{"new", nil, []inference.MLNode{n("a", 1, "m")}, []string{"a"}, nil},
		{"moved", []inference.MLNode{n("a", 1, "m")}, []inference.MLNode{n("a", 2, "m")}, []string{"a"}, nil},
		{"models changed", []inference.MLNode{n("a", 1, "m")}, []inference.MLNode{n("a", 1, "m", "k")}, []string{"a"}, nil},
		{"gone", []inference.MLNode{n("a", 1, "m"), n("b", 3, "m")}, []inference.MLNode{n("a", 1, "m")}, nil, []string{"b"}},
	}
	for _, c := range cases {
		d, ok := Diff(5, c.chain, c.want)
		var add []string
		for _, a := range d.Add {
			add = append(add, a.ID)
		}
		if ok != (len(c.add)+len(c.remove) > 0) || !slices.Equal(add, c.add) || !slices.Equal(d.Remove, c.remove) || d.Netuid != 5 {
			t.Errorf("%s: %+v %v", c.name, d, ok)
		}
	}
	axons := []struct {
		url  string
		ip   string
		port uint16
		ok   bool
	}{
		{"http://127.0.0.1:8080", "127.0.0.1", 8080, true},
		{"http://[::1]:9", "::1", 9, true},
		{"http://example.com:80", "", 0, false},
		{"https://1.2.3.4:443", "", 0, false},
		{"http://1.2.3.4", "", 0, false},
	}
	for _, a := range axons {
		ip, port, err := AxonOf(a.url)
		if (err == nil) != a.ok || ip != a.ip || port != a.port {
			t.Errorf("AxonOf(%s) = %s, %d, %v", a.url, ip, port, err)
		}
	}
}

func TestHolds(t *testing.T) {
	var h holds
	u := inference.Account{1}
	steps := []struct {
		reserve, balance uint64
		release          uint64
		ok               bool
		held             uint64
	}{
		{reserve: 60, balance: 100, ok: true, held: 60},
		{reserve: 50, balance: 100, ok: false, held: 60},
		{reserve: 40, balance: 100, ok: true, held: 100},
		{release: 60, held: 40},
		{reserve: 10, balance: 30, ok: false, held: 40}, // the balance fell below the holds
		{release: 100, held: 0},
	}
	for i, s := range steps {
		if s.release > 0 {
			h.release(u, s.release)
		} else if _, ok := h.reserve(u, s.balance, s.reserve); ok != s.ok {
			t.Fatalf("step %d: reserve %v", i, ok)
		}
		if h.m[u] != s.held {
			t.Fatalf("step %d: held %d, want %d", i, h.m[u], s.held)
		}
	}
}

func TestParseMLNode(t *testing.T) {
	cases := []struct {
		spec   string
		ok     bool
		models []string
		hw     int
		decl   inference.MLNode
	}{
		{"gpu-0=http://10.0.0.5:8080,http://10.0.0.5:8000,llama+qwen,hardware=H100:8", true, []string{"llama", "qwen"}, 1,
			inference.MLNode{ID: "gpu-0", Host: "10.0.0.5", InferencePort: 8000, PoCPort: 8080}},
		{"a=http://h:1,http://h:2,m", true, []string{"m"}, 0, inference.MLNode{ID: "a", Host: "h", InferencePort: 2, PoCPort: 1}},
		{"a=http://h:1,http://h:2,m,hardware=H100:8,hardware=cpu:1", true, []string{"m"}, 2, inference.MLNode{ID: "a", Host: "h", InferencePort: 2, PoCPort: 1}},
		{"a=http://h:1,http://h:2", false, nil, 0, inference.MLNode{}},
		{"=http://h:1,http://h:2,m", false, nil, 0, inference.MLNode{}},
		{"a=h:1,http://h:2,m", false, nil, 0, inference.MLNode{}},
		{"a=http://h:1,http://h:2,m,hardware=H100", false, nil, 0, inference.MLNode{}},
		{"a=http://h:1,http://h:2,m,gpus=8", false, nil, 0, inference.MLNode{}},
		{"a b=http://h:1,http://h:2,m", false, nil, 0, inference.MLNode{}},
	}
	for _, c := range cases {
		m, err := ParseMLNode(c.spec)
		if (err == nil) != c.ok {
			t.Fatalf("%s: %v", c.spec, err)
		}
		if !c.ok {
			continue
		}
		d, _ := m.Declaration()
		if !slices.Equal(m.Models, c.models) || len(m.Hardware) != c.hw || d.Host != c.decl.Host || d.InferencePort != c.decl.InferencePort || d.PoCPort != c.decl.PoCPort {
			t.Fatalf("%s: %+v → %+v", c.spec, m, d)
		}
	}
}

func TestStreamEvents(t *testing.T) {
	chat := `{"id":"c1","object":"chat.completion","model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"Hi!"},"finish_reason":"stop",
		"logprobs":{"content":[{"token":"Hi","logprob":-0.1,"top_logprobs":[]},{"token":"!","logprob":-0.2,"top_logprobs":[]}]},"token_ids":[5,6]}],
		"usage":{"prompt_tokens":3,"completion_tokens":2,"total_tokens":5}}`
	unspelled := strings.Replace(chat, `"content":"Hi!"`, `"content":"Hé"`, 1)
	text := `{"id":"t1","object":"text_completion","model":"m","choices":[{"index":0,"text":"ab","finish_reason":"length",
		"logprobs":{"tokens":["a","b"],"token_logprobs":[-1,-2],"top_logprobs":[{"a":-1},{"b":-2}],"text_offset":[0,1]}}],
		"usage":{"prompt_tokens":1,"completion_tokens":2,"total_tokens":3}}`
	cases := []struct {
		name, path, answer string
		usage              bool
		events             int
		texts              []string
	}{
		{"chat per token", PathChat, chat, true, 1 + 2 + 1 + 1, []string{"", "Hi", "!"}},
		{"chat without usage", PathChat, chat, false, 4, []string{"", "Hi", "!"}},
		{"chat tokens not spelling the text", PathChat, unspelled, false, 3, []string{"", "Hé"}},
		{"completion per token", PathCompletions, text, true, 2 + 1 + 1, []string{"a", "b", ""}},
	}
	for _, c := range cases {
		evs, err := StreamEvents(c.path, []byte(c.answer), c.usage)
		if err != nil || len(evs) != c.events {
			t.Fatalf("%s: %d events, %v", c.name, len(evs), err)
		}
		var got []string
		for _, ev := range evs {
			b, _ := json.Marshal(ev)
			var m struct {
				Choices []struct {
					Text  *string `json:"text"`
					Delta struct {
						Content *string `json:"content"`
					} `json:"delta"`
				} `json:"choices"`
			}
			json.Unmarshal(b, &m)
			for _, ch := range m.Choices {
				switch {
				case ch.Delta.Content != nil:
					got = append(got, *ch.Delta.Content)
				case ch.Text != nil && c.path == PathCompletions:
					got = append(got, *ch.Text)
				}
			}
		}
		if !slices.Equal(got, c.texts) {
			t.Fatalf("%s: texts %q, want %q", c.name, got, c.texts)
		}
	}
	if _, err := StreamEvents(PathChat, []byte(`[`), false); err == nil {
		t.Fatal("a broken answer streamed")
	}
}

// A loop's failure that repeats each poll is logged once a minute with its count; a new
// failure at once; a success after failures once.
func TestRepeatsQuietsARepeatedFailure(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
		if a.Key == slog.TimeKey {
			return slog.Attr{}
		}
		return a
	}}))
	var r repeats
	t0 := time.Unix(1_800_000_000, 0)
	down := errors.New("mlnode node-a: connection refused")
	for i := 0; i < 300; i++ { // 75 s of 250 ms polls
		r.warn(log, t0.Add(time.Duration(i)*250*time.Millisecond), "api node step", down)
	}
	r.warn(log, t0.Add(76*time.Second), "api node step", errors.New("declare: refused"))
	r.warn(log, t0.Add(77*time.Second), "api node step", nil)
	r.warn(log, t0.Add(78*time.Second), "api node step", nil)
	want := `level=WARN msg="api node step" err="mlnode node-a: connection refused"
level=WARN msg="api node step" err="mlnode node-a: connection refused" repeated=239
level=WARN msg="api node step" err="declare: refused"
level=INFO msg="api node step succeeds again"
`
	if buf.String() != want {
		t.Fatalf("logged:\n%s\nwant:\n%s", buf.String(), want)
	}
}

// The block interval is estimated from the heights polls read; the PoC lead is two polls
// and a batch interval in blocks, and the block a start lands in.
func TestPoCLeadFromTheBlockClock(t *testing.T) {
	var c blockClock
	t0 := time.Unix(1_800_000_000, 0)
	c.observe(10, t0)
	c.observe(10, t0.Add(150*time.Millisecond)) // a poll within the block
	if c.blockInterval() != 0 {
		t.Fatalf("an interval %v from one height", c.blockInterval())
	}
	c.observe(12, t0.Add(400*time.Millisecond))
	if c.blockInterval() != 200*time.Millisecond {
		t.Fatalf("interval %v, want 200ms", c.blockInterval())
	}
	c.observe(13, t0.Add(1400*time.Millisecond)) // one slow block moves it an eighth
	if c.blockInterval() != 300*time.Millisecond {
		t.Fatalf("interval %v, want 300ms", c.blockInterval())
	}
	poll := 250 * time.Millisecond
	for _, tc := range []struct {
		interval time.Duration
		want     uint64
	}{{0, 2}, {200 * time.Millisecond, 5}, {time.Second, 2}, {6 * time.Second, 2}, {50 * time.Millisecond, 16}} {
		if got := pocLead(tc.interval, poll, poll); got != tc.want {
			t.Errorf("pocLead(%v) = %d, want %d", tc.interval, got, tc.want)
		}
	}
	g := &inference.Group{Epoch: 3}
	at := func(h, next uint64, rd *inference.Round) *view {
		return &view{epoch: inference.EpochView{Phase: inference.Phase{Height: h, NextPoC: next}, Current: g, Round: rd}}
	}
	for _, tc := range []struct {
		v    *view
		want bool
	}{
		{at(100, 103, nil), true},
		{at(100, 102, nil), true},
		{at(100, 104, nil), false},
		{at(100, 100, nil), false}, // at the PoC start: its round is read
		{at(100, 0, nil), false},
		{at(100, 102, &inference.Round{}), false},              // a round under way
		{at(100, 102, &inference.Round{Switched: true}), true}, // the last one's, over
		{&view{epoch: inference.EpochView{Phase: inference.Phase{Height: 100, NextPoC: 102}}}, false},
	} {
		if got := nearPoCStart(tc.v, 3); got != tc.want {
			t.Errorf("nearPoCStart(height %d, next PoC %d, round %+v) = %v", tc.v.height(), tc.v.epoch.Phase.NextPoC, tc.v.epoch.Round, got)
		}
	}
}

// Within the lead of a switch, the executors drawn are those the next group takes too,
// unless none is.
func TestRoutableNearTheSwitch(t *testing.T) {
	a, b, c := inference.Account{1}, inference.Account{2}, inference.Account{3}
	group := func(epoch uint64, members ...inference.Account) *inference.Group {
		g := &inference.Group{Epoch: epoch, Models: []inference.Subgroup{{Model: models.Spec{ID: "m"}, Members: members}}}
		for _, m := range members {
			g.Members = append(g.Members, inference.Member{Hotkey: m, Accepted: true,
				Nodes: []inference.GroupNode{{RosterNode: inference.RosterNode{MLNode: inference.MLNode{ID: "n"}, Slot: poc.PoCSlot}, PoCModel: "m", Weight: 10}}})
		}
		return g
	}
	roster := &inference.Round{Formed: true, Switch: 110}
	for _, m := range []inference.Account{a, b, c} {
		roster.Roster = append(roster.Roster, inference.RosterMember{Hotkey: m, Nodes: []inference.RosterNode{{MLNode: inference.MLNode{ID: "n"}, Slot: poc.PoCSlot}}})
	}
	at := func(h uint64, upcoming *inference.Group) *view {
		return &view{epoch: inference.EpochView{Phase: inference.Phase{Height: h}, Current: group(3, a, b, c), Upcoming: upcoming, Round: roster}}
	}
	hotkeys := func(cs []inference.Candidate) []inference.Account {
		var out []inference.Account
		for _, c := range cs {
			out = append(out, c.Hotkey)
		}
		return out
	}
	for _, tc := range []struct {
		v    *view
		want []inference.Account
	}{
		{at(100, group(4, a, c)), []inference.Account{a, b, c}}, // the switch is 10 blocks on
		{at(108, group(4, a, c)), []inference.Account{a, c}},    // within 3
		{at(108, group(4)), []inference.Account{a, b, c}},       // none would be left
		{at(108, nil), []inference.Account{a, b, c}},            // no group formed yet
	} {
		if got := hotkeys(routable(tc.v, "m", 3)); !slices.Equal(got, tc.want) {
			t.Errorf("at %d: %v, want %v", tc.v.height(), got, tc.want)
		}
	}
}
