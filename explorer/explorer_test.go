package explorer

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
)

func get(t *testing.T, path string, hdr ...string) *http.Response {
	t.Helper()
	req := httptest.NewRequest("GET", path, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	w := httptest.NewRecorder()
	Handler().ServeHTTP(w, req)
	return w.Result()
}

func body(t *testing.T, r *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(r.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// The page is served at / and /explorer/, revalidated on each load, with a CSP; it
// links every asset with the version, and each asset it links is served with its
// content type and a year's caching at that version.
func TestHandlerServesThePageAndItsAssets(t *testing.T) {
	var page string
	for _, p := range []string{"/", "/explorer/", "/index.html", "/explorer/index.html"} {
		r := get(t, p)
		if r.StatusCode != 200 || r.Header.Get("Content-Type") != "text/html; charset=utf-8" {
			t.Fatalf("GET %s: %d %q", p, r.StatusCode, r.Header.Get("Content-Type"))
		}
		if r.Header.Get("Cache-Control") != "no-cache" || r.Header.Get("Content-Security-Policy") != CSP || r.Header.Get("ETag") == "" {
			t.Fatalf("GET %s: headers %v", p, r.Header)
		}
		page = body(t, r)
	}
	if strings.Contains(page, versionMark) {
		t.Fatal("the page still has the version mark")
	}
	links := regexp.MustCompile(`(?:src|href)="(assets/[^"?]+)\?v=([0-9a-f]+)"`).FindAllStringSubmatch(page, -1)
	if len(links) < 3 {
		t.Fatalf("the page links %d assets: %s", len(links), page)
	}
	want := map[string]string{".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8", ".svg": "image/svg+xml"}
	for _, l := range links {
		if l[2] != Version() {
			t.Fatalf("%s linked at version %s, want %s", l[1], l[2], Version())
		}
		for _, prefix := range []string{"/", "/explorer/"} {
			r := get(t, prefix+l[1]+"?v="+l[2])
			ext := l[1][strings.LastIndexByte(l[1], '.'):]
			if r.StatusCode != 200 || r.Header.Get("Content-Type") != want[ext] {
				t.Fatalf("GET %s%s: %d %q", prefix, l[1], r.StatusCode, r.Header.Get("Content-Type"))
			}
			if cc := r.Header.Get("Cache-Control"); cc != "public, max-age=31536000, immutable" {
				t.Fatalf("GET %s%s: Cache-Control %q", prefix, l[1], cc)
			}
			if r.Header.Get("X-Content-Type-Options") != "nosniff" {
				t.Fatalf("GET %s: no nosniff", l[1])
			}
		}
	}
	// Without the current version an asset is cached only briefly.
	if cc := get(t, "/assets/app.js?v=old").Header.Get("Cache-Control"); cc != "public, max-age=300" {
		t.Fatalf("an old version is cached %q", cc)
	}
}

func TestHandlerFaviconRevalidationGzipAndErrors(t *testing.T) {
	for _, p := range []string{"/favicon.ico", "/explorer/favicon.ico"} {
		r := get(t, p)
		if b := body(t, r); r.StatusCode != 200 || r.Header.Get("Content-Type") != "image/x-icon" || !strings.HasPrefix(b, "\x00\x00\x01\x00") {
			t.Fatalf("GET %s: %d %q", p, r.StatusCode, r.Header.Get("Content-Type"))
		}
	}

	r := get(t, "/")
	if r2 := get(t, "/", "If-None-Match", r.Header.Get("ETag")); r2.StatusCode != http.StatusNotModified {
		t.Fatalf("revalidation: %d", r2.StatusCode)
	}

	plain := body(t, get(t, "/assets/app.js"))
	gz := get(t, "/assets/app.js", "Accept-Encoding", "br, gzip")
	if gz.Header.Get("Content-Encoding") != "gzip" || gz.Header.Get("Vary") != "Accept-Encoding" {
		t.Fatalf("gzip headers: %v", gz.Header)
	}
	zr, err := gzip.NewReader(bytes.NewReader([]byte(body(t, gz))))
	if err != nil {
		t.Fatal(err)
	}
	unz, _ := io.ReadAll(zr)
	if string(unz) != plain || len(plain) < 1000 {
		t.Fatalf("gzipped body differs from the plain one (%d, %d bytes)", len(unz), len(plain))
	}
	if g := get(t, "/assets/app.js", "Accept-Encoding", "gzip;q=0"); g.Header.Get("Content-Encoding") != "" {
		t.Fatal("gzip sent though refused")
	}

	if r := get(t, "/explorer"); r.StatusCode != http.StatusMovedPermanently || r.Header.Get("Location") != Prefix {
		t.Fatalf("/explorer: %d %q", r.StatusCode, r.Header.Get("Location"))
	}
	for _, p := range []string{"/nope", "/assets/", "/assets/nope.js", "/explorer/v1/status", "//assets/app.js", "/static/index.html"} {
		if r := get(t, p); r.StatusCode != 404 {
			t.Fatalf("GET %s: %d", p, r.StatusCode)
		}
	}
	req := httptest.NewRequest("POST", "/", nil)
	w := httptest.NewRecorder()
	Handler().ServeHTTP(w, req)
	if w.Code != 405 || w.Header().Get("Allow") != "GET, HEAD" {
		t.Fatalf("POST /: %d %v", w.Code, w.Header())
	}
}

// The page must not load anything from elsewhere: no URL with a scheme or a protocol-
// relative one in its HTML, CSS or script (the node's API and gateway URLs are built
// at run time).
func TestNoExternalResources(t *testing.T) {
	ext := regexp.MustCompile(`(?:src|href)\s*=\s*["'](?:https?:)?//|@import|url\(\s*["']?(?:https?:)?//`)
	for name, a := range mustSite().files {
		if ext.Match(a.body) {
			t.Errorf("%s refers to an external resource: %s", name, ext.Find(a.body))
		}
	}
}
