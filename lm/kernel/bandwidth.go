package kernel

// SumBytes reads every byte of p with the fastest loop this CPU has (the AVX2 loop of
// the kernels when they are on) and returns a checksum that keeps the reads from being
// optimised away. Benchmarks time it over a buffer far larger than the caches to state
// the memory bandwidth beside the engine's figures: decoding reads every weight once per
// token, so weights / bandwidth bounds its speed.
func SumBytes(p []byte) uint64 {
	n := len(p) &^ 31
	var s uint64
	if n > 0 && Impl() == "avx2" {
		s = memSumAsm(p[:n])
	} else {
		s = memSumGo(p[:n])
	}
	for _, b := range p[n:] {
		s += uint64(b)
	}
	return s
}

// memSumGo sums 8-byte little-endian words, 4 independent accumulators (len(p) a
// multiple of 32).
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
