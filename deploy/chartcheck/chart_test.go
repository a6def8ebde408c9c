// Package chartcheck lints and renders Portico's Helm chart with Helm's own
// Go packages. It is a module of its own so Helm's large dependency tree
// never enters Portico's go.mod.
package chartcheck

import (
	"strings"
	"testing"

	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/engine"
	"helm.sh/helm/v3/pkg/lint"
	"helm.sh/helm/v3/pkg/lint/support"
	"sigs.k8s.io/yaml"
)

const chartDir = "../helm/portico"

var testValues = map[string]any{
	"secrets": map[string]any{
		"databaseURL": "postgres://portico:pw@db:5432/portico",
		"masterKeys":  "k1:ZTJlLW1hc3Rlci1rZXktbnVtYmVyLW9uZS0zMmJ5dGU=",
	},
	"ingress":        map[string]any{"enabled": true},
	"serviceMonitor": map[string]any{"enabled": true},
}

func TestLint(t *testing.T) {
	res := lint.AllWithKubeVersion(chartDir, testValues, "mcp", nil)
	for _, m := range res.Messages {
		t.Logf("%s", m)
		if m.Severity >= support.WarningSev {
			t.Errorf("helm lint: %s", m)
		}
	}
}

// render returns the chart's manifests by kind/name.
func render(t *testing.T, vals map[string]any) map[string]map[string]any {
	t.Helper()
	ch, err := loader.Load(chartDir)
	if err != nil {
		t.Fatal(err)
	}
	v, err := chartutil.ToRenderValues(ch, vals, chartutil.ReleaseOptions{Name: "portico", Namespace: "mcp", IsInstall: true}, chartutil.DefaultCapabilities)
	if err != nil {
		t.Fatal(err)
	}
	files, err := engine.Render(ch, v)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]map[string]any{}
	for name, body := range files {
		if !strings.HasSuffix(name, ".yaml") {
			continue
		}
		for _, doc := range strings.Split(body, "\n---") {
			if strings.TrimSpace(doc) == "" {
				continue
			}
			var obj map[string]any
			if err := yaml.Unmarshal([]byte(doc), &obj); err != nil {
				t.Fatalf("%s is not YAML: %v\n%s", name, err, doc)
			}
			if obj == nil {
				continue
			}
			out[obj["kind"].(string)] = obj
		}
	}
	return out
}

func get(obj any, path ...string) any {
	for _, p := range path {
		m, ok := obj.(map[string]any)
		if !ok {
			return nil
		}
		obj = m[p]
	}
	return obj
}

func TestRender(t *testing.T) {
	objs := render(t, testValues)
	for _, kind := range []string{"Deployment", "Service", "Secret", "Job", "PodDisruptionBudget", "HorizontalPodAutoscaler", "Ingress", "ServiceMonitor", "ServiceAccount"} {
		if objs[kind] == nil {
			t.Errorf("no %s rendered", kind)
		}
	}
	if min := get(objs["HorizontalPodAutoscaler"], "spec", "minReplicas"); min.(float64) < 2 {
		t.Errorf("HPA minReplicas = %v, want >= 2", min)
	}
	c := get(objs["Deployment"], "spec", "template", "spec", "containers").([]any)[0]
	if p := get(c, "livenessProbe", "httpGet", "path"); p != "/healthz" {
		t.Errorf("liveness path %v, want /healthz", p)
	}
	if p, _ := get(c, "readinessProbe", "httpGet", "path").(string); !strings.HasPrefix(p, "/readyz") {
		t.Errorf("readiness path %v, want /readyz", p)
	}
	if get(c, "resources", "requests", "cpu") == nil || get(c, "resources", "requests", "memory") == nil {
		t.Error("no resource requests")
	}
	env := map[string]any{}
	for _, e := range get(c, "env").([]any) {
		env[get(e, "name").(string)] = e
	}
	for _, name := range []string{"DATABASE_URL", "PORTICO_MASTER_KEYS"} {
		if get(env[name], "valueFrom", "secretKeyRef", "name") == nil {
			t.Errorf("%s does not come from a Secret", name)
		}
	}
	job := objs["Job"]
	if hook := get(job, "metadata", "annotations", "helm.sh/hook"); !strings.Contains(hook.(string), "pre-upgrade") {
		t.Errorf("migration job hook = %v, want pre-upgrade", hook)
	}
	args := get(job, "spec", "template", "spec", "containers").([]any)[0].(map[string]any)["args"]
	if strings.Join(toStrings(args), " ") != "migrate up" {
		t.Errorf("migration job args = %v", args)
	}
	if get(objs["Deployment"], "spec", "template", "spec", "securityContext", "runAsNonRoot") != true {
		t.Error("pods may run as root")
	}

	// Without autoscaling the Deployment itself asks for >= 2 replicas.
	objs = render(t, merge(testValues, map[string]any{"autoscaling": map[string]any{"enabled": false}}))
	if r := get(objs["Deployment"], "spec", "replicas"); r == nil || r.(float64) < 2 {
		t.Errorf("replicas = %v, want >= 2", r)
	}
	if objs["HorizontalPodAutoscaler"] != nil {
		t.Error("HPA rendered with autoscaling disabled")
	}
	// An existing Secret replaces the chart's.
	objs = render(t, map[string]any{"existingSecret": "portico-prod"})
	if objs["Secret"] != nil {
		t.Error("Secret rendered although existingSecret is set")
	}
}

func toStrings(v any) []string {
	var out []string
	for _, s := range v.([]any) {
		out = append(out, s.(string))
	}
	return out
}

func merge(a, b map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		out[k] = v
	}
	return out
}
