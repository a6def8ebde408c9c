package manifest

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/jsonschema-go/jsonschema"
	"go.yaml.in/yaml/v3"

	"github.com/portico-mcp/portico/tenant"
)

const example = `version: 1
tenants:
  - name: shop
    base_url: https://shop.example.com
    active: true
    settings:
      names: {listPets: pets}
      route_maps:
        - {methods: [GET], pattern: "^/admin", mcp_type: exclude}
      upstream_timeout_ms: 5000
    credentials:
      - name: api
        type: bearer
        value_from: env:SHOP_TOKEN
      - name: key
        type: header
        header: X-Key
        value_from: file:secrets/key.txt
`

func TestParse(t *testing.T) {
	f, err := Parse([]byte(example))
	if err != nil {
		t.Fatal(err)
	}
	active := true
	want := &File{Version: 1, Tenants: []Tenant{{
		Name: "shop", BaseURL: "https://shop.example.com", Active: &active,
		Settings: tenant.Settings{
			Names:             map[string]string{"listPets": "pets"},
			RouteMaps:         []tenant.RouteMap{{Methods: []string{"GET"}, Pattern: "^/admin", MCPType: "exclude"}},
			UpstreamTimeoutMS: 5000,
		},
		Credentials: []Credential{
			{Name: "api", Type: "bearer", ValueFrom: "env:SHOP_TOKEN"},
			{Name: "key", Type: "header", Header: "X-Key", ValueFrom: "file:secrets/key.txt"},
		},
	}}}
	if diff := cmp.Diff(want, f); diff != "" {
		t.Errorf("(-want +got)\n%s", diff)
	}
}

// TestParseRefuses: every mistake is an error naming where it is, and a
// secret written into the file is refused with what to write instead.
func TestParseRefuses(t *testing.T) {
	base := "version: 1\ntenants:\n  - name: shop\n    base_url: https://shop.example.com\n"
	for _, tc := range []struct {
		name, doc, want string
	}{
		{"no version", "tenants: []\n", "version is 0; must be 1"},
		{"unknown key", base + "    colour: blue\n", `unknown field "colour"`},
		{"typo in settings", base + "    settings: {upstream_timeout: 5}\n", `unknown field "upstream_timeout"`},
		{"a secret value", base + "    credentials: [{name: api, type: bearer, value: s3cret}]\n", "the file holds no secrets; write value_from: env:NAME"},
		{"bad value_from", base + "    credentials: [{name: api, type: bearer, value_from: s3cret}]\n", `tenants[0].credentials[0].value_from is "s3cret"; must be env:NAME`},
		{"bad credential type", base + "    credentials: [{name: api, type: magic, value_from: env:X}]\n", "tenants[0].credentials[0].type"},
		{"header missing", base + "    credentials: [{name: api, type: header, value_from: env:X}]\n", "tenants[0].credentials[0].header is required"},
		{"credential twice", base + "    credentials: [{name: a, type: bearer, value_from: env:X}, {name: a, type: bearer, value_from: env:Y}]\n", `tenants[0].credentials[1].name "a" is named twice`},
		{"same name in another case", base + "  - name: SHOP\n    base_url: https://b.example.com\n", `tenants[1].name "SHOP" is already the name of tenants[0]`},
		{"no base url", "version: 1\ntenants:\n  - name: shop\n", "tenants[0].base_url is required"},
		{"ftp base url", "version: 1\ntenants:\n  - name: shop\n    base_url: ftp://x\n", "tenants[0].base_url"},
		{"bad route map", base + "    settings: {route_maps: [{mcp_type: widget}]}\n", "tenants[0].settings.route_maps[0].mcp_type must be one of"},
		{"duplicate key", base + "    base_url: https://again.example.com\n", "already defined"},
		{"wrong type", base + "    active: maybe\n", "active"},
		{"bad toolset name", base + "    toolsets: [{name: Support Team}]\n", "tenants[0].toolsets[0].name"},
		{"toolset twice", base + "    toolsets: [{name: s}, {name: s}]\n", `tenants[0].toolsets[1].name "s" is named twice`},
		{"prompt placeholder", base + "    prompts: [{name: p, messages: [{role: user, text: \"{{x}}\"}]}]\n", "tenants[0].prompts[0].messages[0].text"},
		{"prompt of an unlisted toolset", base + "    prompts: [{name: p, messages: [{role: user, text: hi}], toolsets: [s]}]\n", `tenants[0].prompts[0].toolsets[0] "s" is not a toolset this tenant lists`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.doc))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Parse: %v; want an error containing %q", err, tc.want)
			}
		})
	}
}

