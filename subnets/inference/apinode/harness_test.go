package apinode

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tessera-net/tessera/client"
	"github.com/tessera-net/tessera/keys"
	"github.com/tessera-net/tessera/modules/accounts"
	"github.com/tessera-net/tessera/modules/inference"
	"github.com/tessera-net/tessera/modules/models"
	"github.com/tessera-net/tessera/modules/subnets"
	"github.com/tessera-net/tessera/poc"
	"github.com/tessera-net/tessera/subnets/inference/mlnode"
	"github.com/tessera-net/tessera/subnets/inference/signed"
	"github.com/tessera-net/tessera/tx"
)

// fakeChain answers the queries an API node makes from a state the test sets, and
// applies the records' messages the way the chain's rules do for the cases the tests
// cover (escrow of the worst case, finish, checks).
type fakeChain struct {
	mu       sync.Mutex
	netuid   uint16
	height   uint64
	group    *inference.Group
	round    *inference.Round
	axons    map[inference.Account]string // hotkey → http://ip:port
	order    []inference.Account
	balances map[inference.Account]uint64
	records  map[inference.Hash]*inference.RecordView
	finished map[uint64][]inference.Hash
	checks   []inference.Check
	votes    []inference.Check
	msgs     []string
	decls    map[inference.Account][]inference.MLNode
	fail     []error // the next Sends' errors, each failing one Send whole
	nextPoC  uint64  // the phase's next PoC start (0: none scheduled)
}

func newFakeChain(netuid uint16) *fakeChain {
	return &fakeChain{netuid: netuid, height: 100, axons: map[inference.Account]string{}, balances: map[inference.Account]uint64{},
		records: map[inference.Hash]*inference.RecordView{}, finished: map[uint64][]inference.Hash{}, decls: map[inference.Account][]inference.MLNode{}}
}

func notFoundErr(format string, args ...any) error {
	return &client.QueryError{Code: tx.CodeNotFound, Log: fmt.Sprintf(format, args...)}
}

func (c *fakeChain) Query(_ context.Context, path string, out any) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	parts := strings.Split(strings.TrimPrefix(path, "/"), "/")
	var v any
	switch {
	case path == fmt.Sprintf("/inference/epoch/%d", c.netuid):
		v = inference.EpochView{Phase: inference.Phase{Height: c.height, Epoch: 3, Stage: inference.StageInference, NextPoC: c.nextPoC}, Current: c.group, Round: c.round}
	case path == fmt.Sprintf("/subnets/metagraph_lite/%d", c.netuid):
		mg := subnets.Metagraph{Netuid: c.netuid}
		for _, a := range c.order {
			mg.Hotkeys = append(mg.Hotkeys, a.String())
			ax := subnets.AxonView{}
			if u := c.axons[a]; u != "" {
				host, port, _ := net.SplitHostPort(strings.TrimPrefix(u, "http://"))
				p, _ := strconv.Atoi(port)
				ax.IP, ax.Port = host, uint16(p)
			}
			mg.Axons = append(mg.Axons, ax)
		}
		v = mg
	case parts[0] == "accounts" && parts[1] == "account":
		pub, err := keys.ParsePublicKey(parts[2])
		if err != nil {
			return err
		}
		v = accounts.AccountView{Address: parts[2], Balance: c.balances[inference.Account(pub)]}
	case parts[0] == "inference" && parts[1] == "record":
		raw, _ := hex.DecodeString(parts[2])
		r := c.records[inference.Hash(raw)]
		if r == nil {
			return notFoundErr("no record %s", parts[2])
		}
		v = r
	case parts[0] == "inference" && parts[1] == "finished":
		h, _ := strconv.ParseUint(parts[3], 10, 64)
		out := []inference.RecordView{}
		for _, id := range c.finished[h] {
			out = append(out, *c.records[id])
		}
		v = out
	case parts[0] == "inference" && parts[1] == "voting":
		out := []inference.RecordView{}
		for _, r := range c.records {
			if r.Status == inference.StatusVoting {
				out = append(out, *r)
			}
		}
		v = out
	case parts[0] == "inference" && parts[1] == "participants":
		out := []inference.ParticipantView{}
		for i, a := range c.order {
			out = append(out, inference.ParticipantView{Hotkey: a, UID: uint16(i), Nodes: c.decls[a]})
		}
		v = out
	case parts[0] == "inference" && parts[1] == "models":
		out := []models.Spec{}
		for _, sg := range c.group.Models {
			out = append(out, sg.Model)
		}
		v = out
	case parts[0] == "inference" && parts[1] == "group":
		e, _ := strconv.ParseUint(parts[3], 10, 64)
		if c.group == nil || e != c.group.Epoch {
			return notFoundErr("subnet %d has no group for epoch %d", c.netuid, e)
		}
		v = c.group
	case path == "/models/params":
		v = models.DefaultParams()
	case parts[0] == "models" && parts[1] == "list":
		v = []models.Spec{}
	default:
		return notFoundErr("no route %s", path)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, out)
}

