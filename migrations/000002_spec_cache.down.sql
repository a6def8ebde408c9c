DROP TRIGGER IF EXISTS mcp_tokens_deleted ON mcp_tokens;
DROP TRIGGER IF EXISTS mcp_tokens_revoked ON mcp_tokens;
DROP FUNCTION IF EXISTS portico_token_revoked();
DROP TRIGGER IF EXISTS credentials_changed ON credentials;
DROP FUNCTION IF EXISTS portico_credentials_changed();
DROP TRIGGER IF EXISTS tenants_changed ON tenants;
DROP FUNCTION IF EXISTS portico_tenant_changed();
ALTER TABLE tenants DROP CONSTRAINT IF EXISTS tenants_pinned_version_fkey;
ALTER TABLE tenants
    DROP COLUMN IF EXISTS generation,
    DROP COLUMN IF EXISTS hook_secret,
    DROP COLUMN IF EXISTS last_refresh_error_at,
    DROP COLUMN IF EXISTS last_refresh_error,
    DROP COLUMN IF EXISTS last_refresh_at,
    DROP COLUMN IF EXISTS pinned_version;
ALTER TABLE spec_versions DROP COLUMN IF EXISTS diff;
