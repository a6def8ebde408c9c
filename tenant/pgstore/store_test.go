package pgstore_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/portico-mcp/portico/tenant"
	"github.com/portico-mcp/portico/tenant/pgstore"
	"github.com/portico-mcp/portico/tenant/pgtest"
)

type fixture struct {
	store *pgstore.Store
	pool  *pgxpool.Pool
	key   tenant.MasterKey
}

func newFixture(t *testing.T) fixture {
	t.Helper()
	pool := pgtest.NewPool(t)
	key := newKey(t, "k1")
	return fixture{store: pgstore.NewStore(pool, mustSealer(t, key)), pool: pool, key: key}
}

func (f fixture) createTenant(t *testing.T, name string) *tenant.Tenant {
	t.Helper()
	tn := &tenant.Tenant{Name: name, BaseURL: "https://api.example.com/v1/"}
	if err := f.store.CreateTenant(context.Background(), tn, "alice"); err != nil {
		t.Fatalf("CreateTenant(%q): %v", name, err)
	}
	return tn
}

var ignoreTimes = cmpopts.IgnoreFields(tenant.Tenant{}, "CreatedAt", "UpdatedAt")

func TestTenantCRUD(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t)
	a := f.createTenant(t, "  Acme  ")
	if len(a.ID) != 26 || strings.ToLower(a.ID) != a.ID {
		t.Errorf("ID = %q, want 26 lowercase characters", a.ID)
	}
	want := &tenant.Tenant{
		ID: a.ID, Name: "Acme", BaseURL: "https://api.example.com/v1/",
		SpecURL: "https://api.example.com/v1/openapi.json", Status: tenant.StatusPending,
	}
	if diff := cmp.Diff(want, a, ignoreTimes); diff != "" {
		t.Errorf("created tenant (-want +got):\n%s", diff)
	}
	got, err := f.store.Tenant(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(a, got, cmpopts.EquateApproxTime(time.Millisecond)); diff != "" {
		t.Errorf("Tenant (-want +got):\n%s", diff)
	}

	b := f.createTenant(t, "Beta")
	list, err := f.store.Tenants(ctx, tenant.TenantFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{a.ID, b.ID}, ids(list)); diff != "" {
		t.Errorf("Tenants (-want +got):\n%s", diff)
	}
	list, _ = f.store.Tenants(ctx, tenant.TenantFilter{IDs: []string{b.ID}})
	if diff := cmp.Diff([]string{b.ID}, ids(list)); diff != "" {
		t.Errorf("Tenants by id (-want +got):\n%s", diff)
	}
	list, _ = f.store.Tenants(ctx, tenant.TenantFilter{Status: tenant.StatusActive})
	if len(list) != 0 {
		t.Errorf("Tenants(active) = %v, want none", ids(list))
	}

	// Base URL changes drag the derived spec URL along.
	newBase := "https://api2.example.com"
	up, err := f.store.UpdateTenant(ctx, a.ID, tenant.TenantPatch{BaseURL: &newBase}, "bob")
	if err != nil {
		t.Fatal(err)
	}
	if up.SpecURL != "https://api2.example.com/openapi.json" {
		t.Errorf("SpecURL after base change = %q", up.SpecURL)
	}
	custom := "https://specs.example.com/a.json"
	if _, err := f.store.UpdateTenant(ctx, a.ID, tenant.TenantPatch{SpecURL: &custom}, "bob"); err != nil {
		t.Fatal(err)
	}
	third := "https://api3.example.com"
	up, _ = f.store.UpdateTenant(ctx, a.ID, tenant.TenantPatch{BaseURL: &third}, "bob")
	if up.SpecURL != custom {
		t.Errorf("explicit SpecURL = %q after base change, want it kept (%q)", up.SpecURL, custom)
	}
	settings := tenant.Settings{UpstreamTimeoutMS: 5000}
	up, err = f.store.UpdateTenant(ctx, a.ID, tenant.TenantPatch{Settings: &settings}, "bob")
	if err != nil || up.Settings.UpstreamTimeoutMS != 5000 {
		t.Fatalf("update settings = %+v, %v", up, err)
	}

	if err := f.store.DeleteTenant(ctx, b.ID, "bob"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.store.Tenant(ctx, b.ID); !errors.Is(err, tenant.ErrNotFound) {
		t.Errorf("Tenant after delete: %v, want ErrNotFound", err)
	}
	if err := f.store.DeleteTenant(ctx, b.ID, "bob"); !errors.Is(err, tenant.ErrNotFound) {
		t.Errorf("second delete: %v, want ErrNotFound", err)
	}
}

func ids(ts []*tenant.Tenant) []string {
	var out []string
	for _, t := range ts {
		out = append(out, t.ID)
	}
	return out
}

func TestCreateTenantInvalid(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	tests := []struct {
		name   string
		tenant tenant.Tenant
		fields []string
	}{
		{"blank name", tenant.Tenant{Name: "  ", BaseURL: "https://x.example"}, []string{"name"}},
		{"long name", tenant.Tenant{Name: strings.Repeat("é", 101), BaseURL: "https://x.example"}, []string{"name"}},
		{"bad urls", tenant.Tenant{Name: "x", BaseURL: "ftp://x", SpecURL: "nope"}, []string{"base_url", "spec_url"}},
		{"bad settings", tenant.Tenant{Name: "x", BaseURL: "https://x.example", Settings: tenant.Settings{MaxConcurrency: -1}}, []string{"settings.max_concurrency"}},
		{"bad route timeouts", tenant.Tenant{Name: "x", BaseURL: "https://x.example", Settings: tenant.Settings{TimeoutsMS: map[string]int{"GET /ok": 500, "get_x": 0, "FETCH /x": 10, "POST items": 10}}},
			[]string{`settings.timeouts_ms["FETCH /x"]`, `settings.timeouts_ms["POST items"]`, `settings.timeouts_ms["get_x"]`}},
		{"bad tool mode and uri", tenant.Tenant{Name: "x", BaseURL: "https://x.example", Settings: tenant.Settings{ToolMode: "lazy", URIs: map[string]string{"op": "no scheme"}}}, []string{"settings.uris", "settings.tool_mode"}},
		{"bad listing", tenant.Tenant{Name: "x", BaseURL: "https://x.example", Settings: tenant.Settings{Listing: "short"}}, []string{"settings.listing"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := f.store.CreateTenant(context.Background(), &tt.tenant, "alice")
			var inv *tenant.InvalidError
			if !errors.As(err, &inv) || !errors.Is(err, tenant.ErrInvalid) {
				t.Fatalf("err = %v, want *InvalidError", err)
			}
			var got []string
			for _, p := range inv.Problems {
				got = append(got, p.Field)
			}
			if diff := cmp.Diff(tt.fields, got); diff != "" {
				t.Errorf("fields (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDuplicateNameConflict(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t)
	f.createTenant(t, "Acme")
	err := f.store.CreateTenant(ctx, &tenant.Tenant{Name: "ACME", BaseURL: "https://x.example"}, "alice")
	if !errors.Is(err, tenant.ErrConflict) || !strings.Contains(err.Error(), "already exists") {
		t.Errorf("duplicate create: %v, want ErrConflict saying it already exists", err)
	}
	b := f.createTenant(t, "Beta")
	name := "acme"
	if _, err := f.store.UpdateTenant(ctx, b.ID, tenant.TenantPatch{Name: &name}, "alice"); !errors.Is(err, tenant.ErrConflict) {
		t.Errorf("rename onto existing name: %v, want ErrConflict", err)
	}
}

func TestSetStatus(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t)
	tn := f.createTenant(t, "Acme")
	steps := []struct {
		name       string
		to         tenant.Status
		reason     string
		wantReason string
		wantErr    error
	}{
		{"pending to failed", tenant.StatusFailed, "spec unreachable", "spec unreachable", nil},
		{"failed to failed", tenant.StatusFailed, "still down", "still down", nil},
		{"failed to active clears reason", tenant.StatusActive, "ignored", "", nil},
		{"active to pending refused", tenant.StatusPending, "", "", tenant.ErrInvalidTransition},
		{"active to suspended", tenant.StatusSuspended, "abuse", "abuse", nil},
		{"suspended to active refused", tenant.StatusActive, "", "", tenant.ErrInvalidTransition},
		{"suspended to inactive", tenant.StatusInactive, "", "", nil},
		{"unknown status", "deleted", "", "", tenant.ErrInvalid},
	}
	prev := tn.Status
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			got, err := f.store.SetStatus(ctx, tn.ID, st.to, st.reason, "ops")
			if st.wantErr != nil {
				if !errors.Is(err, st.wantErr) {
					t.Fatalf("err = %v, want %v", err, st.wantErr)
				}
				var te *tenant.TransitionError
				if errors.As(err, &te) && (te.From != prev || te.To != st.to) {
					t.Errorf("TransitionError = %+v, want {%s %s}", te, prev, st.to)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Status != st.to || got.StatusReason != st.wantReason {
				t.Errorf("got (%s, %q), want (%s, %q)", got.Status, got.StatusReason, st.to, st.wantReason)
			}
			prev = got.Status
		})
	}
	if _, err := f.store.SetStatus(ctx, "nope", tenant.StatusActive, "", "ops"); !errors.Is(err, tenant.ErrNotFound) {
		t.Errorf("unknown tenant: %v, want ErrNotFound", err)
	}
}

func TestCredentials(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t)
	tn := f.createTenant(t, "Acme")
	const secret = "s3cr3t-VALUE-xyz"
	if err := f.store.PutCredential(ctx, tn.ID, tenant.Credential{Name: "api", Type: tenant.CredBearer}, "old-"+secret, "alice"); err != nil {
		t.Fatal(err)
	}
	if err := f.store.PutCredential(ctx, tn.ID, tenant.Credential{Name: "api", Type: tenant.CredHeader, Header: "X-Key"}, secret, "alice"); err != nil {
		t.Fatal(err)
	}
	if err := f.store.PutCredential(ctx, tn.ID, tenant.Credential{Name: "bad", Type: "magic"}, secret, "alice"); !errors.Is(err, tenant.ErrInvalid) {
		t.Errorf("bad type: %v, want ErrInvalid", err)
	}
	if err := f.store.PutCredential(ctx, "nope", tenant.Credential{Name: "api", Type: tenant.CredBearer}, secret, "alice"); !errors.Is(err, tenant.ErrNotFound) {
		t.Errorf("unknown tenant: %v, want ErrNotFound", err)
	}

	list, err := f.store.Credentials(ctx, tn.ID)
	if err != nil {
		t.Fatal(err)
	}
	wantList := []tenant.Credential{{Name: "api", Type: tenant.CredHeader, Header: "X-Key"}}
	if diff := cmp.Diff(wantList, list, cmpopts.IgnoreFields(tenant.Credential{}, "CreatedAt", "UpdatedAt")); diff != "" {
		t.Errorf("Credentials (-want +got):\n%s", diff)
	}
	if b, _ := json.Marshal(list); bytes.Contains(b, []byte(secret)) {
		t.Error("credential list contains the value")
	}

	live, err := f.store.LiveCredentials(ctx, tn.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(live) != 1 || live[0].Value.Reveal() != secret || live[0].Header != "X-Key" {
		t.Errorf("LiveCredentials = %+v", live)
	}

	var ct []byte
	if err := f.pool.QueryRow(ctx, `SELECT ciphertext FROM credentials WHERE tenant_id = $1`, tn.ID).Scan(&ct); err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(ct, []byte(secret)) {
		t.Error("ciphertext column contains the plaintext")
	}

	if err := f.store.DeleteCredential(ctx, tn.ID, "api", "alice"); err != nil {
		t.Fatal(err)
	}
	if err := f.store.DeleteCredential(ctx, tn.ID, "api", "alice"); !errors.Is(err, tenant.ErrNotFound) {
		t.Errorf("second delete: %v, want ErrNotFound", err)
	}
	if _, err := f.store.Credentials(ctx, "nope"); !errors.Is(err, tenant.ErrNotFound) {
		t.Errorf("Credentials of unknown tenant: %v, want ErrNotFound", err)
	}

	entries, err := f.store.Audit(ctx, tn.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, e := range entries {
		actions = append(actions, e.Action)
		if b, _ := json.Marshal(e); bytes.Contains(b, []byte(secret)) {
			t.Errorf("audit entry %s contains the secret: %s", e.Action, b)
		}
	}
	wantActions := []string{"credential.delete", "credential.replace", "credential.create", "tenant.create"}
	if diff := cmp.Diff(wantActions, actions); diff != "" {
		t.Errorf("audit actions (-want +got):\n%s", diff)
	}
	if entries[0].Actor != "alice" || entries[0].Details["name"] != "api" {
		t.Errorf("newest audit entry = %+v", entries[0])
	}
}

func TestTokens(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t)
	tn := f.createTenant(t, "Acme")
	tok, secret, err := f.store.CreateToken(ctx, tn.ID, "agent", nil, "alice")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(secret, "mcp_") || len(secret) < 36 || tok.Prefix != secret[:12] {
		t.Errorf("secret %q / prefix %q malformed", secret[:6]+"…", tok.Prefix)
	}
	got, err := f.store.VerifyToken(ctx, secret)
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != tok.ID || got.TenantID != tn.ID || got.LastUsedAt == nil {
		t.Errorf("VerifyToken = %+v", got)
	}
	if _, err := f.store.VerifyToken(ctx, secret+"x"); !errors.Is(err, tenant.ErrNotFound) {
		t.Errorf("wrong secret: %v, want ErrNotFound", err)
	}

	past := time.Now().Add(-time.Hour)
	if _, _, err := f.store.CreateToken(ctx, tn.ID, "old", &past, "alice"); !errors.Is(err, tenant.ErrInvalid) {
		t.Errorf("past expiry: %v, want ErrInvalid", err)
	}
	if _, _, err := f.store.CreateToken(ctx, tn.ID, "", nil, "alice"); !errors.Is(err, tenant.ErrInvalid) {
		t.Errorf("empty name: %v, want ErrInvalid", err)
	}
	soon := time.Now().Add(time.Hour)
	exp, expSecret, err := f.store.CreateToken(ctx, tn.ID, "short", &soon, "alice")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.store.VerifyToken(ctx, expSecret); err != nil {
		t.Fatalf("unexpired token: %v", err)
	}
	if _, err := f.pool.Exec(ctx, `UPDATE mcp_tokens SET expires_at = now() - interval '1 second' WHERE id = $1`, exp.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := f.store.VerifyToken(ctx, expSecret); !errors.Is(err, tenant.ErrNotFound) {
		t.Errorf("expired token: %v, want ErrNotFound", err)
	}

	list, err := f.store.Tokens(ctx, tn.ID)
	if err != nil || len(list) != 2 {
		t.Fatalf("Tokens = %v, %v; want 2", list, err)
	}
	if err := f.store.RevokeToken(ctx, tn.ID, tok.ID, "alice"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.store.VerifyToken(ctx, secret); !errors.Is(err, tenant.ErrNotFound) {
		t.Errorf("revoked token: %v, want ErrNotFound", err)
	}
	if err := f.store.RevokeToken(ctx, tn.ID, tok.ID, "alice"); !errors.Is(err, tenant.ErrNotFound) {
		t.Errorf("second revoke: %v, want ErrNotFound", err)
	}
	list, _ = f.store.Tokens(ctx, tn.ID)
	if len(list) != 1 || list[0].ID != exp.ID {
		t.Errorf("Tokens after revoke = %+v", list)
	}
	assertAuditClean(t, f, tn.ID, secret, expSecret)
}

func TestAPIKeys(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t)
	tn := f.createTenant(t, "Acme")
	tests := []struct {
		name    string
		tenant  string
		scopes  []string
		want    []string
		wantErr error
	}{
		{"admin read write", "", []string{"write", "read", "read"}, []string{"read", "write"}, nil},
		{"tenant read", tn.ID, []string{"read"}, []string{"read"}, nil},
		{"no scopes", tn.ID, nil, nil, tenant.ErrInvalid},
		{"unknown scope", tn.ID, []string{"read", "admin"}, nil, tenant.ErrInvalid},
		{"unknown tenant", "nope", []string{"read"}, nil, tenant.ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key, secret, err := f.store.CreateAPIKey(ctx, tt.tenant, "k", tt.scopes, tenant.Minter{}, "alice")
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(secret, "pk_") || key.Prefix != secret[:12] {
				t.Errorf("malformed secret or prefix %q", key.Prefix)
			}
			got, err := f.store.VerifyAPIKey(ctx, secret)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got.Scopes); diff != "" {
				t.Errorf("scopes (-want +got):\n%s", diff)
			}
			if got.Admin() != (tt.tenant == "") || got.TenantID != tt.tenant {
				t.Errorf("TenantID = %q, want %q", got.TenantID, tt.tenant)
			}
			if err := f.store.RevokeAPIKey(ctx, tt.tenant, key.ID, "alice"); err != nil {
				t.Fatal(err)
			}
			if _, err := f.store.VerifyAPIKey(ctx, secret); !errors.Is(err, tenant.ErrNotFound) {
				t.Errorf("revoked key: %v, want ErrNotFound", err)
			}
		})
	}
	admin, _, _ := f.store.CreateAPIKey(ctx, "", "ops", []string{"read"}, tenant.Minter{}, "alice")
	tk, _, _ := f.store.CreateAPIKey(ctx, tn.ID, "ci", []string{"write"}, tenant.Minter{}, "alice")
	adminKeys, _ := f.store.APIKeys(ctx, "")
	tenantKeys, _ := f.store.APIKeys(ctx, tn.ID)
	if len(adminKeys) != 1 || adminKeys[0].ID != admin.ID || len(tenantKeys) != 1 || tenantKeys[0].ID != tk.ID {
		t.Errorf("APIKeys: admin %+v, tenant %+v", adminKeys, tenantKeys)
	}
	if err := f.store.RevokeAPIKey(ctx, tn.ID, admin.ID, "alice"); !errors.Is(err, tenant.ErrNotFound) {
		t.Errorf("revoking an admin key through a tenant: %v, want ErrNotFound", err)
	}
}

func TestSpecVersions(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t)
	tn := f.createTenant(t, "Acme")
	if _, err := f.store.LatestSpec(ctx, tn.ID); !errors.Is(err, tenant.ErrNotFound) {
		t.Errorf("LatestSpec with none: %v, want ErrNotFound", err)
	}
	doc1 := []byte(`{"openapi":"3.1.0","paths":{}}`)
	doc2 := []byte(`{"openapi":"3.1.0","paths":{"/x":{}}}`)
	steps := []struct {
		name        string
		doc         []byte
		wantVersion int
		wantAdded   bool
	}{
		{"first", doc1, 1, true},
		{"same bytes", doc1, 1, false},
		{"changed", doc2, 2, true},
		{"changed back", doc1, 3, true},
		{"same again", doc1, 3, false},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			v, added, err := f.store.AddSpecVersion(ctx, tn.ID, tenant.SpecVersion{Raw: st.doc, ETag: `"e"`, ToolCount: 2, Warnings: []string{"w"}})
			if err != nil {
				t.Fatal(err)
			}
			if v.Version != st.wantVersion || added != st.wantAdded {
				t.Errorf("got (v%d, %v), want (v%d, %v)", v.Version, added, st.wantVersion, st.wantAdded)
			}
		})
	}
	latest, err := f.store.LatestSpec(ctx, tn.ID)
	if err != nil {
		t.Fatal(err)
	}
	empty := tenant.SpecDiff{}.NonNil()
	want := tenant.SpecVersion{TenantID: tn.ID, Version: 3, ETag: `"e"`, ToolCount: 2, Warnings: []string{"w"}, Raw: doc1, Diff: &empty}
	if diff := cmp.Diff(want, latest, cmpopts.IgnoreFields(tenant.SpecVersion{}, "SHA256", "FetchedAt")); diff != "" {
		t.Errorf("LatestSpec (-want +got):\n%s", diff)
	}
	got, _ := f.store.Tenant(ctx, tn.ID)
	if got.SpecVersion != 3 {
		t.Errorf("tenant.SpecVersion = %d, want 3", got.SpecVersion)
	}
	v2, err := f.store.Spec(ctx, tn.ID, 2)
	if err != nil || !bytes.Equal(v2.Raw, doc2) {
		t.Errorf("Spec(2) = %q, %v", v2.Raw, err)
	}
	all, _ := f.store.SpecVersions(ctx, tn.ID)
	if len(all) != 3 || all[0].Version != 3 {
		t.Errorf("SpecVersions = %+v", all)
	}
}