// Send applies the messages as signed by whoever; only the fields the tests look at.
func (c *fakeChain) Send(_ context.Context, msgs ...tx.Msg) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.fail) > 0 {
		err := c.fail[0]
		c.fail = c.fail[1:]
		return err
	}
	for _, m := range msgs {
		c.msgs = append(c.msgs, m.Type)
		switch m.Type {
		case inference.MsgStart:
			var s inference.Start
			if err := m.DecodeBody(&s); err != nil {
				return err
			}
			for _, e := range s.Entries {
				price := uint64(0)
				for _, sg := range c.group.Models {
					if sg.Model.ID == e.Model {
						price = sg.Model.PricePerToken
					}
				}
				cost, _ := inference.StartCost(e.PromptTokens, e.MaxTokens, price)
				if !verifyEntry(e) || c.balances[e.User] < cost || c.records[e.ID()] != nil {
					continue // refused
				}
				c.balances[e.User] -= cost
				c.records[e.ID()] = &inference.RecordView{ID: e.ID(), Netuid: c.netuid, User: e.User, Executor: e.Executor, Model: e.Model, Path: e.Path,
					Status: inference.StatusStarted, BodyHash: e.BodyHash, MaxPromptTokens: e.PromptTokens, MaxTokens: e.MaxTokens, MaxCost: cost, Price: price, StartHeight: c.height}
			}
		case inference.MsgFinish:
			var f inference.Finish
			if err := m.DecodeBody(&f); err != nil {
				return err
			}
			for _, e := range f.Entries {
				r := c.records[e.ID]
				if r == nil || r.Status != inference.StatusStarted || e.CompletionTokens > r.MaxTokens {
					continue
				}
				r.Status, r.PromptTokens, r.CompletionTokens, r.ResponseHash, r.FinishHeight = inference.StatusFinished, e.PromptTokens, e.CompletionTokens, e.ResponseHash, c.height
				r.Cost = inference.FinishCost(e.PromptTokens, e.CompletionTokens, r.Price, r.MaxCost)
				c.balances[r.User] += r.MaxCost - r.Cost
				c.finished[c.height] = append(c.finished[c.height], e.ID)
			}
		case inference.MsgValidate:
			var v inference.Validate
			if err := m.DecodeBody(&v); err != nil {
				return err
			}
			c.checks = append(c.checks, v.Entries...)
		case inference.MsgVote:
			var v inference.Vote
			if err := m.DecodeBody(&v); err != nil {
				return err
			}
			c.votes = append(c.votes, v.Entries...)
		}
	}
	return nil
}

// onlyExecutor leaves the group's weight with member i alone: every draw picks it.
func (c *fakeChain) onlyExecutor(i int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for j := range c.group.Members {
		if j != i {
			c.group.Members[j].Nodes[0].Weight = 0
		}
	}
}

func (c *fakeChain) advance() {
	c.mu.Lock()
	c.height++
	c.mu.Unlock()
}