func TestResolve(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "key.txt"), []byte("from-file\n"), 0o600)
	env := map[string]string{"TOKEN": "from-env"}
	getenv := func(k string) string { return env[k] }
	for _, tc := range []struct{ ref, want, err string }{
		{"env:TOKEN", "from-env", ""},
		{"file:key.txt", "from-file", ""},
		{"env:MISSING", "", "the environment variable MISSING is not set"},
		{"file:nope.txt", "", "nope.txt"},
	} {
		v, err := Credential{Name: "c", ValueFrom: tc.ref}.Resolve(getenv, dir)
		if v != tc.want || (err == nil) != (tc.err == "") || (err != nil && !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("Resolve(%s) = %q, %v; want %q, error containing %q", tc.ref, v, err, tc.want, tc.err)
		}
	}
}

var current = []Current{
	{ID: "t2", Name: "zoo", BaseURL: "https://zoo.example.com", SpecURL: "https://zoo.example.com/spec.json", Status: tenant.StatusInactive},
	{ID: "t1", Name: "shop", BaseURL: "https://shop.example.com", SpecURL: "https://shop.example.com/openapi.json", Status: tenant.StatusActive,
		Settings:    tenant.Settings{Names: map[string]string{"listPets": "pets"}, RateLimitPerSecond: 2.5},
		Credentials: []tenant.Credential{{Name: "api", Type: tenant.CredBearer}}},
}

// TestExportRoundTrip: an export parses back to itself, byte for byte once
// written again, and planning it against the state it came from is empty.
func TestExportRoundTrip(t *testing.T) {
	b, err := Marshal(Export(current))
	if err != nil {
		t.Fatal(err)
	}
	f, err := Parse(b)
	if err != nil {
		t.Fatalf("%v\n%s", err, b)
	}
	b2, _ := Marshal(f)
	if !bytes.Equal(b, b2) {
		t.Errorf("written again:\n%s\nfirst:\n%s", b2, b)
	}
	if p := Diff(f, current, Options{Prune: true}); !p.Empty() {
		var out bytes.Buffer
		p.Write(&out)
		t.Errorf("plan of an export against its own state:\n%s", out.String())
	}
	for _, want := range []string{"name: shop", "value_from: env:PORTICO_CREDENTIAL_SHOP_API", "spec_url: https://zoo.example.com/spec.json", "rate_limit_per_second: 2.5"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("export lacks %q:\n%s", want, b)
		}
	}
	if strings.Index(string(b), "name: shop") > strings.Index(string(b), "name: zoo") {
		t.Errorf("tenants are not sorted by name:\n%s", b)
	}
	if strings.Contains(string(b), "shop.example.com/openapi.json") {
		t.Errorf("the default spec URL is written out:\n%s", b)
	}
}

