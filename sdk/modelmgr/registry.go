package modelmgr

import (
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"strings"
)

// Spec describes one version of a model artifact.
type Spec struct {
	// ID names the model, e.g. "llama-3-8b-instruct". Required.
	ID string
	// Version distinguishes artifacts of the same model, e.g. "q4_k_m-2024-05". Required.
	Version string
	// Path is the artifact's location on disk. Required.
	Path string
	// SHA256 is the artifact's expected digest, 64 hex digits. Required.
	SHA256 string
	// Metadata holds free-form attributes: framework, quantisation, licence…
	Metadata map[string]string
}

// String returns "id@version".
func (s Spec) String() string { return s.ID + "@" + s.Version }

func (s Spec) validate() (Spec, error) {
	var problems []string
	if strings.TrimSpace(s.ID) == "" {
		problems = append(problems, "ID is empty")
	}
	if strings.TrimSpace(s.Version) == "" {
		problems = append(problems, "Version is empty")
	}
	if s.Path == "" {
		problems = append(problems, "Path is empty")
	}
	digest := strings.ToLower(strings.TrimSpace(s.SHA256))
	if b, err := hex.DecodeString(digest); err != nil || len(b) != 32 {
		problems = append(problems, fmt.Sprintf("SHA256 %q is not 64 hex digits", s.SHA256))
	}
	if len(problems) > 0 {
		return s, fmt.Errorf("modelmgr: invalid spec for model %q version %q: %s",
			s.ID, s.Version, strings.Join(problems, "; "))
	}
	s.SHA256 = digest
	s.Metadata = maps.Clone(s.Metadata)
	return s, nil
}

// ErrNotRegistered is wrapped by errors about a model ID and version that
// are not in the registry.
var ErrNotRegistered = errors.New("model not registered")

// ErrAlreadyRegistered is wrapped by Register's error for a duplicate ID and version.
var ErrAlreadyRegistered = errors.New("model already registered")

// ErrChecksumMismatch matches every *ChecksumError through errors.Is.
var ErrChecksumMismatch = errors.New("checksum mismatch")

// ErrTooLarge is wrapped by the error of a load whose artifact alone exceeds MaxBytes.
var ErrTooLarge = errors.New("model larger than the cache's byte budget")

// ErrClosed is returned by Acquire and Load after Close.
var ErrClosed = errors.New("modelmgr: manager is closed")

// ChecksumError reports an artifact whose SHA-256 digest is not the one its
// spec records. The model was not loaded.
type ChecksumError struct {
	// ID, Version and Path identify the model and its artifact.
	ID, Version, Path string
	// Expected is the digest in the spec; Actual is the digest of the file.
	Expected, Actual string
}

// Error implements error.
func (e *ChecksumError) Error() string {
	return fmt.Sprintf("modelmgr: checksum mismatch for model %q version %q (%s): expected sha256 %s, got %s",
		e.ID, e.Version, e.Path, e.Expected, e.Actual)
}

// Is makes errors.Is(err, ErrChecksumMismatch) true.
func (e *ChecksumError) Is(target error) bool { return target == ErrChecksumMismatch }

func notRegistered(id, version string) error {
	return fmt.Errorf("modelmgr: model %q version %q: %w", id, version, ErrNotRegistered)
}
