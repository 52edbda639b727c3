package e2e

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tessera-net/tessera/client"
	"github.com/tessera-net/tessera/internal/testutil"
	"github.com/tessera-net/tessera/keys"
	"github.com/tessera-net/tessera/modules/inference"
	inferencekeeper "github.com/tessera-net/tessera/modules/inference/keeper"
	"github.com/tessera-net/tessera/modules/subnets"
	"github.com/tessera-net/tessera/poc"
	"github.com/tessera-net/tessera/subnets/inference/apinode"
	"github.com/tessera-net/tessera/subnets/inference/signed"
)

// servingDevnet is what the inference serving tests read of `tessera devnet -o json`.
type servingDevnet struct {
	RPC       string           `json:"rpc"`
	Netuid    uint16           `json:"inference_netuid"`
	Processes []servingProcess `json:"inference_processes"`
}

// servingProcess is one of its inference processes.
type servingProcess struct {
	Kind        string `json:"kind"`
	Participant string `json:"participant"`
	MLNode      string `json:"mlnode"`
	PID         int    `json:"pid"`
	Management  string `json:"management_url"`
	Inference   string `json:"inference_url"`
	URL         string `json:"url"`
}

func (s *servingDevnet) api(participant string) string {
	for _, p := range s.Processes {
		if p.Kind == "api" && p.Participant == participant {
			return p.URL
		}
	}
	return ""
}

// record is what the tests read of an inference record (tessera inference record).
type record struct {
	ID        string `json:"id"`
	Executor  string `json:"executor"`
	Status    string `json:"status"`
	DuringPoC bool   `json:"during_poc"`
	Cost      uint64 `json:"cost,string"`
	MaxCost   uint64 `json:"max_cost,string"`
	Price     uint64 `json:"price,string"`
	Prompt    uint32 `json:"prompt_tokens"`
	Complete  uint32 `json:"completion_tokens"`
}

type chatAnswer struct {
	InferenceID string `json:"inference_id"`
	Executor    string `json:"executor"`
	Text        string `json:"text"`
}

