package bridge

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	tiktoken "github.com/pkoukk/tiktoken-go"
	tiktokenloader "github.com/pkoukk/tiktoken-go-loader"
	"golang.org/x/tools/txtar"

	"github.com/portico-mcp/portico/bridge/openapi"
	"github.com/portico-mcp/portico/tenant"
)

// o200k returns tiktoken-go's o200k_base BPE, loaded from the BPE files
// its offline loader embeds (test binaries only: Portico's own binary
// carries the estimator, not the BPE).
func o200k(t testing.TB) *tiktoken.Tiktoken {
	t.Helper()
	tiktoken.SetBpeLoader(tiktokenloader.NewOfflineLoader())
	enc, err := tiktoken.GetEncoding("o200k_base")
	if err != nil {
		t.Fatal(err)
	}
	return enc
}

// encodeTool is t as tools/list encodes it.
func encodeTool(t testing.TB, tool *mcp.Tool) []byte {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(tool); err != nil {
		t.Fatal(err)
	}
	return bytes.TrimRight(buf.Bytes(), "\n")
}

// TestEstimateTokensAgainstBPE compares EstimateTokens with the real
// o200k_base BPE on the tools of every corpus document (all tools of the
// smaller documents, an even sample of the large ones, to keep the BPE's
// seconds bounded), in full and lean listing. It fails when a document's
// estimate is off by more than 10% or the corpus total by more than 3%,
// and logs the error per document and a refit of the coefficients.
func TestEstimateTokensAgainstBPE(t *testing.T) {
	if testing.Short() {
		t.Skip("tokenizes the corpus with a real BPE; skipped in -short mode")
	}
	dir := specsDir(t)
	enc := o200k(t)
	var sumEst, sumReal float64
	var fit fitter
	for _, m := range readManifest(t, dir) {
		spec, err := os.ReadFile(filepath.Join(dir, m.File))
		if err != nil {
			t.Fatal(err)
		}
		conv, err := Convert(spec, openapi.Options{}, "")
		if err != nil {
			t.Fatal(err)
		}
		var tools []*mcp.Tool
		for _, op := range conv.Operations {
			if op.Kind == tenant.KindTool {
				tools = append(tools, toolOf(op))
			}
		}
		step := max(1, len(tools)/150)
		var est, real float64
		for i := 0; i < len(tools); i += step {
			b := encodeTool(t, tools[i])
			n := len(enc.Encode(string(b), nil, nil))
			est += float64(EstimateTokens(b))
			real += float64(n)
			fit.add(tokenFeatures(b), n)
		}
		if real == 0 {
			continue
		}
		e := (est - real) / real
		t.Logf("%-58s tools %4d sampled every %2d: estimate %8.0f, BPE %8.0f, error %+5.1f%%", m.File, len(tools), step, est, real, 100*e)
		if math.Abs(e) > 0.10 {
			t.Errorf("%s: estimate off by %+.1f%%, more than 10%%", m.File, 100*e)
		}
		sumEst += est
		sumReal += real
	}
	e := (sumEst - sumReal) / sumReal
	t.Logf("corpus: estimate %.0f, BPE %.0f, error %+.2f%%; refit coefficients %v", sumEst, sumReal, 100*e, fit.solve())
	if math.Abs(e) > 0.03 {
		t.Errorf("corpus estimate off by %+.2f%%, more than 3%%", 100*e)
	}
}

// fitter solves least squares on the relative error for tokenCoefficients.
type fitter struct {
	a [6][6]float64
	b [6]float64
}

func (f *fitter) add(x [6]int, tokens int) {
	w := 1 / math.Max(float64(tokens), 1)
	for i := range 6 {
		f.b[i] += w * float64(x[i]) * float64(tokens)
		for j := range 6 {
			f.a[i][j] += w * float64(x[i]) * float64(x[j])
		}
	}
}

func (f *fitter) solve() [6]float64 {
	a, b := f.a, f.b
	for i := range 6 {
		p := i
		for r := i + 1; r < 6; r++ {
			if math.Abs(a[r][i]) > math.Abs(a[p][i]) {
				p = r
			}
		}
		a[i], a[p] = a[p], a[i]
		b[i], b[p] = b[p], b[i]
		if a[i][i] == 0 {
			continue
		}
		for r := range 6 {
			if r == i {
				continue
			}
			k := a[r][i] / a[i][i]
			for c := i; c < 6; c++ {
				a[r][c] -= k * a[i][c]
			}
			b[r] -= k * b[i]
		}
	}
	var x [6]float64
	for i := range 6 {
		if a[i][i] != 0 {
			x[i] = math.Round(b[i]/a[i][i]*1e4) / 1e4
		}
	}
	return x
}

