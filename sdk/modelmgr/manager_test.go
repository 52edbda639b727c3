package modelmgr

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tessera-net/tessera/internal/testutil"
)

// writeArtifact writes content to dir/name and returns a spec for it.
func writeArtifact(t *testing.T, dir, id, version, content string) Spec {
	t.Helper()
	path := filepath.Join(dir, id+"-"+version+".bin")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte(content))
	return Spec{ID: id, Version: version, Path: path, SHA256: hex.EncodeToString(sum[:]),
		Metadata: map[string]string{"framework": "test"}}
}

// fakeModel is what the test loader builds: the artifact's contents.
type fakeModel struct{ data string }

// harness records loader and unload calls.
type harness struct {
	mu       sync.Mutex
	loads    []string
	unloads  []string
	loadGate chan struct{} // if set, the loader waits on it
}

func (h *harness) loader(ctx context.Context, a Artifact) (*fakeModel, error) {
	if h.loadGate != nil {
		<-h.loadGate
	}
	b, err := a.ReadAll()
	if err != nil {
		return nil, err
	}
	h.mu.Lock()
	h.loads = append(h.loads, a.Spec.String())
	h.mu.Unlock()
	return &fakeModel{data: string(b)}, nil
}

func (h *harness) unload(s Spec, _ *fakeModel) {
	h.mu.Lock()
	h.unloads = append(h.unloads, s.String())
	h.mu.Unlock()
}

func (h *harness) snapshot() (loads, unloads []string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.loads), slices.Clone(h.unloads)
}

func newManager(t *testing.T, h *harness, cfg Config[*fakeModel]) *Manager[*fakeModel] {
	t.Helper()
	cfg.Loader = h.loader
	cfg.Unload = h.unload
	mg, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return mg
}

func TestRegisterValidation(t *testing.T) {
	good := Spec{ID: "m", Version: "1", Path: "/x", SHA256: strings.Repeat("ab", 32)}
	tests := []struct {
		name   string
		mutate func(*Spec)
		want   string
	}{
		{"no id", func(s *Spec) { s.ID = "" }, "ID is empty"},
		{"no version", func(s *Spec) { s.Version = " " }, "Version is empty"},
		{"no path", func(s *Spec) { s.Path = "" }, "Path is empty"},
		{"short digest", func(s *Spec) { s.SHA256 = "abcd" }, "not 64 hex digits"},
		{"non-hex digest", func(s *Spec) { s.SHA256 = strings.Repeat("zz", 32) }, "not 64 hex digits"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			mg := newManager(t, &harness{}, Config[*fakeModel]{})
			s := good
			tc.mutate(&s)
			err := mg.Register(s)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Register err = %v, want %q", err, tc.want)
			}
		})
	}
	mg := newManager(t, &harness{}, Config[*fakeModel]{})
	upper := good
	upper.SHA256 = strings.ToUpper(good.SHA256)
	if err := mg.Register(upper); err != nil {
		t.Fatalf("upper-case digest: %v", err)
	}
	if s, _ := mg.Spec("m", "1"); s.SHA256 != good.SHA256 {
		t.Fatalf("digest not normalised: %s", s.SHA256)
	}
	if err := mg.Register(good); !errors.Is(err, ErrAlreadyRegistered) {
		t.Fatalf("duplicate Register err = %v", err)
	}
}

func TestLoadVerifiesChecksum(t *testing.T) {
	dir := t.TempDir()
	reg := prometheus.NewRegistry()
	h := &harness{}
	mg := newManager(t, h, Config[*fakeModel]{Registerer: reg})
	spec := writeArtifact(t, dir, "llama", "v1", "real weights")
	if err := mg.Register(spec); err != nil {
		t.Fatal(err)
	}
	// Tamper with the file after registration.
	if err := os.WriteFile(spec.Path, []byte("evil weights"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := mg.Load(context.Background(), "llama", "v1")
	var ce *ChecksumError
	if !errors.As(err, &ce) || !errors.Is(err, ErrChecksumMismatch) {
		t.Fatalf("Load err = %v, want ChecksumError", err)
	}
	evil := sha256.Sum256([]byte("evil weights"))
	for _, want := range []string{`"llama"`, `"v1"`, spec.SHA256, hex.EncodeToString(evil[:]), spec.Path} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %s", err, want)
		}
	}
	if loads, _ := h.snapshot(); len(loads) != 0 {
		t.Fatalf("loader called despite checksum mismatch: %v", loads)
	}
	if got := testutil.Gather(t, reg); got["tessera_sdk_modelmgr_loads_total"] != 1 || got["tessera_sdk_modelmgr_failures_total"] != 1 {
		t.Fatalf("metrics after mismatch: %v", got)
	}
	// Restore the file: the load now succeeds.
	if err := os.WriteFile(spec.Path, []byte("real weights"), 0o600); err != nil {
		t.Fatal(err)
	}
	m, err := mg.Load(context.Background(), "llama", "v1")
	if err != nil || m.data != "real weights" {
		t.Fatalf("Load = %+v, %v", m, err)
	}
}