func TestRotateKeys(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.NewPool(t)
	oldKey, newKeyV := newKey(t, "old"), newKey(t, "new")
	before := pgstore.NewStore(pool, mustSealer(t, oldKey))
	var tenants []*tenant.Tenant
	for _, name := range []string{"a", "b", "c"} {
		tn := &tenant.Tenant{Name: name, BaseURL: "https://x.example"}
		if err := before.CreateTenant(ctx, tn, "alice"); err != nil {
			t.Fatal(err)
		}
		if err := before.PutCredential(ctx, tn.ID, tenant.Credential{Name: "c", Type: tenant.CredBearer}, "value-"+name, "alice"); err != nil {
			t.Fatal(err)
		}
		tenants = append(tenants, tn)
	}

	during := pgstore.NewStore(pool, mustSealer(t, newKeyV, oldKey))
	n, err := during.RotateKeys(ctx, "ops")
	if err != nil || n != 3 {
		t.Fatalf("RotateKeys = %d, %v; want 3", n, err)
	}
	if n, err := during.RotateKeys(ctx, "ops"); err != nil || n != 0 {
		t.Errorf("second RotateKeys = %d, %v; want 0", n, err)
	}

	after := pgstore.NewStore(pool, mustSealer(t, newKeyV))
	for _, tn := range tenants {
		live, err := after.LiveCredentials(ctx, tn.ID)
		if err != nil {
			t.Fatalf("after removing the old key: %v", err)
		}
		if live[0].Value.Reveal() != "value-"+tn.Name {
			t.Errorf("tenant %s: value %q", tn.Name, live[0].Value.Reveal())
		}
	}
	// A store without the key a tenant is wrapped under says which key.
	if _, err := before.LiveCredentials(ctx, tenants[0].ID); err == nil || !strings.Contains(err.Error(), `"new"`) {
		t.Errorf("LiveCredentials with a missing master key: %v, want an error naming it", err)
	}
}

