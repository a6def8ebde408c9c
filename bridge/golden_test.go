package bridge

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/tools/txtar"

	"github.com/portico-mcp/portico/bridge/openapi"
	"github.com/portico-mcp/portico/tenant"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// TestGolden converts the spec in each testdata/*.txtar archive and compares
// the result with its want.json. An optional options.json holds Options
// (route_maps, names). An optional lean.json holds the tools as lean
// listing serves them. Run `go test ./bridge -update` to rewrite want.json
// and lean.json.
func TestGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/*.txtar")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no testdata/*.txtar files")
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".txtar"), func(t *testing.T) {
			ar, err := txtar.ParseFile(file)
			if err != nil {
				t.Fatal(err)
			}
			var spec, want, lean []byte
			var opts openapi.Options
			wantIdx, leanIdx := -1, -1
			for i, f := range ar.Files {
				switch {
				case strings.HasPrefix(f.Name, "spec."):
					spec = f.Data
				case f.Name == "options.json":
					var o struct {
						RouteMaps json.RawMessage   `json:"route_maps"`
						Names     map[string]string `json:"names"`
					}
					if err := json.Unmarshal(f.Data, &o); err != nil {
						t.Fatalf("options.json: %v", err)
					}
					if len(o.RouteMaps) > 0 {
						if err := json.Unmarshal(o.RouteMaps, &opts.RouteMaps); err != nil {
							t.Fatalf("options.json route_maps: %v", err)
						}
					}
					opts.Names = o.Names
				case f.Name == "want.json":
					want, wantIdx = f.Data, i
				case f.Name == "lean.json":
					lean, leanIdx = f.Data, i
				}
			}
			if spec == nil {
				t.Fatal("archive has no spec.* file")
			}
			conv, err := Convert(spec, opts, "")
			if err != nil {
				t.Fatalf("Convert: %v", err)
			}
			for _, op := range conv.Operations {
				checkPlan(t, op.Method+" "+op.Path, op)
				checkSchema(t, op.Method+" "+op.Path+" input", op.InputSchema, true)
				if op.OutputSchema != nil {
					checkSchema(t, op.Method+" "+op.Path+" output", op.OutputSchema, true)
				}
			}
			got, err := json.MarshalIndent(conv, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, '\n')
			var gotLean []byte
			if leanIdx >= 0 {
				gotLean = leanListing(t, conv)
			}
			if *update {
				if wantIdx < 0 {
					ar.Files = append(ar.Files, txtar.File{Name: "want.json"})
					wantIdx = len(ar.Files) - 1
				}
				ar.Files[wantIdx].Data = got
				if leanIdx >= 0 {
					ar.Files[leanIdx].Data = gotLean
				}
				if err := os.WriteFile(file, txtar.Format(ar), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			if diff := cmp.Diff(string(want), string(got)); diff != "" {
				t.Errorf("conversion mismatch (-want +got); run go test ./bridge -update to accept:\n%s", diff)
			}
			if diff := cmp.Diff(string(lean), string(gotLean)); leanIdx >= 0 && diff != "" {
				t.Errorf("lean listing mismatch (-want +got); run go test ./bridge -update to accept:\n%s", diff)
			}
			// Determinism: a second run gives the same bytes.
			again, err := Convert(spec, opts, "")
			if err != nil {
				t.Fatal(err)
			}
			b, _ := json.MarshalIndent(again, "", "  ")
			if !bytes.Equal(append(b, '\n'), got) {
				t.Error("Convert is not deterministic: two runs differ")
			}
		})
	}
}

// leanListing returns conv's tools as lean listing serves them, indented,
// after checking what lean listing promises: the same tools as full listing
// (plus describe_tool), each with its input schema byte for byte and its
// annotations, no output schema, and a description that starts the full one.
func leanListing(t *testing.T, conv *openapi.Conversion) []byte {
	t.Helper()
	full, lean := MCPListing(conv, tenant.ListingFull).Tools, MCPListing(conv, tenant.ListingLean).Tools
	if len(lean) != len(full)+1 || lean[len(lean)-1].Name != describeToolName {
		t.Fatalf("lean listing has %d tools, want the %d of full listing and describe_tool", len(lean), len(full))
	}
	for i, f := range full {
		l := lean[i]
		if l.Name != f.Name || !bytes.Equal(l.InputSchema.(json.RawMessage), f.InputSchema.(json.RawMessage)) || l.OutputSchema != nil ||
			!cmp.Equal(l.Annotations, f.Annotations) || !strings.HasPrefix(f.Description, strings.TrimSuffix(l.Description, " (deprecated)")) {
			t.Errorf("lean %s differs from full beyond description and output schema:\nfull %+v\nlean %+v", f.Name, f, l)
		}
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(lean); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