func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name   string
		setup  func(t *testing.T, mg *Manager[*fakeModel])
		loader Loader[*fakeModel]
		want   string
		is     error
	}{
		{"not registered", func(*testing.T, *Manager[*fakeModel]) {}, nil, `model "m" version "1": model not registered`, ErrNotRegistered},
		{"missing file", func(t *testing.T, mg *Manager[*fakeModel]) {
			s := writeArtifact(t, dir, "m", "1", "x")
			s.Path = filepath.Join(dir, "nope.bin")
			_ = mg.Register(s)
		}, nil, "no such file", os.ErrNotExist},
		{"directory", func(t *testing.T, mg *Manager[*fakeModel]) {
			s := writeArtifact(t, dir, "m", "1", "x")
			s.Path = dir
			_ = mg.Register(s)
		}, nil, "not a regular file", nil},
		{"loader error", func(t *testing.T, mg *Manager[*fakeModel]) {
			_ = mg.Register(writeArtifact(t, dir, "m", "1", "x"))
		}, func(context.Context, Artifact) (*fakeModel, error) { return nil, errors.New("unsupported format") },
			`loader failed for model "m" version "1": unsupported format`, nil},
		{"loader panic", func(t *testing.T, mg *Manager[*fakeModel]) {
			_ = mg.Register(writeArtifact(t, dir, "m", "1", "x"))
		}, func(context.Context, Artifact) (*fakeModel, error) { panic("cuda oom") }, "loader panicked: cuda oom", nil},
		{"too large", func(t *testing.T, mg *Manager[*fakeModel]) {
			_ = mg.Register(writeArtifact(t, dir, "m", "1", "this is more than ten bytes"))
		}, nil, "budget 10", ErrTooLarge},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := &harness{}
			cfg := Config[*fakeModel]{MaxBytes: 10, Loader: h.loader}
			if tc.loader != nil {
				cfg.Loader = tc.loader
			}
			mg, err := New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			tc.setup(t, mg)
			_, err = mg.Load(context.Background(), "m", "1")
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Load err = %v, want %q", err, tc.want)
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Fatalf("Load err = %v, want errors.Is %v", err, tc.is)
			}
		})
	}
}

func TestCancelledLoad(t *testing.T) {
	dir := t.TempDir()
	mg := newManager(t, &harness{}, Config[*fakeModel]{UnhealthyAfter: 1})
	_ = mg.Register(writeArtifact(t, dir, "m", "1", "weights"))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := mg.Load(ctx, "m", "1"); !errors.Is(err, context.Canceled) {
		t.Fatalf("Load err = %v, want Canceled", err)
	}
	if !mg.Healthy("m", "1") {
		t.Fatal("a cancelled load must not count against the model's health")
	}
}

