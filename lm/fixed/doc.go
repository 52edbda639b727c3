// Package fixed holds the fixed-point mathematics of the deterministic LM
// engine's forward pass: rounding helpers, exact float→fixed conversion, e^x,
// ln x, 1/sqrt(x), sigmoid and SiLU, softmax / log-sum-exp / log-softmax,
// argmax and top-k, and the RoPE frequency and cos/sin tables.
//
// Everything except FromFloat32, FromFloat64 (exact bit manipulation) and
// ToFloat64 (display only) is integer code: no float arithmetic, no
// math.Exp/Log/Sin at run time or init time. Every table is built at init by
// the integer code described below and is checked by the tests against
// math/big to be the correctly rounded value of its definition, so an
// independent implementation reproduces the bits from this text alone. All
// functions are pure and safe for concurrent use.
//
// # Formats
//
//   - Qn: the integer v stands for v / 2^n. Activations, logits, log
//     probabilities and Exp/Sigmoid inputs are Q16 (int32); probabilities and
//     Exp/Sigmoid outputs are Q30 (uint32, in [0, 2^30]); InvSqrt's input and
//     output are Q32 (uint64); RoPE frequencies are Q62 radians per position
//     (int64); RoPE cos/sin are Q30 (int32, in [-2^30, 2^30]).
//   - round(v) below is round half away from zero; for non-negative values
//     that is floor(v + 1/2). "floor(a*b / 2^k)" products are computed
//     exactly in 128 bits (math/bits.Mul64) and truncated.
//   - mulHi(a, b) = floor(a*b / 2^64) for uint64 a, b.
//
// # Rounding helpers
//
// Rshr(v, n) = sign(v) * floor((|v| + 2^(n-1)) / 2^n) (n = 0: v; n >= 64:
// 0 except Rshr(MinInt64, 64) = -1). Rdiv(a, b) = a/b rounded half away from
// zero (q = floor(|a|/|b|), r = |a| mod |b|, q+1 if r >= |b|-r). Sat32 clamps
// to the int32 range. FromFloat32/FromFloat64(f, frac) = round(f * 2^frac)
// computed from the IEEE 754 fields (f = ±m * 2^e exactly), with ErrNaN,
// ErrInf, ErrRange.
//
// # Exp (Q16 → Q30)
//
// Exp(x) for x <= 0 (x > 0 is treated as 0 and gives 2^30; x < -2^21 gives
// 0 directly):
//
//	a = -x                                   (uint64, <= 2^21)
//	P = a * L, L = 13306513097844322492      (= round(log2(e) * 2^63); P is Q79, 128-bit)
//	k = P >> 79                              (integer part of -x*log2(e), <= 46)
//	f = (P >> 15) mod 2^64                   (fraction, Q64)
//	j = f >> 56, r = f mod 2^56              (table index, remainder < 2^-8 in Q64)
//	p = c5; p = c4 - mulHi(r, p); p = c3 - mulHi(r, p); p = c2 - mulHi(r, p);
//	p = c1 - mulHi(r, p); p = c0 - mulHi(r, p)      (2^-r in Q63)
//	E = floor(T[j] * p / 2^63)               (2^-f in Q62)
//	Exp = floor((E + 2^(31+k)) / 2^(32+k))   (0 if 32+k >= 64)
//
// with T[j] = round(2^(-j/256) * 2^62), j in [0, 256) (T[0] = 2^62), and
// c_n = round(ln(2)^n / n! * 2^63):
//
//	c0 = 9223372036854775808  c1 = 6393154322601327830  c2 = 2215698446797868712
//	c3 = 511935043789664227   c4 = 88711583058159475    c5 = 12298036735954530
//
// T is built at init as round(q120ExpNeg(floor(ln2_Q120 * j / 256)) / 2^58)
// (see "Q120" below). The internal error is below 1e-8 units of Q30, so
// Exp(x) = round(e^(x/2^16) * 2^30) except possibly where that value lies
// within 1e-8 of a half-integer; the exhaustive test over [-2^21, 0] finds
// the largest error against float64 to be 0.4999997 units and no
// misrounding. Exp(x) = 0 exactly for x <= -1408209; Exp is non-decreasing.
//
// # Sigmoid, SiLU (Q16 → Q30, Q16 → Q16)
//
// With e = Exp(-|x|): Sigmoid(x) = Rdiv(2^60, 2^30+e) for x >= 0 and
// Rdiv(e*2^30, 2^30+e) for x < 0; SiLU(x) = Rdiv(x*2^30, 2^30+e) for x >= 0
// and Rdiv(x*e, 2^30+e) for x < 0 (one rounding; |x| * 2^30 <= 2^61).
// Sigmoid(-x) = 2^30 - Sigmoid(x) exactly (ties cannot occur). Measured
// errors against float64: Sigmoid <= 0.997 units of Q30, SiLU <= 0.5004
// units of Q16. Both saturate: Sigmoid is 2^30 for x >= 1408209 and 0 for
// x <= -1408209; SiLU(x) = x for x >= 1408209 and 0 for x <= -1408209.
//
// # Log (x / 2^frac → Q16)
//
// Log(x, frac) = ln(x / 2^frac) in Q16 for x > 0 (Log(0, ·) = MinInt64,
// meaning -inf; frac > LogMaxFrac = 2^20 is treated as 2^20):
//
//	n  = bits.Len64(x) - 1, m = x << (63-n)            (mantissa in [1,2), Q63)
//	j  = (m >> 55) mod 256
//	R_j = ceil(2^70 / (256+j))                         (Q62, >= 1/(1+j/256))
//	z  = floor((m*R_j - 2^125) / 2^61)                 (m*R_j - 1 in [0, 2^-8], Q64)
//	p  = d5; p = d4 - mulHi(z, p); p = d3 - mulHi(z, p); p = d2 - mulHi(z, p);
//	p  = d1 - mulHi(z, p)
//	lm = G[j] + mulHi(z, p)                            (ln of the mantissa, Q63)
//	V  = (n - frac) * N + lm, N = 6393154322601327830  (= round(ln 2 * 2^63); 128-bit, signed)
//	Log = round(V / 2^47)                              (half away from zero)
//
// with d_n = round(2^63 / n): d1 = 2^63, d2 = 2^62, d3 = 3074457345618258603,
// d4 = 2^61, d5 = 1844674407370955162, and G[j] = round(ln(2^62 / R_j) *
// 2^63), built at init as round(q120LnRatio(2^62, R_j) / 2^57). The internal
// error is below 1e-9 units of Q16 plus frac * 2^-48 units (from N), so Log
// is the correctly rounded value except within that distance of a tie;
// tests (exhaustive x in [1, 2^22] for frac 0, 16, 30, 5.7 million random
// values over all bit lengths, math/big on a sample) find no misrounding and
// a largest error of 0.4999999 units. Log is non-decreasing in x.
//
// # InvSqrt (Q32 → Q32)
//
// InvSqrt(x) is the integer nearest to 2^48 / sqrt(x), i.e. 1/sqrt(x/2^32) in
// Q32 rounded to nearest (the unique y with (2y-1)^2 x <= 2^98 < (2y+1)^2 x;
// ties are impossible), for every x >= 1 (2^48 at x = 1, 2^16 at x = 2^64-1);
// InvSqrt(0) = MaxUint64. The result is exact by definition; the
// implementation (a 192-entry seed table, three Newton steps
// y' = y(3 - m y^2)/2 in Q63, then an exact 192-bit comparison that moves the
// candidate by ±1 until the inequality holds) is only one way to get it.
//
// # Softmax, LogSumExp, LogSoftmax (Q16 → Q30 / Q16)
//
// m = max_i src_i, e_i = Exp(Sat32(src_i - m)) (difference in int64),
// S = sum_i e_i (uint64, in [2^30, n*2^30]):
//
//	Softmax:    p_i = round(e_i * 2^30 / S): q = floor(e_i 2^30 / S), rem = e_i 2^30 mod S,
//	            p_i = q + 1 if rem >= S - rem else q     (e_i 2^30 <= 2^60)
//	LogSumExp:  m + Log(S, 30)                         (int64, Q16)
//	LogSoftmax: Sat32(src_i - LogSumExp(src))          (Q16, <= 0)
//
// MaxExpSum returns (m, S) so that a single log probability is
// src_t - m - Log(S, 30). Errors come from the Q30 rounding of each e_i:
// |p_i - true p_i * 2^30| <= 1 + p_i * n/2 units of Q30 and |LogSumExp -
// true| <= 0.5 + n * 2^-15 units of Q16 in the worst case. Measured: for
// 32000 logits with one dominant logit 20 above the rest, p errors reach 6.8e3
// units (6.4e-6 absolute, all Exp terms near 2.2 rounding the same way); for
// typical logits tens of units; LogSumExp within 0.56 units throughout.
//
// ArgMax returns the first index of the maximum (-1 if empty). TopK returns
// the k best indices by value descending then index ascending, with a size-k
// binary heap (O(n log k)).
//
// # RoPE
//
// RopeFreqs(base, dims) returns theta_i = round(base^(-2i/dims) * 2^62),
// i in [0, dims/2), base in Q16 (> 1.0), computed in Q120 (below) with an
// error under 2^-100 before rounding (so correctly rounded unless within 2^-100
// of a boundary; checked against math/big for the llama bases and others):
//
//	n   = bits.Len64(base) - 1
//	lb  = (n-16) * 2^120 + floor(q120LnRatio(base, 2^n) * log2e_Q120 / 2^120)
//	y   = floor(lb * 2i / dims)            (192-bit product, then division)
//	k   = y >> 120, f = y mod 2^120
//	v   = q120ExpNeg(floor(f * ln2_Q120 / 2^120))
//	theta_i = floor((v + 2^(57+k)) / 2^(58+k))
//
// RopeCosSin(freq, pos) returns (cos, sin) of pos*freq/2^62 radians in Q30;
// with mq(a, b) = floor(a*b / 2^62) on uint64:
//
//	t  = |pos| * |freq|                                 (128-bit, Q62)
//	u  = floor(t * I / 2^64) mod 2^64, I = 11743562013128004906
//	                                                    (I = round(2^66/(2 pi)); u = turns mod 1, Q64)
//	q  = u >> 62, v = u mod 2^62, j = v >> 54, r = v mod 2^54
//	d  = floor(r * W / 2^63), W = 14488038916154245685  (W = round(2 pi 2^61); d in Q62)
//	d2 = mq(d, d)
//	cd = 2^62 - mq(d2, C2 - mq(d2, C4 - mq(d2, C6)))
//	sd = mq(d, 2^62 - mq(d2, S3 - mq(d2, S5 - mq(d2, S7))))
//	s  = mq(A[j], cd) + mq(A[256-j], sd)                 (signed int64)
//	c  = mq(A[256-j], cd) - mq(A[j], sd)
//	(C, S) = (Rshr(c, 32), Rshr(s, 32))
//	(cos, sin) = (C, S), (-S, C), (-C, -S), (S, -C) for q = 0, 1, 2, 3;
//	sin = -sin if pos*freq < 0
//
// with A[j] = round(sin(j pi/512) * 2^62), j in [0, 256] (built at init as
// round(q120Sin(floor(pi_Q120 * j / 512)) / 2^58)), C2 = 2^61,
// C4 = 192153584101141163, C6 = 6405119470038039, S3 = 768614336404564651,
// S5 = 38430716820228233, S7 = 915017067148291 (round(2^62/n) for n = 2, 24,
// 720, 6, 120, 5040). For |pos| < 2^20 the result is within 0.5 + 1e-4 units
// of Q30 of the cos/sin of the exact angle pos*freq/2^62 (measured
// 0.499994 against a math/big-reduced reference; 0.503 against plain float64
// math.Cos(pos * math.Pow(base, -2i/dims)) for every pos < 32768, dims 4, 64,
// 128 and bases 10000, 500000, the excess being float64's own error).
// RopeTable lays out cos/sin as [pos*dims/2 + i].
//
// # Q120 (init-time and RopeFreqs arithmetic)
//
// A 128-bit unsigned v (internal/safemath.U128) stands for v / 2^120.
// Constants: ln2_Q120 =
// 0x00b17217f7d1cf79_abc9e3b39803f2f7, pi_Q120 =
// 0x03243f6a8885a308_d313198a2e037073, log2e_Q120 =
// 0x0171547652b82fe1_777d0ffda0d23a7d (each correctly rounded). Every
// product is floor(a*b / 2^120) and every division by an integer truncates.
//
//	q120ExpNeg(w), 0 <= w <= 1: t_0 = 2^120, t_k = floor(floor(t_(k-1) w / 2^120) / k)
//	    until t_k = 0; result = sum of even-k t_k - sum of odd-k t_k.
//	q120LnRatio(a, b), b <= a < 2b, a+b < 2^64 (ln(a/b) = 2 atanh(s)):
//	    s = floor((a-b) 2^120 / (a+b)), s2 = floor(s s / 2^120), p_0 = s,
//	    p_k = floor(p_(k-1) s2 / 2^120) until p_k = 0;
//	    result = 2 * sum_k floor(p_k / (2k+1)).
//	q120Sin(x), 0 <= x <= 2: x2 = floor(x x / 2^120), t_0 = x,
//	    t_k = floor(floor(t_(k-1) x2 / 2^120) / ((2k)(2k+1))) until t_k = 0;
//	    result = sum of even-k t_k - sum of odd-k t_k.
//
// The tests verify every table entry built this way equals the correctly
// rounded value, so a reimplementation may build the tables any way that
// gives correctly rounded values.
package fixed
