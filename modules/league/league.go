// Package league holds the types of the chain's league module: code-optimisation
// competitions run on a subnet (the kernel league, subnets/kernelbench). The subnet's
// owner publishes a competition definition off chain and records its hash here; miners
// submit with commit-reveal — a hash of (salt, repository, commit, target length) first,
// the preimage at least RevealDelay blocks later — and the chain keeps, per hotkey, the
// last revealed submission together with the block its commit landed in, so that a
// judge can tell which of two identical submissions came first. Only hotkeys registered
// on the subnet may commit or reveal. It imports no store: the state and the rules are
// in package keeper below it.
//
// The rules (docs/kernelbench.md):
//   - league/define is signed by the subnet's owner (coldkey): it sets or replaces the
//     competition (definition hash, where it is published, reveal delay and window).
//   - league/commit is signed by a hotkey registered on the subnet; a later commit
//     replaces a pending one (and its block).
//   - league/reveal must come at least RevealDelay blocks after the commit (and, when
//     RevealWindow is set, at most RevealWindow blocks after it) and hash to the pending
//     commit (CommitHash binds the subnet and the hotkey, so a commit hash copied from
//     another hotkey never verifies). A reveal that does not match is refused and the
//     commit stays pending. A matching reveal replaces the hotkey's submission: one
//     entry per hotkey.
package league

import (
	"crypto/sha256"
	"encoding/binary"
	"strings"

	"github.com/tessera-net/tessera/keys"
	"github.com/tessera-net/tessera/tx"
)

// Name is the module name.
const Name = "league"

// Message types.
const (
	MsgDefine = "league/define"
	MsgCommit = "league/commit"
	MsgReveal = "league/reveal"
)

// Bounds on messages, against hostile input.
const (
	MaxURILen       = 256
	MaxRepoLen      = 256
	MinSaltLen      = 8
	MaxSaltLen      = 64
	MaxTargetLength = 1 << 24
	HashLen         = 32
)

// Define sets a subnet's competition; the signer must own the subnet.
type Define struct {
	Netuid uint16 `cbor:"1,keyasint"`
	// DefinitionHash is the SHA-256 of the definition file's bytes.
	DefinitionHash []byte `cbor:"2,keyasint"`
	// URI says where the definition is published (informative; judges verify the hash).
	URI string `cbor:"3,keyasint"`
	// RevealDelay is the least number of blocks between a commit and its reveal.
	RevealDelay uint64 `cbor:"4,keyasint"`
	// RevealWindow, when positive, is the most blocks a reveal may come after its commit.
	RevealWindow uint64 `cbor:"5,keyasint"`
}

// Commit commits the signer's (hotkey's) next submission by its hash (CommitHash).
type Commit struct {
	Netuid uint16 `cbor:"1,keyasint"`
	Hash   []byte `cbor:"2,keyasint"`
}

// Reveal reveals the signer's pending commit.
type Reveal struct {
	Netuid       uint16 `cbor:"1,keyasint"`
	Salt         []byte `cbor:"2,keyasint"`
	Repo         string `cbor:"3,keyasint"`
	Commit       string `cbor:"4,keyasint"` // 40 lowercase hex digits
	TargetLength uint32 `cbor:"5,keyasint"`
}

// NewDefine builds a league/define message.
func NewDefine(d Define) (tx.Msg, error) { return tx.NewMsg(MsgDefine, d) }

// NewCommit builds a league/commit message for the submission r of hotkey.
func NewCommit(hotkey keys.PublicKey, r Reveal) (tx.Msg, error) {
	h := CommitHash(r.Netuid, hotkey, r.Salt, r.Repo, r.Commit, r.TargetLength)
	return tx.NewMsg(MsgCommit, Commit{Netuid: r.Netuid, Hash: h[:]})
}

// NewReveal builds a league/reveal message.
func NewReveal(r Reveal) (tx.Msg, error) { return tx.NewMsg(MsgReveal, r) }

// CommitHash is the hash a commit carries: SHA-256 of a domain tag, the subnet, the
// hotkey and the length-prefixed salt, repository and commit, then the target length.
// Binding the hotkey means a hash copied from another miner's commit never verifies.
func CommitHash(netuid uint16, hotkey keys.PublicKey, salt []byte, repo, commit string, targetLength uint32) [32]byte {
	h := sha256.New()
	h.Write([]byte("tessera/league/commit/v1"))
	var b [8]byte
	binary.BigEndian.PutUint16(b[:2], netuid)
	h.Write(b[:2])
	h.Write(hotkey[:])
	for _, part := range [][]byte{salt, []byte(repo), []byte(commit)} {
		binary.BigEndian.PutUint32(b[:4], uint32(len(part)))
		h.Write(b[:4])
		h.Write(part)
	}
	binary.BigEndian.PutUint32(b[:4], targetLength)
	h.Write(b[:4])
	var out [32]byte
	h.Sum(out[:0])
	return out
}

