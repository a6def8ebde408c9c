-- Portico as the OAuth 2.1 authorization server of each tenant's MCP
-- endpoint (docs/security.md, "OAuth"). Every secret (code, access token,
-- refresh token) is stored as its SHA-256 only.

-- Clients registered by dynamic client registration (RFC 7591). They belong
-- to the authorization server, not to a tenant: one client (say, Claude)
-- may ask for access to many tenants, each grant naming its tenant. Clients
-- named by a Client ID Metadata Document URL are fetched and kept in memory,
-- never stored here.
CREATE TABLE oauth_clients (
    id             text PRIMARY KEY,
    name           text NOT NULL DEFAULT '',
    uri            text NOT NULL DEFAULT '',
    redirect_uris  text[] NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    source         text NOT NULL DEFAULT ''
);

-- A grant is one user's consent for one client on one tenant: the family of
-- every access and refresh token minted from one authorization code.
-- Revoking it (revocation, refresh token reuse, code reuse) ends them all.
CREATE TABLE oauth_grants (
    id             text PRIMARY KEY,
    tenant_id      text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    client_id      text NOT NULL,
    client_name    text NOT NULL DEFAULT '',
    user_id        text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    scopes         text[] NOT NULL,
    resource       text NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    revoked_at     timestamptz,
    revoke_reason  text NOT NULL DEFAULT ''
);
CREATE INDEX oauth_grants_tenant_idx ON oauth_grants (tenant_id);

-- Authorization codes: single use, short-lived, bound to the client, the
-- redirect URI, the PKCE S256 challenge and the resource.
CREATE TABLE oauth_codes (
    hash           bytea PRIMARY KEY,
    tenant_id      text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    client_id      text NOT NULL,
    client_name    text NOT NULL DEFAULT '',
    user_id        text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    redirect_uri   text NOT NULL,
    code_challenge text NOT NULL,
    scopes         text[] NOT NULL,
    resource       text NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    expires_at     timestamptz NOT NULL,
    used_at        timestamptz,
    -- The grant the code was exchanged for: presenting the code again
    -- revokes it (RFC 6749 §4.1.2).
    grant_id       text
);
-- Expired codes of a tenant are deleted when it issues a new one.
CREATE INDEX oauth_codes_tenant_expiry_idx ON oauth_codes (tenant_id, expires_at);

CREATE TABLE oauth_tokens (
    hash           bytea PRIMARY KEY,
    grant_id       text NOT NULL REFERENCES oauth_grants (id) ON DELETE CASCADE,
    tenant_id      text NOT NULL,
    kind           text NOT NULL CHECK (kind IN ('access', 'refresh')),
    prefix         text NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    expires_at     timestamptz NOT NULL,
    -- A refresh token is used once: rotation marks it, and a second use
    -- is reuse (the family is revoked).
    used_at        timestamptz
);
CREATE INDEX oauth_tokens_grant_idx ON oauth_tokens (grant_id);

-- Revoking a grant is a token revocation for every replica's token cache:
-- the bridge caches OAuth access tokens under the id "oauth:<grant id>".
CREATE FUNCTION portico_oauth_grant_revoked() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('portico_tenant', OLD.tenant_id || ':token:oauth:' || OLD.id);
    RETURN NULL;
END $$;
CREATE TRIGGER oauth_grants_revoked AFTER UPDATE ON oauth_grants
    FOR EACH ROW WHEN (OLD.revoked_at IS DISTINCT FROM NEW.revoked_at)
    EXECUTE FUNCTION portico_oauth_grant_revoked();
CREATE TRIGGER oauth_grants_deleted AFTER DELETE ON oauth_grants
    FOR EACH ROW EXECUTE FUNCTION portico_oauth_grant_revoked();
