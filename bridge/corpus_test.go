package bridge

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/jsonschema-go/jsonschema"

	"github.com/portico-mcp/portico/bridge/openapi"
	"github.com/portico-mcp/portico/tenant"
)

// specsDir finds ../shared/specs relative to the repository root. Without it
// the corpus tests skip, except in CI, where they fail.
func specsDir(tb testing.TB) string {
	tb.Helper()
	dir, err := os.Getwd()
	if err != nil {
		tb.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			tb.Fatal("no go.mod above the test directory")
		}
		dir = parent
	}
	specs := filepath.Join(dir, "..", "shared", "specs")
	if _, err := os.Stat(filepath.Join(specs, "manifest.json")); err != nil {
		msg := "OpenAPI corpus not found at " + specs + " (../shared/specs next to the repository); the corpus tests need it"
		if os.Getenv("CI") == "true" {
			tb.Fatal(msg)
		}
		tb.Skip(msg)
	}
	return specs
}

type manifestEntry struct {
	File       string `json:"file"`
	Version    string `json:"version"`
	Operations int    `json:"operations"`
}

func readManifest(t *testing.T, dir string) []manifestEntry {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m []manifestEntry
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("manifest.json: %v", err)
	}
	if len(m) == 0 {
		t.Fatal("manifest.json lists no documents")
	}
	return m
}

var safeName = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

// TestCorpus converts every real-world document in ../shared/specs and checks
// the invariants MCP clients rely on.
func TestCorpus(t *testing.T) {
	dir := specsDir(t)
	manifest := readManifest(t, dir)
	var mu sync.Mutex
	reports := make(map[string]tenant.ConversionReport)
	t.Run("documents", func(t *testing.T) { corpusDocuments(t, dir, manifest, &mu, reports) })
	if t.Failed() {
		return
	}
	if len(reports) != len(manifest) {
		t.Logf("docs/conformance.md not checked: %d of %d documents converted (-short skips the large ones)", len(reports), len(manifest))
		return
	}
	checkConformanceDoc(t, manifest, reports)
}

func corpusDocuments(t *testing.T, dir string, manifest []manifestEntry, mu *sync.Mutex, reports map[string]tenant.ConversionReport) {
	for _, m := range manifest {
		t.Run(m.File, func(t *testing.T) {
			if testing.Short() && m.Operations > 400 {
				t.Skip("large document; skipped in -short mode")
			}
			t.Parallel()
			spec, err := os.ReadFile(filepath.Join(dir, m.File))
			if err != nil {
				t.Fatal(err)
			}
			conv, err := Convert(spec, openapi.Options{}, "")
			if err != nil {
				t.Fatalf("Convert: %v", err)
			}
			if got, want := len(conv.Operations), m.Operations-len(conv.Excluded); got != want {
				t.Errorf("%d operations converted, manifest says %d (excluded: %v)", got, m.Operations, conv.Excluded)
			}
			if len(conv.Excluded) > 0 {
				t.Logf("excluded on purpose: %v", conv.Excluded)
			}
			names := make(map[string]bool)
			for _, op := range conv.Operations {
				id := op.Method + " " + op.Path
				if names[op.Name] {
					t.Errorf("%s: name %q is not unique", id, op.Name)
				}
				names[op.Name] = true
				if len(op.Name) > openapi.MaxNameLen || !safeName.MatchString(op.Name) {
					t.Errorf("%s: name %q is not 1-%d characters of [A-Za-z0-9_-]", id, op.Name, openapi.MaxNameLen)
				}
				if strings.TrimSpace(op.Description) == "" {
					t.Errorf("%s: empty description", id)
				}
				checkSchema(t, id+" input", op.InputSchema, true)
				if _, err := op.ArgSchema(); err != nil {
					t.Errorf("%s: the argument validator cannot compile the input schema: %v", id, err)
				}
				checkPlan(t, id, op)
				if op.OutputSchema != nil {
					checkSchema(t, id+" output", op.OutputSchema, true)
				}
			}
			// Lean listing: the same tools (and describe_tool), each input
			// schema byte for byte, no output schema.
			full, lean := listedTools(conv.Operations, tenant.ListingFull), listedTools(conv.Operations, tenant.ListingLean)
			if len(lean) < len(full) {
				t.Errorf("lean listing has %d tools, full %d", len(lean), len(full))
			}
			for i := range full {
				if lean[i].Name != full[i].Name || string(lean[i].InputSchema.(json.RawMessage)) != string(full[i].InputSchema.(json.RawMessage)) || lean[i].OutputSchema != nil || lean[i].Description == "" {
					t.Errorf("lean %s: not the full tool less its output schema and later paragraphs", full[i].Name)
				}
			}
			for _, w := range conv.Warnings {
				t.Log("warning:", w)
			}
			mu.Lock()
			reports[m.File] = conv.Report
			mu.Unlock()
		})
	}
}

