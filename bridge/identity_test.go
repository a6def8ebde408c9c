package bridge

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/go-cmp/cmp"
	"github.com/modelcontextprotocol/go-sdk/auth"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/portico-mcp/portico/tenant"
)

type fakeKeys struct {
	keys  []tenant.IdentityKey
	loads atomic.Int64
}

func (f *fakeKeys) IdentityKeys(context.Context, tenant.IdentityKeyPolicy) ([]tenant.IdentityKey, error) {
	f.loads.Add(1)
	return f.keys, nil
}

func newIdentityKey(t *testing.T, id string, created time.Time) tenant.IdentityKey {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return tenant.IdentityKey{ID: id, CreatedAt: created, Private: k}
}

// TestIdentityAssertion: the assertion is an ES256 JWT with the claims the
// upstream checks, signed by the newest key once it has been published
// for the policy's Publish time, and by the previous key before that.
func TestIdentityAssertion(t *testing.T) {
	now := time.Now()
	old := newIdentityKey(t, "old", now.Add(-2*time.Hour))
	fresh := newIdentityKey(t, "new", now.Add(-time.Minute))
	src := &fakeKeys{keys: []tenant.IdentityKey{fresh, old}}
	id := NewIdentity("https://portico.example/", src, tenant.IdentityKeyPolicy{Rotate: time.Hour, Publish: 5 * time.Minute, Overlap: time.Hour}, nil)
	ten := &tenant.Tenant{ID: "t1", BaseURL: "https://api.example/v1/"}
	verify := func(raw string, k tenant.IdentityKey) *IdentityClaims {
		t.Helper()
		var c IdentityClaims
		tok, err := jwt.ParseWithClaims(raw, &c, func(*jwt.Token) (any, error) { return &k.Private.PublicKey, nil },
			jwt.WithValidMethods([]string{"ES256"}), jwt.WithIssuer("https://portico.example"), jwt.WithAudience("https://api.example/v1"), jwt.WithExpirationRequired(), jwt.WithTimeFunc(id.now))
		if err != nil {
			t.Fatalf("assertion does not verify with key %s: %v", k.ID, err)
		}
		if tok.Header["kid"] != k.ID {
			t.Errorf("kid = %v, want %s", tok.Header["kid"], k.ID)
		}
		return &c
	}
	raw, err := id.assert(context.Background(), ten, caller{user: "u1", token: "oauth:g1", scopes: []string{"mcp"}})
	if err != nil {
		t.Fatal(err)
	}
	c := verify(raw, old) // the new key is not published long enough yet
	if c.Subject != "user:u1" || c.Tenant != "t1" || !cmp.Equal(c.Scopes, []string{"mcp"}) || c.Token != "oauth:g1" || c.ID == "" {
		t.Errorf("claims = %+v, want sub user:u1, tenant t1, scopes [mcp], token_id oauth:g1 and a jti", c)
	}
	if life := c.ExpiresAt.Sub(c.IssuedAt.Time); life <= 0 || life > IdentityLifetime {
		t.Errorf("lifetime = %s, want at most %s", life, IdentityLifetime)
	}
	raw2, _ := id.assert(context.Background(), ten, caller{token: "tok9"})
	c2 := verify(raw2, old)
	if c2.Subject != "token:tok9" || c2.ID == c.ID || c2.Scopes == nil {
		t.Errorf("second assertion = %+v, want sub token:tok9, a new jti and scopes []", c2)
	}
	id.now = func() time.Time { return now.Add(10 * time.Minute) }
	id.loaded = id.now()
	raw3, _ := id.assert(context.Background(), ten, caller{token: "tok9"})
	verify(raw3, fresh)
}

// TestIdentityHeaderOnCalls: a tenant with settings.identity_assertion
// sends the assertion in the header it names on every call, with the
// caller the MCP token names; a tenant without it sends none.
func TestIdentityHeaderOnCalls(t *testing.T) {
	k := newIdentityKey(t, "k1", time.Now().Add(-time.Hour))
	var got atomic.Value
	upstream := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got.Store(r.Header.Get("X-Caller") + "|" + r.Header.Get(tenant.DefaultIdentityHeader))
		fastUpstream(w, r)
	})
	for _, tc := range []struct {
		name    string
		setting *tenant.IdentityAssertion
		want    bool
	}{
		{"off", nil, false},
		{"X-Caller", &tenant.IdentityAssertion{Header: "X-Caller"}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, l, _ := ccTenant(t, upstream, tenant.LiveCredential{Credential: tenant.Credential{Name: "k", Type: tenant.CredHeader, Header: "X-Key"}, Value: "v"})
			l.identity = NewIdentity("https://portico.example", &fakeKeys{keys: []tenant.IdentityKey{k}}, DefaultIdentityKeyPolicy, nil)
			st := *l.state.Load()
			ten := *st.tenant
			ten.Settings.IdentityAssertion = tc.setting
			st.tenant = &ten
			extra := &mcp.RequestExtra{TokenInfo: &auth.TokenInfo{UserID: "t1/tok1", Scopes: []string{"read"}, Extra: map[string]any{tokenUserKey: "u7"}}}
			res, _ := l.call(context.Background(), &st, st.ops["tool:get_r"], &mcp.CallToolRequest{Extra: extra, Params: &mcp.CallToolParamsRaw{Name: "get_r", Arguments: []byte(`{"kind":"obj"}`)}})
			if res.IsError {
				t.Fatalf("call failed: %v", res.Content[0].(*mcp.TextContent).Text)
			}
			v := got.Load().(string)
			if !tc.want {
				if v != "|" {
					t.Errorf("headers = %q, want no assertion", v)
				}
				return
			}
			var c IdentityClaims
			raw := v[:len(v)-1]
			if _, err := jwt.ParseWithClaims(raw, &c, func(*jwt.Token) (any, error) { return &k.Private.PublicKey, nil }, jwt.WithValidMethods([]string{"ES256"})); err != nil {
				t.Fatalf("X-Caller = %q: %v", raw, err)
			}
			if c.Subject != "user:u7" || c.Token != "tok1" || c.Tenant != "t1" || c.Audience[0] != ten.BaseURL {
				t.Errorf("claims = %+v", c)
			}
		})
	}
}

// BenchmarkIdentityAssert is what the identity assertion adds to an
// upstream call: one ES256 signature and the claims' encoding.
func BenchmarkIdentityAssert(b *testing.B) {
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	id := NewIdentity("https://portico.example", &fakeKeys{keys: []tenant.IdentityKey{{ID: "k", CreatedAt: time.Now().Add(-time.Hour), Private: k}}}, DefaultIdentityKeyPolicy, nil)
	ten := &tenant.Tenant{ID: "t1", BaseURL: "https://api.example"}
	c := caller{user: "u1", token: "oauth:g1", scopes: []string{"mcp"}}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := id.assert(context.Background(), ten, c); err != nil {
			b.Fatal(err)
		}
	}
}
