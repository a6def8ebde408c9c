package pgstore_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/portico-mcp/portico/tenant"
)

// TestLinkedAccounts: a user's upstream tokens are stored sealed and bound
// to tenant, credential and user (a row copied to another user does not
// open); a link flow's state is good once, only with the browser nonce it
// was started with; refresh replaces the tokens under the row lock; unlink
// removes them; the admin list shows who linked without any token.
func TestLinkedAccounts(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t)
	tn := f.createTenant(t, "delegated")
	alice, err := f.store.CreateUser(ctx, "alice@example.test", "correct horse battery staple", false, "test")
	if err != nil {
		t.Fatal(err)
	}
	bob, err := f.store.CreateUser(ctx, "bob@example.test", "correct horse battery staple", false, "test")
	if err != nil {
		t.Fatal(err)
	}
	cred := tenant.Credential{Name: "notes", Type: tenant.CredOAuth2AuthorizationCode, OAuth2Config: tenant.OAuth2Config{
		AuthorizeURL: "https://idp.example/authorize", TokenURL: "https://idp.example/token", ClientID: "portico", Scopes: []string{"notes:read"}}}
	if err := f.store.PutCredential(ctx, tn.ID, cred, "client-secret", "test"); err != nil {
		t.Fatal(err)
	}
	if err := f.store.PutCredential(ctx, tn.ID, tenant.Credential{Name: "static", Type: tenant.CredBearer}, "x", "test"); err != nil {
		t.Fatal(err)
	}

	// A link flow: the state is good once, with its browser nonce only.
	req := tenant.LinkRequest{TenantID: tn.ID, Credential: "notes", UserID: alice.ID, Verifier: "verifier-canary-0123456789",
		RedirectURI: "https://portico.example/oauth/link/callback", ReturnTo: "/tenants/" + tn.ID + "/accounts"}
	if _, _, err := f.store.CreateLinkRequest(ctx, tenant.LinkRequest{TenantID: tn.ID, Credential: "static", UserID: alice.ID, Verifier: "v"}, time.Minute); !errors.Is(err, tenant.ErrInvalid) {
		t.Errorf("link request for a bearer credential: %v, want ErrInvalid", err)
	}
	if _, _, err := f.store.CreateLinkRequest(ctx, tenant.LinkRequest{TenantID: tn.ID, Credential: "nope", UserID: alice.ID, Verifier: "v"}, time.Minute); !errors.Is(err, tenant.ErrNotFound) {
		t.Errorf("link request for an unknown credential: %v, want ErrNotFound", err)
	}
	state, _, err := f.store.CreateLinkRequest(ctx, req, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.store.TakeLinkRequest(ctx, state, "another-browser"); !errors.Is(err, tenant.ErrNotFound) {
		t.Errorf("state with another browser's nonce: %v, want ErrNotFound", err)
	}
	state, browser, err := f.store.CreateLinkRequest(ctx, req, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	got, err := f.store.TakeLinkRequest(ctx, state, browser)
	if err != nil || got.UserID != alice.ID || got.Credential != "notes" || got.Verifier.Reveal() != "verifier-canary-0123456789" || got.ReturnTo != req.ReturnTo || got.RedirectURI != req.RedirectURI {
		t.Fatalf("TakeLinkRequest = %+v, %v", got, err)
	}
	if _, err := f.store.TakeLinkRequest(ctx, state, browser); !errors.Is(err, tenant.ErrNotFound) {
		t.Errorf("second use of a state: %v, want ErrNotFound", err)
	}
	state, browser, err = f.store.CreateLinkRequest(ctx, req, -time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.store.TakeLinkRequest(ctx, state, browser); !errors.Is(err, tenant.ErrNotFound) {
		t.Errorf("expired state: %v, want ErrNotFound", err)
	}

	// Linking, reading back, and the binding of the sealed row to its user.
	if _, err := f.store.LinkedAccountTokens(ctx, tn.ID, "notes", alice.ID); !errors.Is(err, tenant.ErrNotFound) {
		t.Fatalf("tokens before linking: %v, want ErrNotFound", err)
	}
	exp := time.Now().Add(time.Hour).UTC().Truncate(time.Second)
	toks := tenant.LinkedTokens{AccessToken: "access-canary-alice", RefreshToken: "refresh-canary-alice", TokenType: "Bearer", Expiry: exp, Scopes: []string{"notes:read"}}
	if err := f.store.PutLinkedAccount(ctx, tn.ID, "notes", alice.ID, toks, "user:"+alice.ID); err != nil {
		t.Fatal(err)
	}
	if err := f.store.PutLinkedAccount(ctx, tn.ID, "static", alice.ID, toks, "user:"+alice.ID); !errors.Is(err, tenant.ErrInvalid) {
		t.Errorf("linking a bearer credential: %v, want ErrInvalid", err)
	}
	back, err := f.store.LinkedAccountTokens(ctx, tn.ID, "notes", alice.ID)
	if err != nil || back.AccessToken != toks.AccessToken || back.RefreshToken != toks.RefreshToken || !back.Expiry.Equal(exp) {
		t.Fatalf("LinkedAccountTokens = %+v, %v", back, err)
	}
	var plain int
	if err := f.pool.QueryRow(ctx, `SELECT count(*) FROM linked_accounts WHERE position('canary'::bytea in sealed) > 0`).Scan(&plain); err != nil || plain != 0 {
		t.Fatalf("rows holding a token in plaintext: %d, %v", plain, err)
	}
	if _, err := f.pool.Exec(ctx, `INSERT INTO linked_accounts (tenant_id, credential, user_id, sealed, scopes)
		SELECT tenant_id, credential, $2, sealed, scopes FROM linked_accounts WHERE user_id = $1`, alice.ID, bob.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := f.store.LinkedAccountTokens(ctx, tn.ID, "notes", bob.ID); err == nil || errors.Is(err, tenant.ErrNotFound) {
		t.Fatalf("alice's row copied to bob opened: %v", err)
	}
	if err := f.store.UnlinkAccount(ctx, tn.ID, "notes", bob.ID, "test"); err != nil {
		t.Fatal(err)
	}

	// Refresh replaces the tokens; a refresh that finds them fresh keeps them.
	next, err := f.store.RefreshLinkedAccount(ctx, tn.ID, "notes", alice.ID, func(cur tenant.LinkedTokens) (tenant.LinkedTokens, bool, error) {
		if cur.RefreshToken != "refresh-canary-alice" {
			t.Errorf("refresh saw %q", cur.RefreshToken.Reveal())
		}
		return tenant.LinkedTokens{AccessToken: "access-canary-alice-2", TokenType: "Bearer"}, true, nil
	})
	if err != nil || next.AccessToken != "access-canary-alice-2" || next.RefreshToken != "refresh-canary-alice" {
		t.Fatalf("RefreshLinkedAccount = %+v, %v (want the new access token and the kept refresh token)", next, err)
	}
	back, _ = f.store.LinkedAccountTokens(ctx, tn.ID, "notes", alice.ID)
	if back.AccessToken != "access-canary-alice-2" || back.RefreshToken != "refresh-canary-alice" {
		t.Fatalf("after refresh the store holds %+v", back)
	}

	// The admin list: who, when, scopes, and never a token.
	list, err := f.store.LinkedAccounts(ctx, tn.ID, "")
	if err != nil || len(list) != 1 || list[0].Email != "alice@example.test" || list[0].RefreshedAt == nil || strings.Join(list[0].Scopes, " ") != "notes:read" {
		t.Fatalf("LinkedAccounts = %+v, %v", list, err)
	}
	if mine, _ := f.store.LinkedAccounts(ctx, tn.ID, bob.ID); len(mine) != 0 {
		t.Errorf("bob's own links = %+v, want none", mine)
	}
	if err := f.store.UnlinkAccount(ctx, tn.ID, "notes", alice.ID, "test"); err != nil {
		t.Fatal(err)
	}
	if err := f.store.UnlinkAccount(ctx, tn.ID, "notes", alice.ID, "test"); !errors.Is(err, tenant.ErrNotFound) {
		t.Errorf("second unlink: %v, want ErrNotFound", err)
	}
	if _, err := f.store.LinkedAccountTokens(ctx, tn.ID, "notes", alice.ID); !errors.Is(err, tenant.ErrNotFound) {
		t.Errorf("tokens after unlinking: %v, want ErrNotFound", err)
	}
}