func TestTenantIsolation(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t)
	a := f.createTenant(t, "A")
	b := f.createTenant(t, "B")
	if err := f.store.PutCredential(ctx, a.ID, tenant.Credential{Name: "api", Type: tenant.CredBearer}, "a-secret", "alice"); err != nil {
		t.Fatal(err)
	}
	tok, _, err := f.store.CreateToken(ctx, a.ID, "agent", nil, "alice")
	if err != nil {
		t.Fatal(err)
	}
	key, _, err := f.store.CreateAPIKey(ctx, a.ID, "ci", []string{"read"}, tenant.Minter{}, "alice")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		call func() error
	}{
		{"delete A's credential via B", func() error { return f.store.DeleteCredential(ctx, b.ID, "api", "eve") }},
		{"revoke A's token via B", func() error { return f.store.RevokeToken(ctx, b.ID, tok.ID, "eve") }},
		{"revoke A's key via B", func() error { return f.store.RevokeAPIKey(ctx, b.ID, key.ID, "eve") }},
		{"revoke A's key as admin", func() error { return f.store.RevokeAPIKey(ctx, "", key.ID, "eve") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.call(); !errors.Is(err, tenant.ErrNotFound) {
				t.Errorf("err = %v, want ErrNotFound", err)
			}
		})
	}
	if creds, _ := f.store.Credentials(ctx, b.ID); len(creds) != 0 {
		t.Errorf("B sees credentials %v", creds)
	}
	if toks, _ := f.store.Tokens(ctx, b.ID); len(toks) != 0 {
		t.Errorf("B sees tokens %v", toks)
	}
	if keys, _ := f.store.APIKeys(ctx, b.ID); len(keys) != 0 {
		t.Errorf("B sees API keys %v", keys)
	}
	// A's credential still works after the attempts.
	if live, err := f.store.LiveCredentials(ctx, a.ID); err != nil || len(live) != 1 {
		t.Errorf("A's credentials after attacks: %v, %v", live, err)
	}
	// A ciphertext copied onto B's row does not decrypt under B.
	if _, err := f.pool.Exec(ctx, `
		INSERT INTO credentials (tenant_id, name, type, ciphertext)
		SELECT $2, name, type, ciphertext FROM credentials WHERE tenant_id = $1`, a.ID, b.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := f.store.LiveCredentials(ctx, b.ID); err == nil || strings.Contains(err.Error(), "a-secret") {
		t.Errorf("copied ciphertext under B: %v, want a decryption error without the value", err)
	}
}