func TestCacheEviction(t *testing.T) {
	type step struct {
		op string // "load" or "hold" (acquire and keep) or "release"
		id string
	}
	tests := []struct {
		name        string
		cfg         Config[*fakeModel]
		sizes       map[string]int
		steps       []step
		wantLoads   []string
		wantUnloads []string
		wantLoaded  []string // most recent first
	}{
		{
			name:        "count lru",
			cfg:         Config[*fakeModel]{MaxModels: 2},
			steps:       []step{{"load", "a"}, {"load", "b"}, {"load", "a"}, {"load", "c"}, {"load", "a"}},
			wantLoads:   []string{"a@1", "b@1", "c@1"},
			wantUnloads: []string{"b@1"},
			wantLoaded:  []string{"a@1", "c@1"},
		},
		{
			name:        "bytes lru",
			cfg:         Config[*fakeModel]{MaxModels: 10, MaxBytes: 10},
			sizes:       map[string]int{"a": 4, "b": 4, "c": 4},
			steps:       []step{{"load", "a"}, {"load", "b"}, {"load", "c"}},
			wantLoads:   []string{"a@1", "b@1", "c@1"},
			wantUnloads: []string{"a@1"},
			wantLoaded:  []string{"c@1", "b@1"},
		},
		{
			name:        "bytes evicts several",
			cfg:         Config[*fakeModel]{MaxModels: 10, MaxBytes: 10},
			sizes:       map[string]int{"a": 3, "b": 3, "c": 3, "d": 9},
			steps:       []step{{"load", "a"}, {"load", "b"}, {"load", "c"}, {"load", "d"}},
			wantLoads:   []string{"a@1", "b@1", "c@1", "d@1"},
			wantUnloads: []string{"a@1", "b@1", "c@1"},
			wantLoaded:  []string{"d@1"},
		},
		{
			name:        "lease protects until release",
			cfg:         Config[*fakeModel]{MaxModels: 1},
			steps:       []step{{"hold", "a"}, {"hold", "b"}, {"release", "a"}, {"release", "b"}},
			wantLoads:   []string{"a@1", "b@1"},
			wantUnloads: []string{"a@1"},
			wantLoaded:  []string{"b@1"},
		},
		{
			name:        "over bound with leases, idle model goes first",
			cfg:         Config[*fakeModel]{MaxModels: 1},
			steps:       []step{{"hold", "a"}, {"load", "b"}, {"release", "a"}},
			wantLoads:   []string{"a@1", "b@1"},
			wantUnloads: []string{"b@1"},
			wantLoaded:  []string{"a@1"},
		},
		{
			name:        "lease skips to next lru",
			cfg:         Config[*fakeModel]{MaxModels: 2},
			steps:       []step{{"hold", "a"}, {"load", "b"}, {"load", "c"}},
			wantLoads:   []string{"a@1", "b@1", "c@1"},
			wantUnloads: []string{"b@1"},
			wantLoaded:  []string{"c@1", "a@1"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			h := &harness{}
			mg := newManager(t, h, tc.cfg)
			for _, id := range []string{"a", "b", "c", "d"} {
				size := tc.sizes[id]
				if size == 0 {
					size = 1
				}
				if err := mg.Register(writeArtifact(t, dir, id, "1", strings.Repeat(id, size))); err != nil {
					t.Fatal(err)
				}
			}
			held := map[string]*Lease[*fakeModel]{}
			for _, s := range tc.steps {
				switch s.op {
				case "load":
					m, err := mg.Load(context.Background(), s.id, "1")
					if err != nil || !strings.HasPrefix(m.data, s.id) {
						t.Fatalf("Load(%s) = %v, %v", s.id, m, err)
					}
				case "hold":
					l, err := mg.Acquire(context.Background(), s.id, "1")
					if err != nil {
						t.Fatal(err)
					}
					held[s.id] = l
				case "release":
					held[s.id].Release()
					held[s.id].Release() // idempotent
				}
			}
			loads, unloads := h.snapshot()
			if !slices.Equal(loads, tc.wantLoads) {
				t.Errorf("loads = %v, want %v", loads, tc.wantLoads)
			}
			if !slices.Equal(unloads, tc.wantUnloads) {
				t.Errorf("unloads = %v, want %v", unloads, tc.wantUnloads)
			}
			var loaded []string
			for _, s := range mg.Loaded() {
				loaded = append(loaded, s.String())
			}
			if !slices.Equal(loaded, tc.wantLoaded) {
				t.Errorf("Loaded = %v, want %v", loaded, tc.wantLoaded)
			}
		})
	}
}

func TestConcurrentAcquireLoadsOnce(t *testing.T) {
	dir := t.TempDir()
	h := &harness{loadGate: make(chan struct{})}
	mg := newManager(t, h, Config[*fakeModel]{})
	_ = mg.Register(writeArtifact(t, dir, "m", "1", "weights"))
	const n = 8
	var wg sync.WaitGroup
	var ok atomic.Int64
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			l, err := mg.Acquire(context.Background(), "m", "1")
			if err != nil {
				t.Error(err)
				return
			}
			if l.Model().data == "weights" {
				ok.Add(1)
			}
			l.Release()
		}()
	}
	time.Sleep(10 * time.Millisecond) // let the goroutines pile up on the load
	close(h.loadGate)
	wg.Wait()
	if loads, _ := h.snapshot(); len(loads) != 1 || ok.Load() != n {
		t.Fatalf("loads = %v, successful acquires = %d; want 1 load, %d acquires", loads, ok.Load(), n)
	}
}

