CREATE TABLE tenants (
    id             text PRIMARY KEY,
    name           text NOT NULL,
    base_url       text NOT NULL,
    spec_url       text NOT NULL,
    status         text NOT NULL DEFAULT 'pending'
                   CHECK (status IN ('pending', 'active', 'inactive', 'failed', 'suspended')),
    status_reason  text NOT NULL DEFAULT '',
    settings       jsonb NOT NULL DEFAULT '{}',
    spec_version   integer NOT NULL DEFAULT 0,
    -- Envelope encryption: the tenant's data key, wrapped by the master key dek_kid.
    dek_wrapped    bytea NOT NULL,
    dek_kid        text NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX tenants_name_key ON tenants (lower(name));
CREATE INDEX tenants_status_idx ON tenants (status);
CREATE INDEX tenants_dek_kid_idx ON tenants (dek_kid);

CREATE TABLE spec_versions (
    tenant_id      text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    version        integer NOT NULL,
    sha256         text NOT NULL,
    etag           text NOT NULL DEFAULT '',
    last_modified  text NOT NULL DEFAULT '',
    raw_gzip       bytea NOT NULL,
    tool_count     integer NOT NULL DEFAULT 0,
    warnings       jsonb NOT NULL DEFAULT '[]',
    fetched_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, version)
);

CREATE TABLE credentials (
    tenant_id      text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name           text NOT NULL,
    type           text NOT NULL CHECK (type IN ('bearer', 'header', 'basic', 'query')),
    header         text NOT NULL DEFAULT '',
    -- AES-256-GCM under the tenant's data key; AAD binds it to tenant and name.
    ciphertext     bytea NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, name)
);

-- API keys: tenant_id NULL is an admin key that sees every tenant.
CREATE TABLE api_keys (
    id             text PRIMARY KEY,
    tenant_id      text REFERENCES tenants (id) ON DELETE CASCADE,
    name           text NOT NULL,
    prefix         text NOT NULL,
    hash           bytea NOT NULL UNIQUE,
    scopes         text[] NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    last_used_at   timestamptz,
    revoked_at     timestamptz
);
CREATE INDEX api_keys_tenant_idx ON api_keys (tenant_id);

CREATE TABLE mcp_tokens (
    id             text PRIMARY KEY,
    tenant_id      text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name           text NOT NULL,
    prefix         text NOT NULL,
    hash           bytea NOT NULL UNIQUE,
    created_at     timestamptz NOT NULL DEFAULT now(),
    expires_at     timestamptz,
    last_used_at   timestamptz,
    revoked_at     timestamptz
);
CREATE INDEX mcp_tokens_tenant_idx ON mcp_tokens (tenant_id);

-- The audit log outlives the tenant it describes: no foreign key.
CREATE TABLE audit_log (
    id             bigserial PRIMARY KEY,
    tenant_id      text NOT NULL DEFAULT '',
    actor          text NOT NULL,
    action         text NOT NULL,
    details        jsonb NOT NULL DEFAULT '{}',
    created_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX audit_log_tenant_idx ON audit_log (tenant_id, id DESC);
