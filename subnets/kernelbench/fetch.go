package kernelbench

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"go/parser"
	"go/scanner"
	"go/token"
	"io"
	"io/fs"
	"net/url"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// RejectError is a submission refused before it ran: a bad repository URL, a fetch
// that failed, a change outside the allowed directory, a broken import rule. Reason
// is a short category the leaderboard shows ("url", "fetch", "tree", "imports").
type RejectError struct {
	Reason string
	Msg    string
}

func (e *RejectError) Error() string { return e.Reason + ": " + e.Msg }

func reject(reason, format string, args ...any) error {
	return &RejectError{Reason: reason, Msg: fmt.Sprintf(format, args...)}
}

var repoPathRE = regexp.MustCompile(`^/[A-Za-z0-9][A-Za-z0-9._-]{0,99}/[A-Za-z0-9][A-Za-z0-9._-]{0,99}$`)

// CheckRepoURL checks a submission's repository against the definition: https to an
// allowed host as https://HOST/OWNER/NAME[.git] with nothing else (no user, port,
// query, fragment, dot segments or escapes), or, where the definition allows it,
// file:///PATH with a clean absolute path below one of its roots. It returns the URL
// to hand to git.
func CheckRepoURL(f FetchRules, raw string) (string, error) {
	if raw == "" || len(raw) > 256 || strings.HasPrefix(raw, "-") {
		return "", reject("url", "%q is empty, too long or starts with '-'", trunc(raw))
	}
	for _, c := range raw {
		if c <= ' ' || c == 0x7f || c == '\\' || c == '%' || c >= 0x80 {
			return "", reject("url", "%q holds a space, a control, escape or non-ASCII character", trunc(raw))
		}
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "", reject("url", "%q does not parse: %v", trunc(raw), err)
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" || u.Opaque != "" || strings.Contains(raw, "?") || strings.Contains(raw, "#") {
		return "", reject("url", "%q may not carry a user, a query, a fragment or an opaque part", trunc(raw))
	}
	switch u.Scheme {
	case "https":
		host := u.Host
		if u.Port() != "" || !contains(f.AllowedHosts, host) {
			return "", reject("url", "host %q is not one of the allowed hosts %v (and no port may be given)", host, f.AllowedHosts)
		}
		p := strings.TrimSuffix(u.Path, ".git")
		if !repoPathRE.MatchString(p) || strings.Contains(p, "..") {
			return "", reject("url", "path %q is not /OWNER/NAME", u.Path)
		}
		return "https://" + host + p, nil
	case "file":
		if !f.AllowFile {
			return "", reject("url", "file:// repositories are not allowed by this competition")
		}
		if u.Host != "" {
			return "", reject("url", "file URL %q names a host", trunc(raw))
		}
		p := u.Path
		if !strings.HasPrefix(p, "/") || path.Clean(p) != p || strings.Contains(p, "/.") {
			return "", reject("url", "file path %q is not clean (no dot segments, no hidden directories)", p)
		}
		real, err := filepath.EvalSymlinks(p)
		if err != nil {
			return "", reject("url", "file path %q: %v", p, err)
		}
		for _, root := range f.FileRoots {
			rroot, err := filepath.EvalSymlinks(root)
			if err != nil {
				continue
			}
			if rel, err := filepath.Rel(rroot, real); err == nil && rel != "." && rel != ".." && !strings.HasPrefix(rel, "../") {
				return "file://" + real, nil
			}
		}
		return "", reject("url", "file path %q is not below an allowed root %v", p, f.FileRoots)
	}
	return "", reject("url", "scheme %q is not allowed (https only%s)", u.Scheme, map[bool]string{true: ", or file://"}[f.AllowFile])
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func trunc(s string) string {
	if len(s) > 80 {
		return s[:80] + "…"
	}
	return s
}

// gitEnv is the environment every git command runs with: no system or global
// configuration, no prompts, only the protocols the URL check allowed.
func gitEnv(allowFile bool) []string {
	protos := "https"
	if allowFile {
		protos = "https:file"
	}
	return []string{"PATH=" + os.Getenv("PATH"), "HOME=/nonexistent", "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=/dev/null",
		"GIT_TERMINAL_PROMPT=0", "GIT_ALLOW_PROTOCOL=" + protos, "GIT_ASKPASS=/bin/false", "SSH_ASKPASS=/bin/false",
		"LC_ALL=C"}
}

// git runs git with the hardened environment in dir and returns its standard output.
func git(ctx context.Context, allowFile bool, dir string, args ...string) ([]byte, error) {
	base := []string{"-c", "core.hooksPath=/dev/null", "-c", "protocol.allow=never", "-c", "protocol.https.allow=always",
		"-c", "transfer.fsckObjects=true", "-c", "core.symlinks=false", "-c", "submodule.recurse=false"}
	if allowFile {
		base = append(base, "-c", "protocol.file.allow=always")
	}
	cmd := exec.CommandContext(ctx, "git", append(base, args...)...)
	cmd.Dir = dir
	cmd.Env = gitEnv(allowFile)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		msg := strings.TrimSpace(stderr.String())
		if len(msg) > 300 {
			msg = msg[:300]
		}
		return out, fmt.Errorf("git %s: %v: %s", args[0], err, msg)
	}
	return out, nil
}

