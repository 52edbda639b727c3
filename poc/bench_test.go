package poc

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/tessera-net/tessera/lm/kernel"
)

// Benchmarks. Run on one core with
//
//	go test ./poc -run '^$' -bench . -cpu 1
//
// MACs are Dims.MACs: the multiply-adds of the matrix products and attention.

// randomMatrix is a kernel.Matrix of random int8 weights and block scales.
func randomMatrix(rows, cols int) *kernel.Matrix {
	st := (cols + kernel.BlockSize - 1) / kernel.BlockSize * kernel.BlockSize
	m := &kernel.Matrix{Rows: rows, Cols: cols, Stride: st, Q: make([]int8, rows*st), S: make([]int16, rows*st/kernel.BlockSize)}
	r := rand.New(rand.NewPCG(1, 2))
	for j := 0; j < rows; j++ {
		for k := 0; k < cols; k++ {
			m.Q[j*st+k] = int8(r.IntN(255) - 127)
		}
	}
	for i := range m.S {
		m.S[i] = int16(r.IntN(256))
	}
	return m
}

// BenchmarkNonces measures PoC on the default dimensions, one op being one batch
// (what Run puts through one Forward), and in every iteration also times the engine's
// kernel on a Width×Width matrix, for the same number of multiply-adds: kernel.MatMul
// over as many input rows as the PoC batch has (its best rate) and kernel.MatVec (one
// input at a time). So both rates come from the same moments of a shared machine;
// %kernel is the PoC rate over the MatMul rate (the target: at least 50 %).
func BenchmarkNonces(b *testing.B) { benchNonces(b, DefaultDims()) }

func benchNonces(b *testing.B, d Dims) {
	r, err := NewRunner(d, h("bench"), 1)
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	batch := r.batch
	nonces := make([]uint64, batch)
	m := randomMatrix(d.Width, d.Width)
	rows := batch * d.SeqLen
	xs := make([]int8, rows*m.Stride)
	for i := range xs {
		xs[i] = int8(i*7%255 - 127)
	}
	dst := make([]int64, rows*m.Rows)
	macs := float64(d.MACs()) * float64(batch)
	mmCalls := max(1, int(macs/float64(rows*d.Width*d.Width)))
	mvCalls := max(1, int(macs/float64(d.Width*d.Width)))
	var pocT, mmT, mvT time.Duration
	var next uint64
	for b.Loop() {
		for i := range nonces {
			nonces[i] = next
			next++
		}
		t0 := time.Now()
		r.Run(h("participant"), "node-0", nonces)
		t1 := time.Now()
		for c := 0; c < mmCalls; c++ {
			kernel.MatMul(dst, m, xs, rows)
		}
		t2 := time.Now()
		for c := 0; c < mvCalls; c++ {
			kernel.MatVec(dst[:m.Rows], m, xs[(c%rows)*m.Stride:(c%rows+1)*m.Stride])
		}
		t3 := time.Now()
		pocT, mmT, mvT = pocT+t1.Sub(t0), mmT+t2.Sub(t1), mvT+t3.Sub(t2)
	}
	n := float64(b.N)
	poc := macs * n / pocT.Seconds() / 1e9
	mm := float64(mmCalls*rows*d.Width*d.Width) * n / mmT.Seconds() / 1e9
	mv := float64(mvCalls*d.Width*d.Width) * n / mvT.Seconds() / 1e9
	b.ReportMetric(float64(batch)*n/pocT.Seconds(), "nonces/s")
	b.ReportMetric(poc, "PoC-GMAC/s")
	b.ReportMetric(mm, "MatMul-GMAC/s")
	b.ReportMetric(mv, "MatVec-GMAC/s")
	b.ReportMetric(100*poc/mm, "%kernel")
}

