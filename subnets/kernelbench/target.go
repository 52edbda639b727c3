package kernelbench

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

//go:embed target
var targetFS embed.FS

// TargetModule is the module path of the shipped target (its packages are also part of
// this repository, under subnets/kernelbench/target, so they are built and tested here).
const TargetModule = "github.com/tessera-net/tessera/subnets/kernelbench/target"

// WriteTarget writes the shipped target into dir (created, or empty) as a git
// repository with one commit, and returns that commit's id: the upstream a
// competition names and miners fork.
func WriteTarget(ctx context.Context, dir string) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	if entries, _ := os.ReadDir(dir); len(entries) > 0 {
		return "", fmt.Errorf("%s is not empty", dir)
	}
	err := fs.WalkDir(targetFS, "target", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel := strings.TrimPrefix(strings.TrimPrefix(p, "target"), "/")
		out := filepath.Join(dir, filepath.FromSlash(rel))
		if d.IsDir() {
			return os.MkdirAll(out, 0o755)
		}
		raw, err := targetFS.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(out, raw, 0o644)
	})
	if err != nil {
		return "", err
	}
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module "+TargetModule+"\n\ngo 1.22\n"), 0o644); err != nil {
		return "", err
	}
	if _, err := gitWork(ctx, dir, "init", "-q"); err != nil {
		return "", err
	}
	return CommitAll(ctx, dir, "the kernel league's target")
}

// gitWork runs git in a working copy the caller owns (its own repository, not a
// submission), with no configuration from outside and a fixed identity.
func gitWork(ctx context.Context, dir string, args ...string) ([]byte, error) {
	base := []string{"-c", "user.name=tessera", "-c", "user.email=kernelbench@tessera.invalid", "-c", "commit.gpgsign=false",
		"-c", "init.defaultBranch=main", "-c", "core.hooksPath=/dev/null"}
	return git(ctx, true, dir, append(base, args...)...)
}

// CommitAll commits every change in the working copy dir and returns the new commit.
func CommitAll(ctx context.Context, dir, message string) (string, error) {
	if _, err := gitWork(ctx, dir, "add", "-A"); err != nil {
		return "", err
	}
	if _, err := gitWork(ctx, dir, "commit", "-q", "--allow-empty", "-m", message); err != nil {
		return "", err
	}
	out, err := gitWork(ctx, dir, "rev-parse", "HEAD")
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(out)), nil
}

// CloneWork clones the repository at url into dir as a miner's working copy.
func CloneWork(ctx context.Context, url, dir string) error {
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return err
	}
	_, err := gitWork(ctx, filepath.Dir(dir), "clone", "-q", "--", url, dir)
	return err
}