// The inference network serving on a devnet whose participants are real processes:
// MLNode services and API nodes started by `tessera devnet` from the same binary, the
// third participant's MLNodes altering every second completion (the devnet's default).
// Through the binary, with the CLI and signed HTTP as a user has them:
//   - a chat completion sent to one participant's API node is served by another
//     participant's MLNode, held in escrow, recorded on chain and paid: the user's
//     balance falls by exactly the settled costs, refused requests cost nothing;
//   - during PoC, requests keep being served by the nodes allocated to serve;
//   - the altered completions are caught by the others' replays, voted invalid and
//     refunded, and the cheater is marked invalid and loses its epoch reward;
//   - an MLNode killed mid-epoch is routed around;
//   - bad requests get clear OpenAI-style errors.
func TestInferenceServing(t *testing.T) {
	ctx := binaryTest(t, 5*time.Minute)
	began := time.Now()
	base := testutil.FreePorts(t, 4)
	home := t.TempDir()
	var dn servingDevnet
	readSummary(t, startDevnet(ctx, t, base, "--block-time", "250ms", "--tempo", "10", "--chain-only", "--log-level", "warn", "-o", "json"), &dn)
	if len(dn.Processes) == 0 {
		t.Fatalf("the devnet runs no inference processes: %+v", dn)
	}
	rpc := "127.0.0.1:" + strconv.Itoa(base+1)
	run := cliRunner(t, rpc, home)
	n := strconv.Itoa(int(dn.Netuid))
	addr := func(uri string) string {
		p, err := keys.FromURI(uri)
		if err != nil {
			t.Fatal(err)
		}
		return p.Public().String()
	}
	p1, p3 := addr("//Inference1"), addr("//Inference3")
	alice, _ := keys.FromURI("//Alice")
	balance := func() uint64 {
		var a struct {
			Balance uint64 `json:"balance,string"`
		}
		run(&a, "query", "balance", alice.Public().String())
		return a.Balance
	}
	epoch := func() inference.EpochView {
		var v inference.EpochView
		run(&v, "inference", "epoch", "--netuid", n)
		return v
	}
	waitFor(ctx, t, "a group in force", func() bool { return epoch().Current != nil })
	for _, p := range dn.Processes {
		if p.Kind == "api" {
			waitFor(ctx, t, p.Participant+"'s API node serving devnet-small", func() bool { return listsModel(p.URL, "devnet-small") })
		}
	}
	b0 := balance()

	chat := func(api, model string) chatAnswer {
		t.Helper()
		var a chatAnswer
		run(&a, "inference", "chat", "--api", api, "--from-uri", "//Alice", "--model", model, "--max-tokens", "8", "--temperature", "0.7", "Tell me a story.")
		if a.InferenceID == "" || a.Executor == "" {
			t.Fatalf("an answer without its inference id or executor: %+v", a)
		}
		return a
	}
	var ids []string
	// Served by another participant's MLNode: the executor is drawn by weight, so ask
	// until one is.
	other := false
	for i := 0; i < 20 && !other; i++ {
		a := chat(dn.api("Inference1"), "devnet-small")
		ids = append(ids, a.InferenceID)
		other = a.Executor != p1
	}
	if !other {
		t.Fatalf("20 requests through Inference1's API node were all served by Inference1")
	}

	// During PoC the nodes allocated to serve keep serving: the executors are those with
	// a POC_SLOT MLNode for the model in the round's roster.
	// The executors are the chain's (`inference eligible`, what the API nodes route by):
	// the accepted members of the model's subgroup whose MLNodes of that model the
	// roster put in POC_SLOT. Each is checked against the roster itself.
	waitFor(ctx, t, "a PoC stage", func() bool { s := epoch().Phase.Stage; return s == "poc" || s == "poc_exchange" })
	var ev inference.EligibleView
	run(&ev, "inference", "eligible", "--netuid", n, "--model", "devnet-small")
	inRoster := map[string]bool{}
	if rd := epoch().Round; rd != nil {
		for _, m := range rd.Roster {
			for _, nd := range m.Nodes {
				if nd.Slot == poc.PoCSlot && slices.Contains(nd.Models, "devnet-small") {
					inRoster[m.Hotkey.String()] = true
				}
			}
		}
	}
	serving := map[string]bool{}
	for _, c := range ev.Candidates {
		if ev.DuringPoC && !inRoster[c.Hotkey.String()] {
			t.Fatalf("the chain routes devnet-small during PoC to %s, which the roster gave no POC_SLOT MLNode of it (%v)", c.Hotkey, inRoster)
		}
		serving[c.Hotkey.String()] = true
	}
	pocIDs := map[string]bool{}
	if !ev.DuringPoC || len(serving) == 0 {
		// The round's uptime selection can preserve no devnet-small MLNode of an accepted
		// member (this devnet has few, and none is preserved more than
		// max_preserved_epochs rounds in a row): then nobody serves it during this PoC,
		// and the API nodes answer 503 no_executor. (Or the round switched already.)
		t.Logf("no devnet-small executor during this PoC (during PoC: %v; roster: %v): no request is sent during it", ev.DuringPoC, inRoster)
		serving = map[string]bool{}
	}
	for i := 0; i < 3 && len(serving) > 0; i++ {
		a := chat(dn.api("Inference2"), "devnet-small")
		ids = append(ids, a.InferenceID)
		pocIDs[a.InferenceID] = true
	}

	// An MLNode killed mid-epoch is routed around: Inference2 has one MLNode.
	for _, p := range dn.Processes {
		if p.Kind == "mlnode" && p.Participant == "Inference2" {
			if err := syscall.Kill(p.PID, syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
		}
	}
	// Past the round (its switch): until then only the POC_SLOT MLNodes serve, through
	// the validation stage too, and when the roster gave that slot to Inference2's alone
	// nobody can serve (503, as it should).
	var switched uint64
	waitFor(ctx, t, "the round's switch", func() bool {
		e := epoch()
		switched = e.Phase.Height
		return !inference.DuringPoC(e.Round)
	})
	// Each API node judges eligibility by its own view of the chain, read every poll
	// from its own node: wait until every view has passed the switch too.
	for _, p := range dn.Processes {
		if p.Kind == "api" {
			waitFor(ctx, t, p.Participant+"'s API node past the switch", func() bool { return viewHeight(p.URL) >= switched })
		}
	}
	for i := 0; i < 4; i++ {
		a := chat(dn.api("Inference2"), "devnet-small")
		ids = append(ids, a.InferenceID)
		if a.Executor == addr("//Inference2") {
			t.Fatalf("a request was served by Inference2 after its only MLNode was killed: %+v", a)
		}
	}

	// Bad input: each a clear error, none charged (one request of a replayed pair
	// goes through, and is paid).
	ids = append(ids, badRequests(t, dn.api("Inference1"), dn.Processes[0].Management))

	// Every record of Alice's settles; her balance falls by exactly the paid costs.
	t.Logf("%d records to settle, %v into the test", len(ids), time.Since(began).Round(time.Second))
	c := dial(t, rpc)
	var paid uint64
	duringPoC := 0
	for _, id := range ids {
		r := settled(ctx, t, c, id)
		if pocIDs[id] && r.DuringPoC {
			duringPoC++
			if !serving[r.Executor] {
				t.Errorf("record %s was served during PoC by %s, which holds no POC_SLOT MLNode for devnet-small (those serving: %v)", id, r.Executor, serving)
			}
		}
		if r.Status == "paid" {
			if want := min(r.MaxCost, uint64(r.Prompt+r.Complete)*r.Price); r.Cost != want || r.Cost == 0 {
				t.Errorf("record %s cost %d, want (%d+%d)×%d capped at %d = %d", id, r.Cost, r.Prompt, r.Complete, r.Price, r.MaxCost, want)
			}
			paid += r.Cost
		}
	}
	if duringPoC == 0 && len(serving) > 0 {
		t.Errorf("none of the requests sent during PoC was recorded during PoC")
	}
	if b := balance(); b0-b != paid {
		t.Errorf("Alice paid %d for her requests, the settled costs add to %d", b0-b, paid)
	}

	// The cheater's altered completions are caught by the others' replays, voted
	// invalid and refunded in full; twice in an epoch makes it INVALID, and a payment
	// of the subnet's emission while it is gives it nothing. Bursts of requests give
	// it completions to alter; each burst's records settle like the others.
	var invalidated []string
	punished := false
	// The devnet user's requests count too: the loop ends once the cheater was INVALID at
	// a payment and at least one of Alice's own records was invalidated and refunded.
	for burst := 0; !punished || len(invalidated) == 0; burst++ {
		if ctx.Err() != nil {
			t.Fatalf("after %d bursts: the cheater INVALID at a payment %v; Alice's records invalidated: %v", burst, punished, invalidated)
		}
		b1 := balance()
		burstIDs := chatBurst(ctx, t, dn.Processes, alice, 12)
		var paid uint64
		for _, id := range burstIDs {
			r := settled(ctx, t, c, id)
			switch r.Status {
			case "paid":
				// A validator checks a sample of the inferences (Gonka's rule), so an
				// altered one that nobody checked is paid.
				paid += r.Cost
			case "invalidated":
				invalidated = append(invalidated, id)
				if r.Executor != p3 {
					t.Errorf("record %s of honest %s was invalidated", id, r.Executor)
				}
			}
		}
		if b := balance(); b1-b != paid {
			t.Errorf("burst %d: Alice paid %d, the settled costs add to %d (the invalidated refunded)", burst, b1-b, paid)
		}
		punished = punished || paidNothingWhileInvalid(ctx, t, c, dn.Netuid, p3)
	}
}

// settled waits for the record of an answered request to be on chain and final (paid,
// invalidated or expired): the API nodes record in batches, so it may take blocks to
// appear. A request whose start the chain refused as not eligible has no record and
// costs nothing: its Status is statusRefused. The API node draws the executor from the
// group it last read, and the chain can have dropped that executor since (INVALID after
// its second invalidation in the epoch, or a PoC begun), so a served request can end so.
func settled(ctx context.Context, t *testing.T, c *client.Client, id string) record {
	t.Helper()
	var r record
	start := time.Now()
	var height int64
	var err error
	defer func() {
		if t.Failed() {
			t.Logf("record %s after %v: %+v (query error %v, height %d)", id, time.Since(start).Round(time.Second), r, err, height)
			logRefusals(t, c, id)
		}
	}()
	rid, perr := inferencekeeper.ParseID(id)
	if perr != nil {
		t.Fatalf("record id %q: %v", id, perr)
	}
	waitFor(ctx, t, "record "+id+" settled", func() bool {
		if height, err = c.Query(ctx, "/inference/record/"+id, 0, &r); err != nil {
			rs, rerr := c.InferenceRefusals(ctx, rid)
			if rerr == nil && len(rs) > 0 && rs[0].Code == inference.RefuseNotEligible {
				t.Logf("record %s: its start was refused at block %d: %s", id, rs[0].Height, rs[0].Reason)
				r = record{ID: id, Status: statusRefused}
				return true
			}
			return false
		}
		return r.Status == "paid" || r.Status == "invalidated" || r.Status == "expired"
	})
	return r
}

// statusRefused is settled's status of a request whose start the chain refused.
const statusRefused = "refused"

// logRefusals logs the chain's refusals of record id's entries (a start whose executor
// was no longer eligible, …): why a served request may have no record.
func logRefusals(t *testing.T, c *client.Client, id string) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	rid, err := inferencekeeper.ParseID(id)
	if err != nil {
		t.Logf("record id: %v", err)
		return
	}
	rs, err := c.InferenceRefusals(ctx, rid)
	if err != nil {
		t.Logf("searching the refusals of %s: %v", id, err)
	} else if len(rs) == 0 {
		t.Logf("no transaction refused an entry of %s", id)
	}
	for _, r := range rs {
		t.Logf("block %d refused an entry of %s: %s (%s)", r.Height, id, r.Code, r.Reason)
	}
}