func (c *fakeChain) balance(a inference.Account) uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.balances[a]
}

func (c *fakeChain) record(id inference.Hash) *inference.RecordView {
	c.mu.Lock()
	defer c.mu.Unlock()
	if r := c.records[id]; r != nil {
		cp := *r
		return &cp
	}
	return nil
}

// Verify checks an entry's user signature as the chain does.
func verifyEntry(e inference.StartEntry) bool {
	return keys.PublicKey(e.User).Verify(inference.RequestPayload(http.MethodPost, e.Path, e.Timestamp, e.BodyHash), e.Signature)
}

// fakeMLNode is an MLNode that answers completions deterministically from the request
// (the seed and the prompt), refuses what its API node did not sign, and validates an
// answer by recomputing it. alter makes it change the completion it serves.
type fakeMLNode struct {
	t      testing.TB
	api    keys.PublicKey
	srv    *httptest.Server
	mu     sync.Mutex
	served int
	model  string
	alter  bool
	down   bool
	broken bool // answers its state but fails every completion
}

func newFakeMLNode(t testing.TB, api keys.PublicKey) *fakeMLNode {
	f := &fakeMLNode{t: t, api: api}
	ver := signed.NewVerifier(nil)
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if _, e := ver.Verify(r.Method, r.URL.Path, r.Header, body, func(p keys.PublicKey) bool { return p == f.api }); e != nil {
			http.Error(w, `{"error":{"message":"`+e.Msg+`","code":"`+string(e.Code)+`"}}`, http.StatusUnauthorized)
			return
		}
		f.mu.Lock()
		down := f.down
		f.mu.Unlock()
		if down {
			http.Error(w, `{"error":{"message":"not serving","code":"not_serving"}}`, http.StatusServiceUnavailable)
			return
		}
		switch r.URL.Path {
		case mlnode.PathState:
			f.mu.Lock()
			st := mlnode.State{State: mlnode.StateInference, Model: f.model}
			f.mu.Unlock()
			json.NewEncoder(w).Encode(st)
		case mlnode.PathInferenceUp:
			var up mlnode.InferenceUp
			_ = json.Unmarshal(body, &up)
			f.mu.Lock()
			f.model = up.Model
			f.mu.Unlock()
			w.Write([]byte(`{}`))
		case PathChat, PathCompletions:
			f.mu.Lock()
			broken := f.broken
			f.mu.Unlock()
			if broken {
				http.Error(w, `{"error":{"message":"out of memory","code":"internal"}}`, http.StatusInternalServerError)
				return
			}
			f.mu.Lock()
			f.served++
			alter := f.alter
			f.mu.Unlock()
			w.Header().Set("Content-Type", "application/json")
			w.Write(fakeAnswer(body, alter))
		case mlnode.PathInferenceValidate:
			var ic mlnode.InferenceCheck
			_ = json.Unmarshal(body, &ic)
			ok := string(fakeAnswer(ic.Request, false)) == string(ic.Response)
			json.NewEncoder(w).Encode(mlnode.CheckResult{Valid: ok, Exact: true, Position: -1})
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(f.srv.Close)
	return f
}

// fakeAnswer is the deterministic completion of a run body: it must carry the seed and
// logprobs the executor set.
func fakeAnswer(run []byte, alter bool) []byte {
	var m map[string]json.RawMessage
	_ = json.Unmarshal(run, &m)
	sum := sha256.Sum256(run)
	text := hex.EncodeToString(sum[:4])
	if alter {
		text = "altered!"
	}
	out := map[string]any{"id": "cmpl-1", "object": "chat.completion", "model": strings.Trim(string(m["model"]), `"`),
		"seed": json.RawMessage(m["seed"]), "logprobs_on": json.RawMessage(m["logprobs"]),
		"choices": []any{map[string]any{"index": 0, "message": map[string]any{"role": "assistant", "content": text}, "token_ids": []int{1, 2, 3}}},
		"usage":   map[string]any{"prompt_tokens": 7, "completion_tokens": 3, "total_tokens": 10}}
	b, _ := json.Marshal(out)
	return b
}

func (f *fakeMLNode) client() *mlnode.Client {
	return &mlnode.Client{Management: f.srv.URL, Inference: f.srv.URL}
}

func (f *fakeMLNode) setDown(d bool) {
	f.mu.Lock()
	f.down = d
	f.mu.Unlock()
}

func (f *fakeMLNode) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.served
}

