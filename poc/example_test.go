package poc_test

import (
	"crypto/sha256"
	"fmt"
	"slices"

	"github.com/tessera-net/tessera/poc"
)

// Example runs one MLNode's PoC and one validator's check of it: the participant
// computes nonces, keeps the valid ones, commits to them; the validator samples
// indices, verifies the served proofs, re-runs the nonces and applies the test.
func Example() {
	dims := poc.Dims{Layers: 1, Width: 64, Heads: 2, KVHeads: 1, FFN: 128, Vocab: 4096, SeqLen: 4}
	block := sha256.Sum256([]byte("PoC start block"))
	alice := sha256.Sum256([]byte("alice's hotkey"))
	r, err := poc.NewRunner(dims, block, 1)
	if err != nil {
		panic(err)
	}
	defer r.Close()

	// The participant's MLNode "node-0" computes nonces 0..1599 and keeps the hits.
	nonces := make([]uint64, 1600)
	for i := range nonces {
		nonces[i] = uint64(i)
	}
	var valid []uint64
	for _, res := range r.Run(alice, "node-0", nonces) {
		if poc.Valid(res.Distance, poc.DefaultThreshold) {
			valid = append(valid, res.Nonce)
		}
	}
	slices.Sort(valid)
	tree, _ := poc.NewTree(valid)
	c := tree.Commitment() // what goes on chain
	fmt.Println("valid nonces committed:", c.Count)

	// A validator samples 20 of them, checks the proofs and re-runs the nonces.
	validator := sha256.Sum256([]byte("validator key"))
	failures := 0
	idx := poc.SampleIndices(validator, block, alice, c.Count, 20)
	for _, i := range idx {
		p, _ := tree.Proof(i) // served by the participant
		if c.Verify(i, p) != nil {
			failures++
			continue
		}
		res := r.Run(alice, "node-0", []uint64{p.Nonce})[0]
		if !poc.Valid(res.Distance, poc.DefaultThreshold) {
			failures++
		}
	}
	test := poc.DefaultTest()
	fmt.Println("sampled:", len(idx), "failures:", failures, "rejected:", test.Reject(failures, len(idx)))
	fmt.Println("accepted:", poc.Accepted([]poc.Verdict{{Weight: 10, Accept: true}, {Weight: 4, Accept: true}, {Weight: 5, Accept: false}}))
	// Output:
	// valid nonces committed: 99
	// sampled: 20 failures: 0 rejected: false
	// accepted: true
}