// chatBurst sends k signed chat completions at once, through the API nodes in turn, and
// returns the ids of those answered.
func chatBurst(ctx context.Context, t *testing.T, procs []servingProcess, user *keys.Pair, k int) []string {
	t.Helper()
	var apis []string
	for _, p := range procs {
		if p.Kind == "api" {
			apis = append(apis, p.URL)
		}
	}
	out := make(chan string, k)
	for i := 0; i < k; i++ {
		go func() {
			body := []byte(fmt.Sprintf(`{"model":"devnet-small","max_tokens":8,"messages":[{"role":"user","content":"burst %d"}]}`, i))
			req, s, _ := signed.NewPost(ctx, apis[i%len(apis)]+"/v1/chat/completions", body, user, time.Now())
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				out <- ""
				return
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				out <- ""
				return
			}
			id := s.ID()
			out <- hex.EncodeToString(id[:])
		}()
	}
	var ids []string
	for i := 0; i < k; i++ {
		if id := <-out; id != "" {
			ids = append(ids, id)
		}
	}
	return ids
}

// paidNothingWhileInvalid reports whether executor hot was INVALID at the subnet's last
// emission payment (read at that height) and was paid nothing by it while the others
// were paid.
func paidNothingWhileInvalid(ctx context.Context, t *testing.T, c *client.Client, netuid uint16, hot string) bool {
	t.Helper()
	var s subnets.SubnetView
	if _, err := c.Query(ctx, fmt.Sprintf("/subnets/subnet/%d", netuid), 0, &s); err != nil || s.LastEpochBlock == 0 {
		return false
	}
	at := int64(s.LastEpochBlock)
	var ex inference.ExecutorView
	if _, err := c.Query(ctx, fmt.Sprintf("/inference/executor/%d/%s", netuid, hot), at, &ex); err != nil || ex.Status != inference.ExecutorInvalid {
		return false
	}
	var mg subnets.Metagraph
	if _, err := c.Query(ctx, fmt.Sprintf("/subnets/metagraph/%d", netuid), at, &mg); err != nil {
		t.Fatal(err)
	}
	var others uint64
	for uid, h := range mg.Hotkeys {
		if h == hot {
			if mg.Emission[uid] != 0 {
				t.Errorf("the INVALID cheater was paid %d at block %d", mg.Emission[uid], at)
			}
			continue
		}
		others += mg.Emission[uid]
	}
	if others == 0 {
		t.Errorf("nobody was paid at block %d", at)
	}
	if ex.Reputation != 0 {
		t.Errorf("the INVALID cheater keeps reputation %d", ex.Reputation)
	}
	return true
}