// CheckReveal checks a reveal's fields on their own (not against a commit). The error
// is coded and names the field.
func CheckReveal(r Reveal) error {
	switch {
	case len(r.Salt) < MinSaltLen || len(r.Salt) > MaxSaltLen:
		return tx.Errorf(tx.CodeInvalidMessage, "salt is %d bytes, want %d to %d", len(r.Salt), MinSaltLen, MaxSaltLen)
	case r.Repo == "" || len(r.Repo) > MaxRepoLen:
		return tx.Errorf(tx.CodeInvalidMessage, "repo is %d bytes, want 1 to %d", len(r.Repo), MaxRepoLen)
	case !printable(r.Repo):
		return tx.Errorf(tx.CodeInvalidMessage, "repo holds a space or a control character")
	case !IsCommitID(r.Commit):
		return tx.Errorf(tx.CodeInvalidMessage, "commit %q is not 40 lowercase hex digits", trunc(r.Commit))
	case r.TargetLength == 0 || r.TargetLength > MaxTargetLength:
		return tx.Errorf(tx.CodeInvalidMessage, "target_length %d is not in 1..%d", r.TargetLength, MaxTargetLength)
	}
	return nil
}

// IsCommitID reports whether s is a full git commit id: 40 lowercase hex digits.
func IsCommitID(s string) bool {
	if len(s) != 40 {
		return false
	}
	for _, c := range s {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

func printable(s string) bool {
	for _, c := range s {
		if c <= ' ' || c == 0x7f {
			return false
		}
	}
	return true
}

func trunc(s string) string {
	if len(s) > 48 {
		return s[:48] + "…"
	}
	return strings.ToValidUTF8(s, "?")
}

// Params are the module's chain-wide parameters.
type Params struct {
	// MinRevealDelay bounds a competition's RevealDelay from below (blocks).
	MinRevealDelay uint64 `cbor:"1,keyasint" json:"min_reveal_delay"`
	// MaxRevealDelay bounds RevealDelay and RevealWindow from above (blocks).
	MaxRevealDelay uint64 `cbor:"2,keyasint" json:"max_reveal_delay"`
}

// DefaultParams: reveals at least one block after their commit, delays up to 100,000
// blocks.
func DefaultParams() Params { return Params{MinRevealDelay: 1, MaxRevealDelay: 100_000} }

// Validate checks the parameters.
func (p Params) Validate() error {
	if p.MinRevealDelay == 0 {
		return tx.Errorf(tx.CodeInvalidMessage, "min_reveal_delay must be positive")
	}
	if p.MaxRevealDelay < p.MinRevealDelay {
		return tx.Errorf(tx.CodeInvalidMessage, "max_reveal_delay %d is below min_reveal_delay %d", p.MaxRevealDelay, p.MinRevealDelay)
	}
	return nil
}

// Genesis is the module's genesis state.
type Genesis struct {
	Params *Params `json:"params,omitempty"`
}

// Competition is a subnet's competition as stored and as "competition/<netuid>"
// answers it.
type Competition struct {
	Netuid         uint16 `cbor:"1,keyasint" json:"netuid"`
	DefinitionHash []byte `cbor:"2,keyasint" json:"-"`
	URI            string `cbor:"3,keyasint" json:"uri"`
	RevealDelay    uint64 `cbor:"4,keyasint" json:"reveal_delay"`
	RevealWindow   uint64 `cbor:"5,keyasint" json:"reveal_window"`
	// Block is the height the definition was set at.
	Block uint64 `cbor:"6,keyasint" json:"block"`
	// HashHex is DefinitionHash in hex (query answers only).
	HashHex string `cbor:"-" json:"definition_hash"`
}

// PendingCommit is a commit waiting for its reveal.
type PendingCommit struct {
	Hash  []byte `cbor:"1,keyasint" json:"-"`
	Block uint64 `cbor:"2,keyasint" json:"block"`
	// HashHex is Hash in hex (query answers only).
	HashHex string `cbor:"-" json:"hash"`
}

// Submission is a hotkey's revealed submission, as stored (without the hotkey, which is
// its key) and in query answers.
type Submission struct {
	Hotkey       string `cbor:"-" json:"hotkey"`
	Repo         string `cbor:"1,keyasint" json:"repo"`
	Commit       string `cbor:"2,keyasint" json:"commit"`
	TargetLength uint32 `cbor:"3,keyasint" json:"target_length"`
	// CommitBlock is the block the commit landed in: what "first to commit" compares.
	CommitBlock uint64 `cbor:"4,keyasint" json:"commit_block"`
	RevealBlock uint64 `cbor:"5,keyasint" json:"reveal_block"`
	// Seq numbers the subnet's reveals in order (from 1).
	Seq uint64 `cbor:"6,keyasint" json:"seq"`
}

// Submissions answers "submissions/<netuid>": every revealed submission, by hotkey.
type Submissions struct {
	Netuid      uint16       `json:"netuid"`
	Submissions []Submission `json:"submissions"`
}
