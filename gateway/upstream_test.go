package gateway

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/tessera-net/tessera/internal/openai"
	"github.com/tessera-net/tessera/subnets/textgen"
)

// fakeUpstream serves fixed models and answers each request with its name, counting
// the requests it got.
type fakeUpstream struct {
	name   string
	models []string
	err    error // Complete's error, when set
	mu     sync.Mutex
	got    []string
}

func (f *fakeUpstream) Name() string                  { return f.name }
func (f *fakeUpstream) Refresh(context.Context) error { return nil }
func (f *fakeUpstream) Executors(model string) []Executor {
	return []Executor{{ID: f.name, UID: -1, Healthy: true}}
}
func (f *fakeUpstream) Models() []ModelInfo {
	var out []ModelInfo
	for _, m := range f.models {
		out = append(out, ModelInfo{ID: m, Created: 5, OwnedBy: f.name})
	}
	return out
}

func (f *fakeUpstream) Complete(_ context.Context, req *Request) (*Answer, error) {
	f.mu.Lock()
	f.got = append(f.got, req.Model)
	f.mu.Unlock()
	if f.err != nil {
		return nil, f.err
	}
	u := openai.NewUsage(2, 1)
	if req.Stream {
		return &Answer{By: f.name, UID: -1, Stream: func(send func(any) bool) (openai.Usage, error) {
			send(map[string]string{"from": f.name})
			return u, nil
		}}, nil
	}
	return &Answer{By: f.name, UID: -1, Body: map[string]string{"from": f.name}, Usage: u}, nil
}

// A request goes to the upstream serving its model; a model two serve goes to the
// first; /v1/models lists each model once.
func TestUpstreamRouting(t *testing.T) {
	first := &fakeUpstream{name: "first", models: []string{"a", "shared"}}
	second := &fakeUpstream{name: "second", models: []string{"shared", "b"}}
	broken := &fakeUpstream{name: "broken", models: []string{"c"}, err: errors.New("the network is down")}
	g, err := New(Config{Upstreams: []Upstream{first, second, broken}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(g)
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/v1/models")
	if err != nil {
		t.Fatal(err)
	}
	list, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	want := `{"object":"list","data":[{"id":"a","object":"model","created":5,"owned_by":"first"},{"id":"shared","object":"model","created":5,"owned_by":"first"},` +
		`{"id":"b","object":"model","created":5,"owned_by":"second"},{"id":"c","object":"model","created":5,"owned_by":"broken"}]}`
	if string(list) != want {
		t.Fatalf("models:\n%s\nwant\n%s", list, want)
	}
	for _, tc := range []struct {
		model, extra string
		status       int
		body         string
	}{
		{"a", "", 200, `{"from":"first"}`},
		{"shared", "", 200, `{"from":"first"}`},
		{"b", "", 200, `{"from":"second"}`},
		{"b", `,"stream":true`, 200, "data: {\"from\":\"second\"}\n\ndata: [DONE]\n\n"},
		{"c", "", 502, `"code":"upstream_error"`},
		{"z", "", 404, `"code":"model_not_found"`},
	} {
		resp, err := http.Post(srv.URL+"/v1/chat/completions", "application/json",
			strings.NewReader(`{"model":"`+tc.model+`","messages":[{"role":"user","content":"x"}]`+tc.extra+`}`))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.status || !strings.Contains(string(body), tc.body) {
			t.Errorf("%s%s: %d %s", tc.model, tc.extra, resp.StatusCode, body)
		}
	}
	if strings.Join(first.got, " ") != "a shared" || strings.Join(second.got, " ") != "b b" {
		t.Fatalf("first got %v, second %v", first.got, second.got)
	}
}

// The textgen upstream lists a subnet's miners as executors, best first, and refuses
// what its synapse cannot carry.
func TestTextgenUpstream(t *testing.T) {
	m1 := startMiner(t, "//One", 0.9, builtin(t, textgen.BuiltinConfig{}))
	m2 := startMiner(t, "//Two", 0.1, builtin(t, textgen.BuiltinConfig{}))
	gw := startGateway(t, []*testMiner{m1, m2}, nil)
	tu := gw.textgen
	ex := tu.Executors("tessera-textgen")
	if len(ex) != 2 || ex[0].ID != m1.Axon.Hotkey || ex[0].UID != int(m1.UID) || !ex[0].Healthy {
		t.Fatalf("executors %+v", ex)
	}
	if tu.Executors("nope") != nil || tu.Name() != "textgen" {
		t.Fatal("executors of an unknown model")
	}
	for _, body := range []string{
		`{"model":"tessera-textgen","prompt":"x","logprobs":2}`,
		`{"model":"tessera-textgen","prompt":"x","logprobs":9}`,
	} {
		resp, data := postPath(t, gw.URL+"/v1/completions", gw.Secret, body)
		if resp.StatusCode != 400 || !strings.Contains(string(data), `"param":"logprobs"`) {
			t.Errorf("%s: %d %s", body, resp.StatusCode, data)
		}
	}
	resp, data := post(t, gw.URL, gw.Secret, `{"model":"tessera-textgen","messages":[{"role":"user","content":"x"}],"return_token_ids":true}`)
	if resp.StatusCode != 400 || !strings.Contains(string(data), `"code":"unsupported_parameter"`) {
		t.Errorf("%d %s", resp.StatusCode, data)
	}
}

func postPath(t testing.TB, url, key, body string) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp, data
}
