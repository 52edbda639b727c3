// Package store is Tessera's state storage: a merkleised, versioned key/value store (an
// IAVL tree over a cosmos-db backend) with one version per block and an app hash per
// version, plus in-memory write buffers (Cache) that let a transaction's writes be kept or
// thrown away as a whole.
//
// Writes reach the tree in sorted key order whatever order they were made in, because an
// AVL tree's shape (and so its hash) depends on the order of insertion.
//
// Concurrency: one writer (block execution: Working, Commit, Rollback) and any number of
// readers of saved versions (Committed, Proof, LastCommit) at once. The readers' views
// are opened through a tree of their own over the same database, so they never touch a
// node the writer mutates; TestCommittedReadsDuringBlockExecution checks it, and CI runs
// the package under the race detector.
//
// Values read (Get, Iterate) are the store's own bytes, not copies: a reader decodes them
// or copies what it changes, and never writes into them (Reader's contract). An epoch
// reads megabytes of rows that it only decodes.
package store