func TestDiff(t *testing.T) {
	exported := func(edit func(f *File)) *File {
		b, _ := Marshal(Export(current))
		f, err := Parse(b)
		if err != nil {
			t.Fatal(err)
		}
		edit(f)
		return f
	}
	yes := true
	for _, tc := range []struct {
		name  string
		file  *File
		o     Options
		lines string
	}{
		{"base url and a name", exported(func(f *File) {
			f.Tenants[0].BaseURL = "https://shop2.example.com"
			f.Tenants[0].Settings.Names["getPet"] = "pet"
			f.Tenants[0].Settings.RateLimitPerSecond = 0
		}), Options{}, `~ tenant shop (t1): change
    ~ base_url: "https://shop.example.com" → "https://shop2.example.com"
    ~ spec_url: "https://shop.example.com/openapi.json" → "https://shop2.example.com/openapi.json"
    ~ settings.names["getPet"]: (unset) → "pet"
    ~ settings.rate_limit_per_second: 2.5 → (unset)
plan: 0 to create, 1 to change, 0 to delete`},
		{"credential type, new credential, activation", exported(func(f *File) {
			f.Tenants[0].Credentials[0].Type, f.Tenants[0].Credentials[0].Header = "header", "X-Key"
			f.Tenants[1].Credentials = []Credential{{Name: "tok", Type: "bearer", ValueFrom: "file:/run/tok"}}
			f.Tenants[1].Active = &yes
		}), Options{}, `~ tenant shop (t1): change
    ~ credential api: bearer → header X-Key, value from env:PORTICO_CREDENTIAL_SHOP_API
~ tenant zoo (t2): change
    + credential tok: bearer, value from file:/run/tok
    ~ status: inactive → active (activate)
plan: 0 to create, 2 to change, 0 to delete`},
		{"an OAuth2 credential's settings", exported(func(f *File) {
			f.Tenants[0].Credentials[0] = Credential{Name: "api", Type: "bearer", ValueFrom: "env:PORTICO_CREDENTIAL_SHOP_API", TokenURL: "https://idp.example.com/token"}
			f.Tenants[0].Credentials[0].Type, f.Tenants[0].Credentials[0].ClientID = "oauth2_client_credentials", "portico"
		}), Options{}, `~ tenant shop (t1): change
    ~ credential api: bearer → oauth2_client_credentials, value from env:PORTICO_CREDENTIAL_SHOP_API
plan: 0 to create, 1 to change, 0 to delete`},
		{"a name in another case is the same tenant, renamed", exported(func(f *File) { f.Tenants[0].Name = "Shop" }), Options{Prune: true}, `~ tenant shop (t1): change
    ~ name: "shop" → "Shop"
plan: 0 to create, 1 to change, 0 to delete`},
		{"put credentials again", exported(func(f *File) {}), Options{PutCredentials: true}, `~ tenant shop (t1): change
    ~ credential api: set again, value from env:PORTICO_CREDENTIAL_SHOP_API (--put-credentials)
plan: 0 to create, 1 to change, 0 to delete`},
		{"create, and prune what the file no longer names", &File{Version: 1, Tenants: []Tenant{{Name: "new", BaseURL: "https://new.example.com", Active: &yes,
			Settings:    tenant.Settings{ToolMode: "discovery"},
			Credentials: []Credential{{Name: "k", Type: "query", Header: "api_key", ValueFrom: "env:NEW_KEY"}}}}}, Options{Prune: true}, `+ tenant new: create
    + base_url: "https://new.example.com"
    + spec_url: "https://new.example.com/openapi.json"
    + settings.tool_mode: (unset) → "discovery"
    + credential k: query api_key, value from env:NEW_KEY
    + status: active (activate)
- tenant shop (t1, active): delete (not in the file; --prune)
- tenant zoo (t2, inactive): delete (not in the file; --prune)
plan: 1 to create, 0 to change, 2 to delete`},
		{"without prune nothing is deleted", &File{Version: 1}, Options{}, "no changes"},
		{"prune credentials", exported(func(f *File) { f.Tenants[0].Credentials = nil }), Options{Prune: true}, `~ tenant shop (t1): change
    - credential api: delete (not in the file; --prune)
plan: 0 to create, 1 to change, 0 to delete`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			Diff(tc.file, current, tc.o).Write(&out)
			if diff := cmp.Diff(tc.lines+"\n", out.String()); diff != "" {
				t.Errorf("plan (-want +got):\n%s", diff)
			}
		})
	}
}