func TestUnavailable(t *testing.T) {
	t.Parallel()
	pool, err := pgxpool.New(context.Background(), "postgres://postgres@127.0.0.1:1/none?connect_timeout=1")
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	s := pgstore.NewStore(pool, mustSealer(t, newKey(t, "k")))
	if err := s.Ping(context.Background()); !errors.Is(err, tenant.ErrUnavailable) {
		t.Errorf("Ping = %v, want ErrUnavailable", err)
	}
	if _, err := s.Tenant(context.Background(), "x"); !errors.Is(err, tenant.ErrUnavailable) {
		t.Errorf("Tenant = %v, want ErrUnavailable", err)
	}
}

func assertAuditClean(t *testing.T, f fixture, tenantID string, secrets ...string) {
	t.Helper()
	entries, err := f.store.Audit(context.Background(), tenantID, 1000)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) == 0 {
		t.Fatal("no audit entries")
	}
	for _, e := range entries {
		b, _ := json.Marshal(e)
		for _, s := range secrets {
			if bytes.Contains(b, []byte(s)) {
				t.Errorf("audit entry %s contains a secret", e.Action)
			}
		}
	}
}

// TestOAuth2Credential: an oauth2_client_credentials credential keeps its
// token URL, client id, scopes, audience and auth method in the clear (they
// are listed) and its client secret sealed.
func TestOAuth2Credential(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t)
	tn := f.createTenant(t, "Acme")
	const secret = "client-SECRET-41f0"
	conf := tenant.OAuth2Config{TokenURL: "https://idp.example/oauth/token", ClientID: "portico", Scopes: []string{"read", "write"},
		Audience: "https://api.example", AuthMethod: tenant.AuthMethodPost}
	if err := f.store.PutCredential(ctx, tn.ID, tenant.Credential{Name: "m2m", Type: tenant.CredOAuth2ClientCredentials, OAuth2Config: conf}, secret, "alice"); err != nil {
		t.Fatal(err)
	}
	list, err := f.store.Credentials(ctx, tn.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := []tenant.Credential{{Name: "m2m", Type: tenant.CredOAuth2ClientCredentials, OAuth2Config: conf}}
	if diff := cmp.Diff(want, list, cmpopts.IgnoreFields(tenant.Credential{}, "CreatedAt", "UpdatedAt")); diff != "" {
		t.Errorf("Credentials (-want +got):\n%s", diff)
	}
	live, err := f.store.LiveCredentials(ctx, tn.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(live) != 1 || live[0].Value.Reveal() != secret || !cmp.Equal(live[0].OAuth2Config, conf) {
		t.Errorf("LiveCredentials = %+v, want the config and the secret", live)
	}
	var row string
	if err := f.pool.QueryRow(ctx, `SELECT c::text FROM credentials c WHERE tenant_id = $1`, tn.ID).Scan(&row); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(row, secret) {
		t.Errorf("the credentials row holds the secret in plaintext: %s", row)
	}
	// Replacing it with a plain bearer clears the OAuth2 fields.
	if err := f.store.PutCredential(ctx, tn.ID, tenant.Credential{Name: "m2m", Type: tenant.CredBearer}, secret, "alice"); err != nil {
		t.Fatal(err)
	}
	list, _ = f.store.Credentials(ctx, tn.ID)
	if len(list) != 1 || list[0].TokenURL != "" || list[0].Type != tenant.CredBearer {
		t.Errorf("after replacing with a bearer: %+v", list)
	}
}

func newKey(t testing.TB, id string) tenant.MasterKey {
	t.Helper()
	b := make([]byte, 32)
	rand.Read(b)
	return tenant.MasterKey{ID: id, Key: b}
}

func mustSealer(t testing.TB, keys ...tenant.MasterKey) *tenant.Sealer {
	t.Helper()
	s, err := tenant.NewSealer(keys)
	if err != nil {
		t.Fatal(err)
	}
	return s
}
