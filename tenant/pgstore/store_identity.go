package pgstore

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/portico-mcp/portico/tenant"
)

// identityLock is the advisory lock that makes one replica at a time
// create or retire identity keys.
const identityLock = 0x706f7274_69640001

// identityScope seals an identity key under its own data key, with AAD
// that binds the ciphertext to the key id.
func identityScope(kid string) string { return "identity-key:" + kid }

// IdentityKeys returns the identity keys with their private halves,
// creating a key when none is younger than p.Rotate and deleting keys
// replaced more than p.Publish+p.Overlap ago. Every replica calls it on a
// schedule; the advisory lock makes the check-and-create happen once.
func (s *Store) IdentityKeys(ctx context.Context, p tenant.IdentityKeyPolicy) ([]tenant.IdentityKey, error) {
	var keys []tenant.IdentityKey
	err := s.withTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(identityLock)); err != nil {
			return dbErr("lock identity keys", err)
		}
		// A key is gone once a newer key has been signing for Overlap.
		_, err := tx.Exec(ctx, `
			DELETE FROM identity_keys k WHERE EXISTS (
				SELECT 1 FROM identity_keys n
				WHERE n.created_at > k.created_at AND n.created_at < now() - make_interval(secs => $1))`,
			(p.Publish + p.Overlap).Seconds())
		if err != nil {
			return dbErr("retire identity keys", err)
		}
		keys, err = s.openIdentityKeys(ctx, tx)
		if err != nil {
			return err
		}
		// A key sealed under a master key no longer loaded cannot sign: it
		// stays published until it retires, and a new key takes over.
		fresh := false
		for _, k := range keys {
			fresh = fresh || k.Private != nil && time.Since(k.CreatedAt) < p.Rotate
		}
		if fresh {
			return nil
		}
		if err := s.createIdentityKey(ctx, tx); err != nil {
			return err
		}
		keys, err = s.openIdentityKeys(ctx, tx)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("identity keys: %w", err)
	}
	return keys, nil
}

// openIdentityKeys reads every identity key, newest first, with its
// private half when a loaded master key opens it.
func (s *Store) openIdentityKeys(ctx context.Context, tx pgx.Tx) ([]tenant.IdentityKey, error) {
	rows, err := tx.Query(ctx, `
			SELECT kid, public_jwk, dek_wrapped, dek_kid, private_sealed, created_at
			FROM identity_keys ORDER BY created_at DESC`)
	if err != nil {
		return nil, dbErr("read identity keys", err)
	}
	type sealed struct {
		k        tenant.IdentityKey
		wrapped  []byte
		dekKid   string
		ciphered []byte
	}
	all, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (sealed, error) {
		var x sealed
		err := r.Scan(&x.k.ID, &x.k.Public, &x.wrapped, &x.dekKid, &x.ciphered, &x.k.CreatedAt)
		return x, err
	})
	if err != nil {
		return nil, dbErr("read identity keys", err)
	}
	keys := make([]tenant.IdentityKey, 0, len(all))
	for _, x := range all {
		scope := identityScope(x.k.ID)
		if der, err := s.sealer.Open(scope, x.dekKid, x.wrapped, scope, x.ciphered); err == nil {
			if priv, err := x509.ParsePKCS8PrivateKey(der); err == nil {
				x.k.Private, _ = priv.(*ecdsa.PrivateKey)
			}
		}
		keys = append(keys, x.k)
	}
	return keys, nil
}

func (s *Store) createIdentityKey(ctx context.Context, tx pgx.Tx) error {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return fmt.Errorf("generate identity key: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return fmt.Errorf("encode identity key: %w", err)
	}
	pub, err := priv.PublicKey.Bytes() // 0x04 || X || Y
	if err != nil {
		return fmt.Errorf("encode identity key: %w", err)
	}
	x, y := pub[1:33], pub[33:]
	// The kid is the RFC 7638 thumbprint: stable, and derived from the key.
	b64 := base64.RawURLEncoding.EncodeToString
	thumb := sha256.Sum256(fmt.Appendf(nil, `{"crv":"P-256","kty":"EC","x":"%s","y":"%s"}`, b64(x), b64(y)))
	kid := b64(thumb[:])
	jwk, _ := json.Marshal(map[string]string{"kty": "EC", "crv": "P-256", "x": b64(x), "y": b64(y), "kid": kid, "alg": "ES256", "use": "sig"})
	scope := identityScope(kid)
	wrapped, dekKid, err := s.sealer.NewDataKey(scope)
	if err != nil {
		return fmt.Errorf("seal identity key: %w", err)
	}
	ct, err := s.sealer.Seal(scope, dekKid, wrapped, scope, der)
	if err != nil {
		return fmt.Errorf("seal identity key: %w", err)
	}
	_, err = tx.Exec(ctx, `
		INSERT INTO identity_keys (kid, alg, public_jwk, dek_wrapped, dek_kid, private_sealed)
		VALUES ($1, 'ES256', $2, $3, $4, $5)`, kid, json.RawMessage(jwk), wrapped, dekKid, ct)
	return dbErr("store identity key", err)
}

// PublicIdentityKeys lists the published identity keys, newest first,
// without their private halves: what /.well-known/jwks.json serves.
func (s *Store) PublicIdentityKeys(ctx context.Context) ([]tenant.IdentityKey, error) {
	rows, err := s.pool.Query(ctx, `SELECT kid, public_jwk, created_at FROM identity_keys ORDER BY created_at DESC`)
	if err != nil {
		return nil, dbErr("read identity keys", err)
	}
	keys, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (tenant.IdentityKey, error) {
		var k tenant.IdentityKey
		err := r.Scan(&k.ID, &k.Public, &k.CreatedAt)
		return k, err
	})
	if err != nil {
		return nil, dbErr("read identity keys", err)
	}
	return keys, nil
}
