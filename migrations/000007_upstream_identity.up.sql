-- OAuth2 client-credentials credentials: the non-secret parts of a
-- credential (token URL, client id, scopes, audience, auth method) live in
-- config; the client secret stays in ciphertext like every value.
ALTER TABLE credentials DROP CONSTRAINT credentials_type_check;
ALTER TABLE credentials ADD CONSTRAINT credentials_type_check
    CHECK (type IN ('bearer', 'header', 'basic', 'query', 'oauth2_client_credentials'));
ALTER TABLE credentials ADD COLUMN config jsonb NOT NULL DEFAULT '{}';

-- Keys that sign the identity assertions upstream calls carry, shared by
-- every replica. The private key is sealed under a data key of its own,
-- wrapped by a master key (dek_kid); the public key is what
-- /.well-known/jwks.json publishes. A key signs from created_at until a
-- newer key takes over and stays published for an overlap after that.
CREATE TABLE identity_keys (
    kid            text PRIMARY KEY,
    alg            text NOT NULL,
    public_jwk     jsonb NOT NULL,
    dek_wrapped    bytea NOT NULL,
    dek_kid        text NOT NULL,
    private_sealed bytea NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX identity_keys_created ON identity_keys (created_at DESC);