// Repo is one fetched commit in a bare repository of its own.
type Repo struct {
	Dir       string // the bare repository
	Commit    string
	allowFile bool
}

// FetchCommit fetches commit (only) from rawURL into a new bare repository under
// work, within the definition's time and size limits. The caller removes Dir.
func FetchCommit(ctx context.Context, f FetchRules, work, rawURL, commit string) (*Repo, error) {
	u, err := CheckRepoURL(f, rawURL)
	if err != nil {
		return nil, err
	}
	if !isCommitID(commit) {
		return nil, reject("fetch", "commit %q is not 40 lowercase hex digits", trunc(commit))
	}
	dir, err := os.MkdirTemp(work, "repo-*")
	if err != nil {
		return nil, err
	}
	r := &Repo{Dir: dir, Commit: commit, allowFile: f.AllowFile}
	ctx, cancel := context.WithTimeout(ctx, time.Duration(f.TimeoutSeconds)*time.Second)
	defer cancel()
	if _, err := git(ctx, f.AllowFile, dir, "init", "--bare", "-q", "."); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	if _, err := git(ctx, f.AllowFile, dir, "fetch", "-q", "--no-tags", "--no-recurse-submodules", "--depth=1", "--", u, commit); err != nil {
		os.RemoveAll(dir)
		return nil, reject("fetch", "%v", err)
	}
	size, err := dirSize(dir)
	if err != nil || size > f.MaxRepoBytes {
		os.RemoveAll(dir)
		return nil, reject("fetch", "the fetched repository is %d bytes, the limit is %d", size, f.MaxRepoBytes)
	}
	if _, err := git(ctx, f.AllowFile, dir, "cat-file", "-e", commit+"^{commit}"); err != nil {
		os.RemoveAll(dir)
		return nil, reject("fetch", "commit %s is not in the fetched repository", commit)
	}
	return r, nil
}

func dirSize(dir string) (int64, error) {
	var n int64
	err := filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if info, err := d.Info(); err == nil && info.Mode().IsRegular() {
			n += info.Size()
		}
		return nil
	})
	return n, err
}

// TreeEntry is one file of a commit's tree.
type TreeEntry struct {
	Mode, Type, Object string
	Size               int64
	Path               string
}

