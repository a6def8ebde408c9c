package pgstore_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/portico-mcp/portico/tenant"
)

func TestPKCE(t *testing.T) {
	t.Parallel()
	// RFC 7636 Appendix B.
	const verifier, challenge = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk", "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
	if got := tenant.PKCEChallenge(verifier); got != challenge {
		t.Errorf("PKCEChallenge = %s, want %s", got, challenge)
	}
	if !tenant.VerifyPKCE(verifier, challenge) {
		t.Error("VerifyPKCE refuses the RFC's own example")
	}
	for _, bad := range []string{"", verifier + "x", challenge} {
		if tenant.VerifyPKCE(bad, challenge) {
			t.Errorf("VerifyPKCE(%q) = true", bad)
		}
	}
}

// oauthFixture is a tenant, a user and an approved authorization request.
type oauthFixture struct {
	fixture
	tenantID, other string
	userID          string
	req             tenant.AuthRequest
	verifier        string
}

func newOAuthFixture(t *testing.T) oauthFixture {
	t.Helper()
	f := newFixture(t)
	a, b := f.createTenant(t, "acme"), f.createTenant(t, "globex")
	u, err := f.store.CreateUser(context.Background(), "ada@example.com", goodPassword, false, "cli")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.store.PutMember(context.Background(), a.ID, u.ID, tenant.RoleAdmin, "cli"); err != nil {
		t.Fatal(err)
	}
	c, err := f.store.RegisterOAuthClient(context.Background(), tenant.OAuthClient{Name: "Agent", RedirectURIs: []string{"http://127.0.0.1:9/cb"}}, "test")
	if err != nil {
		t.Fatal(err)
	}
	verifier := strings.Repeat("v", 50)
	return oauthFixture{fixture: f, tenantID: a.ID, other: b.ID, userID: u.ID, verifier: verifier, req: tenant.AuthRequest{
		ClientID: c.ID, ClientName: c.Name, UserID: u.ID, RedirectURI: "http://127.0.0.1:9/cb",
		CodeChallenge: tenant.PKCEChallenge(verifier), Scopes: []string{"mcp"}, Resource: "https://p.example/t/" + a.ID + "/mcp",
	}}
}

func (f oauthFixture) code(t *testing.T) string {
	t.Helper()
	code, err := f.store.CreateAuthCode(context.Background(), f.tenantID, f.req, "user:"+f.req.UserID)
	if err != nil {
		t.Fatal(err)
	}
	return code
}

