package web

import (
	"io/fs"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
)

func get(t *testing.T, h http.Handler, method, path string, hdr ...string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, path, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return w
}

func TestHandler(t *testing.T) {
	h := Handler()
	tests := []struct {
		name, method, path string
		status             int
		ctype              string
		body               string
	}{
		{"root is the app", "GET", "/", 200, "text/html; charset=utf-8", `<script type="module" src="/assets/app.js">`},
		{"client route falls back to index", "GET", "/tenants/abc/tools/get_user", 200, "text/html; charset=utf-8", "<title>Portico</title>"},
		{"module script", "GET", "/assets/app.js", 200, "text/javascript; charset=utf-8", "import"},
		{"nested module", "GET", "/assets/views/tools.js", 200, "text/javascript; charset=utf-8", "export"},
		{"stylesheet", "GET", "/assets/app.css", 200, "text/css; charset=utf-8", ":root"},
		{"icon", "GET", "/assets/favicon.svg", 200, "image/svg+xml", "<svg"},
		{"missing asset is 404, not the app", "GET", "/assets/nope.js", 404, "", ""},
		{"traversal stays inside assets", "GET", "/assets/../index.html", 404, "", ""},
		{"HEAD works", "HEAD", "/", 200, "text/html; charset=utf-8", ""},
		{"writes are refused", "POST", "/", 405, "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := get(t, h, tc.method, tc.path)
			if w.Code != tc.status {
				t.Fatalf("status = %d, want %d", w.Code, tc.status)
			}
			if csp := w.Header().Get("Content-Security-Policy"); csp != ContentSecurityPolicy {
				t.Errorf("CSP = %q", csp)
			}
			if w.Header().Get("X-Content-Type-Options") != "nosniff" {
				t.Error("no nosniff")
			}
			if tc.ctype != "" && w.Header().Get("Content-Type") != tc.ctype {
				t.Errorf("Content-Type = %q, want %q", w.Header().Get("Content-Type"), tc.ctype)
			}
			if tc.status == 200 && (w.Header().Get("Cache-Control") != "no-cache" || w.Header().Get("ETag") == "") {
				t.Errorf("caching headers: Cache-Control %q ETag %q", w.Header().Get("Cache-Control"), w.Header().Get("ETag"))
			}
			if !strings.Contains(w.Body.String(), tc.body) {
				t.Errorf("body lacks %q", tc.body)
			}
		})
	}
	t.Run("ETag revalidates to 304", func(t *testing.T) {
		etag := get(t, h, "GET", "/assets/app.js").Header().Get("ETag")
		if w := get(t, h, "GET", "/assets/app.js", "If-None-Match", etag); w.Code != 304 {
			t.Errorf("status = %d, want 304", w.Code)
		}
	})
}

// TestCSPAllowsTheApp checks the CSP and the sources agree: no inline
// script or style, no handler attributes, no third-party URL, no eval.
func TestCSPAllowsTheApp(t *testing.T) {
	bad := []struct {
		what string
		re   *regexp.Regexp
		exts string
	}{
		{"inline <script> without src", regexp.MustCompile(`<script(\s[^>]*)?>\s*[^<\s]`), ".html"},
		{"<style> element", regexp.MustCompile(`<style`), ".html"},
		{"style attribute", regexp.MustCompile(`\sstyle="`), ".html"},
		{"on* handler attribute", regexp.MustCompile(`\son[a-z]+="`), ".html"},
		{"eval or new Function", regexp.MustCompile(`\beval\(|new Function\(`), ".js"},
		{"innerHTML (text must go through textContent)", regexp.MustCompile(`innerHTML|outerHTML|insertAdjacentHTML`), ".js"},
		{"third-party URL", regexp.MustCompile(`(src|href)=["']https?://`), ".html.js.css"},
	}
	n := 0
	fs.WalkDir(FS(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, _ := fs.ReadFile(FS(), p)
		n++
		for _, rule := range bad {
			ext := p[strings.LastIndex(p, "."):]
			if !strings.Contains(rule.exts, ext) {
				continue
			}
			if loc := rule.re.FindIndex(b); loc != nil {
				t.Errorf("%s: %s at byte %d: %q", p, rule.what, loc[0], b[loc[0]:min(len(b), loc[1]+20)])
			}
		}
		return nil
	})
	if n < 10 {
		t.Errorf("walked only %d files", n)
	}
}
