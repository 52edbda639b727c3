package fixed

import (
	"math/rand/v2"
	"strconv"
	"testing"
)

var (
	sinkU32 uint32
	sinkI32 int32
	sinkI64 int64
	sinkU64 uint64
	sinkInt int
)

func benchInputs(n int, f func(r *rand.Rand) int32) []int32 {
	r := rand.New(rand.NewPCG(99, 100))
	out := make([]int32, n)
	for i := range out {
		out[i] = f(r)
	}
	return out
}

func BenchmarkRshr(b *testing.B) {
	var s int64
	for i := range b.N {
		s += Rshr(int64(i)*0x1e3779b97f4a7c15, uint(i&31))
	}
	sinkI64 = s
}

func BenchmarkRdiv(b *testing.B) {
	var s int64
	for i := range b.N {
		s += Rdiv(int64(i)*0x1e3779b97f4a7c15, int64(i|1))
	}
	sinkI64 = s
}

func BenchmarkFromFloat32(b *testing.B) {
	var s int64
	for i := range b.N {
		v, _ := FromFloat32(float32(i)*1e-3, 16)
		s += v
	}
	sinkI64 = s
}

func BenchmarkExp(b *testing.B) {
	in := benchInputs(1024, func(r *rand.Rand) int32 { return -int32(r.IntN(20 << 16)) })
	var s uint32
	for i := range b.N {
		s += Exp(in[i&1023])
	}
	sinkU32 = s
}

func BenchmarkLog(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 1))
	in := make([]uint64, 1024)
	for i := range in {
		in[i] = 1<<30 + r.Uint64N(1<<45)
	}
	var s int64
	for i := range b.N {
		s += Log(in[i&1023], 30)
	}
	sinkI64 = s
}

func BenchmarkInvSqrt(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	in := make([]uint64, 1024)
	for i := range in {
		in[i] = 1 + r.Uint64()>>r.UintN(64)
	}
	var s uint64
	for i := range b.N {
		s += InvSqrt(in[i&1023])
	}
	sinkU64 = s
}

func BenchmarkSigmoid(b *testing.B) {
	in := benchInputs(1024, func(r *rand.Rand) int32 { return int32(r.IntN(20<<16)) - 10<<16 })
	var s uint32
	for i := range b.N {
		s += Sigmoid(in[i&1023])
	}
	sinkU32 = s
}

func BenchmarkSiLU(b *testing.B) {
	in := benchInputs(1024, func(r *rand.Rand) int32 { return int32(r.IntN(20<<16)) - 10<<16 })
	var s int32
	for i := range b.N {
		s += SiLU(in[i&1023])
	}
	sinkI32 = s
}

func benchLogits(n int) []int32 {
	return benchInputs(n, func(r *rand.Rand) int32 { return int32(r.NormFloat64() * 3 * q16) })
}

func BenchmarkSoftmax32000(b *testing.B) {
	src := benchLogits(32000)
	dst := make([]uint32, len(src))
	for range b.N {
		dst = Softmax(dst, src)
	}
}

func BenchmarkSoftmax4096(b *testing.B) {
	src := benchLogits(4096)
	dst := make([]uint32, len(src))
	for range b.N {
		dst = Softmax(dst, src)
	}
}

func BenchmarkLogSumExp32000(b *testing.B) {
	src := benchLogits(32000)
	for range b.N {
		sinkI64 = LogSumExp(src)
	}
}

func BenchmarkLogSoftmax32000(b *testing.B) {
	src := benchLogits(32000)
	dst := make([]int32, len(src))
	for range b.N {
		dst = LogSoftmax(dst, src)
	}
}

func BenchmarkArgMax32000(b *testing.B) {
	src := benchLogits(32000)
	for range b.N {
		sinkInt = ArgMax(src)
	}
}

func BenchmarkTopK32000(b *testing.B) {
	src := benchLogits(32000)
	for _, k := range []int{1, 40, 1000} {
		b.Run("k="+strconv.Itoa(k), func(b *testing.B) {
			dst := make([]int, 0, k)
			for range b.N {
				dst = TopK(src, k, dst)
			}
		})
	}
}

func BenchmarkRopeCosSin(b *testing.B) {
	fr, _ := RopeFreqs(10000<<16, 128)
	var s int32
	for i := range b.N {
		c, sn := RopeCosSin(fr[i&63], i&32767)
		s += c + sn
	}
	sinkI32 = s
}

func BenchmarkRopeFreqs128(b *testing.B) {
	for range b.N {
		fr, _ := RopeFreqs(500000<<16, 128)
		sinkI64 = fr[1]
	}
}

func BenchmarkRopeTable128x4096(b *testing.B) {
	for range b.N {
		c, _, _ := RopeTable(10000<<16, 128, 4096)
		sinkI32 = c[1]
	}
}
