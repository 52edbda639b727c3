package poc

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"math/rand/v2"
	"os"
	"reflect"
	"runtime"
	"strings"
	"testing"

	"github.com/tessera-net/tessera/lm/kernel"
)

var update = flag.Bool("update", false, "rewrite testdata/golden.json")

// smallDims is a shape small enough for many nonces in a test (and under qemu).
var smallDims = Dims{Layers: 2, Width: 128, Heads: 4, KVHeads: 2, FFN: 256, Vocab: 512, SeqLen: 4}

// oddDims has a feed-forward length that is not a whole number of 32-blocks, a
// vocabulary that is not a power of two (token draws reject) and 3 key/value heads.
var oddDims = Dims{Layers: 3, Width: 96, Heads: 6, KVHeads: 3, FFN: 200, Vocab: 1000, SeqLen: 7}

func h(s string) [32]byte { return sha256.Sum256([]byte(s)) }

type hexKey [32]byte

func (k hexKey) MarshalText() ([]byte, error) { return []byte(hex.EncodeToString(k[:])), nil }
func (k *hexKey) UnmarshalText(b []byte) error {
	v, err := hex.DecodeString(string(b))
	if err != nil || len(v) != 32 {
		return errors.New("want 64 hex digits")
	}
	copy(k[:], v)
	return nil
}

type goldenNonce struct {
	Nonce    uint64 `json:"nonce"`
	Output   hexKey `json:"output"`
	Distance uint64 `json:"distance"`
	Valid    bool   `json:"valid"`
}

type goldenCase struct {
	Dims        Dims          `json:"dims"`
	BlockHash   hexKey        `json:"block_hash"`
	Participant hexKey        `json:"participant"`
	MLNode      string        `json:"mlnode"`
	Threshold   uint64        `json:"threshold"`
	Target      hexKey        `json:"target"`
	Nonces      []goldenNonce `json:"nonces"`
}

type goldenFile struct {
	Note  string       `json:"note"`
	Cases []goldenCase `json:"cases"`
}

// goldenInputs are the cases of testdata/golden.json without their outputs.
func goldenInputs() []goldenCase {
	seq := func(lo, n uint64) []goldenNonce {
		var out []goldenNonce
		for i := uint64(0); i < n; i++ {
			out = append(out, goldenNonce{Nonce: lo + i})
		}
		return out
	}
	list := func(ns ...uint64) []goldenNonce {
		var out []goldenNonce
		for _, n := range ns {
			out = append(out, goldenNonce{Nonce: n})
		}
		return out
	}
	return []goldenCase{
		{Dims: smallDims, BlockHash: h("golden block 1"), Participant: h("alice"), MLNode: "node-0",
			Threshold: DefaultThreshold, Nonces: seq(0, 20)},
		{Dims: smallDims, BlockHash: h("golden block 2"), Participant: h("bob"), MLNode: "gpu/1 ünïcode",
			Threshold: DefaultThreshold, Nonces: list(1<<63, 1<<64-1, 1<<32, 12345678901234567, 7, 1<<64-2, 99, 100,
				0xdeadbeef, 0xfeedface, 1<<40+3, 5, 6, 1<<20, 3141592653589793238)},
		{Dims: oddDims, BlockHash: h("golden block 3"), Participant: h("carol"), MLNode: "",
			Threshold: 1 << 62, Nonces: seq(1000, 11)},
		{Dims: DefaultDims(), BlockHash: h("golden block 4"), Participant: h("dave"), MLNode: "node-a",
			Threshold: DefaultThreshold, Nonces: seq(0, 4)},
	}
}