// Tree lists the commit's tree: every file, with its mode and object id.
func (r *Repo) Tree(ctx context.Context) ([]TreeEntry, error) {
	out, err := git(ctx, r.allowFile, r.Dir, "ls-tree", "-r", "-l", "-z", "--full-tree", r.Commit)
	if err != nil {
		return nil, err
	}
	var entries []TreeEntry
	for _, rec := range bytes.Split(out, []byte{0}) {
		if len(rec) == 0 {
			continue
		}
		meta, p, ok := bytes.Cut(rec, []byte{'\t'})
		if !ok {
			return nil, fmt.Errorf("ls-tree: malformed line %q", rec)
		}
		f := strings.Fields(string(meta))
		if len(f) != 4 {
			return nil, fmt.Errorf("ls-tree: malformed line %q", rec)
		}
		size, _ := strconv.ParseInt(f[3], 10, 64) // "-" for a submodule
		entries = append(entries, TreeEntry{Mode: f[0], Type: f[1], Object: f[2], Size: size, Path: string(p)})
	}
	return entries, nil
}

// CheckTree checks a submission's tree against the target's: within the size limits,
// every path clean, no symbolic link or submodule anywhere, every file outside the
// allowed directory exactly as in the target (none added, changed or removed), and
// inside it only regular files with an allowed extension.
func CheckTree(d *Definition, base, sub []TreeEntry) error {
	if len(sub) > d.Fetch.MaxFiles {
		return reject("tree", "%d files, the limit is %d", len(sub), d.Fetch.MaxFiles)
	}
	var total int64
	allowed := d.Target.AllowedDir + "/"
	baseOut := map[string]TreeEntry{}
	for _, e := range base {
		if !strings.HasPrefix(e.Path, allowed) {
			baseOut[e.Path] = e
		}
	}
	seen := 0
	for _, e := range sub {
		total += e.Size
		if !cleanRel(e.Path) {
			return reject("tree", "path %q is not clean", trunc(e.Path))
		}
		if e.Type != "blob" || e.Mode == "120000" || e.Mode == "160000" {
			return reject("tree", "%s is a %s (mode %s): only regular files are allowed", e.Path, e.Type, e.Mode)
		}
		if strings.HasPrefix(e.Path, allowed) {
			if e.Mode != "100644" {
				return reject("tree", "%s has mode %s; files in %s must be 100644", e.Path, e.Mode, d.Target.AllowedDir)
			}
			ok := false
			for _, ext := range d.Rules.Extensions {
				ok = ok || strings.HasSuffix(e.Path, ext)
			}
			if !ok {
				return reject("tree", "%s: only files ending in %v may be in %s", e.Path, d.Rules.Extensions, d.Target.AllowedDir)
			}
			continue
		}
		b, ok := baseOut[e.Path]
		if !ok {
			return reject("tree", "%s was added outside %s", e.Path, d.Target.AllowedDir)
		}
		if b.Object != e.Object || b.Mode != e.Mode {
			return reject("tree", "%s was changed outside %s", e.Path, d.Target.AllowedDir)
		}
		seen++
	}
	if seen != len(baseOut) {
		for p := range baseOut {
			found := false
			for _, e := range sub {
				found = found || e.Path == p
			}
			if !found {
				return reject("tree", "%s was removed outside %s", p, d.Target.AllowedDir)
			}
		}
	}
	if total > d.Fetch.MaxTreeBytes {
		return reject("tree", "the tree is %d bytes, the limit is %d", total, d.Fetch.MaxTreeBytes)
	}
	return nil
}

// Extract writes the commit's files into dst (which must exist), readable by every
// user: regular files and directories only, each path checked again.
func (r *Repo) Extract(ctx context.Context, dst string) error {
	cmd := exec.CommandContext(ctx, "git", "-c", "core.hooksPath=/dev/null", "archive", "--format=tar", r.Commit)
	cmd.Dir = r.Dir
	cmd.Env = gitEnv(r.allowFile)
	out, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	xerr := untar(out, dst)
	io.Copy(io.Discard, out)
	if err := cmd.Wait(); err != nil && xerr == nil {
		xerr = fmt.Errorf("git archive: %w", err)
	}
	return xerr
}