func TestAuthCodeExchange(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newOAuthFixture(t)
	r := f.req

	tests := []struct {
		name                                   string
		tenantID, clientID, redirect, verifier string
		want                                   string // in the invalid_grant message
	}{
		{"wrong verifier", f.tenantID, r.ClientID, r.RedirectURI, f.verifier + "x", "code_verifier"},
		{"empty verifier", f.tenantID, r.ClientID, r.RedirectURI, "", "code_verifier"},
		{"redirect differs by a slash", f.tenantID, r.ClientID, r.RedirectURI + "/", f.verifier, "redirect_uri"},
		{"redirect differs in case", f.tenantID, r.ClientID, strings.ToUpper(r.RedirectURI), f.verifier, "redirect_uri"},
		{"another client", f.tenantID, "oc_someoneelse", r.RedirectURI, f.verifier, "client_id"},
		{"another tenant", f.other, r.ClientID, r.RedirectURI, f.verifier, "unknown authorization code"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code := f.code(t)
			_, err := f.store.ExchangeAuthCode(ctx, tc.tenantID, code, tc.clientID, tc.redirect, tc.verifier)
			if !errors.Is(err, tenant.ErrInvalidGrant) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("exchange: %v, want invalid_grant naming %s", err, tc.want)
			}
			if tc.tenantID == f.tenantID {
				// A refused attempt burns the code: the right verifier is too late.
				if _, err := f.store.ExchangeAuthCode(ctx, f.tenantID, code, r.ClientID, r.RedirectURI, f.verifier); !errors.Is(err, tenant.ErrInvalidGrant) {
					t.Errorf("code after a refused attempt: %v, want invalid_grant", err)
				}
			}
		})
	}

	t.Run("success, then reuse revokes", func(t *testing.T) {
		code := f.code(t)
		toks, err := f.store.ExchangeAuthCode(ctx, f.tenantID, code, r.ClientID, r.RedirectURI, f.verifier)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(toks.AccessToken, tenant.AccessTokenPrefix) || !strings.HasPrefix(toks.RefreshToken, tenant.RefreshTokenPrefix) {
			t.Fatalf("tokens %q %q lack their prefixes", toks.AccessToken[:4], toks.RefreshToken[:4])
		}
		tok, err := f.store.VerifyToken(ctx, toks.AccessToken)
		if err != nil || tok.TenantID != f.tenantID || tok.ID != "oauth:"+toks.GrantID || tok.ExpiresAt == nil {
			t.Fatalf("VerifyToken = %+v, %v; want tenant %s, id oauth:%s, an expiry", tok, err, f.tenantID, toks.GrantID)
		}
		if _, err := f.store.VerifyToken(ctx, toks.RefreshToken); !errors.Is(err, tenant.ErrNotFound) {
			t.Errorf("a refresh token is not a bearer token: %v, want ErrNotFound", err)
		}
		_, err = f.store.ExchangeAuthCode(ctx, f.tenantID, code, r.ClientID, r.RedirectURI, f.verifier)
		if !errors.Is(err, tenant.ErrInvalidGrant) || !strings.Contains(err.Error(), "already used") {
			t.Fatalf("second exchange: %v, want invalid_grant (already used)", err)
		}
		if _, err := f.store.VerifyToken(ctx, toks.AccessToken); !errors.Is(err, tenant.ErrNotFound) {
			t.Errorf("access token after code reuse: %v, want ErrNotFound (revoked)", err)
		}
		assertAuditClean(t, f.fixture, f.tenantID, code, toks.AccessToken, toks.RefreshToken)
		assertAudited(t, f.fixture, f.tenantID, "oauth.consent", "oauth.token_issue", "oauth.code_reuse")
	})

	t.Run("expired", func(t *testing.T) {
		code := f.code(t)
		if _, err := f.pool.Exec(ctx, `UPDATE oauth_codes SET expires_at = now() - interval '1 second'`); err != nil {
			t.Fatal(err)
		}
		_, err := f.store.ExchangeAuthCode(ctx, f.tenantID, code, r.ClientID, r.RedirectURI, f.verifier)
		if !errors.Is(err, tenant.ErrInvalidGrant) || !strings.Contains(err.Error(), "expired") {
			t.Fatalf("expired code: %v, want invalid_grant (expired)", err)
		}
	})
}