// participantNode is one API node of the test network on loopback.
type participantNode struct {
	key  *keys.Pair
	node *Node
	srv  *http.Server
	url  string
	ml   *fakeMLNode
}

func startNode(t testing.TB, ch *fakeChain, uri string) *participantNode {
	t.Helper()
	key, err := keys.FromURI(uri)
	if err != nil {
		t.Fatal(err)
	}
	ml := newFakeMLNode(t, key.Public())
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	u := "http://" + l.Addr().String()
	n, err := New(Config{Netuid: ch.netuid, Key: key, Chain: ch, PublicURL: u, NoValidate: true, PayloadDir: t.TempDir(),
		MLNodes: []MLNode{{ID: "gpu-0", Client: ml.client(), Models: []string{"m-small"}}}, Poll: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: n.Handler()}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return &participantNode{key: key, node: n, srv: srv, url: u, ml: ml}
}

// testNetwork is three participants serving m-small, with a group in force in which
// each has weight, and a funded user.
func testNetwork(t testing.TB) (*fakeChain, []*participantNode, *keys.Pair) {
	t.Helper()
	ch := newFakeChain(7)
	var ps []*participantNode
	for _, uri := range []string{"//Inference1", "//Inference2", "//Inference3"} {
		p := startNode(t, ch, uri)
		ps = append(ps, p)
		a := inference.Account(p.key.Public())
		ch.order = append(ch.order, a)
		ch.axons[a] = p.url
	}
	spec := models.Spec{ID: "m-small", Name: "Small", ContextSize: 512, PricePerToken: 1000, Args: []string{"--max-batch", "4"}}
	g := &inference.Group{Netuid: 7, Epoch: 3, Models: []inference.Subgroup{{Model: spec}}}
	for i, p := range ps {
		a := inference.Account(p.key.Public())
		g.Models[0].Members = append(g.Models[0].Members, a)
		g.Members = append(g.Members, inference.Member{Hotkey: a, Accepted: true, Weight: uint64(10 * (i + 1)),
			Nodes: []inference.GroupNode{{RosterNode: inference.RosterNode{MLNode: inference.MLNode{ID: "gpu-0", Models: []string{"m-small"}}, Slot: poc.PrePoCSlot}, PoCModel: "m-small", Weight: uint64(10 * (i + 1))}}})
		g.Validators = append(g.Validators, inference.Validator{Hotkey: a, Stake: 100})
	}
	ch.group = g
	user, _ := keys.FromURI("//User")
	ch.balances[inference.Account(user.Public())] = 10_000_000
	for _, p := range ps {
		if err := p.node.Step(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	return ch, ps, user
}

// post sends a user-signed request (sign false: unsigned) and returns the status, the
// headers and the body.
func post(t testing.TB, url, path string, body []byte, user *keys.Pair, at time.Time) (int, http.Header, []byte) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url+path, strings.NewReader(string(body)))
	req.Header.Set("Content-Type", "application/json")
	if user != nil {
		signed.SignRequest(req, body, user, at)
	}
	return do(t, req)
}

func do(t testing.TB, req *http.Request) (int, http.Header, []byte) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, b
}

func errorCode(t testing.TB, body []byte) string {
	t.Helper()
	var e struct {
		Error struct {
			Message string  `json:"message"`
			Code    *string `json:"code"`
		} `json:"error"`
	}
	if err := json.Unmarshal(body, &e); err != nil || e.Error.Message == "" {
		t.Fatalf("not an OpenAI-style error: %s", body)
	}
	if e.Error.Code == nil {
		return ""
	}
	return *e.Error.Code
}
