// Package e2e holds end-to-end tests that build the tessera binary and run real node
// processes on loopback: a 4-validator network that survives a killed validator, and a
// node killed with SIGKILL in the middle of a stream of transfers that loses nothing.
package e2e
