package chartcheck

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/compose-spec/compose-go/v2/loader"
	"github.com/compose-spec/compose-go/v2/types"
)

// TestComposeFileIsValid loads docker-compose.yml with the Compose
// specification's reference loader (what `docker compose config` uses), so a
// typo fails here although no container engine runs on our machines.
func TestComposeFileIsValid(t *testing.T) {
	path, _ := filepath.Abs("../../docker-compose.yml")
	p, err := loader.LoadWithContext(context.Background(), types.ConfigDetails{
		WorkingDir:  filepath.Dir(path),
		ConfigFiles: []types.ConfigFile{{Filename: path}},
		Environment: types.Mapping{},
	}, func(o *loader.Options) { o.SetProjectName("portico", true) })
	if err != nil {
		t.Fatalf("docker-compose.yml: %v", err)
	}
	for _, name := range []string{"postgres", "migrate", "portico", "demo", "register-demo"} {
		s, ok := p.Services[name]
		if !ok {
			t.Errorf("no service %s", name)
			continue
		}
		if name != "migrate" && name != "register-demo" && s.HealthCheck == nil {
			t.Errorf("service %s has no health check", name)
		}
	}
	if c := p.Services["portico"].DependsOn["migrate"].Condition; c != types.ServiceConditionCompletedSuccessfully {
		t.Errorf("portico waits for migrate with %q, want service_completed_successfully", c)
	}
	if c := p.Services["register-demo"].DependsOn["portico"].Condition; c != types.ServiceConditionHealthy {
		t.Errorf("register-demo waits for portico with %q, want service_healthy", c)
	}
}