func TestHealth(t *testing.T) {
	boom := errors.New("timeout")
	type obs struct {
		latency time.Duration
		err     error
	}
	tests := []struct {
		name        string
		obs         []obs
		wantHealthy bool
		wantConsec  int
		wantEWMA    time.Duration
	}{
		{"fresh", nil, true, 0, 0},
		{"first sample sets ewma", []obs{{100 * time.Millisecond, nil}}, true, 0, 100 * time.Millisecond},
		{"ewma alpha 0.5", []obs{{100 * time.Millisecond, nil}, {200 * time.Millisecond, nil}}, true, 0, 150 * time.Millisecond},
		{"failures do not move ewma", []obs{{100 * time.Millisecond, nil}, {time.Second, boom}}, true, 1, 100 * time.Millisecond},
		{"two failures still healthy", []obs{{0, boom}, {0, boom}}, true, 2, 0},
		{"three failures unhealthy", []obs{{0, boom}, {0, boom}, {0, boom}}, false, 3, 0},
		{"success recovers", []obs{{0, boom}, {0, boom}, {0, boom}, {0, boom}, {40 * time.Millisecond, nil}}, true, 0, 40 * time.Millisecond},
		{"non-consecutive failures", []obs{{0, boom}, {0, boom}, {10 * time.Millisecond, nil}, {0, boom}, {0, boom}}, true, 2, 10 * time.Millisecond},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			mg := newManager(t, &harness{}, Config[*fakeModel]{LatencyAlpha: 0.5})
			_ = mg.Register(Spec{ID: "m", Version: "1", Path: "/m", SHA256: strings.Repeat("0", 64)})
			for _, o := range tc.obs {
				mg.Observe("m", "1", o.latency, o.err)
			}
			h, err := mg.Health("m", "1")
			if err != nil {
				t.Fatal(err)
			}
			if h.Healthy != tc.wantHealthy || h.ConsecutiveFailures != tc.wantConsec || h.LatencyEWMA != tc.wantEWMA {
				t.Fatalf("Health = %+v; want healthy=%v consecutive=%d ewma=%v", h, tc.wantHealthy, tc.wantConsec, tc.wantEWMA)
			}
			if mg.Healthy("m", "1") != tc.wantHealthy {
				t.Fatal("Healthy disagrees with Health")
			}
		})
	}
}

func TestFailedLoadsMakeUnhealthy(t *testing.T) {
	dir := t.TempDir()
	mg := newManager(t, &harness{}, Config[*fakeModel]{UnhealthyAfter: 2})
	spec := writeArtifact(t, dir, "m", "1", "weights")
	spec.SHA256 = strings.Repeat("1", 64)
	_ = mg.Register(spec)
	for range 2 {
		if _, err := mg.Load(context.Background(), "m", "1"); !errors.Is(err, ErrChecksumMismatch) {
			t.Fatal(err)
		}
	}
	h, _ := mg.Health("m", "1")
	if h.Healthy || h.Failures != 2 || !strings.Contains(h.LastError, "checksum mismatch") {
		t.Fatalf("Health = %+v", h)
	}
}

func TestRegistryQueries(t *testing.T) {
	mg := newManager(t, &harness{}, Config[*fakeModel]{})
	for _, v := range []string{"2024-05", "2023-01", "2025-02"} {
		_ = mg.Register(Spec{ID: "llama", Version: v, Path: "/" + v, SHA256: strings.Repeat("a", 64)})
	}
	_ = mg.Register(Spec{ID: "bert", Version: "1", Path: "/b", SHA256: strings.Repeat("b", 64)})
	if got := mg.Versions("llama"); !slices.Equal(got, []string{"2024-05", "2023-01", "2025-02"}) {
		t.Fatalf("Versions = %v", got)
	}
	if s, err := mg.Latest("llama"); err != nil || s.Version != "2025-02" {
		t.Fatalf("Latest = %v, %v", s, err)
	}
	if _, err := mg.Latest("gpt"); !errors.Is(err, ErrNotRegistered) {
		t.Fatalf("Latest(unknown) err = %v", err)
	}
	var names []string
	for _, s := range mg.Specs() {
		names = append(names, s.String())
	}
	if !slices.Equal(names, []string{"bert@1", "llama@2023-01", "llama@2024-05", "llama@2025-02"}) {
		t.Fatalf("Specs = %v", names)
	}
	if err := mg.Unregister("llama", "2023-01"); err != nil {
		t.Fatal(err)
	}
	if err := mg.Unregister("llama", "2023-01"); !errors.Is(err, ErrNotRegistered) {
		t.Fatalf("second Unregister err = %v", err)
	}
}

