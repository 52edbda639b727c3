// Package linattn is the validator's side of the kernel league's computation: fresh
// random inputs, the reference forward pass of linear attention with decay, the
// comparison of a kernel's output with it, and the request and answer encoding the
// target's harness speaks. It is pure: no clock, no disk, no network.
//
// The computation, for every head: o[t] = Σ_{s ≤ t} γ^(t−s) (q[t]·k[s]) v[s], with q, k,
// v and o of shape [H][L][D] flattened row-major.
package linattn

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
)

// Shape is one run's shape and decay.
type Shape struct {
	H, L, D int
	Gamma   float32
}

// N is the number of values in each of q, k, v and o.
func (s Shape) N() int { return s.H * s.L * s.D }

// Inputs are one run's q, k and v.
type Inputs struct {
	Shape
	Q, K, V []float32
}

// Generate draws inputs from seed: each value uniform in [-0.5, 0.5). A validator
// draws a fresh seed for every run, so a kernel cannot answer from a cache.
func Generate(seed [32]byte, s Shape) *Inputs {
	rng := rand.New(rand.NewChaCha8(seed))
	in := &Inputs{Shape: s, Q: make([]float32, s.N()), K: make([]float32, s.N()), V: make([]float32, s.N())}
	for _, x := range [][]float32{in.Q, in.K, in.V} {
		for i := range x {
			// 24 random bits: exact in float32.
			x[i] = float32(rng.Uint32()>>8)/(1<<24) - 0.5
		}
	}
	return in
}

// Reference computes o in float64 with the recurrent form: S ← γS + k[t] v[t]ᵀ,
// o[t] = q[t] S.
func Reference(in *Inputs) []float64 {
	H, L, D := in.H, in.L, in.D
	g := float64(in.Gamma)
	out := make([]float64, in.N())
	S := make([]float64, D*D)
	for h := 0; h < H; h++ {
		clear(S)
		base := h * L * D
		for t := 0; t < L; t++ {
			off := base + t*D
			k, v, q := in.K[off:off+D], in.V[off:off+D], in.Q[off:off+D]
			for i := 0; i < D; i++ {
				ki := float64(k[i])
				row := S[i*D : (i+1)*D]
				for j := 0; j < D; j++ {
					row[j] = g*row[j] + ki*float64(v[j])
				}
			}
			o := out[off : off+D]
			for i := 0; i < D; i++ {
				qi := float64(q[i])
				row := S[i*D : (i+1)*D]
				for j := 0; j < D; j++ {
					o[j] += qi * row[j]
				}
			}
		}
	}
	return out
}

// Compare checks a kernel's output against the reference: same length, every value
// finite, and the largest absolute difference at most tol times the largest absolute
// reference value. It returns that largest difference, relative to the largest value.
func Compare(got []float32, ref []float64, tol float64) (relErr float64, err error) {
	if len(got) != len(ref) {
		return math.Inf(1), fmt.Errorf("the output has %d values, want %d", len(got), len(ref))
	}
	var maxRef, maxDiff float64
	for i, r := range ref {
		x := float64(got[i])
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return math.Inf(1), fmt.Errorf("output value %d is %v", i, x)
		}
		maxRef = max(maxRef, math.Abs(r))
		maxDiff = max(maxDiff, math.Abs(x-r))
	}
	if maxRef == 0 {
		maxRef = 1
	}
	relErr = maxDiff / maxRef
	if relErr > tol {
		return relErr, fmt.Errorf("the output differs from the reference by %.3g of its largest value (tolerance %.3g)", relErr, tol)
	}
	return relErr, nil
}

// Request and answer magics of the harness protocol.
const (
	RequestMagic = "KBq1"
	AnswerMagic  = "KBo1"
)

// WriteRequest writes in as one harness request.
func WriteRequest(w io.Writer, in *Inputs) error {
	hdr := make([]byte, 0, 20)
	hdr = append(hdr, RequestMagic...)
	hdr = binary.LittleEndian.AppendUint32(hdr, uint32(in.H))
	hdr = binary.LittleEndian.AppendUint32(hdr, uint32(in.L))
	hdr = binary.LittleEndian.AppendUint32(hdr, uint32(in.D))
	hdr = binary.LittleEndian.AppendUint32(hdr, math.Float32bits(in.Gamma))
	if _, err := w.Write(hdr); err != nil {
		return err
	}
	buf := make([]byte, 4*in.N())
	for _, x := range [][]float32{in.Q, in.K, in.V} {
		for i, f := range x {
			binary.LittleEndian.PutUint32(buf[4*i:], math.Float32bits(f))
		}
		if _, err := w.Write(buf); err != nil {
			return err
		}
	}
	return nil
}

// ErrBadAnswer is an answer that does not start with the answer magic.
var ErrBadAnswer = errors.New("the harness's answer does not start with " + AnswerMagic)

// ReadAnswer reads one answer of n values.
func ReadAnswer(r io.Reader, n int) ([]float32, error) {
	buf := make([]byte, 4+4*n)
	if _, err := io.ReadFull(r, buf); err != nil {
		return nil, fmt.Errorf("reading the answer: %w", err)
	}
	if string(buf[:4]) != AnswerMagic {
		return nil, ErrBadAnswer
	}
	out := make([]float32, n)
	for i := range out {
		out[i] = math.Float32frombits(binary.LittleEndian.Uint32(buf[4+4*i:]))
	}
	return out, nil
}
