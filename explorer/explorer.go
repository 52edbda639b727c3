// Package explorer is the network explorer: a web page, served by the node's JSON API
// under / and /explorer/, that shows the chain, its subnets and their metagraphs, an
// account, and the gateway's traffic, live. It is plain HTML, CSS and JavaScript
// embedded in the binary (static/), with no CDN and no build step; everything it shows
// it reads from the node's JSON API (/v1/...) and the gateway's /v1/stats, so it works
// offline and can as well be served from anywhere else (see docs/explorer.md).
//
// Handler serves:
//
//	GET /  and /explorer/                  the page (index.html), revalidated on each load
//	GET [/explorer]/assets/<file>?v=<hash> the scripts, styles and images; with the ?v= the
//	                                       page links them with, cached for a year (immutable)
//	GET [/explorer]/favicon.ico            the icon, so that a browser logs no 404
//
// Every answer has an ETag (If-None-Match answers 304), a Content-Type with its charset,
// X-Content-Type-Options: nosniff and, for the page, a Content-Security-Policy that
// allows only its own scripts and styles; an answer is gzipped when the client accepts
// it. Any other path is 404, a method other than GET or HEAD 405.
package explorer

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"
)

//go:embed static
var static embed.FS

// Prefix is the path under which the explorer is served besides /.
const Prefix = "/explorer/"

// CSP is the Content-Security-Policy of the page: its own scripts, styles and images
// only; it may connect anywhere, since the node's API (?api=) and the gateway (another
// port) are other origins.
const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src *; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// versionMark is replaced in index.html by the assets' version, so that a changed asset
// has a new URL and an unchanged one stays cached.
const versionMark = "{{version}}"

// asset is one file, ready to serve.
type asset struct {
	body, gz    []byte
	ctype, etag string
	immutable   bool // cached for a year when asked for with the current ?v=
}

// site is the explorer's files by their path under the site's root ("index.html",
// "assets/app.js").
type site struct {
	files   map[string]*asset
	version string
}

var contentTypes = map[string]string{
	".html": "text/html; charset=utf-8",
	".js":   "text/javascript; charset=utf-8",
	".css":  "text/css; charset=utf-8",
	".svg":  "image/svg+xml",
	".ico":  "image/x-icon",
	".png":  "image/png",
	".json": "application/json",
}

// modTime is the Last-Modified of every file: the embedded files have none, and the
// ETag is what revalidation uses.
var modTime = time.Unix(0, 0)

func load() (*site, error) {
	root, err := fs.Sub(static, "static")
	if err != nil {
		return nil, err
	}
	s := &site{files: map[string]*asset{}}
	all := sha256.New()
	err = fs.WalkDir(root, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(root, p)
		if err != nil {
			return err
		}
		if p != "index.html" {
			all.Write([]byte(p))
			all.Write(b)
		}
		s.files[p] = &asset{body: b, ctype: contentTypes[path.Ext(p)], immutable: strings.HasPrefix(p, "assets/")}
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.version = hex.EncodeToString(all.Sum(nil))[:12]
	if idx := s.files["index.html"]; idx != nil {
		idx.body = bytes.ReplaceAll(idx.body, []byte(versionMark), []byte(s.version))
	}
	for _, a := range s.files {
		sum := sha256.Sum256(a.body)
		a.etag = `"` + hex.EncodeToString(sum[:8]) + `"`
		if a.ctype == "" {
			a.ctype = "application/octet-stream"
		}
		if strings.HasPrefix(a.ctype, "text/") || strings.HasPrefix(a.ctype, "image/svg") || a.ctype == "application/json" {
			var buf bytes.Buffer
			zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
			zw.Write(a.body)
			zw.Close()
			if buf.Len() < len(a.body) {
				a.gz = buf.Bytes()
			}
		}
	}
	return s, nil
}

// Version is the assets' version: the ?v= the page links them with (a hash of them).
func Version() string { return mustSite().version }

var theSite *site

func mustSite() *site {
	if theSite == nil {
		s, err := load()
		if err != nil {
			panic("explorer: the embedded files do not load: " + err.Error())
		}
		theSite = s
	}
	return theSite
}

func init() { mustSite() }

// Handler serves the explorer: the page at / and /explorer/, its assets under
// [/explorer]/assets/ and the icon at [/explorer]/favicon.ico. Mount it at "/" (and
// "/explorer/") of the node's API server; it answers any other path 404.
func Handler() http.Handler { return mustSite() }

func (s *site) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Path
	if p == "/explorer" {
		http.Redirect(w, r, Prefix, http.StatusMovedPermanently)
		return
	}
	p = strings.TrimPrefix(p, "/explorer")
	name := strings.TrimPrefix(p, "/")
	switch name {
	case "", "index.html":
		name = "index.html"
	case "favicon.ico":
		name = "assets/favicon.ico"
	}
	a := s.files[name]
	if a == nil || strings.HasPrefix(p, "//") {
		http.Error(w, "404 not found: "+r.URL.Path+" (the explorer is at / and "+Prefix+"; the API under /v1/)", http.StatusNotFound)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, r.Method+" is not allowed on "+r.URL.Path+"; use GET", http.StatusMethodNotAllowed)
		return
	}
	h := w.Header()
	h.Set("Content-Type", a.ctype)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("ETag", a.etag)
	h.Set("Vary", "Accept-Encoding")
	switch {
	case name == "index.html":
		h.Set("Cache-Control", "no-cache")
		h.Set("Content-Security-Policy", CSP)
		h.Set("Referrer-Policy", "no-referrer")
	case a.immutable && r.URL.Query().Get("v") == s.version:
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
	default:
		h.Set("Cache-Control", "public, max-age=300")
	}
	body := a.body
	if a.gz != nil && acceptsGzip(r) {
		// ServeContent would answer a Range request with a slice of the gzipped body
		// under the plain body's ETag; the files are small, so ranges are not offered.
		h.Set("Content-Encoding", "gzip")
		h.Set("ETag", strings.TrimSuffix(a.etag, `"`)+`-gz"`)
		body = a.gz
		r.Header.Del("Range")
	}
	http.ServeContent(w, r, "", modTime, bytes.NewReader(body))
}

// acceptsGzip reports whether the request's Accept-Encoding lists gzip (without q=0).
func acceptsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		enc, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.EqualFold(strings.TrimSpace(enc), "gzip") {
			q := strings.ReplaceAll(params, " ", "")
			return q != "q=0" && q != "q=0.0" && q != "q=0.00" && q != "q=0.000"
		}
	}
	return false
}