func TestUnregisterAndClose(t *testing.T) {
	dir := t.TempDir()
	h := &harness{}
	mg := newManager(t, h, Config[*fakeModel]{})
	for _, id := range []string{"a", "b", "c"} {
		_ = mg.Register(writeArtifact(t, dir, id, "1", id))
		if _, err := mg.Load(context.Background(), id, "1"); err != nil {
			t.Fatal(err)
		}
	}
	if err := mg.Unregister("a", "1"); err != nil {
		t.Fatal(err)
	}
	held, err := mg.Acquire(context.Background(), "b", "1")
	if err != nil {
		t.Fatal(err)
	}
	mg.Close()
	mg.Close()
	if _, unloads := h.snapshot(); !slices.Equal(unloads, []string{"a@1", "c@1"}) {
		t.Fatalf("unloads after Close = %v (b is leased)", unloads)
	}
	held.Release()
	if _, unloads := h.snapshot(); !slices.Equal(unloads, []string{"a@1", "c@1", "b@1"}) {
		t.Fatalf("unloads after release = %v", unloads)
	}
	if _, err := mg.Load(context.Background(), "b", "1"); !errors.Is(err, ErrClosed) {
		t.Fatalf("Load after Close err = %v", err)
	}
}

func TestRunAndMetrics(t *testing.T) {
	dir := t.TempDir()
	reg := prometheus.NewRegistry()
	mg := newManager(t, &harness{}, Config[*fakeModel]{Name: "miner", Registerer: reg})
	_ = mg.Register(writeArtifact(t, dir, "m", "1", "weights"))
	for i := range 3 {
		err := mg.Run(context.Background(), "m", "1", func(ctx context.Context, m *fakeModel) error {
			if i == 2 {
				return errors.New("bad output")
			}
			return nil
		})
		if (err != nil) != (i == 2) {
			t.Fatalf("Run %d err = %v", i, err)
		}
	}
	h, _ := mg.Health("m", "1")
	if h.Successes != 2 || h.Failures != 1 {
		t.Fatalf("Health = %+v", h)
	}
	testutil.CheckMetrics(t, reg, map[string]float64{
		"tessera_sdk_modelmgr_loads_total":               1,
		"tessera_sdk_modelmgr_cache_misses_total":        1,
		"tessera_sdk_modelmgr_cache_hits_total":          2,
		"tessera_sdk_modelmgr_loaded_models":             1,
		"tessera_sdk_modelmgr_loaded_bytes":              7,
		"tessera_sdk_modelmgr_inference_latency_seconds": 2,
		"tessera_sdk_modelmgr_failures_total":            1,
		"tessera_sdk_modelmgr_healthy":                   1,
	})
	if err := mg.Unregister("m", "1"); err != nil {
		t.Fatal(err)
	}
	if got := testutil.Gather(t, reg); got["tessera_sdk_modelmgr_healthy"] != 0 || got["tessera_sdk_modelmgr_loaded_models"] != 0 {
		t.Errorf("per-model series or cache survived Unregister: %v", got)
	}
}

func TestNewValidates(t *testing.T) {
	l := func(context.Context, Artifact) (int, error) { return 0, nil }
	tests := []struct {
		name string
		cfg  Config[int]
	}{
		{"no loader", Config[int]{}},
		{"negative models", Config[int]{Loader: l, MaxModels: -1}},
		{"negative bytes", Config[int]{Loader: l, MaxBytes: -1}},
		{"bad alpha", Config[int]{Loader: l, LatencyAlpha: 2}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := New(tc.cfg); err == nil {
				t.Fatal("New succeeded")
			}
		})
	}
}
