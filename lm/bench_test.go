package lm

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tessera-net/tessera/lm/kernel"
)

// benchModelPath is a random model with TinyLlama-1.1B's dimensions written as Q8_0 by
// WriteRandom (what `tessera lm random --dims tinyllama-1.1b` writes), made once and
// kept in the temporary directory.
func benchModelPath(b *testing.B) string {
	b.Helper()
	dir := filepath.Join(os.TempDir(), "tessera-bench")
	path := filepath.Join(dir, "tinyllama-1.1b-random-q8_0.gguf")
	if _, err := os.Stat(path); err == nil {
		return path
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.Fatal(err)
	}
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	if _, err := WriteRandom(w, Presets["tinyllama-1.1b"], testSeed); err != nil {
		b.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		b.Fatal(err)
	}
	return path
}

var benchModels = map[int]*Model{}

func benchModel(b *testing.B, threads int) *Model {
	b.Helper()
	if m := benchModels[threads]; m != nil {
		return m
	}
	for t, m := range benchModels { // one model in memory at a time
		m.Close()
		delete(benchModels, t)
	}
	runtime.GC()
	m, err := Load(benchModelPath(b), Options{Threads: threads})
	if err != nil {
		b.Fatal(err)
	}
	benchModels[threads] = m
	return m
}

// BenchmarkTinyLlamaPrompt is prompt processing: 64 tokens through the model in one
// Forward, reported as tokens per second.
func BenchmarkTinyLlamaPrompt(b *testing.B) {
	for _, threads := range []int{1, 2} {
		b.Run(fmt.Sprintf("threads=%d", threads), func(b *testing.B) {
			m := benchModel(b, threads)
			prompt := make([]int32, 64)
			for i := range prompt {
				prompt[i] = int32(300 + 37*i)
			}
			b.ResetTimer()
			for b.Loop() {
				items := []Item{{Seq: m.NewSequence(), Tokens: prompt}}
				if err := m.Forward(items); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(len(prompt)*b.N)/b.Elapsed().Seconds(), "tokens/s")
		})
	}
}

// BenchmarkTinyLlamaDecode is generation: one token at a time after a 16-token prompt,
// reported as tokens per second, with the weight bytes read per token and the rate at
// which they were read (decoding reads every weight once per token).
func BenchmarkTinyLlamaDecode(b *testing.B) {
	for _, threads := range []int{1, 2} {
		b.Run(fmt.Sprintf("threads=%d", threads), func(b *testing.B) {
			m := benchModel(b, threads)
			seq := m.NewSequence()
			prompt := []int32{1, 450, 4996, 17354, 1701, 29916, 432, 17204, 975, 278, 17366, 11203, 29889, 13, 450, 4996}
			if err := m.Forward([]Item{{Seq: seq, Tokens: prompt}}); err != nil {
				b.Fatal(err)
			}
			tok := int32(100)
			b.ResetTimer()
			for b.Loop() {
				if seq.Len()+1 >= m.Config.Context {
					seq.Truncate(len(prompt))
				}
				items := []Item{{Seq: seq, Tokens: []int32{tok}}}
				if err := m.Forward(items); err != nil {
					b.Fatal(err)
				}
				tok = int32((int(tok)*31 + 7) % m.Config.Vocab)
			}
			s := b.Elapsed().Seconds() / float64(b.N)
			b.StopTimer()
			bw := memBandwidth()
			b.ReportMetric(1/s, "tokens/s")
			b.ReportMetric(float64(m.Bytes())/1e6, "weight-MB")
			b.ReportMetric(float64(m.Bytes())/s/1e9, "weight-GB/s")
			b.ReportMetric(bw/1e9, "mem-GB/s")
			b.ReportMetric(100*float64(m.Bytes())/s/bw, "%-of-bound")
		})
	}
}

// BenchmarkTinyLlamaBatchDecode decodes 4 sequences per Forward: the weights are read
// once per step for all of them.
func BenchmarkTinyLlamaBatchDecode(b *testing.B) {
	m := benchModel(b, 2)
	const n = 4
	seqs := make([]*Sequence, n)
	for i := range seqs {
		seqs[i] = m.NewSequence()
		if err := m.Forward([]Item{{Seq: seqs[i], Tokens: []int32{1, int32(450 + i)}}}); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	for b.Loop() {
		items := make([]Item, n)
		for i := range items {
			if seqs[i].Len()+1 >= m.Config.Context {
				seqs[i].Truncate(2)
			}
			items[i] = Item{Seq: seqs[i], Tokens: []int32{int32(500 + i)}}
		}
		if err := m.Forward(items); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "tokens/s")
}

// BenchmarkTinyLlamaMemory loads the model and generates 256 tokens, then reports the
// process's peak resident memory beside the file's size and the cache's: the engine
// should stay within file + cache + 10 %. Run it alone in its process (scripts/bench.sh
// does): the peak is the whole process's.
func BenchmarkTinyLlamaMemory(b *testing.B) {
	path := benchModelPath(b)
	st, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		start := time.Now()
		m, err := Load(path, Options{Threads: 2})
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(time.Since(start).Seconds(), "load-s")
		steps, _, err := m.Generate(context.Background(), Request{Prompt: []int32{1, 450}, MaxTokens: 256, IgnoreEOS: true}, nil)
		if err != nil {
			b.Fatal(err)
		}
		_ = steps
		// The cache a 256-token sequence holds (one that Generate dropped).
		kv := int64(m.Config.Layers) * 2 * int64(256+kvGrowth) * int64(m.Config.KVDim()) * 4
		peak := peakRSS(b)
		b.ReportMetric(float64(st.Size())/1e6, "file-MB")
		b.ReportMetric(float64(kv)/1e6, "kv-MB")
		b.ReportMetric(float64(peak)/1e6, "peak-RSS-MB")
		b.ReportMetric(100*float64(peak-st.Size()-kv)/float64(st.Size()), "overhead-%")
		m.Close()
	}
}

// memBandwidth is the read bandwidth of one core over a 1 GiB buffer
// (kernel.SumBytes, best of three), in bytes per second: with the model's size, the
// bound on decoding speed.
func memBandwidth() float64 {
	buf := make([]byte, 1<<30)
	for i := 0; i < len(buf); i += 4096 {
		buf[i] = byte(i >> 12)
	}
	best := 0.0
	for range 3 {
		start := time.Now()
		benchSink += kernel.SumBytes(buf)
		best = max(best, float64(len(buf))/time.Since(start).Seconds())
	}
	return best
}

var benchSink uint64

// peakRSS is VmHWM from /proc/self/status, in bytes.
func peakRSS(b *testing.B) int64 {
	raw, err := os.ReadFile("/proc/self/status")
	if err != nil {
		b.Skip("no /proc/self/status:", err)
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10
		}
	}
	b.Skip("no VmHWM in /proc/self/status")
	return 0
}