func computeGolden(t *testing.T) goldenFile {
	t.Helper()
	g := goldenFile{Note: "Proof of Compute outputs: see docs/poc.md; regenerate with go test ./poc -run TestGolden -update"}
	for _, c := range goldenInputs() {
		r, err := NewRunner(c.Dims, c.BlockHash, 2)
		if err != nil {
			t.Fatal(err)
		}
		nonces := make([]uint64, len(c.Nonces))
		for i, n := range c.Nonces {
			nonces[i] = n.Nonce
		}
		c.Target = r.Target()
		for i, res := range r.Run(c.Participant, c.MLNode, nonces) {
			c.Nonces[i] = goldenNonce{Nonce: res.Nonce, Output: res.Output, Distance: res.Distance, Valid: Valid(res.Distance, c.Threshold)}
		}
		r.Close()
		g.Cases = append(g.Cases, c)
	}
	return g
}

// TestGolden checks the outputs of 50 nonces over four shapes, block hashes,
// participants and MLNode ids against testdata/golden.json.
func TestGolden(t *testing.T) {
	got := computeGolden(t)
	const path = "testdata/golden.json"
	if *update {
		b, err := json.MarshalIndent(got, "", " ")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var want goldenFile
	if err := json.Unmarshal(b, &want); err != nil {
		t.Fatal(err)
	}
	if len(want.Cases) != len(got.Cases) {
		t.Fatalf("golden file has %d cases, the test computes %d", len(want.Cases), len(got.Cases))
	}
	n := 0
	for i := range got.Cases {
		if !reflect.DeepEqual(got.Cases[i], want.Cases[i]) {
			t.Errorf("case %d (%+v): outputs differ from %s:\n got %+v\nwant %+v", i, got.Cases[i].Dims, path, got.Cases[i].Nonces, want.Cases[i].Nonces)
		}
		n += len(got.Cases[i].Nonces)
	}
	t.Logf("%d nonces on %s/%s (kernels: %s) match %s", n, runtime.GOOS, runtime.GOARCH, kernel.Impl(), path)
}

// TestSameBitsEverywhere: thread counts, GOMAXPROCS, assembly on and off, batch sizes
// and mixing MLNodes in one Compute never change a result.
func TestSameBitsEverywhere(t *testing.T) {
	bh, alice := h("block"), h("alice")
	nonces := make([]uint64, 37)
	for i := range nonces {
		nonces[i] = uint64(i) * 0x9e3779b97f4a7c15
	}
	ref, err := NewRunner(oddDims, bh, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer ref.Close()
	want := ref.Run(alice, "n0", nonces)
	for _, asm := range []bool{false, true} {
		for _, procs := range []int{1, 2} {
			for _, threads := range []int{1, 3} {
				for _, batch := range []int{1, 5, 64} {
					prev := kernel.SetAssembly(asm)
					old := runtime.GOMAXPROCS(procs)
					r, err := NewRunner(oddDims, bh, threads)
					if err != nil {
						t.Fatal(err)
					}
					r.batch = batch
					got := r.Run(alice, "n0", nonces)
					r.Close()
					runtime.GOMAXPROCS(old)
					kernel.SetAssembly(prev)
					if !reflect.DeepEqual(got, want) {
						t.Fatalf("asm=%v GOMAXPROCS=%d threads=%d batch=%d: results differ", asm, procs, threads, batch)
					}
				}
			}
		}
	}
	// One nonce alone, and a mixed Compute, give each nonce's result.
	if got := ref.Run(alice, "n0", nonces[3:4]); got[0] != want[3] {
		t.Fatalf("nonce alone: %+v, in a batch: %+v", got[0], want[3])
	}
	bobs := ref.Run(h("bob"), "n1", nonces)
	var mixed []Input
	for i, n := range nonces {
		mixed = append(mixed, Input{Participant: alice, MLNode: "n0", Nonce: n}, Input{Participant: h("bob"), MLNode: "n1", Nonce: n})
		_ = i
	}
	got := ref.Compute(mixed)
	for i := range nonces {
		if got[2*i] != want[i] || got[2*i+1] != bobs[i] {
			t.Fatalf("mixed Compute differs at nonce %d", i)
		}
	}
}

// TestHitRate: over 20,000 nonces the share under the default threshold is the
// expected 1/16 within five standard deviations (1250 ± 171), and a threshold of 2^63
// hits half.
func TestHitRate(t *testing.T) {
	if testing.Short() {
		t.Skip("20,000 nonces")
	}
	d := Dims{Layers: 1, Width: 64, Heads: 2, KVHeads: 1, FFN: 64, Vocab: 4096, SeqLen: 2}
	r, err := NewRunner(d, h("hit rate"), 1)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	const n = 20000
	nonces := make([]uint64, n)
	for i := range nonces {
		nonces[i] = uint64(i)
	}
	var hits, half int
	outputs := map[[32]byte]bool{}
	for _, res := range r.Run(h("p"), "m", nonces) {
		if Valid(res.Distance, DefaultThreshold) {
			hits++
		}
		if Valid(res.Distance, 1<<63) {
			half++
		}
		outputs[res.Output] = true
	}
	if hits < 1250-171 || hits > 1250+171 {
		t.Errorf("%d hits of %d at 2^60, want 1250 ± 171", hits, n)
	}
	if half < 10000-354 || half > 10000+354 {
		t.Errorf("%d hits of %d at 2^63, want 10000 ± 354", half, n)
	}
	if len(outputs) < n-10 {
		t.Errorf("only %d distinct outputs of %d nonces", len(outputs), n)
	}
	t.Logf("%d of %d nonces under 2^60 (%.4f; 1/16 = 0.0625), %d under 2^63", hits, n, float64(hits)/n, half)
}

func TestValid(t *testing.T) {
	for _, c := range []struct {
		d, th uint64
		want  bool
	}{{0, 0, false}, {0, 1, true}, {1, 1, false}, {1<<60 - 1, 1 << 60, true}, {1 << 60, 1 << 60, false}, {1<<64 - 1, 1<<64 - 1, false}} {
		if got := Valid(c.d, c.th); got != c.want {
			t.Errorf("Valid(%d, %d) = %v", c.d, c.th, got)
		}
	}
}

// TestSeedsAndDomains pins the seeds of one block hash and checks that every field of
// a nonce's input changes its tokens.
func TestSeedsAndDomains(t *testing.T) {
	bh := h("block")
	model, target := Seeds(bh)
	if got := hex.EncodeToString(model[:]); got != hexOf(sha256.Sum256(append([]byte("tessera/poc/model/v1"), bh[:]...))) {
		t.Errorf("model seed %s", got)
	}
	if target != sha256.Sum256(append([]byte("tessera/poc/target/v1"), bh[:]...)) {
		t.Errorf("target %x", target)
	}
	d := Dims{Layers: 1, Width: 64, Heads: 2, KVHeads: 1, FFN: 64, Vocab: 512, SeqLen: 16}
	base := Input{Participant: h("p"), MLNode: "m", Nonce: 1}
	ref := d.Inputs(base)
	for _, v := range []Input{
		{Participant: h("q"), MLNode: "m", Nonce: 1},
		{Participant: h("p"), MLNode: "m2", Nonce: 1},
		{Participant: h("p"), MLNode: "", Nonce: 1},
		{Participant: h("p"), MLNode: "m", Nonce: 2},
	} {
		other := d.Inputs(v)
		for p := range ref {
			if reflect.DeepEqual(other[p], ref[p]) {
				t.Errorf("%+v has position %d's input of %+v", v, p, base)
			}
		}
	}
	// The inputs follow the stated rule: ChaCha8 keyed by the input hash, four int16
	// lanes per Uint64 from the lowest, position by position.
	b := append([]byte("tessera/poc/input/v2"), base.Participant[:]...)
	b = append(b, 1, 0, 0, 0, 'm', 1, 0, 0, 0, 0, 0, 0, 0)
	s := rand.NewChaCha8(sha256.Sum256(b))
	var u uint64
	for i := 0; i < d.SeqLen*d.Width; i++ {
		if i%4 == 0 {
			u = s.Uint64()
		}
		if got, want := ref[i/d.Width][i%d.Width], int32(int16(u>>(16*(i%4)))); got != want {
			t.Fatalf("value %d is %d, want %d", i, got, want)
		}
	}
}

func hexOf(b [32]byte) string { return hex.EncodeToString(b[:]) }

// TestUniform checks the rejection rule on a stream it replays by hand, and that every
// value of a small range is reached about equally.
func TestUniform(t *testing.T) {
	seed := h("uniform")
	for _, n := range []uint64{1, 2, 3, 1000, 1<<63 + 1, 1<<64 - 1} {
		a, b := rand.NewChaCha8(seed), rand.NewChaCha8(seed)
		limit := -(-n % n)
		for i := 0; i < 200; i++ {
			got := uniform(a, n)
			var want uint64
			for {
				u := b.Uint64()
				if n&(n-1) == 0 || u < limit {
					want = u % n
					break
				}
			}
			if got != want || got >= n {
				t.Fatalf("n=%d draw %d: %d, want %d", n, i, got, want)
			}
		}
	}
	s := rand.NewChaCha8(seed)
	var counts [7]int
	for i := 0; i < 70000; i++ {
		counts[uniform(s, 7)]++
	}
	for v, c := range counts {
		if c < 9500 || c > 10500 {
			t.Errorf("value %d drawn %d times of 70000", v, c)
		}
	}
}

func TestDimsValidate(t *testing.T) {
	if err := DefaultDims().Validate(); err != nil {
		t.Fatal(err)
	}
	if got, want := DefaultDims().MACs(), int64(71_344_128); got != want {
		t.Errorf("default MACs per nonce %d, want %d", got, want)
	}
	for _, c := range []struct {
		mod  func(*Dims)
		want string
	}{
		{func(d *Dims) { d.Layers = 0 }, "layers is 0"},
		{func(d *Dims) { d.Layers = MaxLayers + 1 }, "layers is 257"},
		{func(d *Dims) { d.Width = 1 }, "width is 1"},
		{func(d *Dims) { d.Heads = 0 }, "heads is 0"},
		{func(d *Dims) { d.Heads = 1024 }, "heads is 1024"},
		{func(d *Dims) { d.Heads, d.KVHeads = 3, 1 }, "not an even multiple of heads 3"},
		{func(d *Dims) { d.Heads = 8; d.Width = 8 * 3 }, "width 24 is not an even multiple of heads 8"},
		{func(d *Dims) { d.Heads, d.Width = 8, 8 }, "heads is 8, want 1 to 4"},
		{func(d *Dims) { d.KVHeads = 5 }, "heads 16 is not a multiple of kv_heads 5"},
		{func(d *Dims) { d.KVHeads = 32 }, "kv_heads is 32"},
		{func(d *Dims) { d.FFN = 0 }, "ffn is 0"},
		{func(d *Dims) { d.Vocab = 1 }, "vocab is 1"},
		{func(d *Dims) { d.Vocab = MaxVocab + 1 }, "vocab is"},
		{func(d *Dims) { d.SeqLen = 0 }, "seq_len is 0"},
		{func(d *Dims) { d.SeqLen = MaxSeqLen + 1 }, "seq_len is 4097"},
		{func(d *Dims) { d.Layers, d.Width, d.FFN, d.SeqLen = 256, 16384, 65536, 4096 }, "multiply-adds per nonce"},
	} {
		d := DefaultDims()
		c.mod(&d)
		err := d.Validate()
		if err == nil || !errors.Is(err, ErrDims) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want an ErrDims naming %q", d, err, c.want)
		}
		if _, err := NewRunner(d, [32]byte{}, 1); err == nil {
			t.Errorf("%+v: NewRunner accepted it", d)
		}
	}
}