// conformanceDoc is the generated per-document report, relative to bridge/.
const conformanceDoc = "../docs/conformance.md"

// checkConformanceDoc renders the corpus reports as docs/conformance.md and
// compares it with the file; with -update it writes the file instead.
func checkConformanceDoc(t *testing.T, manifest []manifestEntry, reports map[string]tenant.ConversionReport) {
	got := renderConformance(manifest, reports)
	if *update {
		if err := os.WriteFile(conformanceDoc, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(conformanceDoc)
	if err != nil {
		t.Fatalf("%v; run go test ./bridge -run TestCorpus -update to write it", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("docs/conformance.md is stale (-file +conversion); run go test ./bridge -run TestCorpus -update to rewrite it:\n%s", diff)
	}
}

func renderConformance(manifest []manifestEntry, reports map[string]tenant.ConversionReport) []byte {
	var b strings.Builder
	b.WriteString(`# Conformance report of the OpenAPI corpus

Generated by ` + "`go test ./bridge -run TestCorpus -update`" + ` from the 20 documents in
` + "`../shared/specs`" + ` (see its README.md), converted with default settings (every operation a tool).
TestCorpus fails when this file no longer matches the conversion. Each document's full report
(names changed, every warning) is what ` + "`portico convert FILE`" + ` prints, and what
` + "`GET /api/v1/tenants/{id}/spec/report`" + ` serves for a tenant.

Columns: operations in the document; tools, resources and resource templates made; operations
excluded; tool names cut to 64 characters; names given a _2, _3... suffix on a clash; document
features not carried over (count); conversion warnings (defaults or examples that disagree with
their schemas, skipped parameters, and the names cut above).

| Document | Dialect | Operations | Tools | Resources | Templates | Excluded | Names cut | Suffixed | Not carried over | Warnings |
|---|---|---:|---:|---:|---:|---:|---:|---:|---|---:|
`)
	var total tenant.ConversionReport
	var excluded, cut, suffixed, warnings int
	for _, m := range manifest {
		r := reports[m.File]
		var feats []string
		for _, u := range r.Unsupported {
			feats = append(feats, fmt.Sprintf("%s: %d", u.Feature, u.Count))
		}
		fmt.Fprintf(&b, "| `%s` | %s | %d | %d | %d | %d | %d | %d | %d | %s | %d |\n", m.File, r.Dialect, r.Seen, r.Tools,
			r.Resources, r.ResourceTemplates, len(r.Excluded), len(r.NamesCut), len(r.NamesSuffixed), strings.Join(feats, "; "), len(r.Warnings))
		total.Seen += r.Seen
		total.Tools += r.Tools
		total.Resources += r.Resources
		total.ResourceTemplates += r.ResourceTemplates
		excluded += len(r.Excluded)
		cut += len(r.NamesCut)
		suffixed += len(r.NamesSuffixed)
		warnings += len(r.Warnings)
	}
	fmt.Fprintf(&b, "| **Total** (%d documents) | | %d | %d | %d | %d | %d | %d | %d | | %d |\n", len(manifest), total.Seen, total.Tools,
		total.Resources, total.ResourceTemplates, excluded, cut, suffixed, warnings)
	b.WriteString(`
Every tool's input and output schema resolves with google/jsonschema-go, and every input schema
compiles into Portico's argument validator (TestCorpus checks both).

## What the tools cost a model: full and lean listing

Estimated o200k tokens of each document's ` + "`tools/list`" + ` (` + "`bridge.EstimateTokens`" + `; its error against the real
BPE is in ` + "`docs/benchmarks.md`" + `), as the conformance report's ` + "`cost`" + ` gives them: full listing (the default),
lean listing (` + "`settings.listing = \"lean\"`" + `: first paragraph of each description, no output schemas, input
schemas byte for byte, plus ` + "`describe_tool`" + `), and discovery mode (three meta-tools, whatever the document).
Output schemas are the part of each tool lean listing leaves out.

| Document | Tools | Full listing | of it output schemas | Lean listing | Lean cuts |
|---|---:|---:|---:|---:|---:|
`)
	var full, lean, out, tools int
	for _, m := range manifest {
		c := reports[m.File].Cost
		if c == nil || c.FullTokens == 0 {
			continue
		}
		fmt.Fprintf(&b, "| `%s` | %d | %d | %d | %d | %.0f%% |\n", m.File, len(c.Tools), c.FullTokens, c.Total.OutputSchema.Tokens, c.LeanTokens,
			100*(1-float64(c.LeanTokens)/float64(c.FullTokens)))
		full += c.FullTokens
		lean += c.LeanTokens
		out += c.Total.OutputSchema.Tokens
		tools += len(c.Tools)
	}
	if full > 0 {
		fmt.Fprintf(&b, "| **Total** | %d | %d | %d | %d | %.0f%% |\n", tools, full, out, lean, 100*(1-float64(lean)/float64(full)))
	}
	var disc int
	for _, r := range reports {
		if r.Cost != nil {
			disc = r.Cost.DiscoveryTokens
		}
	}
	fmt.Fprintf(&b, "\nDiscovery mode lists ~%d tokens for any of them.\n", disc)
	return []byte(b.String())
}

// checkSchema asserts that raw is a standalone JSON Schema that
// google/jsonschema-go (the MCP go-sdk's validator) resolves, with a
// top-level type of exactly "object" when object is set.
func checkSchema(t *testing.T, what string, raw json.RawMessage, object bool) {
	t.Helper()
	var top map[string]any
	if err := json.Unmarshal(raw, &top); err != nil {
		t.Errorf("%s: not JSON: %v", what, err)
		return
	}
	if object && top["type"] != "object" {
		t.Errorf("%s: top-level type is %v, want \"object\"", what, top["type"])
	}
	var s jsonschema.Schema
	if err := json.Unmarshal(raw, &s); err != nil {
		t.Errorf("%s: jsonschema-go cannot read it: %v", what, err)
		return
	}
	if _, err := s.Resolve(nil); err != nil {
		t.Errorf("%s: does not resolve: %v", what, err)
	}
}

// TestCorpusBaselineDialects checks that the openapi-python-client baseline
// written in 3.0 and in 3.1 gives the same tools: names, argument names,
// required arguments and body media types.
func TestCorpusBaselineDialects(t *testing.T) {
	dir := specsDir(t)
	shape := func(file string) map[string]string {
		spec, err := os.ReadFile(filepath.Join(dir, file))
		if err != nil {
			t.Fatal(err)
		}
		conv, err := Convert(spec, openapi.Options{}, "")
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		out := make(map[string]string)
		for _, op := range conv.Operations {
			var in struct {
				Properties map[string]json.RawMessage `json:"properties"`
				Required   []string                   `json:"required"`
			}
			if err := json.Unmarshal(op.InputSchema, &in); err != nil {
				t.Fatal(err)
			}
			var props []string
			for k := range in.Properties {
				props = append(props, k)
			}
			slices.Sort(props)
			slices.Sort(in.Required)
			ct := ""
			if op.Body != nil {
				ct = op.Body.ContentType
			}
			out[op.Name] = fmt.Sprintf("args %v required %v body %q", props, in.Required, ct)
		}
		return out
	}
	a := shape("openapi-python-client__baseline_openapi_3.0.json")
	b := shape("openapi-python-client__baseline_openapi_3.1.yaml")
	if diff := cmp.Diff(a, b); diff != "" {
		t.Errorf("3.0 and 3.1 baselines give different tools (-3.0 +3.1):\n%s", diff)
	}
}

// BenchmarkConvert converts the three largest documents of the corpus.
func BenchmarkConvert(b *testing.B) {
	dir := specsDir(b)
	for _, file := range []string{"github__api.github.com.json", "stripe__spec3.json", "kubernetes__swagger.json"} {
		spec, err := os.ReadFile(filepath.Join(dir, file))
		if err != nil {
			b.Fatal(err)
		}
		b.Run(strings.SplitN(file, "__", 2)[0], func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(spec)))
			var size int
			runtime.GC()
			peak := watchHeap()
			cpu0 := processCPU()
			for b.Loop() {
				conv, err := Convert(spec, openapi.Options{}, "")
				if err != nil {
					b.Fatal(err)
				}
				size = 0
				for _, op := range conv.Operations {
					size += len(op.InputSchema) + len(op.OutputSchema)
				}
			}
			b.ReportMetric(float64(size), "schema-bytes")
			b.ReportMetric(peak()/(1<<20), "peak-heap-MB")
			// CPU time of the whole process (all threads, GC included) per
			// conversion: steadier than wall time on a loaded machine.
			b.ReportMetric((processCPU()-cpu0).Seconds()/float64(b.N), "cpu-s/op")
		})
	}
}