func TestRefreshRotationAndRevocation(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newOAuthFixture(t)
	r := f.req
	first, err := f.store.ExchangeAuthCode(ctx, f.tenantID, f.code(t), r.ClientID, r.RedirectURI, f.verifier)
	if err != nil {
		t.Fatal(err)
	}
	if tid, err := f.store.RefreshTokenTenant(ctx, first.RefreshToken); err != nil || tid != f.tenantID {
		t.Errorf("RefreshTokenTenant = %q, %v; want %s", tid, err, f.tenantID)
	}
	if _, err := f.store.RefreshTokenTenant(ctx, first.AccessToken); !errors.Is(err, tenant.ErrNotFound) {
		t.Errorf("RefreshTokenTenant of an access token: %v, want ErrNotFound", err)
	}
	if _, err := f.store.RefreshOAuthToken(ctx, f.other, first.RefreshToken, r.ClientID); !errors.Is(err, tenant.ErrInvalidGrant) {
		t.Errorf("refresh on another tenant: %v, want invalid_grant", err)
	}
	if _, err := f.store.RefreshOAuthToken(ctx, f.tenantID, first.RefreshToken, "oc_other"); !errors.Is(err, tenant.ErrInvalidGrant) {
		t.Errorf("refresh by another client: %v, want invalid_grant", err)
	}
	second, err := f.store.RefreshOAuthToken(ctx, f.tenantID, first.RefreshToken, r.ClientID)
	if err != nil {
		t.Fatal(err)
	}
	if second.GrantID != first.GrantID || second.RefreshToken == first.RefreshToken || second.AccessToken == first.AccessToken {
		t.Fatal("refresh did not rotate within the grant")
	}
	if _, err := f.store.VerifyToken(ctx, second.AccessToken); err != nil {
		t.Fatalf("new access token: %v", err)
	}
	// Reuse of the rotated-out refresh token revokes the whole family.
	_, err = f.store.RefreshOAuthToken(ctx, f.tenantID, first.RefreshToken, r.ClientID)
	var revoked *tenant.GrantRevokedError
	if !errors.Is(err, tenant.ErrInvalidGrant) || !errors.As(err, &revoked) || revoked.GrantID != first.GrantID {
		t.Fatalf("reuse: %v, want invalid_grant naming the revoked grant %s", err, first.GrantID)
	}
	for _, tok := range []string{first.AccessToken, second.AccessToken} {
		if _, err := f.store.VerifyToken(ctx, tok); !errors.Is(err, tenant.ErrNotFound) {
			t.Errorf("access token after refresh reuse: %v, want ErrNotFound", err)
		}
	}
	if _, err := f.store.RefreshOAuthToken(ctx, f.tenantID, second.RefreshToken, r.ClientID); !errors.Is(err, tenant.ErrInvalidGrant) {
		t.Errorf("newest refresh token after reuse: %v, want invalid_grant", err)
	}
	assertAudited(t, f.fixture, f.tenantID, "oauth.refresh_reuse")

	// A tenant admin lists and revokes grants; another tenant cannot.
	viaAdmin, err := f.store.ExchangeAuthCode(ctx, f.tenantID, f.code(t), r.ClientID, r.RedirectURI, f.verifier)
	if err != nil {
		t.Fatal(err)
	}
	grants, err := f.store.OAuthGrants(ctx, f.tenantID)
	if err != nil || len(grants) != 1 || grants[0].ID != viaAdmin.GrantID || grants[0].UserEmail != "ada@example.com" ||
		grants[0].ClientName != "Agent" || grants[0].LastIssuedAt == nil {
		t.Fatalf("OAuthGrants = %+v, %v; want the one live grant with its client, user and last issue", grants, err)
	}
	if others, err := f.store.OAuthGrants(ctx, f.other); err != nil || len(others) != 0 {
		t.Errorf("grants of another tenant = %v, %v; want none", others, err)
	}
	if err := f.store.RevokeOAuthGrant(ctx, f.other, viaAdmin.GrantID, "user:x"); !errors.Is(err, tenant.ErrNotFound) {
		t.Errorf("revoke through another tenant: %v, want ErrNotFound", err)
	}
	if err := f.store.RevokeOAuthGrant(ctx, f.tenantID, viaAdmin.GrantID, "user:x"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.store.VerifyToken(ctx, viaAdmin.AccessToken); !errors.Is(err, tenant.ErrNotFound) {
		t.Errorf("access token of a grant revoked by an admin: %v, want ErrNotFound", err)
	}
	if err := f.store.RevokeOAuthGrant(ctx, f.tenantID, viaAdmin.GrantID, "user:x"); !errors.Is(err, tenant.ErrNotFound) {
		t.Errorf("revoking twice: %v, want ErrNotFound", err)
	}

	// Revocation (RFC 7009) of a fresh grant, by its own client only.
	third, err := f.store.ExchangeAuthCode(ctx, f.tenantID, f.code(t), r.ClientID, r.RedirectURI, f.verifier)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.store.RevokeOAuthToken(ctx, third.AccessToken, "oc_other"); !errors.Is(err, tenant.ErrNotFound) {
		t.Errorf("revoke by another client: %v, want ErrNotFound", err)
	}
	tid, tokID, err := f.store.RevokeOAuthToken(ctx, third.RefreshToken, r.ClientID)
	if err != nil || tid != f.tenantID || tokID != "oauth:"+third.GrantID {
		t.Fatalf("revoke = %s %s %v", tid, tokID, err)
	}
	if _, err := f.store.VerifyToken(ctx, third.AccessToken); !errors.Is(err, tenant.ErrNotFound) {
		t.Errorf("access token after revoking its refresh token: %v, want ErrNotFound", err)
	}
	assertAudited(t, f.fixture, f.tenantID, "oauth.revoke")
	assertAuditClean(t, f.fixture, f.tenantID, first.AccessToken, first.RefreshToken, second.AccessToken, second.RefreshToken, third.AccessToken, third.RefreshToken)
}

// TestOAuthAccessEnds: an access token stops working when it expires and
// when the user who approved it may no longer grant access (demoted to
// viewer), and the refresh token with it.
func TestOAuthAccessEnds(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newOAuthFixture(t)
	r := f.req
	toks, err := f.store.ExchangeAuthCode(ctx, f.tenantID, f.code(t), r.ClientID, r.RedirectURI, f.verifier)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.store.VerifyToken(ctx, toks.AccessToken); err != nil {
		t.Fatalf("fresh access token: %v", err)
	}
	if _, err := f.store.PutMember(ctx, f.tenantID, f.userID, tenant.RoleViewer, "cli"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.store.VerifyToken(ctx, toks.AccessToken); !errors.Is(err, tenant.ErrNotFound) {
		t.Errorf("access token of a user demoted to viewer: %v, want ErrNotFound", err)
	}
	if _, err := f.store.RefreshOAuthToken(ctx, f.tenantID, toks.RefreshToken, r.ClientID); !errors.Is(err, tenant.ErrInvalidGrant) || !strings.Contains(err.Error(), "no longer") {
		t.Errorf("refresh by a demoted user's client: %v, want invalid_grant (no longer admin)", err)
	}
	if _, err := f.store.PutMember(ctx, f.tenantID, f.userID, tenant.RoleOwner, "cli"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.store.VerifyToken(ctx, toks.AccessToken); err != nil {
		t.Fatalf("access token after promotion back: %v", err)
	}
	if _, err := f.pool.Exec(ctx, `UPDATE oauth_tokens SET expires_at = now() - interval '1 second' WHERE kind = 'access'`); err != nil {
		t.Fatal(err)
	}
	if _, err := f.store.VerifyToken(ctx, toks.AccessToken); !errors.Is(err, tenant.ErrNotFound) {
		t.Errorf("expired access token: %v, want ErrNotFound", err)
	}
	// A refresh deletes the grant's expired tokens and keeps the used refresh token.
	if _, err := f.store.RefreshOAuthToken(ctx, f.tenantID, toks.RefreshToken, r.ClientID); err != nil {
		t.Fatal(err)
	}
	var access, refresh int
	err = f.pool.QueryRow(ctx, `SELECT count(*) FILTER (WHERE kind = 'access'), count(*) FILTER (WHERE kind = 'refresh')
		FROM oauth_tokens WHERE grant_id = $1`, toks.GrantID).Scan(&access, &refresh)
	if err != nil || access != 1 || refresh != 2 {
		t.Errorf("after refresh the grant has %d access and %d refresh tokens (%v), want 1 and 2", access, refresh, err)
	}
}

func assertAudited(t *testing.T, f fixture, tenantID string, actions ...string) {
	t.Helper()
	entries, err := f.store.Audit(context.Background(), tenantID, 1000)
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{}
	for _, e := range entries {
		have[e.Action] = true
	}
	for _, a := range actions {
		if !have[a] {
			t.Errorf("no %s entry in the audit log of %s", a, tenantID)
		}
	}
}
