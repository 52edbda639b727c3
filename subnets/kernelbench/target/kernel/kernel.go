// Package kernel is the kernel the league's miners optimise: the forward pass of chunked
// linear attention with a decay (the computation of retention and of the
// flash-linear-attention "chunk" kernels, without the normalisation):
//
//	o[t] = Σ_{s ≤ t} γ^(t−s) (q[t]·k[s]) v[s]
//
// for every head, with q, k, v and o of shape [H][L][D] flattened row-major. The chunked
// form splits the sequence into chunks of ChunkSize tokens: inside a chunk the sum runs
// over the pairs directly; the tokens before the chunk reach it through the D×D state
// S = Σ_{s < c0} γ^(c0−1−s) k[s] v[s]ᵀ, carried from chunk to chunk.
//
// Only this directory may change in a submission; the harness (../harness) is the
// validator's and calls Forward. The validator compares o with its own reference, on
// inputs it draws afresh for every run, within the competition's tolerance.
package kernel

import (
	"math"
	"sync"
)

// Forward computes o from q, k and v (each of H·L·D values) for decay gamma.
func Forward(q, k, v, o []float32, H, L, D int, gamma float32) {
	pow := make([]float32, ChunkSize+1)
	for i := range pow {
		pow[i] = float32(math.Pow(float64(gamma), float64(i)))
	}
	heads := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < Workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			state := make([]float32, D*D)
			for h := range heads {
				n := L * D
				head(q[h*n:(h+1)*n], k[h*n:(h+1)*n], v[h*n:(h+1)*n], o[h*n:(h+1)*n], L, D, pow, state)
			}
		}()
	}
	for h := 0; h < H; h++ {
		heads <- h
	}
	close(heads)
	wg.Wait()
}

// head computes one head; state is D·D scratch.
func head(q, k, v, o []float32, L, D int, pow, state []float32) {
	clear(state)
	for c0 := 0; c0 < L; c0 += ChunkSize {
		c1 := min(c0+ChunkSize, L)
		for t := c0; t < c1; t++ {
			ot := o[t*D : (t+1)*D]
			qt := q[t*D : (t+1)*D]
			// From the tokens before the chunk: γ^(t−c0+1) · q[t] S.
			g := pow[t-c0+1]
			for j := 0; j < D; j++ {
				var acc float32
				for i := 0; i < D; i++ {
					acc += qt[i] * state[i*D+j]
				}
				ot[j] = g * acc
			}
			// Inside the chunk.
			for s := c0; s <= t; s++ {
				ks := k[s*D : (s+1)*D]
				var dot float32
				for i := 0; i < D; i++ {
					dot += qt[i] * ks[i]
				}
				a := pow[t-s] * dot
				vs := v[s*D : (s+1)*D]
				for j := 0; j < D; j++ {
					ot[j] += a * vs[j]
				}
			}
		}
		// Carry the state past the chunk: S ← γ^n S + Σ_s γ^(c1−1−s) k[s] v[s]ᵀ.
		gn := pow[c1-c0]
		for i := range state {
			state[i] *= gn
		}
		for s := c0; s < c1; s++ {
			g := pow[c1-1-s]
			ks := k[s*D : (s+1)*D]
			vs := v[s*D : (s+1)*D]
			for i := 0; i < D; i++ {
				a := g * ks[i]
				row := state[i*D : (i+1)*D]
				for j := 0; j < D; j++ {
					row[j] += a * vs[j]
				}
			}
		}
	}
}
