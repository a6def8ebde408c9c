package e2e

import (
	"encoding/json"
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestDashboardUsesRealMetrics fails when the Grafana dashboard queries a
// portico_ series that no code defines (a renamed metric leaves a blank panel).
func TestDashboardUsesRealMetrics(t *testing.T) {
	raw, err := os.ReadFile("../deploy/grafana/portico-dashboard.json")
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		Panels []struct {
			Title   string
			Targets []struct{ Expr string }
		}
	}
	if err := json.Unmarshal(raw, &d); err != nil {
		t.Fatalf("dashboard is not JSON: %v", err)
	}
	var defined strings.Builder
	for _, f := range []string{"../bridge/metrics.go", "../server/observe.go"} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		defined.Write(b)
	}
	name := regexp.MustCompile(`portico_[a-z_]+`)
	checked := 0
	for _, p := range d.Panels {
		for _, tg := range p.Targets {
			for _, m := range name.FindAllString(tg.Expr, -1) {
				base := strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(m, "_bucket"), "_count"), "_sum")
				if !strings.Contains(defined.String(), `"`+base+`"`) {
					t.Errorf("panel %q queries %s, which no code defines", p.Title, m)
				}
				checked++
			}
		}
	}
	if checked == 0 {
		t.Fatal("no portico_ series found in the dashboard")
	}
}
