package kernel

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync"
	"testing"
)

// Benchmarks. Run on one core with
//
//	go test -run '^$' -bench . -cpu 1 ./lm/kernel/
//
// (the t=2 variants need -cpu 2). MMAC/s counts int8 multiply-adds (one per
// matrix element per input vector); GB/s counts the weight bytes (Q and S)
// read per call.

var sink int64

func reportMACs(b *testing.B, macsPerOp float64) {
	b.ReportMetric(macsPerOp*float64(b.N)/b.Elapsed().Seconds()/1e6, "MMAC/s")
}

// BenchmarkPeakDot measures the machine's limit for the int8 dot product:
// the minimal VPSIGNB/VPABSB/VPMADDUBSW/VPMADDWD(ones)/VPADDD loop over
// 2x8 KiB that stays in L1 (and 2x128 KiB in L2), no scales.
func BenchmarkPeakDot(b *testing.B) {
	if !haveAsm {
		b.Skip("no assembly on this platform")
	}
	for _, n := range []int{8 << 10, 128 << 10} {
		b.Run(fmt.Sprintf("bytes=%dK", n>>10), func(b *testing.B) {
			rng := rand.New(rand.NewPCG(1, 1))
			q := make([]int8, n)
			x := make([]int8, n)
			fillQ(rng, q, modeRandom)
			fillX(rng, x, modeRandom)
			for b.Loop() {
				sink += peakDotAsm(q, x)
			}
			reportMACs(b, float64(n))
		})
	}
}

// BenchmarkDot: one row, the single-row kernel.
func BenchmarkDot(b *testing.B) {
	for _, impl := range implNames() {
		b.Run(fmt.Sprintf("n=4096/%s", impl), func(b *testing.B) {
			withAsm(b, impl == "avx2")
			rng := rand.New(rand.NewPCG(1, 1))
			q := make([]int8, 4096)
			x := make([]int8, 4096)
			s := make([]int16, 128)
			fillQ(rng, q, modeRandom)
			fillX(rng, x, modeRandom)
			fillS(rng, s, modeRandom)
			for b.Loop() {
				sink += Dot(q, s, x)
			}
			reportMACs(b, 4096)
		})
	}
}

func implNames() []string {
	if haveAsm {
		return []string{"avx2", "go"}
	}
	return []string{"go"}
}

var (
	benchMats   = map[shape]*Matrix{}
	benchMatsMu sync.Mutex
)

func benchMatrix(sh shape) *Matrix {
	benchMatsMu.Lock()
	defer benchMatsMu.Unlock()
	if m, ok := benchMats[sh]; ok {
		return m
	}
	m := randMatrix(rand.New(rand.NewPCG(uint64(sh.rows), uint64(sh.cols))), sh.rows, sh.cols, modeRandom)
	benchMats[sh] = m
	return m
}

func skipThreads(b *testing.B, th int) {
	if runtime.GOMAXPROCS(0) < th {
		b.Skipf("%d threads need -cpu %d or more", th, th)
	}
}

func weightBytes(m *Matrix) float64 { return float64(len(m.Q) + 2*len(m.S)) }

// BenchmarkMatVec: 16x2048 (L1-resident) and 256x2048 (0.5 MiB of weights:
// L2-resident): the kernel's
// compute rate) and the llama-7B-like shapes (memory-bound).
func BenchmarkMatVec(b *testing.B) {
	shapes := []shape{{16, 2048}, {256, 2048}, {2048, 2048}, {5632, 2048}, {2048, 5632}, {32000, 2048}}
	for _, sh := range shapes {
		for _, impl := range implNames() {
			for _, th := range []int{1, 2} {
				if impl == "go" && (sh.rows > 2048 || th == 2) {
					continue
				}
				b.Run(fmt.Sprintf("%dx%d/%s/t=%d", sh.rows, sh.cols, impl, th), func(b *testing.B) {
					skipThreads(b, th)
					withAsm(b, impl == "avx2")
					m := benchMatrix(sh)
					x := make([]int8, m.Stride)
					fillX(rand.New(rand.NewPCG(2, 2)), x, modeRandom)
					dst := make([]int64, m.Rows)
					p := NewPool(th)
					defer p.Close()
					for b.Loop() {
						p.MatVec(dst, m, x)
					}
					reportMACs(b, float64(m.Rows*m.Cols))
					b.ReportMetric(weightBytes(m)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GB/s")
				})
			}
		}
	}
}

// BenchmarkMatMulBatch: n inputs at once; the weights are read once per call,
// so the cost per input falls with n until the kernel is compute-bound.
func BenchmarkMatMulBatch(b *testing.B) {
	for _, sh := range []shape{{5632, 2048}, {32000, 2048}} {
		for _, th := range []int{1, 2} {
			for _, n := range []int{1, 4, 8} {
				b.Run(fmt.Sprintf("%dx%d/t=%d/n=%d", sh.rows, sh.cols, th, n), func(b *testing.B) {
					skipThreads(b, th)
					m := benchMatrix(sh)
					xs := make([]int8, n*m.Stride)
					fillX(rand.New(rand.NewPCG(3, 3)), xs, modeRandom)
					dst := make([]int64, n*m.Rows)
					p := NewPool(th)
					defer p.Close()
					for b.Loop() {
						p.MatMul(dst, m, xs, n)
					}
					reportMACs(b, float64(n*m.Rows*m.Cols))
					b.ReportMetric(weightBytes(m)*float64(b.N)/b.Elapsed().Seconds()/1e9, "weightGB/s")
				})
			}
		}
	}
}

// BenchmarkMemBandwidth: sequential read of a 1 GiB buffer, the bound on
// memory-bound decoding (weights bytes per token / this = seconds per token).
func BenchmarkMemBandwidth(b *testing.B) {
	const size = 1 << 30
	buf := make([]byte, size)
	for i := 0; i < size; i += 4096 {
		buf[i] = byte(i >> 12)
	}
	for _, impl := range implNames() {
		b.Run(impl, func(b *testing.B) {
			for b.Loop() {
				if impl == "avx2" {
					sink += int64(memSumAsm(buf))
				} else {
					sink += int64(memSumGo(buf))
				}
			}
			b.ReportMetric(float64(size)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GB/s")
		})
	}
}

// memSumGo sums 8-byte little-endian words, 4 independent accumulators.
func memSumGo(p []byte) uint64 {
	var a, c, d, e uint64
	for i := 0; i+32 <= len(p); i += 32 {
		w := p[i : i+32 : i+32]
		a += uint64(w[0]) | uint64(w[1])<<8 | uint64(w[2])<<16 | uint64(w[3])<<24 | uint64(w[4])<<32 | uint64(w[5])<<40 | uint64(w[6])<<48 | uint64(w[7])<<56
		c += uint64(w[8]) | uint64(w[9])<<8 | uint64(w[10])<<16 | uint64(w[11])<<24 | uint64(w[12])<<32 | uint64(w[13])<<40 | uint64(w[14])<<48 | uint64(w[15])<<56
		d += uint64(w[16]) | uint64(w[17])<<8 | uint64(w[18])<<16 | uint64(w[19])<<24 | uint64(w[20])<<32 | uint64(w[21])<<40 | uint64(w[22])<<48 | uint64(w[23])<<56
		e += uint64(w[24]) | uint64(w[25])<<8 | uint64(w[26])<<16 | uint64(w[27])<<24 | uint64(w[28])<<32 | uint64(w[29])<<40 | uint64(w[30])<<48 | uint64(w[31])<<56
	}
	return a + c + d + e
}