// BenchmarkCompileArgs compiles the argument validators of every tool of
// the largest documents: the work the first call of each tool does once.
func BenchmarkCompileArgs(b *testing.B) {
	dir := specsDir(b)
	for _, file := range []string{"github__api.github.com.json", "stripe__spec3.json", "kubernetes__swagger.json"} {
		spec, err := os.ReadFile(filepath.Join(dir, file))
		if err != nil {
			b.Fatal(err)
		}
		conv, err := Convert(spec, openapi.Options{}, "")
		if err != nil {
			b.Fatal(err)
		}
		b.Run(strings.SplitN(file, "__", 2)[0], func(b *testing.B) {
			b.ReportAllocs()
			var slowest time.Duration
			for b.Loop() {
				for _, op := range conv.Operations {
					start := time.Now()
					if _, err := openapi.CompileInput(op); err != nil {
						b.Fatal(err)
					}
					slowest = max(slowest, time.Since(start))
				}
			}
			b.ReportMetric(float64(len(conv.Operations)), "tools")
			b.ReportMetric(float64(slowest.Microseconds())/1000, "slowest-tool-ms")
		})
	}
}

// processCPU returns the user plus system CPU time the process has used.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// checkPlan asserts that the request plan and the input schema agree: every
// property is a parameter or part of the body, each exactly once, and every
// required name is a property.
func checkPlan(t *testing.T, id string, op *openapi.Operation) {
	t.Helper()
	var in struct {
		Properties map[string]json.RawMessage `json:"properties"`
		Required   []string                   `json:"required"`
	}
	if err := json.Unmarshal(op.InputSchema, &in); err != nil {
		t.Errorf("%s: %v", id, err)
		return
	}
	used := make(map[string]int)
	for _, p := range op.Params {
		used[p.Arg]++
	}
	if op.Body != nil {
		if op.Body.Arg != "" {
			used[op.Body.Arg]++
		}
		for _, p := range op.Body.Props {
			used[p]++
		}
	}
	for name := range in.Properties {
		if used[name] != 1 {
			t.Errorf("%s: property %q is used by %d parameters or body parts, want 1", id, name, used[name])
		}
	}
	for name := range used {
		if _, ok := in.Properties[name]; !ok {
			t.Errorf("%s: argument %q is not a property of the input schema", id, name)
		}
	}
	for _, r := range in.Required {
		if _, ok := in.Properties[r]; !ok {
			t.Errorf("%s: required %q is not a property", id, r)
		}
	}
}