func TestEstimateTokensSmall(t *testing.T) {
	enc := o200k(t)
	for _, s := range []string{
		"", "hello world", `{"type":"object","properties":{"id":{"type":"integer"}}}`,
		"List the repositories of the authenticated user.\n\nThe `type` parameter defaults to all.",
		`{"name":"repos_list-for-authenticated-user","description":"Lists repositories – überall"}`,
	} {
		got, want := EstimateTokens([]byte(s)), len(enc.Encode(s, nil, nil))
		if d := math.Abs(float64(got - want)); d > 2+0.2*float64(want) {
			t.Errorf("EstimateTokens(%q) = %d, BPE says %d", s, got, want)
		}
	}
}

// TestToolCost checks that a tool's cost measures exactly the bytes
// tools/list sends, split into parts that add up.
func TestToolCost(t *testing.T) {
	conv, err := Convert(txtarSpec(t, "testdata/fastapi_310.txtar"), openapi.Options{}, "")
	if err != nil {
		t.Fatal(err)
	}
	c := conv.Report.Cost
	if c == nil || c.Listing != "full" || len(c.Tools) != conv.Report.Tools {
		t.Fatalf("report cost = %+v, want one entry per tool", c)
	}
	var sum tenant.Cost
	i := 0
	for _, op := range conv.Operations {
		if op.Kind != tenant.KindTool {
			continue
		}
		tc := c.Tools[i]
		i++
		b := encodeTool(t, toolOf(op))
		if tc.Name != op.Name || tc.Bytes != len(b) {
			t.Errorf("%s: cost %d bytes, tools/list sends %d", op.Name, tc.Bytes, len(b))
		}
		if tc.InputSchema.Bytes != len(op.InputSchema) || tc.OutputSchema.Bytes != len(op.OutputSchema) {
			t.Errorf("%s: schema bytes %d/%d, want %d/%d", op.Name, tc.InputSchema.Bytes, tc.OutputSchema.Bytes, len(op.InputSchema), len(op.OutputSchema))
		}
		if tc.Tokens != tc.NameDescription.Tokens+tc.InputSchema.Tokens+tc.OutputSchema.Tokens || tc.Tokens <= 0 {
			t.Errorf("%s: tokens %d are not the sum of the parts %+v", op.Name, tc.Tokens, tc)
		}
		sum.Add(tc.Cost)
	}
	if sum != c.Total {
		t.Errorf("total %+v, sum of tools %+v", c.Total, sum)
	}
	if c.DiscoveryTokens <= 0 || c.Recommendation != "" {
		t.Errorf("discovery %d tokens, recommendation %q: want a positive figure and none for a small set", c.DiscoveryTokens, c.Recommendation)
	}
}

// BenchmarkReportCost measures the conformance report's cost on GitHub's
// tool set against the conversion that makes it (Convert includes it), as
// shares of Convert's wall time and of its CPU time (all threads, GC
// included: steadier than wall time on a shared machine).
func BenchmarkReportCost(b *testing.B) {
	dir := specsDir(b)
	spec, err := os.ReadFile(filepath.Join(dir, "github__api.github.com.json"))
	if err != nil {
		b.Fatal(err)
	}
	// Convert's figures are the lower of two runs (the first warms caches).
	var conv *openapi.Conversion
	wall, cpu := time.Duration(math.MaxInt64), time.Duration(math.MaxInt64)
	for range 2 {
		start, cpu0 := time.Now(), processCPU()
		conv, err = Convert(spec, openapi.Options{}, "")
		if err != nil {
			b.Fatal(err)
		}
		wall, cpu = min(wall, time.Since(start)), min(cpu, processCPU()-cpu0)
	}
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := processCPU()
	for b.Loop() {
		toolSetCost(conv.Operations, "full")
	}
	costCPU := (processCPU() - cpu0) / time.Duration(b.N)
	per := b.Elapsed() / time.Duration(b.N)
	b.ReportMetric(float64(wall.Milliseconds()), "convert-ms")
	b.ReportMetric(100*per.Seconds()/wall.Seconds(), "pct-of-convert")
	b.ReportMetric(float64(cpu.Milliseconds()), "convert-cpu-ms")
	b.ReportMetric(100*costCPU.Seconds()/cpu.Seconds(), "pct-of-convert-cpu")
}

// txtarSpec returns the spec.* file of a golden archive.
func txtarSpec(t testing.TB, file string) []byte {
	t.Helper()
	ar, err := txtar.ParseFile(file)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range ar.Files {
		if strings.HasPrefix(f.Name, "spec.") {
			return f.Data
		}
	}
	t.Fatalf("%s has no spec.* file", file)
	return nil
}
