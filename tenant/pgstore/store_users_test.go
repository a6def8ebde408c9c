package pgstore_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/portico-mcp/portico/tenant"
)

const goodPassword = "correct horse battery staple"

func TestPasswordHash(t *testing.T) {
	t.Parallel()
	h := tenant.HashPassword(goodPassword)
	if !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Errorf("hash %q is not an argon2id PHC string", h)
	}
	if strings.Contains(h, goodPassword) {
		t.Error("hash contains the password")
	}
	if !tenant.CheckPassword(h, goodPassword) || tenant.CheckPassword(h, goodPassword+"x") {
		t.Error("CheckPassword does not tell right from wrong")
	}
	if tenant.HashPassword(goodPassword) == h {
		t.Error("two hashes of one password are equal: no salt")
	}
	for _, bad := range []string{"", "$argon2id$", "$argon2id$v=19$m=99999999,t=1,p=1$AA$AA", "$bcrypt$x$y$z$w"} {
		if tenant.CheckPassword(bad, goodPassword) {
			t.Errorf("CheckPassword(%q) = true", bad)
		}
	}
}

func TestUsersSessionsMembers(t *testing.T) {
	t.Parallel()
	ctx := tenant.WithSource(context.Background(), "203.0.113.9")
	f := newFixture(t)
	tn := f.createTenant(t, "acme")

	if _, err := f.store.CreateUser(ctx, "not-an-email", "short", false, "cli"); !errors.Is(err, tenant.ErrInvalid) {
		t.Errorf("bad email and password: %v, want ErrInvalid", err)
	}
	alice, err := f.store.CreateUser(ctx, "Alice@Example.com", goodPassword, false, "cli")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.store.CreateUser(ctx, "alice@example.COM", goodPassword, false, "cli"); !errors.Is(err, tenant.ErrConflict) {
		t.Errorf("duplicate email (case differs): %v, want ErrConflict", err)
	}

	// Login: wrong password and unknown email fail the same way.
	for _, c := range [][2]string{{"alice@example.com", "wrong password!!"}, {"nobody@example.com", goodPassword}} {
		if _, _, _, err := f.store.Login(ctx, c[0], c[1], "ip", "ua", time.Hour); !errors.Is(err, tenant.ErrBadCredentials) {
			t.Errorf("Login(%q): %v, want ErrBadCredentials", c[0], err)
		}
	}
	u, sess, secret, err := f.store.Login(ctx, "ALICE@example.com", goodPassword, "203.0.113.9", "test", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if u.ID != alice.ID || !strings.HasPrefix(secret, tenant.SessionPrefix) || sess.CSRFToken == "" {
		t.Fatalf("login = %+v %+v %q", u, sess, secret)
	}
	if got, _, err := f.store.VerifySession(ctx, secret); err != nil || got.ID != alice.ID {
		t.Errorf("VerifySession = %+v, %v", got, err)
	}
	if err := f.store.Logout(ctx, secret); err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.store.VerifySession(ctx, secret); !errors.Is(err, tenant.ErrNotFound) {
		t.Errorf("session after logout: %v, want ErrNotFound", err)
	}
	_, _, short, err := f.store.Login(ctx, "alice@example.com", goodPassword, "", "", time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(20 * time.Millisecond)
	if _, _, err := f.store.VerifySession(ctx, short); !errors.Is(err, tenant.ErrNotFound) {
		t.Errorf("expired session: %v, want ErrNotFound", err)
	}

	// Memberships and the last-owner rule.
	bob, err := f.store.CreateUser(ctx, "bob@example.com", goodPassword, false, "cli")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.store.Role(ctx, tn.ID, alice.ID); !errors.Is(err, tenant.ErrNotFound) {
		t.Errorf("role before membership: %v, want ErrNotFound", err)
	}
	if _, err := f.store.PutMember(ctx, tn.ID, alice.ID, tenant.RoleOwner, "cli"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.store.PutMember(ctx, tn.ID, bob.ID, "boss", "cli"); !errors.Is(err, tenant.ErrInvalid) {
		t.Errorf("bad role: %v", err)
	}
	if _, err := f.store.PutMember(ctx, tn.ID, alice.ID, tenant.RoleViewer, "cli"); !errors.Is(err, tenant.ErrConflict) {
		t.Errorf("demoting the last owner: %v, want ErrConflict", err)
	}
	if err := f.store.DeleteMember(ctx, tn.ID, alice.ID, "cli"); !errors.Is(err, tenant.ErrConflict) {
		t.Errorf("removing the last owner: %v, want ErrConflict", err)
	}
	if _, err := f.store.PutMember(ctx, tn.ID, bob.ID, tenant.RoleViewer, "user:"+alice.ID); err != nil {
		t.Fatal(err)
	}
	if r, err := f.store.Role(ctx, tn.ID, bob.ID); err != nil || r != tenant.RoleViewer {
		t.Errorf("bob's role = %q, %v", r, err)
	}
	if _, err := f.store.PutMember(ctx, tn.ID, "no-such-user", tenant.RoleViewer, "cli"); !errors.Is(err, tenant.ErrNotFound) {
		t.Errorf("unknown user: %v, want ErrNotFound", err)
	}
	ms, err := f.store.Members(ctx, tn.ID)
	if err != nil || len(ms) != 2 || ms[1].Email != "bob@example.com" {
		t.Errorf("members = %+v, %v", ms, err)
	}
	if ms, err := f.store.Memberships(ctx, bob.ID); err != nil || len(ms) != 1 || ms[0].TenantID != tn.ID || ms[0].Role != tenant.RoleViewer {
		t.Errorf("bob's memberships = %+v, %v", ms, err)
	}

	// User keys are neither admin keys nor tenant keys.
	key, ksecret, err := f.store.CreateUserAPIKey(ctx, bob.ID, "laptop", []string{"read"}, "user:"+bob.ID)
	if err != nil {
		t.Fatal(err)
	}
	got, err := f.store.VerifyAPIKey(ctx, ksecret)
	if err != nil || got.UserID != bob.ID || got.Admin() || got.TenantID != "" {
		t.Errorf("user key = %+v, %v; want bob's, not admin", got, err)
	}
	if admin, _ := f.store.APIKeys(ctx, ""); len(admin) != 0 {
		t.Errorf("admin key list holds %d keys, want 0 (user keys are not admin keys)", len(admin))
	}
	if err := f.store.RevokeAPIKey(ctx, "", key.ID, "cli"); !errors.Is(err, tenant.ErrNotFound) {
		t.Errorf("revoking a user key as an admin key: %v, want ErrNotFound", err)
	}
	if err := f.store.RevokeUserAPIKey(ctx, alice.ID, key.ID, "cli"); !errors.Is(err, tenant.ErrNotFound) {
		t.Errorf("revoking bob's key as alice: %v, want ErrNotFound", err)
	}
	if err := f.store.RevokeUserAPIKey(ctx, bob.ID, key.ID, "cli"); err != nil {
		t.Fatal(err)
	}
	if _, revoked := f.store.IsRevokedAPIKey(ctx, ksecret); !revoked {
		t.Error("IsRevokedAPIKey = false for a revoked key")
	}

	// The audit log says who, what and from where, never a password.
	entries, err := f.store.Audit(ctx, tn.ID, 10)
	if err != nil || len(entries) == 0 {
		t.Fatalf("audit = %v, %v", entries, err)
	}
	if e := entries[0]; e.Action != "member.put" || e.Source != "203.0.113.9" || e.Actor != "user:"+alice.ID {
		t.Errorf("newest entry = %+v", e)
	}
	ops, _ := f.store.Audit(ctx, "", 100)
	for _, e := range ops {
		if strings.Contains(fmt.Sprint(e), goodPassword) {
			t.Errorf("audit entry %+v holds the password", e)
		}
	}
}