func untar(r io.Reader, dst string) error {
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		name := strings.TrimSuffix(h.Name, "/")
		if h.Typeflag == tar.TypeXGlobalHeader || name == "" {
			continue
		}
		if !cleanRel(name) {
			return reject("tree", "archive path %q is not clean", trunc(h.Name))
		}
		target := filepath.Join(dst, filepath.FromSlash(name))
		switch h.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(target, 0o755); err != nil {
				return err
			}
		case tar.TypeReg:
			if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
				return err
			}
			f, err := os.OpenFile(target, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
			if err != nil {
				return err
			}
			_, err = io.Copy(f, io.LimitReader(tr, h.Size))
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return err
			}
		default:
			return reject("tree", "%s is not a regular file or directory", name)
		}
	}
}

// CheckImports checks the Go files of the allowed directory in src against the import
// rules and the forbidden directives.
func CheckImports(d *Definition, src string) error {
	dir := filepath.Join(src, filepath.FromSlash(d.Target.AllowedDir))
	files, err := goFiles(dir)
	if err != nil {
		return err
	}
	imported := map[string]bool{}
	for _, p := range files {
		raw, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		fset := token.NewFileSet()
		f, err := parser.ParseFile(fset, rel, raw, parser.ImportsOnly|parser.ParseComments)
		if err != nil {
			return reject("imports", "%v", err)
		}
		for _, im := range f.Imports {
			ip, _ := strconv.Unquote(im.Path.Value)
			imported[ip] = true
			for _, fb := range d.Rules.ForbiddenImports {
				if ip == fb || strings.HasSuffix(fb, "/...") && (ip == strings.TrimSuffix(fb, "/...") || strings.HasPrefix(ip, strings.TrimSuffix(fb, "..."))) {
					return reject("imports", "%s imports %q, which this competition forbids (%s)", filepath.ToSlash(rel), ip, fb)
				}
			}
		}
		// Directives anywhere in the file (comments after the imports too).
		for _, dir := range d.Rules.ForbiddenDirectives {
			if bytes.Contains(raw, []byte(dir)) {
				return reject("imports", "%s holds %q, which this competition forbids", filepath.ToSlash(rel), dir)
			}
		}
	}
	for _, req := range d.Rules.RequiredImports {
		if !imported[req] {
			return reject("imports", "no file of %s imports %q, which this competition requires", d.Target.AllowedDir, req)
		}
	}
	return nil
}

func goFiles(dir string) ([]string, error) {
	var out []string
	err := filepath.WalkDir(dir, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !e.IsDir() && strings.HasSuffix(p, ".go") {
			out = append(out, p)
		}
		return nil
	})
	if errors.Is(err, fs.ErrNotExist) {
		return nil, reject("tree", "the allowed directory %s is missing", filepath.Base(dir))
	}
	sort.Strings(out)
	return out, err
}

// ContentHash fingerprints the allowed directory of src: the SHA-256 over its files in
// path order, Go files by their tokens (comments, spacing and line breaks do not
// count), other files by their bytes. Two submissions with the same hash are copies.
func ContentHash(d *Definition, src string) (string, error) {
	dir := filepath.Join(src, filepath.FromSlash(d.Target.AllowedDir))
	var paths []string
	err := filepath.WalkDir(dir, func(p string, e fs.DirEntry, err error) error {
		if err == nil && !e.IsDir() {
			paths = append(paths, p)
		}
		return err
	})
	if err != nil {
		return "", err
	}
	sort.Strings(paths)
	h := sha256.New()
	for _, p := range paths {
		raw, err := os.ReadFile(p)
		if err != nil {
			return "", err
		}
		rel, _ := filepath.Rel(dir, p)
		fmt.Fprintf(h, "%s\x00", filepath.ToSlash(rel))
		if !strings.HasSuffix(p, ".go") {
			h.Write(raw)
			continue
		}
		fset := token.NewFileSet()
		file := fset.AddFile(rel, -1, len(raw))
		var s scanner.Scanner
		s.Init(file, raw, nil, 0)
		for {
			_, tok, lit := s.Scan()
			if tok == token.EOF {
				break
			}
			if tok == token.SEMICOLON && lit == "\n" {
				continue // an inserted semicolon: a line break
			}
			fmt.Fprintf(h, "%d %s\x00", tok, lit)
		}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
