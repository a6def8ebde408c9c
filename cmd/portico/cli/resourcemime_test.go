package cli

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// TestResourceMediaTypes: a resource lists the media type its operation's
// success response is documented in, and reads carry text for text and
// JSON, a blob for anything else — a PDF is a blob even though its bytes
// are ASCII.
func TestResourceMediaTypes(t *testing.T) {
	pdf := "%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
	png := "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"
	spec := `{"openapi":"3.0.2","info":{"title":"media","version":"1"},"paths":{
 "/report":{"get":{"operationId":"report","responses":{"200":{"description":"ok","content":{"application/pdf":{"schema":{"type":"string","format":"binary"}}}}}}},
 "/page":{"get":{"operationId":"page","responses":{"200":{"description":"ok","content":{"text/html":{"schema":{"type":"string"}}}}}}},
 "/logo":{"get":{"operationId":"logo","responses":{"200":{"description":"ok","content":{"image/png":{}, "image/*":{}}}}}},
 "/data":{"get":{"operationId":"data","responses":{"200":{"description":"ok","content":{"text/csv":{},"application/json":{"schema":{"type":"object"}}}}}}},
 "/plain/{id}":{"get":{"operationId":"plain","parameters":[{"name":"id","in":"path","required":true,"schema":{"type":"string"}}],"responses":{"200":{"description":"ok","content":{"text/plain":{"schema":{"type":"string"}}}}}}}}}`
	bodies := map[string][2]string{
		"/report": {"application/pdf", pdf}, "/page": {"text/html; charset=utf-8", "<h1>hi</h1>"},
		"/logo": {"image/png", png}, "/data": {"application/json", `{"a":1}`}, "/plain/7": {"text/plain; charset=utf-8", "seven"},
	}
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, ok := bodies[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", b[0])
		w.Write([]byte(b[1]))
	}))
	defer up.Close()
	dir := t.TempDir()
	specFile, maps := filepath.Join(dir, "spec.json"), filepath.Join(dir, "maps.json")
	os.WriteFile(specFile, []byte(spec), 0o600)
	os.WriteFile(maps, []byte(`[{"pattern":"\\{","mcp_type":"resource_template"},{"pattern":".","mcp_type":"resource"}]`), 0o600)
	url := startRunHTTPFor(t, up.URL, specFile, "--route-maps", maps)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "mime-test", Version: "1"}, nil).Connect(ctx, &mcp.StreamableClientTransport{Endpoint: url}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cs.Close()
	res, err := cs.ListResources(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	listed := map[string]string{}
	uris := map[string]string{}
	for _, r := range res.Resources {
		listed[r.Name], uris[r.Name] = r.MIMEType, r.URI
	}
	want := map[string]string{"report": "application/pdf", "page": "text/html", "logo": "image/png", "data": "application/json"}
	for name, mt := range want {
		if listed[name] != mt {
			t.Errorf("resource %s lists mimeType %q, want %q", name, listed[name], mt)
		}
	}
	tpl, err := cs.ListResourceTemplates(ctx, nil)
	if err != nil || len(tpl.ResourceTemplates) != 1 || tpl.ResourceTemplates[0].MIMEType != "text/plain" {
		t.Errorf("templates: %v %+v, want one text/plain", err, tpl)
	}
	for _, tc := range []struct {
		name, mime string
		text, blob string
	}{
		{"report", "application/pdf", "", pdf},
		{"page", "text/html; charset=utf-8", "<h1>hi</h1>", ""},
		{"logo", "image/png", "", png},
		{"data", "application/json", `{"a":1}`, ""},
	} {
		read, err := cs.ReadResource(ctx, &mcp.ReadResourceParams{URI: uris[tc.name]})
		if err != nil || len(read.Contents) != 1 {
			t.Errorf("read %s: %v %v", tc.name, err, read)
			continue
		}
		c := read.Contents[0]
		if c.MIMEType != tc.mime || c.Text != tc.text || string(c.Blob) != tc.blob {
			t.Errorf("read %s: mime %q text %q blob %q; want %q, %q, %q", tc.name, c.MIMEType, c.Text, c.Blob, tc.mime, tc.text, tc.blob)
		}
	}
}
