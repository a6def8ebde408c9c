package tenant

import (
	"crypto/ecdsa"
	"encoding/json"
	"time"
)

// IdentityKey is a key that signs the identity assertions upstream calls
// carry (ES256). Every replica signs with the same keys: they live in
// Postgres, the private half sealed under the master keys.
type IdentityKey struct {
	ID        string // the JWK's kid
	CreatedAt time.Time
	Public    json.RawMessage   // the public JWK, as /.well-known/jwks.json lists it
	Private   *ecdsa.PrivateKey // nil from PublicIdentityKeys
}

func (k IdentityKey) String() string { return "IdentityKey(" + k.ID + ")" }

// IdentityKeyPolicy says when identity keys rotate. A new key is created
// when the newest is Rotate old, signs once it has been published for
// Publish (so verifiers that cache the key set a while already have it),
// and the key it replaces stays published for Overlap after that, so
// assertions it signed still verify.
type IdentityKeyPolicy struct {
	Rotate, Publish, Overlap time.Duration
}
