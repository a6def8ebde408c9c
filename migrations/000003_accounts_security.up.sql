-- Accounts: people who log in to the dashboard. operator users run Portico
-- itself and see every tenant; everyone else sees the tenants they are a
-- member of, with a role.
CREATE TABLE users (
    id             text PRIMARY KEY,
    email          text NOT NULL,
    -- argon2id in PHC string form ($argon2id$v=19$m=…,t=…,p=…$salt$hash).
    password_hash  text NOT NULL,
    operator       boolean NOT NULL DEFAULT false,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    disabled_at    timestamptz
);
CREATE UNIQUE INDEX users_email_key ON users (lower(email));

-- Dashboard login sessions. The cookie carries a random secret; only its
-- SHA-256 is stored. The CSRF token is not a credential on its own (it is
-- useless without the HttpOnly cookie), so it is kept as is and shown to
-- the signed-in dashboard by GET /auth/me.
CREATE TABLE sessions (
    id             text PRIMARY KEY,
    user_id        text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    hash           bytea NOT NULL UNIQUE,
    csrf_token     text NOT NULL,
    ip             text NOT NULL DEFAULT '',
    user_agent     text NOT NULL DEFAULT '',
    created_at     timestamptz NOT NULL DEFAULT now(),
    expires_at     timestamptz NOT NULL,
    last_seen_at   timestamptz NOT NULL DEFAULT now(),
    revoked_at     timestamptz
);
CREATE INDEX sessions_user_idx ON sessions (user_id);

CREATE TABLE memberships (
    tenant_id      text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    user_id        text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role           text NOT NULL CHECK (role IN ('owner', 'admin', 'viewer')),
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, user_id)
);
CREATE INDEX memberships_user_idx ON memberships (user_id);

-- An API key belongs to one tenant, to one user (acting with that user's
-- roles), or, with neither, is an operator key.
ALTER TABLE api_keys ADD COLUMN user_id text REFERENCES users (id) ON DELETE CASCADE;
ALTER TABLE api_keys ADD CONSTRAINT api_keys_one_owner CHECK (tenant_id IS NULL OR user_id IS NULL);
CREATE INDEX api_keys_user_idx ON api_keys (user_id);

-- Where a change came from (client IP as the API saw it).
ALTER TABLE audit_log ADD COLUMN source text NOT NULL DEFAULT '';