// BenchmarkValidate200 is a validator's work on one participant's default sample:
// 200 proofs verified against the commitments of four MLNodes (10,000 nonces each) and
// the 200 nonces re-run, with the stage's model already built (BenchmarkNewRunner).
func BenchmarkValidate200(b *testing.B) {
	d := DefaultDims()
	r, err := NewRunner(d, h("bench"), 1)
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	part := h("participant")
	var trees []*Tree
	var counts []uint64
	for k := 0; k < 4; k++ {
		nonces := make([]uint64, 10000)
		for i := range nonces {
			nonces[i] = uint64(i*16 + k)
		}
		tr, _ := NewTree(nonces)
		trees, counts = append(trees, tr), append(counts, tr.Count())
	}
	total, _ := Total(counts)
	test := DefaultTest()
	for b.Loop() {
		idx := SampleIndices(h("validator"), h("bench"), part, total, DefaultSampleSize)
		inputs := make([]Input, 0, len(idx))
		fail := 0
		for _, g := range idx {
			k, leaf, _ := Locate(counts, g)
			p, _ := trees[k].Proof(leaf) // what the participant serves
			if trees[k].Commitment().Verify(leaf, p) != nil {
				fail++
				continue
			}
			inputs = append(inputs, Input{Participant: part, MLNode: fmt.Sprint("node-", k), Nonce: p.Nonce})
		}
		for _, res := range r.Compute(inputs) {
			if !Valid(res.Distance, DefaultThreshold) {
				fail++ // these nonces are not real hits: the benchmark measures the work
			}
		}
		_ = test.Reject(fail, len(idx))
	}
}

// BenchmarkNewRunner builds the default PoC model (once per stage per node).
func BenchmarkNewRunner(b *testing.B) {
	for b.Loop() {
		r, err := NewRunner(DefaultDims(), h("bench"), 1)
		if err != nil {
			b.Fatal(err)
		}
		r.Close()
	}
}

// BenchmarkEpoch100x10 is the chain's PoC work at a stage transition for 100
// participants × 10 MLNodes over 2 models: the acceptance of each participant over 64
// validators' verdicts, the weights, the coverage bonus and the rewards, and the
// uptime selection for the next PoC.
func BenchmarkEpoch100x10(b *testing.B) {
	r := rand.New(rand.NewPCG(5, 6))
	models := []string{"model-a", "model-b"}
	members := make([]Member, 100)
	umembers := make([]UptimeMember, 100)
	verdicts := make([][]Verdict, 100)
	tp := make(map[string]uint64)
	for i := range members {
		var w uint64
		for k := 0; k < 10; k++ {
			n := MLNode{ID: fmt.Sprint("node-", k), Model: models[r.IntN(2)], Valid: uint64(r.IntN(100000))}
			members[i].MLNodes = append(members[i].MLNodes, n)
			w += n.Valid
			umembers[i].Nodes = append(umembers[i].Nodes, UptimeNode{ID: n.ID, Model: n.Model, Throughput: n.Valid * 3,
				PendingChange: r.IntN(20) == 0, Preserved: uint32(r.IntN(2))})
			tp[n.Model] += n.Valid * 3
		}
		umembers[i].Weight = w
		for v := 0; v < 64; v++ {
			verdicts[i] = append(verdicts[i], Verdict{Weight: uint64(1 + r.IntN(1000)), Accept: r.IntN(10) != 0})
		}
	}
	mt := []ModelThroughput{{models[0], tp[models[0]]}, {models[1], tp[models[1]]}}
	for b.Loop() {
		for i := range members {
			members[i].Accepted = Accepted(verdicts[i])
		}
		if _, err := Rewards(1_000_000_000_000, models, members, DefaultBonusPPM); err != nil {
			b.Fatal(err)
		}
		if _, err := SelectUptime(h("block"), umembers, mt, DefaultMaxPreservedEpochs); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCritical is the test's critical value for 200 samples (exact rationals).
func BenchmarkCritical(b *testing.B) {
	t := DefaultTest()
	for b.Loop() {
		_ = t.Critical(DefaultSampleSize)
	}
}

// BenchmarkTree builds an MLNode's tree of 100,000 valid nonces.
func BenchmarkTree(b *testing.B) {
	nonces := make([]uint64, 100000)
	for i := range nonces {
		nonces[i] = uint64(i) * 16
	}
	for b.Loop() {
		if _, err := NewTree(nonces); err != nil {
			b.Fatal(err)
		}
	}
}
