-- Per-user delegated access (oauth2_authorization_code): a credential
-- names the upstream provider (authorize and token URLs, client id and
-- scopes in config, the client secret in ciphertext); each user of the
-- tenant links an upstream account of their own.
ALTER TABLE credentials DROP CONSTRAINT credentials_type_check;
ALTER TABLE credentials ADD CONSTRAINT credentials_type_check
    CHECK (type IN ('bearer', 'header', 'basic', 'query', 'oauth2_client_credentials', 'oauth2_authorization_code'));

-- One user's upstream tokens for one credential of one tenant. The access
-- and refresh tokens are sealed together under the tenant's data key, with
-- tenant, credential and user in the additional data, so a row copied to
-- another user (or tenant) does not open. Deleting the credential or the
-- user removes the link.
CREATE TABLE linked_accounts (
    tenant_id    text NOT NULL,
    credential   text NOT NULL,
    user_id      text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    sealed       bytea NOT NULL,
    expires_at   timestamptz,          -- the access token's, when the provider said
    scopes       text[] NOT NULL DEFAULT '{}',
    linked_at    timestamptz NOT NULL DEFAULT now(),
    refreshed_at timestamptz,
    PRIMARY KEY (tenant_id, credential, user_id),
    FOREIGN KEY (tenant_id, credential) REFERENCES credentials (tenant_id, name) ON DELETE CASCADE
);
CREATE INDEX linked_accounts_user ON linked_accounts (user_id);

-- A link flow under way: the state sent to the provider (only its SHA-256
-- is kept), who started it, the PKCE verifier (sealed), the hash of the
-- browser nonce cookie that must come back with the callback, and where
-- the dashboard wants the browser sent afterwards. Taken (deleted) once.
CREATE TABLE link_requests (
    state_hash   bytea PRIMARY KEY,
    tenant_id    text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    credential   text NOT NULL,
    user_id      text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    verifier     bytea NOT NULL,
    browser_hash bytea NOT NULL,
    return_to    text NOT NULL,
    redirect_uri text NOT NULL,
    expires_at   timestamptz NOT NULL
);
CREATE INDEX link_requests_expires ON link_requests (expires_at);
