package kernel

// Tuning knobs. Each is a constant on its own line with its range in a "knob:" comment;
// `tessera kernelbench mine --proposer knobs` searches them, and any change to this
// directory (kernel/) is allowed: the knobs are where to start, not the limit.
const (
	// ChunkSize is the number of tokens per chunk: the intra-chunk part costs
	// L·ChunkSize·D multiply-adds, the inter-chunk part L·D² whatever the chunk size.
	ChunkSize = 64 // knob: 4..512
	// Workers is how many heads are computed at once, one goroutine each.
	Workers = 1 // knob: 1..16
)
