package fixed

import "math"

// MaxExpSum returns m = max(src) and S = sum_i Exp(Sat32(src_i - m)) (the
// difference taken in int64), the two quantities that Softmax, LogSumExp and
// a single log-probability src_t - m - Log(S, 30) are built from. S is in
// [2^30, len(src) * 2^30] (it cannot overflow for len(src) < 2^33). For an
// empty src it returns (0, 0).
func MaxExpSum(src []int32) (m int32, s uint64) {
	if len(src) == 0 {
		return 0, 0
	}
	m = src[0]
	for _, v := range src[1:] {
		if v > m {
			m = v
		}
	}
	for _, v := range src {
		s += uint64(Exp(Sat32(int64(v) - int64(m))))
	}
	return m, s
}

// Softmax writes the Q30 probabilities of the Q16 logits src to
// dst[:len(src)] and returns that slice (dst is reused when cap(dst) >=
// len(src), otherwise a new slice is allocated). With m, S = MaxExpSum(src)
// and e_i = Exp(Sat32(src_i - m)): p_i = round(e_i * 2^30 / S) half up
// (e_i * 2^30 <= 2^60 and S >= 2^30, so p_i is in [0, 2^30]). The p_i sum
// to 2^30 within ±len(src)/2. Because each e_i is rounded to Q30 before the
// sum, |p_i - P_i * 2^30| <= 1 + P_i * len(src)/2 units, P_i the true
// probability (worst case; see the package documentation for measured
// values). An empty src gives dst[:0].
func Softmax(dst []uint32, src []int32) []uint32 {
	if cap(dst) < len(src) {
		dst = make([]uint32, len(src))
	}
	dst = dst[:len(src)]
	if len(src) == 0 {
		return dst
	}
	m := src[0]
	for _, v := range src[1:] {
		if v > m {
			m = v
		}
	}
	var s uint64
	for i, v := range src {
		e := Exp(Sat32(int64(v) - int64(m)))
		dst[i] = e
		s += uint64(e)
	}
	for i, e := range dst {
		dst[i] = uint32(rdivU(uint64(e)<<30, s))
	}
	return dst
}

// LogSumExp returns ln(sum_i e^(src_i)) in Q16 for Q16 src: with m, S =
// MaxExpSum(src), it is m + Log(S, 30). An empty src gives math.MinInt64
// (-inf). Besides Log's rounding (0.5 unit), the error comes from the Q30
// rounding of each Exp term (at most 0.5 unit of Q30 each), i.e. at most
// len(src) * 2^-15 units of Q16 in the worst case (far less in practice,
// see the tests).
func LogSumExp(src []int32) int64 {
	if len(src) == 0 {
		return math.MinInt64
	}
	m, s := MaxExpSum(src)
	return int64(m) + Log(s, 30)
}

// LogSoftmax writes dst_i = Sat32(src_i - LogSumExp(src)) (Q16 log
// probabilities, all <= 0, with LogSumExp's error) to dst[:len(src)] and returns it; dst is reused
// when cap(dst) >= len(src), and dst may be src itself (in-place). An empty
// src gives dst[:0].
func LogSoftmax(dst []int32, src []int32) []int32 {
	n := len(src)
	if n == 0 {
		return dst[:0]
	}
	lse := LogSumExp(src)
	if cap(dst) < n {
		dst = make([]int32, n)
	}
	dst = dst[:n]
	for i, v := range src {
		dst[i] = Sat32(int64(v) - lse)
	}
	return dst
}

// ArgMax returns the index of the largest element of src, the lowest such
// index on ties, or -1 for an empty src.
func ArgMax(src []int32) int {
	if len(src) == 0 {
		return -1
	}
	best := 0
	for i, v := range src[1:] {
		if v > src[best] {
			best = i + 1
		}
	}
	return best
}

// TopK returns the indices of the k largest elements of src, ordered by value
// descending and, among equal values, by index ascending (so TopK(src, 1, nil)
// is [ArgMax(src)]). k is clamped to [0, len(src)]. The result is written to
// dst[:0] (reused when cap(dst) >= k, appended otherwise). It keeps a binary
// min-heap of the best k seen so far, so it takes O(n log k) time and no
// allocation beyond dst.
func TopK(src []int32, k int, dst []int) []int {
	dst = dst[:0]
	if k > len(src) {
		k = len(src)
	}
	if k <= 0 {
		return dst
	}
	for i := range k {
		dst = append(dst, i)
	}
	h := dst
	// worse(a, b): element a ranks after element b.
	worse := func(a, b int) bool {
		return src[a] < src[b] || (src[a] == src[b] && a > b)
	}
	down := func(i, n int) {
		for {
			l := 2*i + 1
			if l >= n {
				return
			}
			w := l
			if r := l + 1; r < n && worse(h[r], h[l]) {
				w = r
			}
			if !worse(h[w], h[i]) {
				return
			}
			h[i], h[w] = h[w], h[i]
			i = w
		}
	}
	for i := k/2 - 1; i >= 0; i-- {
		down(i, k)
	}
	for i := k; i < len(src); i++ {
		// A later index with an equal value ranks after the root.
		if src[i] > src[h[0]] {
			h[0] = i
			down(0, k)
		}
	}
	// Heap sort: move the worst remaining to the end each time.
	for n := k - 1; n > 0; n-- {
		h[0], h[n] = h[n], h[0]
		down(0, n)
	}
	return h
}
