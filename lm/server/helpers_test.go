package server

import (
	"encoding/json"
	"github.com/tessera-net/tessera/internal/testutil"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/tessera-net/tessera/lm"
)

var (
	tinyOnce  sync.Once
	tinyModel *lm.Model
	tinyErr   error
)

// tiny is the random model of the "tiny" preset, made once for the package's tests.
func tiny(t testing.TB) *lm.Model {
	t.Helper()
	tinyOnce.Do(func() {
		tinyModel, tinyErr = lm.Random(lm.Presets["tiny"], [32]byte{'s', 'e', 'r', 'v', 'e'}, lm.Options{Threads: 1})
	})
	if tinyErr != nil {
		t.Fatal(tinyErr)
	}
	return tinyModel
}

// testServer is a Server on a loopback listener with its own metrics registry.
type testServer struct {
	*Server
	URL string
	reg *prometheus.Registry
	log *testutil.SyncBuffer
}

// logText is what the server has logged so far.
func (ts *testServer) logText() string {
	return ts.log.String()
}

func startServer(t *testing.T, m *lm.Model, o Options) *testServer {
	t.Helper()
	e := lm.NewEngine(m, 4)
	t.Cleanup(e.Close)
	reg := prometheus.NewRegistry()
	lw := &testutil.SyncBuffer{}
	o.Registerer = reg
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(lw, nil))
	}
	s, err := New(e, o)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(s)
	t.Cleanup(hs.Close)
	return &testServer{Server: s, URL: hs.URL, reg: reg, log: lw}
}

func (ts *testServer) client() openai.Client {
	return openai.NewClient(option.WithBaseURL(ts.URL+"/v1/"), option.WithAPIKey("unused"), option.WithMaxRetries(0))
}

// post sends body to path and returns the status and the answer.
func (ts *testServer) post(t *testing.T, path, body string) (*http.Response, []byte) {
	t.Helper()
	resp, err := http.Post(ts.URL+path, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp, data
}

// postJSON posts body and decodes a 200 answer into v.
func (ts *testServer) postJSON(t *testing.T, path, body string, v any) {
	t.Helper()
	resp, data := ts.post(t, path, body)
	if resp.StatusCode != 200 {
		t.Fatalf("%s %s: %d %s", path, body, resp.StatusCode, data)
	}
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatalf("%s: %v in %s", path, err, data)
	}
}

// metricReaches waits up to 5 s for the series of name with the labels to reach want,
// and returns its last value. A request is counted when its handler returns, which can
// be just after the client has read the last byte of its answer.
func (ts *testServer) metricReaches(t *testing.T, name string, labels map[string]string, want float64) float64 {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		got := ts.metric(t, name, labels)
		if got == want || time.Now().After(deadline) {
			return got
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// metric is the value of the series of name with the labels, summed over the rest.
func (ts *testServer) metric(t *testing.T, name string, labels map[string]string) float64 {
	t.Helper()
	mfs, err := ts.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	sum := 0.0
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	series:
		for _, m := range mf.GetMetric() {
			have := map[string]string{}
			for _, l := range m.GetLabel() {
				have[l.GetName()] = l.GetValue()
			}
			for k, v := range labels {
				if have[k] != v {
					continue series
				}
			}
			switch {
			case m.Counter != nil:
				sum += m.Counter.GetValue()
			case m.Gauge != nil:
				sum += m.Gauge.GetValue()
			case m.Histogram != nil:
				sum += float64(m.Histogram.GetSampleCount())
			}
		}
	}
	return sum
}

// fixture is the path of the shared tiny llama-2 model, or "" when it is absent.
func fixture(t *testing.T) string {
	t.Helper()
	dir, _ := os.Getwd()
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
	p := filepath.Join(dir, "..", "shared", "models", "llama-2-tiny-random.gguf")
	if _, err := os.Stat(p); err != nil {
		return ""
	}
	return p
}
