// Package store is Tessera's state storage: a merkleised, versioned key/value store (an
// IAVL tree over a cosmos-db backend) with one version per block and an app hash per
// version, plus in-memory write buffers (Cache) that let a transaction's writes be kept or
// thrown away as a whole.
//
// Writes reach the tree in sorted key order whatever order they were made in, because an
// AVL tree's shape (and so its hash) depends on the order of insertion.
package store
