// Package web is Portico's dashboard: plain HTML, CSS and JavaScript modules
// embedded in the binary, so building and running Portico never needs Node.
// The browser code talks to the REST API (/api/v1) and to tenants' MCP
// endpoints like any other client; this package only serves the files.
//
// It imports neither api nor bridge: cmd mounts Handler at Paths.
package web

import (
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
var embedded embed.FS

// FS returns the dashboard's files, rooted at index.html.
func FS() fs.FS {
	sub, err := fs.Sub(embedded, "static")
	if err != nil {
		panic(err) // the embed directive guarantees static exists
	}
	return sub
}

// Paths are the URL paths (echo syntax) the dashboard answers: its assets and
// its client-side routes. They are listed rather than caught with "/*" so
// unknown /api/v1 paths keep their JSON 404 and wrong methods their 405.
var Paths = []string{"/", "/assets/*", "/login", "/new", "/tenants", "/tenants/*", "/oauth/consent"}

// ContentSecurityPolicy allows only the dashboard's own scripts, styles and
// connections: no inline script or style, no third-party origin, no framing.
const ContentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; font-src 'self'; manifest-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// Handler serves the dashboard: files under /assets/ as they are, and
// index.html for every other path so client-side routes survive a reload.
// Every response carries the CSP and is revalidated with its ETag, so a new
// binary's files are picked up at once while unchanged ones cost a 304.
func Handler() http.Handler {
	files := FS()
	etags := map[string]string{}
	fs.WalkDir(files, ".", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			b, _ := fs.ReadFile(files, p)
			sum := sha256.Sum256(b)
			etags[p] = `"` + hex.EncodeToString(sum[:12]) + `"`
		}
		return nil
	})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", ContentSecurityPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "DENY")
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			h.Set("Allow", "GET, HEAD")
			http.Error(w, "the dashboard only answers GET", http.StatusMethodNotAllowed)
			return
		}
		name := "index.html"
		if rest, ok := strings.CutPrefix(r.URL.Path, "/assets/"); ok {
			name = path.Clean("assets/" + rest)
			if !strings.HasPrefix(name, "assets/") {
				http.NotFound(w, r)
				return
			}
		}
		etag, ok := etags[name]
		if !ok {
			http.NotFound(w, r)
			return
		}
		b, _ := fs.ReadFile(files, name)
		h.Set("Content-Type", contentType(name))
		h.Set("Cache-Control", "no-cache")
		h.Set("ETag", etag)
		// ServeContent answers If-None-Match with 304 and handles HEAD and ranges.
		http.ServeContent(w, r, name, time.Time{}, strings.NewReader(string(b)))
	})
}

// contentType is set explicitly: module scripts must be served as
// JavaScript, and the OS's MIME table may not know .mjs or .svg.
func contentType(name string) string {
	switch path.Ext(name) {
	case ".html":
		return "text/html; charset=utf-8"
	case ".js", ".mjs":
		return "text/javascript; charset=utf-8"
	case ".css":
		return "text/css; charset=utf-8"
	case ".svg":
		return "image/svg+xml"
	case ".json", ".webmanifest":
		return "application/json"
	case ".png":
		return "image/png"
	case ".ico":
		return "image/x-icon"
	}
	return "application/octet-stream"
}