// TestSchemaValidates: the published schema accepts what Parse accepts
// (the example, an export) and refuses what it refuses, so an editor's
// squiggles agree with apply.
func TestSchemaValidates(t *testing.T) {
	s, err := Schema()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(s)
	var round jsonschema.Schema
	if err := json.Unmarshal(b, &round); err != nil {
		t.Fatal(err)
	}
	rs, err := round.Resolve(nil)
	if err != nil {
		t.Fatal(err)
	}
	exp, _ := Marshal(Export(current))
	asJSON := func(doc string) any {
		var v any
		if err := yaml.Unmarshal([]byte(doc), &v); err != nil {
			t.Fatal(err)
		}
		j, _ := json.Marshal(jsonable(v))
		var out any
		json.Unmarshal(j, &out)
		return out
	}
	for _, ok := range []string{example, string(exp)} {
		if err := rs.Validate(asJSON(ok)); err != nil {
			t.Errorf("schema refuses a valid file: %v\n%s", err, ok)
		}
	}
	base := "version: 1\ntenants:\n  - name: shop\n    base_url: https://shop.example.com\n"
	for _, bad := range []string{
		"tenants: []\n",
		"version: 2\ntenants: []\n",
		base + "    colour: blue\n",
		base + "    credentials: [{name: api, type: bearer, value: s3cret}]\n",
		base + "    credentials: [{name: api, type: bearer, value_from: s3cret}]\n",
		base + "    credentials: [{name: api, type: magic, value_from: env:X}]\n",
		base + "    settings: {route_maps: [{mcp_type: widget}]}\n",
		"version: 1\ntenants:\n  - name: shop\n    base_url: ftp://x\n",
	} {
		if _, err := Parse([]byte(bad)); err == nil {
			t.Errorf("Parse accepts %q", bad)
		}
		if err := rs.Validate(asJSON(bad)); err == nil {
			t.Errorf("schema accepts %q", bad)
		}
	}
}

// TestDiffOAuth2Settings: a change of an OAuth2 credential's settings
// (same name and type) is planned, field by field in one line; the same
// settings are no change.
func TestDiffOAuth2Settings(t *testing.T) {
	cred := tenant.Credential{Name: "idp", Type: tenant.CredOAuth2ClientCredentials,
		OAuth2Config: tenant.OAuth2Config{TokenURL: "https://idp.example.com/token", ClientID: "portico", Scopes: []string{"read"}}}
	cur := []Current{{ID: "t9", Name: "crm", BaseURL: "https://crm.example.com", SpecURL: "https://crm.example.com/openapi.json", Status: tenant.StatusInactive, Credentials: []tenant.Credential{cred}}}
	file := func(scopes ...string) *File {
		return &File{Version: 1, Tenants: []Tenant{{Name: "crm", BaseURL: "https://crm.example.com", Credentials: []Credential{{Name: "idp", Type: tenant.CredOAuth2ClientCredentials,
			TokenURL: "https://idp.example.com/token", ClientID: "portico", Scopes: scopes, ValueFrom: "env:IDP"}}}}}
	}
	if p := Diff(file("read"), cur, Options{}); !p.Empty() {
		t.Errorf("the same settings planned %+v", p.Steps)
	}
	var b strings.Builder
	Diff(file("read", "write"), cur, Options{}).Write(&b)
	if want := `~ credential idp: {"token_url":"https://idp.example.com/token","client_id":"portico","scopes":["read"]} → {"token_url":"https://idp.example.com/token","client_id":"portico","scopes":["read","write"]}, value from env:IDP`; !strings.Contains(b.String(), want) {
		t.Errorf("plan:\n%s\nwant a line %s", b.String(), want)
	}
}
