package pgstore_test

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/json"
	"testing"
	"time"

	"github.com/portico-mcp/portico/tenant"
	"github.com/portico-mcp/portico/tenant/pgstore"
)

// TestIdentityKeys: the first call creates a signing key; later calls
// return the same key (every replica signs with it); once it is Rotate old
// a second key joins it, and the first is deleted once the second has
// signed for Overlap. The private half is stored sealed.
func TestIdentityKeys(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t)
	p := tenant.IdentityKeyPolicy{Rotate: time.Hour, Publish: time.Minute, Overlap: 10 * time.Minute}
	first, err := f.store.IdentityKeys(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	if len(first) != 1 || first[0].Private == nil {
		t.Fatalf("first IdentityKeys = %v, want one key with its private half", first)
	}
	again, err := f.store.IdentityKeys(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	if len(again) != 1 || again[0].ID != first[0].ID || !again[0].Private.Equal(first[0].Private) {
		t.Fatalf("second IdentityKeys = %v, want the same key", again)
	}
	var jwk map[string]string
	if err := json.Unmarshal(first[0].Public, &jwk); err != nil {
		t.Fatal(err)
	}
	if jwk["kty"] != "EC" || jwk["crv"] != "P-256" || jwk["alg"] != "ES256" || jwk["kid"] != first[0].ID || jwk["d"] != "" {
		t.Errorf("public JWK = %v, want a P-256 ES256 key named by its kid and no private part", jwk)
	}
	der, _ := x509.MarshalPKCS8PrivateKey(first[0].Private)
	var sealed []byte
	if err := f.pool.QueryRow(ctx, `SELECT private_sealed FROM identity_keys`).Scan(&sealed); err != nil {
		t.Fatal(err)
	}
	if len(sealed) == 0 || string(sealed) == string(der) || bytes.Contains(sealed, der[len(der)-32:]) {
		t.Error("private_sealed holds the private key in the clear")
	}

	// Age the key past Rotate: a second key is created, both published.
	if _, err := f.pool.Exec(ctx, `UPDATE identity_keys SET created_at = now() - interval '2 hours'`); err != nil {
		t.Fatal(err)
	}
	rotated, err := f.store.IdentityKeys(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	if len(rotated) != 2 || rotated[1].ID != first[0].ID || rotated[0].ID == first[0].ID {
		t.Fatalf("after Rotate: %v, want a new key first and the old one kept", rotated)
	}
	pub, err := f.store.PublicIdentityKeys(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(pub) != 2 || pub[0].Private != nil {
		t.Fatalf("PublicIdentityKeys = %v, want both keys without private halves", pub)
	}
	// Once the new key is older than Publish+Overlap, the old one goes.
	if _, err := f.pool.Exec(ctx, `UPDATE identity_keys SET created_at = now() - interval '15 minutes' WHERE kid = $1`, rotated[0].ID); err != nil {
		t.Fatal(err)
	}
	retired, err := f.store.IdentityKeys(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	if len(retired) != 1 || retired[0].ID != rotated[0].ID {
		t.Fatalf("after Publish+Overlap: %v, want only the new key", retired)
	}
}

// TestIdentityKeysOtherMasterKey: a key sealed under a master key that is
// no longer loaded cannot sign; a new key is created beside it.
func TestIdentityKeysOtherMasterKey(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t)
	p := tenant.IdentityKeyPolicy{Rotate: time.Hour, Publish: time.Minute, Overlap: 10 * time.Minute}
	if _, err := f.store.IdentityKeys(ctx, p); err != nil {
		t.Fatal(err)
	}
	other := pgstore.NewStore(f.pool, mustSealer(t, newKey(t, "k2")))
	keys, err := other.IdentityKeys(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 2 || keys[0].Private == nil || keys[1].Private != nil {
		t.Fatalf("IdentityKeys under another master key = %v, want a new usable key and the old one without its private half", keys)
	}
}