// badRequests checks that each bad request to an API node and to an MLNode's
// management API gets its OpenAI-style error. It returns the id of the one request it
// sends that is served: the first of a replayed pair.
func badRequests(t *testing.T, api, mgmt string) string {
	t.Helper()
	alice, _ := keys.FromURI("//Alice")
	nobody, _ := keys.FromURI("//NobodyFunded")
	body := []byte(`{"model":"devnet-small","max_tokens":8,"messages":[{"role":"user","content":"hi"}]}`)
	post := func(url string, body []byte, sign func(*http.Request)) (int, string) {
		req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if sign != nil {
			sign(req)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var e struct {
			Error struct {
				Code    string `json:"code"`
				Message string `json:"message"`
			} `json:"error"`
		}
		_ = json.NewDecoder(resp.Body).Decode(&e)
		if e.Error.Message == "" && resp.StatusCode != http.StatusOK {
			t.Errorf("%s: status %d without an error message", url, resp.StatusCode)
		}
		return resp.StatusCode, e.Error.Code
	}
	chatURL := strings.TrimSuffix(api, "/") + "/v1/chat/completions"
	by := func(k *keys.Pair, at time.Time, b []byte) func(*http.Request) {
		return func(r *http.Request) { signed.SignRequest(r, b, k, at) }
	}
	replay := signed.Sign(alice, http.MethodPost, "/v1/chat/completions", body, time.Now())
	withHeaders := func(s signed.Request) func(*http.Request) { return func(r *http.Request) { s.Headers(r.Header) } }
	unknown := []byte(`{"model":"no-such-model","messages":[{"role":"user","content":"hi"}]}`)
	for _, c := range []struct {
		name   string
		url    string
		body   []byte
		sign   func(*http.Request)
		status int
		code   string
	}{
		{"unsigned", chatURL, body, nil, 401, string(signed.CodeMissing)},
		{"stale", chatURL, body, by(alice, time.Now().Add(-2*time.Minute), body), 401, string(signed.CodeStale)},
		{"signed for another body", chatURL, body, by(alice, time.Now(), []byte("{}")), 401, string(signed.CodeBadSignature)},
		{"unknown model", chatURL, unknown, by(alice, time.Now(), unknown), 404, "model_not_found"},
		{"cannot pay", chatURL, body, by(nobody, time.Now(), body), 402, "insufficient_quota"},
		{"management unsigned", strings.TrimSuffix(mgmt, "/") + "/api/v1/stop", []byte("{}"), nil, 401, string(signed.CodeMissing)},
		{"management by another key", strings.TrimSuffix(mgmt, "/") + "/api/v1/stop", []byte("{}"), by(alice, time.Now(), []byte("{}")), 403, string(signed.CodeForbidden)},
	} {
		if st, code := post(c.url, c.body, c.sign); st != c.status || code != c.code {
			t.Errorf("%s: got %d %q, want %d %q", c.name, st, code, c.status, c.code)
		}
	}
	// A replayed request: the first goes through, the second is refused.
	if st, _ := post(chatURL, body, withHeaders(replay)); st != http.StatusOK {
		t.Errorf("the first of a replayed pair: status %d", st)
	}
	if st, code := post(chatURL, body, withHeaders(replay)); st != 401 || code != string(signed.CodeReplayed) {
		t.Errorf("replayed: got %d %q", st, code)
	}
	id := replay.ID()
	return hex.EncodeToString(id[:])
}

// listsModel reports whether the API node at api lists model at GET /v1/models.
func listsModel(api, model string) bool {
	var l struct {
		Data []struct {
			ID string `json:"id"`
		} `json:"data"`
	}
	if !tryGetJSON(api+"/v1/models", &l) {
		return false
	}
	return slices.ContainsFunc(l.Data, func(m struct {
		ID string `json:"id"`
	}) bool {
		return m.ID == model
	})
}

// viewHeight is the height of an API node's view of the chain (its health report), 0 if
// it does not answer.
func viewHeight(api string) uint64 {
	var h apinode.Health
	if !tryGetJSON(api+apinode.PathHealth, &h) {
		return 0
	}
	return h.Height
}

// tryGetJSON decodes the JSON answer of a GET of url into out, reporting whether there was
// one (status 200, well-formed): for polls, where not yet is not a failure.
func tryGetJSON(url string, out any) bool {
	resp, err := http.Get(url)
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	return resp.StatusCode == http.StatusOK && json.NewDecoder(resp.Body).Decode(out) == nil
}

// waitFor polls cond every 250 ms until it holds or ctx ends.
func waitFor(ctx context.Context, t *testing.T, what string, cond func() bool) {
	t.Helper()
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatalf("waiting for %s: %v", what, ctx.Err())
		case <-time.After(250 * time.Millisecond):
		}
	}
}
